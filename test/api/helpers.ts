// Shared helpers of the HTTP API tests: a fresh store and app per test (in a temp dir of its
// own), one way to send a request through `app.handle` (never a socket), and assertions that
// every response carries the version header and that bodies fit their TypeBox schemas.
import { expect } from "bun:test";
import { dirname, join } from "node:path";
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { type App, type AppOptions, createApp } from "../../src/api/app.ts";
import type { ErrorCode } from "../../src/errors.ts";
import { ErrorBody, type WorkUnit } from "../../src/models/index.ts";
import type { Store } from "../../src/state/store.ts";
import { useStores } from "../helpers/stores.ts";

export const VERSION = "1.2.3";
export const PID = 4242;
export const BASE = "http://localhost";

export interface Api {
  app: App;
  store: Store;
  dir: string;
  socket: string;
  /** Everything the app passed to its `logError` option. */
  logged: string[];
}

/**
 * Call at the top level of a test file. Returns `setup(options?)`, which opens a Store on a new
 * database in a temp dir of its own and builds the app over it; every store is closed after
 * each test (the temp dirs are removed after the file).
 */
export function useApi(label = "ve-api"): (options?: AppOptions) => Api {
  const stores = useStores(label);
  return (options: AppOptions = {}) => {
    const store = stores.open();
    const dir = dirname(store.path);
    const socket = join(dir, "s.sock");
    const logged: string[] = [];
    const app = createApp(
      store,
      { pid: PID, version: VERSION, startedAt: new Date(), projectDir: dir, transport: "unix", socket, port: null },
      { logError: (message) => logged.push(message), ...options },
    );
    return { app, store, dir, socket, logged };
  };
}

type RequestBody = NonNullable<RequestInit["body"]>;

export interface SendOptions {
  /** Serialized with JSON.stringify and sent with `Content-Type: application/json`. */
  json?: unknown;
  /** Sent as is (no content type is added). */
  body?: RequestBody;
  headers?: Record<string, string>;
  /** Needed for a ReadableStream body. */
  duplex?: "half";
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  body: unknown;
}

export function request(method: string, path: string, options: SendOptions = {}): Request {
  const headers: Record<string, string> = { ...options.headers };
  let body: RequestBody | undefined = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
  }
  const init: RequestInit & { duplex?: "half" } = { method, headers };
  if (body !== undefined) init.body = body;
  if (options.duplex) init.duplex = options.duplex;
  return new Request(BASE + path, init);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Sends one request through `app.handle` and checks what every response must have: the
 * `X-Ve-Version` header, and for an error a JSON body that fits ErrorBody.
 */
export async function send(app: App, method: string, path: string, options: SendOptions = {}): Promise<Reply> {
  const response = await app.handle(request(method, path, options));
  const text = await response.text();
  const reply: Reply = { status: response.status, headers: response.headers, text, body: parse(text) };
  const where = `${method} ${path} -> ${reply.status} ${text.slice(0, 300)}`;
  expect(response.headers.get("x-ve-version"), where).toBe(VERSION);
  if (reply.status >= 400) {
    expect(response.headers.get("content-type"), where).toBe("application/json");
    expectSchema(ErrorBody, reply.body, where);
  }
  return reply;
}

/** Fails with TypeBox's own list of problems when `value` does not fit `schema`. */
export function expectSchema(schema: TSchema, value: unknown, where = ""): void {
  if (Value.Check(schema, value)) return;
  const problems = [...Value.Errors(schema, value)].slice(0, 5).map((e) => `${e.path || "/"}: ${e.message}`);
  throw new Error(`${where ? `${where}: ` : ""}body does not fit the schema: ${problems.join("; ")}\n${JSON.stringify(value)}`);
}

/** A success answer with `status`, whose JSON body fits `schema`; returns the typed body. */
export function expectOk<T>(reply: Reply, status: number, schema: TSchema): T {
  const where = `expected ${status}, got ${reply.status} ${reply.text.slice(0, 300)}`;
  expect(reply.status, where).toBe(status);
  expect(reply.headers.get("content-type") ?? "", where).toStartWith("application/json");
  expectSchema(schema, reply.body, where);
  return reply.body as T;
}

export interface ErrorShape {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** An error answer with this HTTP status and error code; returns the `error` object. */
export function expectError(reply: Reply, status: number, code: ErrorCode): ErrorShape {
  const where = `expected ${status} ${code}, got ${reply.status} ${reply.text.slice(0, 300)}`;
  expect(reply.status, where).toBe(status);
  expectSchema(ErrorBody, reply.body, where);
  const error = (reply.body as { error: ErrorShape }).error;
  expect(error.code, where).toBe(code);
  return error;
}

/** The field a validation_failed error names. */
export function fieldOf(error: ErrorShape): unknown {
  return (error.details as { field?: unknown } | undefined)?.field;
}

export function logCount(store: Store): number {
  return (store.db.query("SELECT count(*) AS n FROM status_log").get() as { n: number }).n;
}

/** What a refused request must leave alone: every unit as the store lists it, and the log size. */
export function snapshot(store: Store): { units: WorkUnit[]; log: number } {
  return { units: store.list(), log: logCount(store) };
}

/** A body of `total` bytes of spaces, streamed in pieces, with no length known in advance. */
export function byteStream(total: number, piece = 64 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) {
        controller.close();
        return;
      }
      const n = Math.min(piece, total - sent);
      controller.enqueue(new Uint8Array(n).fill(0x20));
      sent += n;
    },
  });
}
