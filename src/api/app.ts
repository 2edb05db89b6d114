// The daemon's HTTP API as an app over a store: no sockets, no processes. Every request and
// response shape comes from models.ts; every failure leaves through errors.ts.
import { Elysia, ValidationError } from "elysia";
import type { TSchema } from "@sinclair/typebox";
import { VeError } from "../errors.ts";
import {
  ChunkParams,
  CreateWorkUnit,
  DaemonStatus,
  DeleteQuery,
  Deleted,
  History,
  NoQuery,
  type Transport,
  UpdateWorkUnit,
  WorkUnit,
  WorkUnitFilter,
  WorkUnitList,
} from "../models/index.ts";
import type { Store } from "../state/store.ts";
import { describeValueError, validationError } from "../validation.ts";
import { VERSION_HEADER } from "../version.ts";
import { ReadCache } from "./cache.ts";
import { errorResponse } from "./errors.ts";
import { jsonResponse, serializer } from "./respond.ts";
import { checkAccess } from "./access.ts";
import { readJsonBody } from "./body.ts";


export interface AppInfo {
  pid: number;
  version: string;
  startedAt: Date;
  projectDir: string;
  transport: Transport;
  socket: string | null;
  port: number | null;
}

export interface AppOptions {
  /** TCP mode: every request must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Where a 500 is reported with its stack (the daemon log). */
  logError?: (message: string) => void;
}

/** Methods per route pattern, for 405 answers and their `Allow` header. */
const ROUTES: readonly { pattern: RegExp; methods: readonly string[] }[] = [
  { pattern: /^\/status$/, methods: ["GET"] },
  { pattern: /^\/work-units$/, methods: ["GET", "POST"] },
  { pattern: /^\/work-units\/[^/]+$/, methods: ["GET", "PATCH", "DELETE"] },
  { pattern: /^\/work-units\/[^/]+\/history$/, methods: ["GET"] },
];

function routeNotFound(request: Request): VeError {
  const { pathname } = new URL(request.url);
  const route = ROUTES.find((r) => r.pattern.test(pathname));
  if (route) {
    return new VeError(
      "method_not_allowed",
      `${request.method} is not supported on ${pathname}; use ${route.methods.join(" or ")}.`,
      { method: request.method, allow: route.methods },
    );
  }
  return new VeError("unknown_route", `There is no route ${pathname}; see the API routes in the design document.`, {
    path: pathname,
  });
}

function fromValidationError(error: ValidationError): VeError {
  const root = error.type === "params" ? "path" : error.type;
  const first = error.valueError;
  if (!first) return new VeError("validation_failed", `The request ${root} is not valid.`, { field: root });
  // A bad path segment is named by its parameter (`chunk`), not as `path.chunk`.
  const problem = describeValueError(first, root, error.validator as TSchema);
  if (root === "path" && problem.field.startsWith("chunk")) problem.field = "chunk";
  return validationError(problem);
}

// Elysia keeps one of several values silently; a filter given twice is a mistake to report.
function rejectRepeatedQueryParameters(url: string): void {
  const start = url.indexOf("?");
  if (start === -1) return;
  const seen = new Set<string>();
  for (const key of new URLSearchParams(url.slice(start + 1)).keys()) {
    if (seen.has(key)) {
      throw new VeError("validation_failed", `${key} is given more than once; give it once.`, { field: key });
    }
    seen.add(key);
  }
}

const jsonBody = ({ request }: { request: Request }) => readJsonBody(request);

const statusBody = serializer(DaemonStatus, "GET /status");
const listBody = serializer(WorkUnitList, "GET /work-units");
const unitBody = serializer(WorkUnit, "work unit");
const deletedBody = serializer(Deleted, "DELETE /work-units/:chunk");
const historyBody = serializer(History, "GET /work-units/:chunk/history");

export function createApp(store: Store, info: AppInfo, options: AppOptions = {}) {
  const versionHeader = { [VERSION_HEADER]: info.version };
  const cache = new ReadCache();
  const reply = (body: string, status = 200) => jsonResponse(body, info.version, status);
  const toResponse = (error: VeError) => {
    const headers: Record<string, string> = { ...versionHeader };
    if (error.code === "method_not_allowed") {
      headers.allow = ((error.details as { allow: string[] }).allow ?? []).join(", ");
    }
    if (error.code === "unauthorized") headers["www-authenticate"] = "Bearer";
    return errorResponse(error, headers);
  };

  return (
    new Elysia({ normalize: false })
      // Registered first so it covers every route; Elysia's plain-text defaults never leave.
      .onError({ as: "global" }, ({ error, request, code }) => {
        if (error instanceof VeError) return toResponse(error);
        if (error instanceof ValidationError && error.type !== "response") return toResponse(fromValidationError(error));
        if (code === "NOT_FOUND") return toResponse(routeNotFound(request));
        if (code === "PARSE") {
          // Elysia wraps whatever the body parser threw; readJsonBody throws only VeErrors.
          const cause = (error as Error).cause;
          return toResponse(
            cause instanceof VeError
              ? cause
              : new VeError("validation_failed", "The request body is not valid JSON.", { field: "body" }),
          );
        }
        const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
        options.logError?.(`internal error on ${request.method} ${new URL(request.url).pathname}: ${detail}`);
        return toResponse(
          new VeError("internal", "The daemon failed to handle this request; this is a bug, the daemon log has the details."),
        );
      })
      .onRequest(({ request }) => {
        checkAccess(request, options.token);
        rejectRepeatedQueryParameters(request.url);
      })
      .get("/status", () => {
        const now = Date.now();
        return reply(
          statusBody({
            running: true,
            pid: info.pid,
            version: info.version,
            started_at: info.startedAt.toISOString(),
            uptime_seconds: Math.max(0, Math.round((now - info.startedAt.getTime()) / 100) / 10),
            project_dir: info.projectDir,
            transport: info.transport,
            socket: info.socket,
            port: info.port,
            work_unit_counts: store.countsByStatus(),
          }),
        );
      }, { query: NoQuery })
      .get("/work-units", ({ query }) => {
        const key = `list ${query.status ?? "*"} ${query.phase ?? "*"}`;
        return reply(
          cache.read(key, store.dataVersion(), () => {
            const work_units = store.list(query);
            return listBody({ work_units, count: work_units.length });
          }),
        );
      }, { query: WorkUnitFilter })
      .post("/work-units", ({ body }) => reply(unitBody(store.create(body)), 201), {
        parse: jsonBody,
        query: NoQuery,
        body: CreateWorkUnit,
      })
      .get("/work-units/:chunk", ({ params }) =>
        reply(cache.read(`unit ${params.chunk}`, store.dataVersion(), () => unitBody(store.get(params.chunk)))),
        { params: ChunkParams, query: NoQuery },
      )
      .patch("/work-units/:chunk", ({ params, body }) => reply(unitBody(store.update(params.chunk, body))), {
        params: ChunkParams,
        query: NoQuery,
        parse: jsonBody,
        body: UpdateWorkUnit,
      })
      .delete("/work-units/:chunk", ({ params, query }) => {
        store.delete(params.chunk, { force: query.force === true });
        return reply(deletedBody({ deleted: true, chunk: params.chunk }));
      }, { params: ChunkParams, query: DeleteQuery })
      .get("/work-units/:chunk/history", ({ params }) =>
        reply(
          cache.read(`history ${params.chunk}`, store.dataVersion(), () =>
            historyBody({ chunk: params.chunk, history: store.history(params.chunk) }),
          ),
        ),
        { params: ChunkParams, query: NoQuery },
      )
  );
}

export type App = ReturnType<typeof createApp>;
