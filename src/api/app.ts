// The daemon's HTTP API as an app over a store: no sockets, no processes. Routes live in
// routes/ (one plugin per resource, grouped by access rule in routes/index.ts); every request
// and response shape comes from models/; every failure leaves through errors.ts.
import { type AnyElysia, Elysia, ValidationError } from "elysia";
import type { TSchema } from "@sinclair/typebox";
import { VeError } from "../errors.ts";
import { EngineApi } from "../engine/api.ts";
import { EventHub } from "../engine/events.ts";
import { projectPaths } from "../project/paths.ts";
import { EngineStore } from "../state/engine.ts";
import type { Store } from "../state/store.ts";
import { describeValueError, validationError } from "../validation.ts";
import { VERSION_HEADER } from "../version.ts";
import { ReadCache } from "./cache.ts";
import { errorResponse } from "./errors.ts";
import { jsonResponse } from "./respond.ts";
import { openApiDocument } from "./openapi.ts";
import { pathOf, routable } from "./request-path.ts";
import { MethodTable } from "./route-table.ts";
import { ROUTE_GROUPS, type RouteGroup } from "./routes/index.ts";
import type { AppInfo, RouteContext } from "./routes/kit.ts";

export type { AppInfo } from "./routes/kit.ts";

export interface AppOptions {
  /** TCP mode: every request must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Where a 500 is reported with its stack (the daemon log). */
  logError?: (message: string) => void;
  /** The engine's side; by default one over this store for the project in `info.projectDir`. */
  engine?: EngineApi;
  /** The event hub GET /events serves; by default one over the engine's state. */
  events?: EventHub;
  /** The routes by access group; ROUTE_GROUPS unless a test composes its own. */
  groups?: readonly RouteGroup[];
}

export interface App {
  /** What Bun.serve calls. */
  fetch(request: Request): Response | Promise<Response>;
  /** The same, always a promise (tests). */
  handle(request: Request): Promise<Response>;
  /** Every registered route, as Elysia holds it (method, path, hooks with schemas and detail). */
  readonly routes: AnyElysia["routes"];
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

/** The group whose prefix is the longest that `path` starts with. */
function groupOf(groups: readonly RouteGroup[], path: string): RouteGroup {
  let best: RouteGroup | undefined;
  for (const group of groups) {
    const fits = group.prefix === "/" || path === group.prefix || path.startsWith(`${group.prefix}/`);
    if (fits && (!best || group.prefix.length > best.prefix.length)) best = group;
  }
  if (!best) throw new Error(`no route group covers ${path}; ROUTE_GROUPS needs one with prefix "/"`);
  return best;
}

export function createApp(store: Store, info: AppInfo, options: AppOptions = {}): App {
  const groups = options.groups ?? ROUTE_GROUPS;
  const versionHeader = { [VERSION_HEADER]: info.version };
  const toResponse = (error: VeError) => {
    const headers: Record<string, string> = { ...versionHeader };
    if (error.code === "method_not_allowed") {
      headers.allow = ((error.details as { allow: string[] }).allow ?? []).join(", ");
    }
    if (error.code === "unauthorized") headers["www-authenticate"] = "Bearer";
    return errorResponse(error, headers);
  };
  // Filled in once every plugin is registered; only read while answering a request.
  let methods = new MethodTable([]);
  const routeNotFound = (request: Request): VeError => {
    const pathname = pathOf(request.url);
    const allow = methods.allowed(pathname);
    if (allow.length > 0) {
      return new VeError(
        "method_not_allowed",
        `${request.method} is not supported on ${pathname}; use ${allow.join(" or ")}.`,
        { method: request.method, allow },
      );
    }
    return new VeError("unknown_route", `There is no route ${pathname}; see the API routes in the design document.`, {
      path: pathname,
    });
  };

  // Kept only when no other process writes the database; cleared by the store's change feed
  // after each commit, so no answer is older than a committed write.
  const cache = new ReadCache(store.exclusive);
  if (store.exclusive) store.onChange(() => cache.clear());
  const paths = projectPaths(info.projectDir);
  const engine = options.engine ?? new EngineApi(paths, new EngineStore(store));
  const context: RouteContext = {
    store,
    engine,
    info,
    events: options.events ?? new EventHub(engine.state, (id) => engine.run(id)),
    cache,
    reply: (body, status = 200) => jsonResponse(body, info.version, status),
    commit: (work) => store.atomically(work),
    openapi: () => openApiDocument(app.routes, info.version),
  };

  let app: AnyElysia = new Elysia({ normalize: false })
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
      options.logError?.(`internal error on ${request.method} ${pathOf(request.url)}: ${detail}`);
      return toResponse(
        new VeError("internal", "The daemon failed to handle this request; this is a bug, the daemon log has the details."),
      );
    })
    .onRequest(({ request }) => {
      groupOf(groups, pathOf(request.url)).access(request, options.token);
      rejectRepeatedQueryParameters(request.url);
    });
  for (const group of groups) {
    for (const plugin of group.plugins) {
      const routes = plugin(context);
      for (const route of routes.routes) {
        if (groupOf(groups, route.path) !== group) {
          throw new Error(`route ${route.method} ${route.path} is outside its group '${group.name}' (${group.prefix})`);
        }
      }
      app = app.use(routes);
    }
  }
  methods = new MethodTable(app.routes);

  // Elysia's fetch, not its handle (an async wrapper: one more promise per request).
  const elysiaFetch = app.fetch;
  const fetch = (request: Request) => elysiaFetch(routable(request));
  return {
    fetch,
    handle: async (request) => fetch(request),
    routes: app.routes,
  };
}
