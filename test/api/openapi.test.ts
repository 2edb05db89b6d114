// GET /openapi.json (issue 14): a valid OpenAPI 3.1 document generated from the routes' own
// schemas, covering every registered route with every error status it can answer; docs/api.md
// is generated from it; every example request in docs/ fits it (and works).
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv2020 from "ajv/dist/2020.js";
import { Elysia } from "elysia";
import type { App } from "../../src/api/app.ts";
import { httpStatusOfCode } from "../../src/api/errors.ts";
import { openApiPath } from "../../src/api/openapi.ts";
import { ROUTE_GROUPS } from "../../src/api/routes/index.ts";
import { BODY_ERRORS, COMMON_ERRORS, WRITE_ERRORS } from "../../src/api/routes/kit.ts";
import { jsonResponse } from "../../src/api/respond.ts";
import { ERROR_CODES } from "../../src/errors.ts";
import { NoQuery, type OpenApiDocument, WorkUnitList } from "../../src/models/index.ts";
import { API_DOC, renderApiMarkdown, servedDocument } from "../../scripts/api-docs.ts";
import { VERSION, expectOk, send, useApi } from "./helpers.ts";

const setup = useApi("ve-api-openapi");
const DOCS = resolve(import.meta.dir, "../../docs");

type Json = Record<string, any>;

async function documentOf(app: App): Promise<Json> {
  const reply = await send(app, "GET", "/openapi.json");
  expect(reply.status, reply.text.slice(0, 300)).toBe(200);
  return reply.body as Json;
}

/** Registered routes that the document lacks (or describes without a success answer). */
function missingFromDocument(app: App, doc: Json): string[] {
  const missing: string[] = [];
  for (const route of app.routes) {
    const operation = doc.paths?.[openApiPath(route.path)]?.[route.method.toLowerCase()];
    const ok = operation && Object.keys(operation.responses ?? {}).some((s) => s.startsWith("2"));
    if (!ok) missing.push(`${route.method} ${route.path}`);
  }
  return missing;
}

describe("the document", () => {
  test("is valid OpenAPI 3.1 (swagger-parser), refs included", async () => {
    const { app } = setup();
    const doc = await documentOf(app);
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.version).toBe(VERSION);
    await SwaggerParser.validate(structuredClone(doc) as never);
  });

  test("covers every registered route, and nothing else", async () => {
    const { app } = setup();
    const doc = await documentOf(app);
    expect(missingFromDocument(app, doc)).toEqual([]);
    const registered = new Set(app.routes.map((r) => `${r.method.toLowerCase()} ${openApiPath(r.path)}`));
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops as Json).map((m) => `${m} ${path}`));
    expect(new Set(documented)).toEqual(registered);
  });

  test("a route registered without an operation is reported missing", async () => {
    const bare = () => new Elysia({ normalize: false }).get("/undocumented", () => jsonResponse("{}", VERSION));
    const { app } = setup({ groups: [{ ...(ROUTE_GROUPS[0] as (typeof ROUTE_GROUPS)[number]), plugins: [...(ROUTE_GROUPS[0]?.plugins ?? []), bare] }] });
    expect(missingFromDocument(app, await documentOf(app))).toEqual(["GET /undocumented"]);
  });

  test("each operation lists every error status it can answer, with the ErrorBody schema", async () => {
    const { app } = setup();
    const doc = await documentOf(app);
    for (const route of app.routes) {
      const operation = doc.paths[openApiPath(route.path)][route.method.toLowerCase()];
      const where = `${route.method} ${route.path}`;
      const codes: string[] = operation["x-error-codes"];
      for (const code of COMMON_ERRORS) expect(codes, where).toContain(code);
      if (route.hooks?.body) for (const code of BODY_ERRORS) expect(codes, where).toContain(code);
      if (route.method !== "GET") for (const code of WRITE_ERRORS) expect(codes, where).toContain(code);
      for (const code of codes) {
        expect(ERROR_CODES as readonly string[], where).toContain(code);
        const response = operation.responses[String(httpStatusOfCode(code as never))];
        expect(response?.content?.["application/json"]?.schema, `${where} ${code}`).toEqual({ $ref: "#/components/schemas/ErrorBody" });
      }
    }
  });

  test("its schemas are the ones the routes validate with", async () => {
    const { app } = setup();
    const doc = await documentOf(app);
    const create = doc.paths["/work-units"].post;
    expect(create.requestBody.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/CreateWorkUnit" });
    expect(doc.components.schemas.CreateWorkUnit.required).toEqual(["chunk"]);
    expect(doc.components.schemas.CreateWorkUnit.additionalProperties).toBe(false);
    const route = app.routes.find((r) => r.method === "GET" && r.path === "/work-units");
    const query = route?.hooks?.query as Json;
    expect(doc.paths["/work-units"].get.parameters.map((p: Json) => p.name)).toEqual(Object.keys(query.properties));
    expect(route?.hooks?.query).not.toBe(NoQuery);
  });

  test("GET /openapi.json answers the same document twice, and what scripts/api-docs.ts reads", async () => {
    const { app } = setup();
    const first = await send(app, "GET", "/openapi.json");
    const second = await send(app, "GET", "/openapi.json");
    expect(second.text).toBe(first.text);
    const served = await servedDocument();
    expect({ ...served, info: { ...served.info, version: VERSION } }).toEqual(first.body as OpenApiDocument);
  });
});

describe("docs/api.md", () => {
  test("is what `npm run docs:api` generates from the document", async () => {
    const expected = renderApiMarkdown(await servedDocument());
    const actual = readFileSync(API_DOC, "utf8");
    if (actual !== expected) {
      throw new Error("docs/api.md is not what the routes generate; run `npm run docs:api` and commit it.");
    }
  });
});

interface CurlExample {
  file: string;
  line: string;
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
}

/** Every `curl --unix-socket` line of the markdown files under docs/. */
function curlExamples(): CurlExample[] {
  const files = readdirSync(DOCS, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".md"));
  const examples: CurlExample[] = [];
  for (const file of files) {
    for (const line of readFileSync(join(DOCS, file), "utf8").split("\n")) {
      if (!/^\s*curl\b.*--unix-socket/.test(line)) continue;
      const words = [...line.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((m) => (m[1] ?? m[2] ?? "").replace(/'\\''/g, "'"));
      const method = words[words.indexOf("-X") + 1] && words.includes("-X") ? (words[words.indexOf("-X") + 1] as string) : "GET";
      const data = words.includes("-d") ? words[words.indexOf("-d") + 1] : undefined;
      const url = new URL(words.find((w) => w.startsWith("http://")) ?? "http://localhost/");
      const headers: Record<string, string> = {};
      words.forEach((word, i) => {
        const header = words[i + 1];
        if (word !== "-H" || header === undefined || header.toLowerCase().startsWith("content-type:")) return;
        headers[header.slice(0, header.indexOf(":")).trim()] = header.slice(header.indexOf(":") + 1).trim();
      });
      examples.push({
        file,
        line: line.trim(),
        method: method.toUpperCase(),
        path: decodeURIComponent(url.pathname),
        query: url.searchParams,
        headers,
        body: data === undefined ? undefined : JSON.parse(data),
      });
    }
  }
  return examples;
}

function operationFor(doc: Json, method: string, path: string): { operation: Json; params: Record<string, string> } | undefined {
  for (const [template, operations] of Object.entries(doc.paths as Record<string, Json>)) {
    const names: string[] = [];
    const pattern = new RegExp(`^${template.replace(/\{([^}]+)\}/g, (_, n: string) => (names.push(n), "([^/]+)"))}$`);
    const match = pattern.exec(path);
    const operation = operations[method.toLowerCase()];
    if (match && operation) return { operation, params: Object.fromEntries(names.map((n, i) => [n, match[i + 1] as string])) };
  }
  return undefined;
}

describe("example requests in docs/", () => {
  test("every one fits the document: its route, path parameters, query and body", async () => {
    const doc = await documentOf(setup().app);
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addSchema({ $id: "doc", components: doc.components });
    const check = (schema: Json, value: unknown, where: string) => {
      const resolved = schema.$ref ? { $ref: `doc${schema.$ref}` } : { ...schema, $defs: undefined };
      const text = JSON.stringify(resolved).replace(/"#\/components\//g, '"doc#/components/');
      const validate = ajv.compile(JSON.parse(text));
      if (!validate(value)) throw new Error(`${where}: ${ajv.errorsText(validate.errors)}`);
    };
    const examples = curlExamples();
    expect(examples.length).toBeGreaterThanOrEqual(app_routes_count(doc));
    for (const example of examples) {
      const where = `${example.file}: ${example.line}`;
      const found = operationFor(doc, example.method, example.path);
      if (!found) throw new Error(`${where}: no ${example.method} ${example.path} in the document`);
      const parameters = (found.operation.parameters ?? []) as Json[];
      for (const [name, value] of Object.entries(found.params)) {
        const parameter = parameters.find((p) => p.in === "path" && p.name === name);
        if (!parameter) throw new Error(`${where}: path parameter ${name} is not in the document`);
        check(parameter.schema, value, `${where} (path ${name})`);
      }
      for (const [name, value] of example.query) {
        const parameter = parameters.find((p) => p.in === "query" && p.name === name);
        if (!parameter) throw new Error(`${where}: query parameter ${name} is not in the document`);
        // Query values arrive as text; the daemon reads booleans and numbers from it.
        const typed = value === "true" ? true : value === "false" ? false : value;
        check(parameter.schema, typed, `${where} (query ${name})`);
      }
      for (const parameter of parameters.filter((p) => p.required && p.in === "query")) {
        expect(example.query.has(parameter.name), `${where}: required ${parameter.name}`).toBe(true);
      }
      const bodySchema = found.operation.requestBody?.content?.["application/json"]?.schema;
      if (bodySchema) {
        if (example.body === undefined) throw new Error(`${where}: the route needs a JSON body (-d)`);
        check(bodySchema, example.body, `${where} (body)`);
      } else {
        expect(example.body, `${where}: the route takes no body`).toBeUndefined();
      }
    }
  });

  test("docs/api.md's examples, run in order against a daemon app, are accepted", async () => {
    const { app } = setup();
    // Deletions last, so the units they remove are there for the examples before them.
    const examples = curlExamples()
      .filter((e) => e.file === "api.md")
      .sort((a, b) => Number(a.method === "DELETE") - Number(b.method === "DELETE"));
    for (const example of examples) {
      const init: { json?: unknown; headers: Record<string, string> } = { headers: example.headers, ...(example.body === undefined ? {} : { json: example.body }) };
      const target = example.query.size > 0 ? `${example.path}?${example.query}` : example.path;
      if (example.path === "/events") {
        // A stream that never ends by itself: accepted is a 200 event stream, then let go.
        const response = await app.handle(new Request(`http://localhost${target}`));
        expect([response.status, response.headers.get("content-type")], example.line).toEqual([200, "text/event-stream; charset=utf-8"]);
        await response.body?.cancel();
        continue;
      }
      const reply = await send(app, example.method, target, init);
      const where = `${example.line} -> ${reply.status} ${reply.text.slice(0, 200)}`;
      // A stale expected_updated_at may be refused (409): that is the example's point. The app's
      // project is no git repository and has run nothing, so the engine's examples are refused
      // for that (and only that) reason; it runs in no daemon, so there is none to shut down; and
      // no agent runs in it, so an agent's run secret belongs to no run.
      const shutdown = example.path === "/shutdown";
      const agent = example.path.startsWith("/agent/");
      expect(shutdown ? [503] : agent ? [401] : [200, 201, 404, 409], where).toContain(reply.status);
      if (reply.status >= 400) {
        const expected = shutdown ? ["daemon_stopping"] : agent ? ["run_token_invalid"] : ["stale_write", "git_required", "git_failed", "not_found", "not_waiting"];
        expect(expected, where).toContain((reply.body as Json).error.code);
      }
    }
    expect(expectOk<WorkUnitList>(await send(app, "GET", "/work-units"), 200, WorkUnitList).count).toBe(0);
  });
});

function app_routes_count(doc: Json): number {
  return Object.values(doc.paths as Record<string, Json>).reduce((n, ops) => n + Object.keys(ops).length, 0);
}
