// Who may talk to the daemon (DESIGN.md "HTTP API", and the TCP mode of "Files of one
// project"): never a browser (any Origin header: 403); with a token configured, only a caller
// addressing localhost/127.0.0.1 (else 403) that sends `Authorization: Bearer <token>` (else 401).
import { describe, expect, test } from "bun:test";
import { DaemonStatus, WorkUnit } from "../../src/models/index.ts";
import { expectError, expectOk, send, snapshot, useApi } from "./helpers.ts";

const setup = useApi("ve-api-access");
const TOKEN = "secret";
const GOOD = { host: "localhost", authorization: `Bearer ${TOKEN}` };

describe("forbidden (403): an Origin header", () => {
  const origins = ["http://localhost", "https://evil.example", "null", ""];
  for (const origin of origins) {
    test(`Origin ${JSON.stringify(origin)} is refused without a token configured`, async () => {
      const { app } = setup();
      expectError(await send(app, "GET", "/status", { headers: { origin } }), 403, "forbidden");
    });
  }

  test("an Origin is refused even with a valid token, and on a write, which changes nothing", async () => {
    const { app, store } = setup({ token: TOKEN });
    const headers = { ...GOOD, origin: "http://localhost:3000" };
    expectError(await send(app, "GET", "/status", { headers }), 403, "forbidden");
    expectError(await send(app, "POST", "/work-units", { json: { chunk: "x" }, headers }), 403, "forbidden");
    expect(store.list()).toEqual([]);
  });

  test("an Origin is refused before routing (an unknown route too)", async () => {
    const { app } = setup();
    expectError(await send(app, "GET", "/nope", { headers: { origin: "http://a" } }), 403, "forbidden");
  });
});

describe("forbidden (403): with a token, a Host that is not loopback", () => {
  const hosts = ["evil.example", "localhost.evil.com", "evil.example:80", "127.0.0.1.nip.io", "10.0.0.1", "[::1]"];
  for (const host of hosts) {
    test(`Host ${host}`, async () => {
      const { app } = setup({ token: TOKEN });
      expectError(await send(app, "GET", "/status", { headers: { ...GOOD, host } }), 403, "forbidden");
    });
  }

  test("a missing Host", async () => {
    const { app } = setup({ token: TOKEN });
    expectError(await send(app, "GET", "/status", { headers: { authorization: `Bearer ${TOKEN}` } }), 403, "forbidden");
  });

  test("without a token (Unix socket mode) the Host is not checked", async () => {
    const { app } = setup();
    expectOk(await send(app, "GET", "/status", { headers: { host: "evil.example" } }), 200, DaemonStatus);
  });
});

describe("unauthorized (401): with a token", () => {
  const bad: Record<string, string | undefined> = {
    missing: undefined,
    empty: "",
    "wrong token": "Bearer wrong",
    "token with a prefix": "Bearer xsecret",
    "token as a prefix": "Bearer secre",
    "no scheme": "secret",
    "Basic scheme": `Basic ${btoa("user:secret")}`,
    "scheme only": "Bearer",
    "two tokens": "Bearer secret secret",
  };
  for (const [name, authorization] of Object.entries(bad)) {
    test(`${name} Authorization`, async () => {
      const { app, store } = setup({ token: TOKEN });
      const headers: Record<string, string> = { host: "localhost" };
      if (authorization !== undefined) headers.authorization = authorization;
      const reply = await send(app, "GET", "/status", { headers });
      expectError(reply, 401, "unauthorized");
      expect(reply.headers.get("www-authenticate")).toBe("Bearer");
      const before = snapshot(store);
      expectError(await send(app, "POST", "/work-units", { json: { chunk: "x" }, headers }), 401, "unauthorized");
      expect(snapshot(store)).toEqual(before);
    });
  }

  test("a wrong token on an unknown route is 401, not a 404 that reveals the routes", async () => {
    const { app } = setup({ token: TOKEN });
    expectError(await send(app, "GET", "/nope", { headers: { host: "localhost" } }), 401, "unauthorized");
  });
});

describe("accepted", () => {
  test("`Bearer secret` on localhost and 127.0.0.1 (with a port) passes, on reads and writes", async () => {
    const { app } = setup({ token: TOKEN });
    for (const host of ["localhost", "127.0.0.1", "localhost:8123", "127.0.0.1:8123", "LOCALHOST"]) {
      const headers = { host, authorization: `Bearer ${TOKEN}` };
      expectOk(await send(app, "GET", "/status", { headers }), 200, DaemonStatus);
    }
    expectOk(await send(app, "POST", "/work-units", { json: { chunk: "x" }, headers: GOOD }), 201, WorkUnit);
    expectOk(await send(app, "GET", "/work-units/x", { headers: GOOD }), 200, WorkUnit);
  });

  test("the scheme name is case-insensitive", async () => {
    const { app } = setup({ token: TOKEN });
    expectOk(await send(app, "GET", "/status", { headers: { host: "localhost", authorization: `bearer ${TOKEN}` } }), 200, DaemonStatus);
  });

  test("without a token configured, no Authorization is needed", async () => {
    const { app } = setup();
    expectOk(await send(app, "GET", "/status"), 200, DaemonStatus);
  });
});
