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

// What Bun's own parser used to refuse with an empty body or a closed connection (issue 9
// item 6): every class gets a JSON ErrorBody with a stable code, on the socket and over TCP.
const H = "Host: localhost\r\n";
const CLOSE = "Connection: close\r\n\r\n";
const REFUSED: [string, string, number, string][] = [
  ["an unknown method token", `FOO /status HTTP/1.1\r\n${H}${CLOSE}`, 405, "method_not_allowed"],
  ["a method Bun.serve answered anyway", `CONNECT /status HTTP/1.1\r\n${H}${CLOSE}`, 405, "method_not_allowed"],
  ["a lower-case method", `get /status HTTP/1.1\r\n${H}${CLOSE}`, 405, "method_not_allowed"],
  ["a 17 KB header", `GET /status HTTP/1.1\r\n${H}X-Big: ${"a".repeat(17_000)}\r\n${CLOSE}`, 431, "headers_too_large"],
  ["a 1 MB header", `GET /status HTTP/1.1\r\n${H}X-Big: ${"a".repeat(1_000_000)}\r\n${CLOSE}`, 431, "headers_too_large"],
  ["200 headers of 100 bytes", `GET /status HTTP/1.1\r\n${H}${Array.from({ length: 200 }, (_, i) => `X-${i}: ${"v".repeat(100)}\r\n`).join("")}${CLOSE}`, 431, "headers_too_large"],
  ["HTTP/2.0", `GET /status HTTP/2.0\r\n${H}${CLOSE}`, 505, "http_version_not_supported"],
  ["HTTP/9.9", `GET /status HTTP/9.9\r\n${H}${CLOSE}`, 505, "http_version_not_supported"],
  ["HTTP/9", `GET /status HTTP/9\r\n${H}${CLOSE}`, 505, "http_version_not_supported"],
  ["the HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "http_version_not_supported"],
  ["HTTP/1 without a minor version", `GET /status HTTP/1\r\n${H}${CLOSE}`, 400, "malformed_request"],
  ["a garbage request line", "hello there\r\n\r\n", 400, "malformed_request"],
  ["binary garbage", "\u0001\u0002\u0003\u00ff\r\n\r\n", 400, "malformed_request"],
  ["a request line without a version", `GET /status\r\n${H}${CLOSE}`, 400, "malformed_request"],
  ["two spaces in the request line", `GET  /status HTTP/1.1\r\n${H}${CLOSE}`, 400, "malformed_request"],
  ["a target that is no path", `GET status HTTP/1.1\r\n${H}${CLOSE}`, 400, "malformed_request"],
  ["a raw control character in the target", `GET /sta\u0007tus HTTP/1.1\r\n${H}${CLOSE}`, 400, "malformed_request"],
  ["a header line without a colon", `GET /status HTTP/1.1\r\n${H}no colon here\r\n${CLOSE}`, 400, "malformed_request"],
  ["a space before the colon", `GET /status HTTP/1.1\r\nHost : localhost\r\n${CLOSE}`, 400, "malformed_request"],
  ["obsolete line folding", `GET /status HTTP/1.1\r\n${H}X-A: a\r\n b\r\n${CLOSE}`, 400, "malformed_request"],
  ["a bare line feed", "GET /status HTTP/1.1\nHost: localhost\nConnection: close\n\n", 400, "malformed_request"],
  ["a control character in a header value", `GET /status HTTP/1.1\r\n${H}X-A: a\u0001b\r\n${CLOSE}`, 400, "malformed_request"],
  ["a Content-Length that is no number", `POST /work-units HTTP/1.1\r\n${H}Content-Length: abc\r\n${CLOSE}`, 400, "malformed_request"],
  ["two different Content-Lengths", `POST /work-units HTTP/1.1\r\n${H}Content-Length: 2\r\nContent-Length: 3\r\n${CLOSE}{}`, 400, "malformed_request"],
  ["Content-Length and Transfer-Encoding", `POST /work-units HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n${CLOSE}0\r\n\r\n`, 400, "malformed_request"],
  ["an unknown transfer coding", `POST /work-units HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n${CLOSE}`, 400, "malformed_request"],
  ["a chunk size that is no number", `POST /work-units HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n${CLOSE}zz\r\n{}\r\n0\r\n\r\n`, 400, "malformed_request"],
  ["a declared body over the limit", `POST /work-units HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 5000000\r\n${CLOSE}`, 413, "payload_too_large"],
];

describe("requests refused before any route get a JSON error", () => {
  test.each(REFUSED)("%s", async (_name, bytes, status, code) => {
    const { socket } = await started();
    const reply = await rawExchange(socket, bytes);
    expectErrorCode(reply, status, code);
    expect(reply.headers.get("connection")).toBe("close");
  });

  test("over TCP too, before the token is even looked at", async () => {
    const dir = project();
    expect((await ve(dir, ["orch", "start", "--tcp"])).code).toBe(0);
    const port = Number(readFileSync(join(dir, ".ve", "orchestrator.port"), "utf8"));
    for (const [name, bytes, status, code] of REFUSED) {
      const reply = await rawExchange(port, bytes);
      expect(reply.status, name).toBe(status);
      expectErrorCode(reply, status, code);
    }
  });

  test("a chunked body, a pipelined second request and an HTTP/1.0 keep-alive are served", async () => {
    const { dir, socket } = await started();
    const body = '{"chunk":"via-chunks"}';
    const chunked = `POST /work-units HTTP/1.1\r\n${H}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n${body.slice(0, 5)}\r\n${(body.length - 5).toString(16)}\r\n${body.slice(5)}\r\n0\r\n\r\n`;
    const both = await rawExchange(socket, `${chunked}GET /work-units/via-chunks HTTP/1.1\r\n${H}${CLOSE}`);
    const answers = both.raw.split("HTTP/1.1 ").slice(1);
    expect(answers.map((a) => a.slice(0, 3)), both.raw.slice(0, 300)).toEqual(["201", "200"]);
    expect(json<{ count: number }>(await ve(dir, ["orch", "ps", "--json"])).count).toBe(1);
    const old = await rawExchange(socket, "GET /status HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /status HTTP/1.0\r\n\r\n");
    expect(old.raw.split("HTTP/1.1 200").length - 1, old.raw.slice(0, 300)).toBe(2);
  });
});
