// The daemon's HTTP front (src/daemon/front.ts) over a real Unix socket: no timer cuts an
// answer (a slow handler, a stream quiet for longer than the request timeout), a stream ends
// when its client goes or the daemon stops, and answers of any size arrive whole.
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { Front, type FrontOptions, REQUEST_TIMEOUT_MS, keepOpen } from "../../src/daemon/front.ts";
import { rawExchange } from "../e2e/raw-http.ts";
import { waitFor } from "../e2e/harness.ts";
import { useTempDirs } from "../helpers/temp.ts";

setDefaultTimeout(30_000);
const tempDir = useTempDirs("ve-front");
const fronts: Front[] = [];
afterEach(async () => {
  for (const front of fronts.splice(0)) await front.stop(true);
});

function serve(fetch: FrontOptions["fetch"]): string {
  const socket = join(tempDir(), "s.sock");
  fronts.push(new Front({ unix: socket }, { fetch, error: () => Response.json({ error: { code: "internal", message: "x" } }, { status: 500 }) }));
  return socket;
}

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`;

/** A stream that sends `first`, then `second` once `release` is called, then ends. */
function gatedStream(first: string, second: string) {
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let cancelled = false;
  let sent = 0;
  const stream = new ReadableStream<string>({
    async pull(controller) {
      if (sent === 0) controller.enqueue(first);
      else if (sent === 1) {
        await gate;
        controller.enqueue(second);
      } else controller.close();
      sent++;
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, release, cancelled: () => cancelled };
}

describe("no timer cuts an answer", () => {
  test("a handler slower than the request timeout is answered", async () => {
    const socket = serve(async () => {
      await Bun.sleep(REQUEST_TIMEOUT_MS + 1500);
      return Response.json({ slow: true });
    });
    const reply = await rawExchange(socket, GET("/slow"), REQUEST_TIMEOUT_MS + 10_000);
    expect(reply.status, reply.raw).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ slow: true });
  });

  for (const [name, marked, type] of [
    ["marked with keepOpen", true, "application/x-ndjson"],
    ["an unmarked text/event-stream", false, "text/event-stream"],
  ] as const) {
    test(`a stream quiet for longer than the request timeout lives on (${name}), its events written as they come`, async () => {
      const gated = gatedStream("data: one\n\n", "data: two\n\n");
      const socket = serve((request) => {
        if (marked) keepOpen(request);
        return new Response(gated.stream, { headers: { "content-type": type } });
      });
      let received = "";
      let closed = false;
      await Bun.connect({
        unix: socket,
        socket: {
          open: (s) => void s.write(GET("/events")),
          data: (_s, data) => void (received += data.toString()),
          close: () => void (closed = true),
        },
      });
      expect(await waitFor(() => received.includes("data: one"), 5000)).toBe(true);
      expect(received).toContain("Transfer-Encoding: chunked");
      // Past the request timeout and a sweep, the stream is still open.
      const quietUntil = performance.now() + REQUEST_TIMEOUT_MS + 1000;
      expect(await waitFor(() => closed || performance.now() > quietUntil, REQUEST_TIMEOUT_MS + 5000, 50)).toBe(true);
      expect(closed).toBe(false);
      gated.release();
      expect(await waitFor(() => closed, 5000)).toBe(true);
      expect(received).toContain("data: two");
      expect(received.endsWith("0\r\n\r\n")).toBe(true);
    });
  }
});

describe("streams end with their client or the daemon", () => {
  test("a client that goes away cancels the stream and aborts the request's signal", async () => {
    const gated = gatedStream("data: one\n\n", "data: two\n\n");
    let aborted = false;
    const socket = serve((request) => {
      keepOpen(request);
      request.signal.addEventListener("abort", () => void (aborted = true));
      return new Response(gated.stream, { headers: { "content-type": "text/event-stream" } });
    });
    let received = "";
    const client = await Bun.connect({
      unix: socket,
      socket: { open: (s) => void s.write(GET("/events")), data: (_s, data) => void (received += data.toString()) },
    });
    expect(await waitFor(() => received.includes("data: one"), 5000)).toBe(true);
    client.terminate();
    expect(await waitFor(() => gated.cancelled() && aborted, 5000)).toBe(true);
  });

  test("a graceful stop ends a stream at once, and lets an ordinary request in flight finish", async () => {
    const gated = gatedStream("data: one\n\n", "data: two\n\n");
    let finishSlow = () => {};
    const slowGate = new Promise<void>((resolve) => {
      finishSlow = resolve;
    });
    const socket = join(tempDir(), "s.sock");
    const front = new Front(
      { unix: socket },
      {
        fetch: async (request) => {
          if (request.url.endsWith("/events")) {
            keepOpen(request);
            return new Response(gated.stream);
          }
          await slowGate;
          return Response.json({ finished: true });
        },
        error: () => new Response(null, { status: 500 }),
      },
    );
    fronts.push(front);
    let streamed = "";
    let streamClosed = false;
    await Bun.connect({
      unix: socket,
      socket: {
        open: (s) => void s.write(GET("/events")),
        data: (_s, data) => void (streamed += data.toString()),
        close: () => void (streamClosed = true),
      },
    });
    expect(await waitFor(() => streamed.includes("data: one"), 5000)).toBe(true);
    const slow = rawExchange(socket, GET("/slow"));
    expect(await waitFor(() => front.connections === 2, 5000)).toBe(true);
    let stopped = false;
    const stopping = front.stop().then(() => void (stopped = true));
    expect(await waitFor(() => streamClosed && gated.cancelled(), 5000)).toBe(true);
    expect(streamed.endsWith("0\r\n\r\n")).toBe(true);
    expect(stopped).toBe(false);
    finishSlow();
    const reply = await slow;
    expect(reply.status).toBe(200);
    expect(reply.headers.get("connection")).toBe("close");
    await stopping;
    expect(front.connections).toBe(0);
  });
});

describe("answers", () => {
  test("an answer of 8 MiB arrives whole, however slowly the client reads", async () => {
    const big = "x".repeat(8 * 1024 * 1024);
    const socket = serve(() => new Response(big));
    const reply = await rawExchange(socket, GET("/big"));
    expect(reply.status).toBe(200);
    expect(reply.headers.get("content-length")).toBe(String(big.length));
    expect(reply.body.length).toBe(big.length);
  });

  test("a client that shuts down its sending side after the request still gets the answer", async () => {
    const socket = serve((request) => Response.json({ path: new URL(request.url).pathname }));
    let received = "";
    let closed = false;
    await Bun.connect({
      unix: socket,
      allowHalfOpen: true,
      socket: {
        open(s) {
          s.write("GET /half HTTP/1.1\r\nHost: localhost\r\n\r\n");
          s.shutdown();
        },
        data: (_s, data) => void (received += data.toString()),
        close: () => void (closed = true),
      },
    });
    expect(await waitFor(() => closed, 5000)).toBe(true);
    expect(received).toStartWith("HTTP/1.1 200 ");
    expect(received).toEndWith('{"path":"/half"}');
  });

  test("a handler that throws gets the error answer, and HEAD gets the length without the body", async () => {
    const socket = serve((request) => {
      if (request.method === "HEAD") return new Response("twelve bytes");
      throw new Error("boom");
    });
    const thrown = await rawExchange(socket, GET("/throw"));
    expect(thrown.status).toBe(500);
    const head = await rawExchange(socket, "HEAD /h HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    expect([head.status, head.headers.get("content-length"), head.body]).toEqual([200, "12", ""]);
  });
});
