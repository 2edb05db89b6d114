// The daemon's API as an OpenAPI 3.1 document, generated from the registered routes: their
// TypeBox schemas (params, query, body: what they validate with) and the operation each
// declares in `detail` (routes/kit.ts). TypeBox schemas are JSON Schema, so they go in as
// they are; a model exported from models/index.ts becomes a named component wherever it
// appears.
import { Kind, type TSchema } from "@sinclair/typebox";
import * as models from "../models/index.ts";
import type { RouteDetail } from "./routes/kit.ts";

export interface RouteRecord {
  method: string;
  path: string;
  hooks?: { params?: unknown; query?: unknown; body?: unknown; detail?: unknown } | undefined;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const METHOD_ORDER = ["GET", "POST", "PUT", "PATCH", "DELETE"];

function isSchema(value: unknown): value is TSchema {
  return typeof value === "object" && value !== null && Kind in value;
}

/** Every schema exported by the models, by name: the components of the document. */
function namedSchemas(): Map<TSchema, string> {
  const names = new Map<TSchema, string>();
  for (const [name, value] of Object.entries(models)) if (isSchema(value) && !names.has(value)) names.set(value, name);
  return names;
}

/** Plain JSON of a schema (symbols dropped); named schemas below the top become $refs. */
function toJson(schema: unknown, names: Map<TSchema, string>, top = true): Json {
  if (!top && isSchema(schema) && names.has(schema)) return { $ref: `#/components/schemas/${names.get(schema)}` };
  if (Array.isArray(schema)) return schema.map((item) => toJson(item, names, false));
  if (typeof schema !== "object" || schema === null) return schema as Json;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(schema)) out[key] = toJson(value, names, false);
  return out;
}

/** `/work-units/:chunk` -> `/work-units/{chunk}` */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

function parameters(where: "path" | "query", schema: unknown, names: Map<TSchema, string>): Json[] {
  if (!isSchema(schema) || typeof schema.properties !== "object") return [];
  const required = new Set<string>(Array.isArray(schema.required) ? schema.required : []);
  return Object.entries(schema.properties as Record<string, TSchema>).map(([name, property]) => ({
    name,
    in: where,
    required: where === "path" || required.has(name),
    schema: toJson(property, names),
  }));
}

function isDetail(value: unknown): value is RouteDetail {
  return typeof value === "object" && value !== null && "responses" in value && "summary" in value;
}

/**
 * The document for `routes`. A route without an operation in its `detail` is left out
 * (test/api/openapi.test.ts fails for it).
 */
export function openApiDocument(routes: Iterable<RouteRecord>, version: string): models.OpenApiDocument {
  const names = namedSchemas();
  const paths: Record<string, Record<string, Json>> = {};
  const sorted = [...routes].sort(
    (a, b) => a.path.localeCompare(b.path) || METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method),
  );
  for (const route of sorted) {
    const hooks = route.hooks ?? {};
    if (!isDetail(hooks.detail)) continue;
    const detail = hooks.detail;
    const operation: { [key: string]: Json } = {
      operationId: `${route.method.toLowerCase()}${openApiPath(route.path).replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())}`,
      summary: detail.summary,
    };
    if (detail.description !== undefined) operation.description = detail.description;
    const params = [...parameters("path", hooks.params, names), ...parameters("query", hooks.query, names)];
    if (params.length > 0) operation.parameters = params;
    if (isSchema(hooks.body)) {
      operation.requestBody = { required: true, content: { "application/json": { schema: toJson(hooks.body, names, false) } } };
    }
    operation.responses = toJson(detail.responses, names, false);
    operation["x-error-codes"] = detail["x-error-codes"];
    if (detail["x-examples"].length > 0) operation["x-examples"] = detail["x-examples"] as unknown as Json;
    const path = openApiPath(route.path);
    paths[path] ??= {};
    (paths[path] as Record<string, Json>)[route.method.toLowerCase()] = operation;
  }
  // Only the components something refers to, and what they refer to in turn.
  const schemas: Record<string, Json> = {};
  const pending = [JSON.stringify(paths)];
  while (pending.length > 0) {
    for (const match of (pending.pop() as string).matchAll(/#\/components\/schemas\/([A-Za-z0-9_]+)/g)) {
      const name = match[1] as string;
      if (name in schemas) continue;
      schemas[name] = toJson(schemaByName(names, name), names, true);
      pending.push(JSON.stringify(schemas[name]));
    }
  }
  const sortedSchemas = Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b)));
  return {
    openapi: "3.1.0",
    info: {
      title: "ve daemon API",
      version,
      description:
        "The per-project ve daemon's HTTP API, served on a Unix socket (.ve/orchestrator.sock, or one in the " +
        "runtime directory for long paths) or, in TCP mode, on 127.0.0.1 with a bearer token. Every answer " +
        "carries X-Ve-Version; every error is an ErrorBody. A path no route has answers 404 unknown_route; a " +
        "method a path lacks answers 405 method_not_allowed with an Allow header. What is not a well-formed " +
        "HTTP/1.1 (or 1.0) request is refused before any route, as an ErrorBody, and the connection closed: 400 " +
        "malformed_request (request line, header line, Content-Length or chunked body), 405 method_not_allowed " +
        "(a method no route uses), 408 request_timeout (no complete request within 3 s of connecting or of the " +
        "previous answer; a connection that sent nothing is closed silently), 413 payload_too_large, 431 " +
        "headers_too_large (request line and headers over 16 KiB), 505 http_version_not_supported (HTTP/2.0 and other " +
        "major versions).",
    } as models.OpenApiDocument["info"],
    paths,
    components: {
      schemas: sortedSchemas,
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "TCP mode only: the token in .ve/orchestrator.token." } },
    } as models.OpenApiDocument["components"],
  };
}

function schemaByName(names: Map<TSchema, string>, name: string): TSchema | undefined {
  for (const [schema, n] of names) if (n === name) return schema;
  return undefined;
}
