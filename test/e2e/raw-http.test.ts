// The real daemon over its socket, with raw bytes: routing by path alone whatever the Host
// header (issue 9 item 4).
import { describe, expect, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import { DaemonStatus, ErrorBody, WorkUnit } from "../../src/models/index.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { json, stateFiles, useProjects } from "./harness.ts";
import { type RawReply, rawExchange, rawRequest } from "./raw-http.ts";

const { project, ve } = useProjects("ve-raw-http");

async function started(): Promise<{ dir: string; socket: string }> {
  const dir = project();
  const start = await ve(dir, ["orch", "start", "--json"]);
  expect(start.code, start.stderr).toBe(0);
  const socket = json<{ daemon: { socket: string } }>(start).daemon.socket;
  return { dir, socket: socket ?? stateFiles(dir).socket };
}

function jsonBody(reply: RawReply): unknown {
  expect(reply.headers.get("content-type"), reply.raw.slice(0, 300)).toBe("application/json");
  return JSON.parse(reply.body);
}

function expectErrorCode(reply: RawReply, status: number, code: string): void {
  const body = jsonBody(reply);
  expect(Value.Check(ErrorBody, body), reply.raw.slice(0, 300)).toBe(true);
  expect([reply.status, (body as ErrorBody).error.code], reply.raw.slice(0, 300)).toEqual([status, code]);
}

// "" and "a/b" are hosts Bun does not put into the URL (it is then relative).
const HOSTS = ["x", "ab", "abc", "", "a/b", "a b", "x:1", "[::1]:7", "h".repeat(300)];

describe("routing by path alone over the socket", () => {
  test.each(HOSTS)("Host %p", async (host) => {
    const { dir, socket } = await started();
    expect((await ve(dir, ["orch", "work-unit", "create", "foo"])).code).toBe(0);

    const status = await rawExchange(socket, rawRequest("GET", "/status", host));
    expect(status.status, status.raw.slice(0, 300)).toBe(200);
    expect(Value.Check(DaemonStatus, jsonBody(status))).toBe(true);

    expectErrorCode(await rawExchange(socket, rawRequest("GET", "/work-units/status", host)), 404, "not_found");
    expectErrorCode(await rawExchange(socket, rawRequest("DELETE", "/abc/work-units/foo", host)), 404, "unknown_route");
    expectErrorCode(
      await rawExchange(socket, rawRequest("PATCH", "/abc/work-units/foo", host, '{"status":"DONE"}')),
      404,
      "unknown_route",
    );
    expectErrorCode(await rawExchange(socket, rawRequest("DELETE", "/status", host)), 405, "method_not_allowed");

    const patched = await rawExchange(socket, rawRequest("PATCH", "/work-units/foo", host, '{"status":"RUNNING"}'));
    expect(patched.status, patched.raw.slice(0, 300)).toBe(200);
    expect((jsonBody(patched) as WorkUnit).status).toBe("RUNNING");
    const deleted = await rawExchange(socket, rawRequest("DELETE", "/work-units/foo?force=true", host));
    expect(deleted.status, deleted.raw.slice(0, 300)).toBe(200);
    expect(json<{ count: number }>(await ve(dir, ["orch", "ps", "--json"])).count).toBe(0);
  });
});

test("HTTP/1.0 without any Host header is routed by its path too", async () => {
  const { dir, socket } = await started();
  expect((await ve(dir, ["orch", "work-unit", "create", "foo"])).code).toBe(0);
  const status = await rawExchange(socket, "GET /status HTTP/1.0\r\n\r\n");
  expect(status.status, status.raw.slice(0, 300)).toBe(200);
  expect(Value.Check(DaemonStatus, jsonBody(status))).toBe(true);
  expectErrorCode(await rawExchange(socket, "DELETE /abc/work-units/foo HTTP/1.0\r\n\r\n"), 404, "unknown_route");
  expect(json<{ count: number }>(await ve(dir, ["orch", "ps", "--json"])).count).toBe(1);
});

describe("TCP mode", () => {
  test("a non-loopback Host, of any length, is refused with a JSON 403; a loopback one with a port is served", async () => {
    const dir = project();
    expect((await ve(dir, ["orch", "start", "--tcp"])).code).toBe(0);
    const port = Number(readFileSync(join(dir, ".ve", "orchestrator.port"), "utf8"));
    const token = readFileSync(join(dir, ".ve", "orchestrator.token"), "utf8").trim();
    const auth = [`Authorization: Bearer ${token}`];
    for (const host of ["x", "", "a/b", "evil.example", "h".repeat(300)]) {
      expectErrorCode(await rawExchange(port, rawRequest("GET", "/status", host, undefined, auth)), 403, "forbidden");
    }
    const ok = await rawExchange(port, rawRequest("GET", "/status", `127.0.0.1:${port}`, undefined, auth));
    expect(ok.status, ok.raw.slice(0, 300)).toBe(200);
    expect(Value.Check(DaemonStatus, jsonBody(ok))).toBe(true);
  });
});
