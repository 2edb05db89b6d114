// docs/api.md, generated from the OpenAPI document the daemon serves (GET /openapi.json).
//   bun run scripts/api-docs.ts           writes docs/api.md
//   bun run scripts/api-docs.ts --check   exits 1 when docs/api.md differs from it
// test/api/openapi.test.ts runs the check too, and validates every example request in docs/.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createApp } from "../src/api/app.ts";
import type { OpenApiDocument } from "../src/models/index.ts";
import { Store } from "../src/state/store.ts";
import { VERSION } from "../src/version.ts";

export const API_DOC = resolve(import.meta.dir, "../docs/api.md");
/** How the examples reach the daemon: its socket, from the project's directory. */
export const EXAMPLE_SOCKET = ".ve/orchestrator.sock";

type Json = Record<string, unknown>;

/** The document exactly as a daemon answers GET /openapi.json. */
export async function servedDocument(): Promise<OpenApiDocument> {
  const dir = mkdtempSync(join(tmpdir(), "ve-api-docs-"));
  const store = Store.open(join(dir, "orchestrator.db"));
  try {
    const app = createApp(store, {
      pid: process.pid,
      version: VERSION,
      startedAt: new Date(),
      projectDir: dir,
      transport: "unix",
      socket: join(dir, "orchestrator.sock"),
      port: null,
    });
    const response = await app.handle(new Request("http://localhost/openapi.json"));
    if (response.status !== 200) throw new Error(`GET /openapi.json answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as OpenApiDocument;
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function refName(schema: Json): string | undefined {
  const ref = schema.$ref;
  return typeof ref === "string" ? ref.slice(ref.lastIndexOf("/") + 1) : undefined;
}

/** A schema in a few words: a component's name, a list of literals, or its type. */
function typeText(schema: Json | undefined): string {
  if (!schema) return "";
  const name = refName(schema);
  if (name) return `[${name}](#${name.toLowerCase()})`;
  if (Array.isArray(schema.anyOf)) {
    const members = (schema.anyOf as Json[]).map((m) => ("const" in m ? JSON.stringify(m.const) : typeText(m)));
    return members.join(" \\| ");
  }
  if ("const" in schema) return JSON.stringify(schema.const);
  if (schema.type === "array") return `array of ${typeText(schema.items as Json)}`;
  if (schema.type === "object" && schema.patternProperties) return "object";
  return String(schema.type ?? "any");
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function fieldsTable(schema: Json): string[] {
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  const required = new Set((schema.required ?? []) as string[]);
  if (Object.keys(properties).length === 0) return [];
  const lines = ["| field | type | required | rule |", "| --- | --- | --- | --- |"];
  for (const [name, property] of Object.entries(properties)) {
    const rule = typeof property.errorMessage === "string" ? property.errorMessage : "";
    lines.push(`| \`${name}\` | ${typeText(property).replace(/(?<!\\)\|/g, "\\|")} | ${required.has(name) ? "yes" : "no"} | ${cell(rule)} |`);
  }
  return lines;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export interface Example {
  title: string;
  method: string;
  /** Path with its parameters filled in, and the query string if any. */
  target: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** The answer is a stream: curl must print it as it comes (-N). */
  stream?: boolean;
}

export function curlOf(example: Example): string {
  const parts = ["curl", ...(example.stream ? ["-N"] : []), "--unix-socket", EXAMPLE_SOCKET];
  if (example.method !== "GET") parts.push("-X", example.method);
  for (const [name, value] of Object.entries(example.headers ?? {})) parts.push("-H", shellQuote(`${name}: ${value}`));
  if (example.body !== undefined) parts.push("-H", shellQuote("content-type: application/json"), "-d", shellQuote(JSON.stringify(example.body)));
  parts.push(shellQuote(`http://localhost${example.target}`));
  return parts.join(" ");
}

function examplesOf(path: string, method: string, operation: Json): Example[] {
  const examples = (operation["x-examples"] ?? []) as { title: string; params?: Record<string, string>; query?: string; headers?: Record<string, string>; body?: unknown }[];
  return examples.map((e) => {
    const filled = path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(e.params?.[name] ?? `{${name}}`));
    const example: Example = { title: e.title, method: method.toUpperCase(), target: e.query ? `${filled}?${e.query}` : filled };
    if (e.headers !== undefined) example.headers = e.headers;
    if (e.body !== undefined) example.body = e.body;
    const responses = Object.values((operation.responses ?? {}) as Record<string, { content?: Json }>);
    if (responses.some((r) => r.content?.["text/event-stream"])) example.stream = true;
    return example;
  });
}

export function renderApiMarkdown(doc: OpenApiDocument): string {
  const out: string[] = [
    "# The daemon's HTTP API",
    "",
    "<!-- Generated from GET /openapi.json by `npm run docs:api`; edit the routes in src/api/routes/, not this file. -->",
    "",
    String((doc.info as Json).description ?? ""),
    "",
    `The same document, as OpenAPI 3.1: \`curl --unix-socket ${EXAMPLE_SOCKET} http://localhost/openapi.json\`.`,
    "The examples run from the project's directory; in TCP mode use `http://127.0.0.1:<port>` (from",
    "`.ve/orchestrator.port`) with `-H \"Authorization: Bearer $(cat .ve/orchestrator.token)\"` instead of `--unix-socket`.",
    "",
    "## Routes",
    "",
    "| method | path | summary |",
    "| --- | --- | --- |",
  ];
  const operations: [string, string, Json][] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(methods as Record<string, Json>)) operations.push([path, method, operation]);
  }
  for (const [path, method, operation] of operations) {
    const anchor = `${method}-${path}`.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/-+$/, "");
    out.push(`| ${method.toUpperCase()} | [\`${path}\`](#${anchor}) | ${cell(String(operation.summary))} |`);
  }
  for (const [path, method, operation] of operations) {
    out.push("", `## ${method.toUpperCase()} ${path}`, "", String(operation.summary) + ".");
    if (operation.description) out.push("", String(operation.description));
    const parameters = (operation.parameters ?? []) as Json[];
    if (parameters.length > 0) {
      out.push("", "| parameter | in | type | required | rule |", "| --- | --- | --- | --- | --- |");
      for (const p of parameters) {
        const schema = p.schema as Json;
        const rule = typeof schema.errorMessage === "string" ? schema.errorMessage : "";
        out.push(`| \`${p.name}\` | ${p.in} | ${typeText(schema).replace(/(?<!\\)\|/g, "\\|")} | ${p.required ? "yes" : "no"} | ${cell(rule)} |`);
      }
    }
    const body = ((operation.requestBody as Json | undefined)?.content as Json | undefined)?.["application/json"] as Json | undefined;
    if (body) out.push("", `Request body (JSON): ${typeText(body.schema as Json)}.`);
    out.push("", "| status | body | when |", "| --- | --- | --- |");
    for (const [status, response] of Object.entries(operation.responses as Record<string, Json>)) {
      const [[mediaType, content]] = Object.entries(response.content as Record<string, Json>) as [[string, Json]];
      const schema = content.schema as Json;
      const stream = mediaType === "application/json" ? "" : ` (${mediaType}: each event's data)`;
      out.push(`| ${status} | ${typeText(schema)}${stream} | ${cell(String(response.description))} |`);
    }
    const examples = examplesOf(path, method, operation);
    if (examples.length > 0) {
      out.push("", "```sh");
      for (const example of examples) out.push(`# ${example.title}`, curlOf(example));
      out.push("```");
    }
  }
  out.push("", "## Schemas");
  for (const [name, schema] of Object.entries(doc.components.schemas as Record<string, Json>)) {
    out.push("", `### ${name}`, "");
    const fields = fieldsTable(schema);
    out.push(...(fields.length > 0 ? fields : [`${typeText(schema)}.`]));
  }
  return `${out.join("\n")}\n`;
}

if (import.meta.main) {
  const text = renderApiMarkdown(await servedDocument());
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(API_DOC, "utf8");
    } catch {}
    if (current !== text) {
      process.stderr.write(`${API_DOC} is not what the routes generate; run \`npm run docs:api\` and commit it.\n`);
      process.exit(1);
    }
  } else {
    writeFileSync(API_DOC, text);
    process.stdout.write(`wrote ${API_DOC}\n`);
  }
}
