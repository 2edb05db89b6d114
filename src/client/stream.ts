// A streaming HTTP/1.1 exchange over a Unix socket or loopback TCP (Bun.connect), for
// GET /events: the head is awaited within a timeout, then the body is handed on piece by
// piece as it arrives (chunked transfer decoded) until the server ends it or the caller
// closes. Loaded only by the commands that follow a stream.
import { type HttpRequest, type Target, TransportError } from "./http.ts";

const decoder = new TextDecoder();
const CR = 13;
const LF = 10;

export interface StreamResponse {
  status: number;
  /** Lower-case header names. */
  headers: Map<string, string>;
  /** The body's pieces as they arrive; ends when the server ends the body or the connection closes. */
  body: AsyncIterable<Uint8Array>;
  /** Ends the exchange (the body iteration then ends). */
  close(): void;
}

/** Decodes a chunked body incrementally. */
class ChunkedDecoder {
  private pending = new Uint8Array(0);
  finished = false;

  feed(bytes: Uint8Array): Uint8Array[] {
    const all = this.pending.byteLength === 0 ? bytes : new Uint8Array(Bun.concatArrayBuffers([this.pending, bytes]));
    const out: Uint8Array[] = [];
    let at = 0;
    while (!this.finished) {
      let lineEnd = at;
      while (lineEnd + 1 < all.length && !(all[lineEnd] === CR && all[lineEnd + 1] === LF)) lineEnd++;
      if (lineEnd + 1 >= all.length) break;
      const size = Number.parseInt(decoder.decode(all.subarray(at, lineEnd)), 16);
      if (!Number.isFinite(size)) throw new TransportError({ kind: "protocol", message: "bad chunk size" });
      const start = lineEnd + 2;
      if (size === 0) {
        this.finished = true;
        at = all.length;
        break;
      }
      if (start + size + 2 > all.length) break;
      out.push(all.subarray(start, start + size));
      at = start + size + 2;
    }
    this.pending = all.slice(at);
    return out;
  }
}

function headEnd(bytes: Uint8Array): number {
  for (let i = 3; i < bytes.length; i++) {
    if (bytes[i] === LF && bytes[i - 1] === CR && bytes[i - 2] === LF && bytes[i - 3] === CR) return i + 1;
  }
  return -1;
}

/**
 * Sends `request` and resolves with the response once its head has arrived (within
 * `timeoutMs`); `ready` must resolve before the request is written (the socket's owner check).
 */
export function openStream(target: Target, request: HttpRequest, timeoutMs: number, ready?: Promise<void>): Promise<StreamResponse> {
  const encoder = new TextEncoder();
  const lines = [`${request.method} ${request.path} HTTP/1.1`, "Host: localhost", "Accept: text/event-stream"];
  for (const [name, value] of Object.entries(request.headers ?? {})) lines.push(`${name}: ${value}`);
  let pendingWrite = encoder.encode(`${lines.join("\r\n")}\r\n\r\n`);

  return new Promise<StreamResponse>((resolve, reject) => {
    let headBytes = new Uint8Array(0);
    let headDone = false;
    let settled = false;
    let socket: { terminate(): void; end(): void } | undefined;
    let chunked = false;
    let length: number | undefined;
    let bodyReceived = 0;
    const dechunk = new ChunkedDecoder();
    // The body's pieces waiting for the reader, and the reader waiting for them.
    const queue: Uint8Array[] = [];
    let ended = false;
    let failure: Error | undefined;
    let wakeReader: (() => void) | undefined;
    const wake = () => {
      const w = wakeReader;
      wakeReader = undefined;
      w?.();
    };
    const endBody = (error?: Error) => {
      if (ended) return;
      ended = true;
      failure ??= error;
      socket?.terminate();
      wake();
    };
    const fail = (error: Error) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        socket?.terminate();
        reject(error);
      } else endBody(error);
    };
    const timer = setTimeout(() => fail(new TransportError({ kind: "timeout" })), timeoutMs);

    const body = (bytes: Uint8Array) => {
      if (bytes.byteLength === 0) return;
      if (chunked) {
        for (const piece of dechunk.feed(bytes)) queue.push(piece);
        if (dechunk.finished) endBody();
      } else {
        queue.push(bytes);
        bodyReceived += bytes.byteLength;
        if (length !== undefined && bodyReceived >= length) endBody();
      }
      wake();
    };

    const onData = (data: Uint8Array) => {
      if (headDone) {
        try {
          body(data);
        } catch (error) {
          endBody(error as Error);
        }
        return;
      }
      headBytes = headBytes.byteLength === 0 ? data.slice() : new Uint8Array(Bun.concatArrayBuffers([headBytes, data]));
      const end = headEnd(headBytes);
      if (end === -1) return;
      headDone = true;
      const headLines = decoder.decode(headBytes.subarray(0, end - 4)).split("\r\n");
      const statusLine = headLines[0] ?? "";
      const status = Number(statusLine.slice(9, 12));
      if (!statusLine.startsWith("HTTP/1.") || !Number.isInteger(status)) {
        fail(new TransportError({ kind: "protocol", message: `not an HTTP response: ${statusLine.slice(0, 80)}` }));
        return;
      }
      const headers = new Map<string, string>();
      for (const line of headLines.slice(1)) {
        const colon = line.indexOf(":");
        if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      chunked = headers.get("transfer-encoding")?.toLowerCase() === "chunked";
      const declared = headers.get("content-length");
      length = declared === undefined ? undefined : Number(declared);
      settled = true;
      clearTimeout(timer);
      resolve({
        status,
        headers,
        body: {
          async *[Symbol.asyncIterator]() {
            for (;;) {
              const next = queue.shift();
              if (next) {
                yield next;
                continue;
              }
              if (ended) {
                if (failure) throw failure;
                return;
              }
              await new Promise<void>((r) => {
                wakeReader = r;
              });
            }
          },
        },
        close: () => endBody(),
      });
      try {
        if (length === 0) endBody();
        else body(headBytes.subarray(end));
      } catch (error) {
        endBody(error as Error);
      }
    };

    let released = ready === undefined;
    const send = (s: { write(data: Uint8Array): number }) => {
      const written = s.write(pendingWrite);
      pendingWrite = pendingWrite.subarray(Math.max(0, written));
    };
    const handlers = {
      binaryType: "uint8array" as const,
      open(s: { write(data: Uint8Array): number }) {
        if (released) send(s);
        else {
          ready?.then(
            () => {
              released = true;
              if (!settled) send(s);
            },
            (error: Error) => fail(error),
          );
        }
      },
      drain(s: { write(data: Uint8Array): number }) {
        if (released && pendingWrite.byteLength > 0) send(s);
      },
      data(_s: unknown, data: Uint8Array) {
        onData(data);
      },
      close() {
        if (!settled) fail(new TransportError({ kind: "protocol", message: "connection closed before a response", unanswered: !headDone }));
        else endBody();
      },
      connectError(_s: unknown, error: Error & { code?: string }) {
        fail(new TransportError({ kind: "connect", code: error.code ?? "ECONNREFUSED", message: error.message }));
      },
      error(_s: unknown, error: Error & { code?: string }) {
        fail(new TransportError({ kind: "connect", code: error.code ?? "EIO", message: error.message }));
      },
    };
    const connecting = target.unix
      ? Bun.connect({ unix: target.unix, socket: handlers })
      : Bun.connect({ hostname: target.hostname ?? "127.0.0.1", port: target.port ?? 0, socket: handlers });
    connecting.then(
      (s) => {
        socket = s;
        if (ended || (settled && !headDone)) s.terminate();
      },
      (error: Error & { code?: string }) =>
        fail(new TransportError({ kind: "connect", code: error.code ?? "ECONNREFUSED", message: error.message })),
    );
  });
}
