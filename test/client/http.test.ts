// The CLI's one HTTP/1.1 exchange over a Unix socket (src/client/http.ts): every response shape
// a daemon (or something else on the socket) can send, and every way the exchange can fail,
// each within its timeout (DESIGN.md "CLI": no command hangs).
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, linkSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Server, Socket, TCPSocketListener, UnixSocketListener } from "bun";
import { type HttpResponse, type TransportFailure, TransportError, exchange } from "../../src/client/http.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { unusedPort } from "../helpers/ports.ts";

const tempDir = useTempDirs("ve-http");
const socketPath = () => join(tempDir(), "s.sock");

const servers: Server<undefined>[] = [];
const listeners: (UnixSocketListener<unknown> | TCPSocketListener<unknown>)[] = [];
const timers: ReturnType<typeof setTimeout>[] = [];
afterEach(() => {
  for (const timer of timers.splice(0)) clearTimeout(timer);
  for (const server of servers.splice(0)) server.stop(true);
  for (const listener of listeners.splice(0)) listener.stop(true);
});

/** A real HTTP server on a fresh socket; records every request it receives. */
function serve(handler: (request: Request) => Response | Promise<Response>) {
  const path = socketPath();
  const requests: { method: string; url: string; headers: Headers; body: string }[] = [];
  const server = Bun.serve({
    unix: path,
    async fetch(request) {
      requests.push({ method: request.method, url: request.url, headers: request.headers, body: await request.text() });
      return handler(request);
    },
  });
  servers.push(server);
  return { path, requests };
}

/** A raw socket server: `onRequest` gets the socket once the request head has arrived. */
function rawServer(onRequest: (socket: Socket<{ buffer: string }>) => void) {
  const path = socketPath();
  const listener = Bun.listen<{ buffer: string }>({
    unix: path,
    socket: {
      open(socket) {
        socket.data = { buffer: "" };
      },
      data(socket, data) {
        const already = socket.data.buffer.includes("\r\n\r\n");
        socket.data.buffer += data.toString();
        if (!already && socket.data.buffer.includes("\r\n\r\n")) onRequest(socket);
      },
    },
  });
  listeners.push(listener);
  return path;
}

/** Writes `parts` one by one with a pause between, so the client reads them separately. */
function writeSlowly(socket: Socket<unknown>, parts: (string | Uint8Array)[], thenClose: boolean): void {
  let i = 0;
  const next = () => {
    if (i < parts.length) {
      socket.write(parts[i++] as string);
      socket.flush();
      timers.push(setTimeout(next, 2));
    } else if (thenClose) socket.end();
  };
  next();
}

async function failure(promise: Promise<HttpResponse>): Promise<TransportFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TransportError) return error.failure;
    throw error;
  }
  throw new Error("expected the exchange to fail");
}

describe("exchange: responses", () => {
  test("GET: status, lower-case headers and a Content-Length body", async () => {
    const { path, requests } = serve(
      () => new Response('{"ok":true}', { status: 200, headers: { "Content-Type": "application/json", "X-Ve-Version": "9.9.9" } }),
    );
    const response = await exchange({ unix: path }, { method: "GET", path: "/status?x=1" }, 2000);
    expect(response.status).toBe(200);
    expect(response.body).toBe('{"ok":true}');
    expect(response.headers.get("x-ve-version")).toBe("9.9.9");
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(requests).toHaveLength(1);
    expect(requests[0]?.method).toBe("GET");
    expect(new URL(requests[0]?.url ?? "").pathname).toBe("/status");
    expect(new URL(requests[0]?.url ?? "").search).toBe("?x=1");
  });

  test("POST with a JSON body and extra headers: the server receives exactly them", async () => {
    const { path, requests } = serve(() => new Response('{"created":1}', { status: 201 }));
    const body = JSON.stringify({ chunk: "parser", note: "ünïcödé ✓" });
    const response = await exchange(
      { unix: path },
      { method: "POST", path: "/work-units", headers: { authorization: "Bearer t0k" }, body },
      2000,
    );
    expect(response.status).toBe(201);
    expect(response.body).toBe('{"created":1}');
    const received = requests[0];
    expect(received?.method).toBe("POST");
    expect(received?.body).toBe(body);
    expect(received?.headers.get("content-type")).toBe("application/json");
    expect(received?.headers.get("content-length")).toBe(String(Buffer.byteLength(body)));
    expect(received?.headers.get("authorization")).toBe("Bearer t0k");
  });

  test("a large request body (3 MB) is sent whole, past what one socket write takes", async () => {
    const { path, requests } = serve((request) => new Response(String(request.headers.get("content-length"))));
    const body = JSON.stringify({ text: "é".repeat(1_500_000) });
    const response = await exchange({ unix: path }, { method: "POST", path: "/echo", body }, 10_000);
    expect(response.body).toBe(String(Buffer.byteLength(body)));
    expect(requests[0]?.body === body).toBe(true);
  });

  test("error statuses are responses, not failures", async () => {
    const { path } = serve(() => new Response('{"error":{"code":"not_found","message":"m"}}', { status: 404 }));
    const response = await exchange({ unix: path }, { method: "GET", path: "/work-units/x" }, 2000);
    expect(response.status).toBe(404);
    expect(JSON.parse(response.body).error.code).toBe("not_found");
  });

  test("an empty body", async () => {
    const { path } = serve(() => new Response(null, { status: 204 }));
    const response = await exchange({ unix: path }, { method: "DELETE", path: "/x" }, 2000);
    expect(response.status).toBe(204);
    expect(response.body).toBe("");
  });

  test("a chunked response (a streamed body) is decoded", async () => {
    const pieces = ['{"work_units":[', '{"chunk":"a"},', '{"chunk":"ü"}', "],", '"count":2}'];
    const { path } = serve(() => {
      let i = 0;
      const stream = new ReadableStream({
        async pull(controller) {
          if (i < pieces.length) {
            controller.enqueue(new TextEncoder().encode(pieces[i++]));
            await Bun.sleep(1);
          } else controller.close();
        },
      });
      return new Response(stream, { status: 200 });
    });
    const response = await exchange({ unix: path }, { method: "GET", path: "/work-units" }, 2000);
    expect(response.headers.get("transfer-encoding")).toBe("chunked");
    expect(response.body).toBe(pieces.join(""));
    expect(JSON.parse(response.body).count).toBe(2);
  });

  test("a response split across many writes, the header end and multi-byte characters included", async () => {
    const body = JSON.stringify({ text: "€uro ✓ 日本語 🙂".repeat(20) });
    const bytes = Buffer.from(body);
    const head = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${bytes.byteLength}\r\n\r\n`;
    const all = Buffer.concat([Buffer.from(head), bytes]);
    const parts: Uint8Array[] = [];
    // 7-byte pieces: the blank line and many characters straddle two writes.
    for (let at = 0; at < all.byteLength; at += 7) parts.push(all.subarray(at, at + 7));
    const path = rawServer((socket) => writeSlowly(socket, parts, false));
    const response = await exchange({ unix: path }, { method: "GET", path: "/" }, 5000);
    expect(response.status).toBe(200);
    expect(response.body).toBe(body);
  });

  test("a chunked response written raw in pieces, then the connection closed", async () => {
    const chunks = ["hello ", "wörld", "!"];
    const encoded = chunks.map((c) => `${Buffer.byteLength(c).toString(16)}\r\n${c}\r\n`).join("");
    const raw = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${encoded}0\r\n\r\n`;
    const parts = raw.match(/[\s\S]{1,5}/g) ?? [];
    const path = rawServer((socket) => writeSlowly(socket, parts, true));
    const response = await exchange({ unix: path }, { method: "GET", path: "/" }, 5000);
    expect(response.body).toBe("hello wörld!");
  });

  test("a response without Content-Length is read until the connection closes", async () => {
    const path = rawServer((socket) => writeSlowly(socket, ["HTTP/1.0 200 OK\r\n\r\n", "part one, ", "part two"], true));
    const response = await exchange({ unix: path }, { method: "GET", path: "/" }, 5000);
    expect(response.body).toBe("part one, part two");
  });

  test("a large body (8 MB) arrives whole", async () => {
    const size = 8 * 1024 * 1024;
    const big = Buffer.alloc(size, "a");
    for (let i = 0; i < size; i += 4096) big[i] = 0x30 + ((i / 4096) % 10);
    const text = big.toString("latin1");
    const { path } = serve(() => new Response(text, { status: 200 }));
    const response = await exchange({ unix: path }, { method: "GET", path: "/big" }, 10_000);
    expect(response.body.length).toBe(size);
    expect(response.body === text).toBe(true);
  });

  test("sequential exchanges on one server each get their own answer", async () => {
    let n = 0;
    const { path } = serve(() => new Response(String(++n)));
    for (let i = 1; i <= 5; i++) {
      expect((await exchange({ unix: path }, { method: "GET", path: "/" }, 2000)).body).toBe(String(i));
    }
  });
});

describe("exchange: failures, each reported as a kind", () => {
  test("a stale socket file (no listener behind it): connect ECONNREFUSED", async () => {
    const dir = tempDir();
    const live = join(dir, "live.sock");
    const stale = join(dir, "stale.sock");
    const listener = Bun.listen({ unix: live, socket: { data() {} } });
    linkSync(live, stale); // a second name for the socket, which stop() does not remove
    listener.stop(true);
    expect(statSync(stale).isSocket()).toBe(true);
    const started = performance.now();
    const result = await failure(exchange({ unix: stale }, { method: "GET", path: "/status" }, 5000));
    expect(result).toMatchObject({ kind: "connect", code: "ECONNREFUSED" });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test("a missing socket path: connect ENOENT", async () => {
    const missing = join(tempDir(), "missing.sock");
    expect(existsSync(missing)).toBe(false);
    const result = await failure(exchange({ unix: missing }, { method: "GET", path: "/status" }, 5000));
    expect(result).toMatchObject({ kind: "connect", code: "ENOENT" });
  });

  test("a server that accepts and never answers: timeout, close to timeoutMs", async () => {
    const path = rawServer(() => {});
    const started = performance.now();
    const result = await failure(exchange({ unix: path }, { method: "GET", path: "/status" }, 300));
    const elapsed = performance.now() - started;
    expect(result).toEqual({ kind: "timeout" });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1500);
  });

  test("a server that sends half a response and then stalls: timeout", async () => {
    const path = rawServer((socket) => {
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a bit");
    });
    const result = await failure(exchange({ unix: path }, { method: "GET", path: "/" }, 300));
    expect(result).toEqual({ kind: "timeout" });
  });

  test("garbage (non-HTTP) bytes: protocol", async () => {
    const path = rawServer((socket) => {
      socket.write("SSH-2.0-OpenSSH_9.6\r\n\r\n");
    });
    const result = await failure(exchange({ unix: path }, { method: "GET", path: "/" }, 2000));
    expect(result.kind).toBe("protocol");
  });

  test("garbage without a header end, then close: protocol", async () => {
    const path = rawServer((socket) => {
      socket.end("\u0000\u0001\u0002 binary junk");
    });
    const result = await failure(exchange({ unix: path }, { method: "GET", path: "/" }, 2000));
    expect(result).toMatchObject({ kind: "protocol", unanswered: false });
  });

  test("the connection closed before any answer: protocol, unanswered (the client says daemon_stopping)", async () => {
    const path = rawServer((socket) => socket.end());
    const result = await failure(exchange({ unix: path }, { method: "GET", path: "/" }, 2000));
    expect(result).toMatchObject({ kind: "protocol", unanswered: true });
  });

  test("closed in the middle of a Content-Length body: protocol", async () => {
    const path = rawServer((socket) => {
      socket.end("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\ntruncated");
    });
    const result = await failure(exchange({ unix: path }, { method: "GET", path: "/" }, 2000));
    expect(result.kind).toBe("protocol");
  });

  test("closed in the middle of a chunked body: protocol", async () => {
    const path = rawServer((socket) => {
      socket.end("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nonly");
    });
    const result = await failure(exchange({ unix: path }, { method: "GET", path: "/" }, 2000));
    expect(result.kind).toBe("protocol");
  });

  test("a TCP port nobody listens on: connect ECONNREFUSED", async () => {
    const port = unusedPort();
    const result = await failure(exchange({ hostname: "127.0.0.1", port }, { method: "GET", path: "/" }, 2000));
    expect(result).toMatchObject({ kind: "connect", code: "ECONNREFUSED" });
  });
});
