// Routing is by the request path alone (issue 9 item 4): whatever the Host header (short,
// long, with a port, IPv6), the same path reaches the same route, and a prefix before a
// route's path is never stripped. (An empty or absent Host, which a URL cannot carry, is
// covered through the real daemon in test/e2e/raw-http.test.ts.)
import { describe, expect, test } from "bun:test";
import { DaemonStatus, WorkUnit, WorkUnitChanged } from "../../src/models/index.ts";
import { type App } from "../../src/api/app.ts";
import { VERSION, type Reply, expectError, expectOk, send, useApi } from "./helpers.ts";

const setup = useApi("ve-api-host");

const HOSTS = ["x", "ab", "abc", "a.b", "abcd", "x:1", "ab:8080", "localhost:7", "127.0.0.1", "[::1]", "[::1]:9", "h".repeat(300)];

async function at(app: App, host: string, method: string, path: string, json?: unknown): Promise<Reply> {
  const init: RequestInit = { method };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers = { "content-type": "application/json" };
  }
  const response = await app.handle(new Request(`http://${host}${path}`, init));
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {}
  expect(response.headers.get("x-ve-version"), `${method} ${host}${path}: ${text.slice(0, 200)}`).toBe(VERSION);
  expect(response.headers.get("content-type"), `${method} ${host}${path}: ${text.slice(0, 200)}`).toStartWith("application/json");
  return { status: response.status, headers: response.headers, text, body };
}

describe.each(HOSTS)("Host %s", (host) => {
  test("every route answers as with localhost", async () => {
    const { app } = setup();
    expectOk(await at(app, host, "GET", "/status"), 200, DaemonStatus);
    expectOk(await at(app, host, "POST", "/work-units", { chunk: "foo" }), 201, WorkUnit);
    expectOk(await at(app, host, "GET", "/work-units/foo"), 200, WorkUnit);
    expectOk(await at(app, host, "PATCH", "/work-units/foo", { status: "RUNNING" }), 200, WorkUnitChanged);
    expect((await at(app, host, "GET", "/work-units/foo/history")).status).toBe(200);
    expect((await at(app, host, "GET", "/work-units?status=RUNNING")).status).toBe(200);
    expect((await at(app, host, "DELETE", "/work-units/foo")).status).toBe(200);
  });

  test("a path is never shortened: a prefix before a route is an unknown route", async () => {
    const { app, store } = setup();
    store.create({ chunk: "foo" });
    expectError(await at(app, host, "GET", "/work-units/status"), 404, "not_found");
    expectError(await at(app, host, "DELETE", "/abc/work-units/foo"), 404, "unknown_route");
    expectError(await at(app, host, "PATCH", "/abc/work-units/foo", { status: "DONE" }), 404, "unknown_route");
    expectError(await at(app, host, "GET", "/x/status"), 404, "unknown_route");
    expect(store.get("foo").status).toBe("READY");
  });

  test("a wrong method names the path as sent", async () => {
    const { app } = setup();
    const error = expectError(await at(app, host, "DELETE", "/status"), 405, "method_not_allowed");
    expect(error.message).toContain("/status");
  });
});

test("TCP mode refuses a non-loopback Host with a JSON 403, whatever its length", async () => {
  const { app } = setup({ token: "t0k3n" });
  for (const host of ["x", "abc", "evil.example", "h".repeat(300)]) {
    const response = await app.handle(
      new Request(`http://${host}/status`, { headers: { host, authorization: "Bearer t0k3n" } }),
    );
    expect(response.headers.get("content-type")).toBe("application/json");
    const text = await response.text();
    expectError({ status: response.status, headers: response.headers, text, body: JSON.parse(text) }, 403, "forbidden");
  }
  const ok = await app.handle(
    new Request("http://localhost:1/status", { headers: { host: "localhost:1", authorization: "Bearer t0k3n" } }),
  );
  expect(ok.status).toBe(200);
  expectError(await send(app, "GET", "/status", { headers: { host: "localhost" } }), 401, "unauthorized");
});
