// What Bun.serve itself answers when a handler throws outside the app (issue 9 item 6, the
// HTTP part): with the daemon's options, JSON in our error shape, never Bun's HTML page with
// stack frames and paths. A real server on a socket of its own, spoken to in raw bytes.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { bunServeOptions } from "../../src/api/serve-options.ts";
import { ErrorBody } from "../../src/models/index.ts";
import { VERSION } from "../../src/version.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { rawExchange, rawRequest } from "../e2e/raw-http.ts";

const tempDir = useTempDirs("ve-serve-options");
const servers: { stop(force: boolean): unknown }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.stop(true);
});

test("a handler that throws (sync or async) is answered with a JSON 500, logged with its stack", async () => {
  const logged: string[] = [];
  const socket = join(tempDir(), "s.sock");
  servers.push(
    Bun.serve({
      ...bunServeOptions((message) => logged.push(message)),
      unix: socket,
      fetch(request) {
        if (new URL(request.url).pathname === "/async") return Promise.reject(new Error("async secret /etc/x"));
        throw new Error("sync secret /etc/x");
      },
    }),
  );
  for (const path of ["/sync", "/async"]) {
    const reply = await rawExchange(socket, rawRequest("GET", path, "localhost"));
    expect(reply.status, reply.raw).toBe(500);
    expect(reply.headers.get("content-type")).toBe("application/json");
    expect(reply.headers.get("x-ve-version")).toBe(VERSION);
    const body = JSON.parse(reply.body);
    expect(Value.Check(ErrorBody, body)).toBe(true);
    expect(body.error.code).toBe("internal");
    expect(reply.body).not.toContain("secret");
  }
  expect(logged).toHaveLength(2);
  expect(logged.join("\n")).toContain("sync secret /etc/x");
});

test("a logger that throws (a full disk) still gets the client its JSON answer", async () => {
  const socket = join(tempDir(), "s.sock");
  servers.push(
    Bun.serve({
      ...bunServeOptions(() => {
        throw new Error("ENOSPC");
      }),
      unix: socket,
      fetch() {
        throw new Error("boom");
      },
    }),
  );
  const reply = await rawExchange(socket, rawRequest("GET", "/", "localhost"));
  expect(reply.status, reply.raw).toBe(500);
  expect(JSON.parse(reply.body).error.code).toBe("internal");
});
