// One HTTP/1.1 exchange over a Unix socket or a loopback TCP port, on Bun.connect. The CLI
// runs one request per process, and fetch's first use costs about as much as the whole rest
// of `ve orch ps`; this plain exchange (bytes in Uint8Arrays, no Buffer, no streams) is what
// keeps the CLI as fast as a bare Bun program.

export interface Target {
  unix?: string;
  hostname?: string;
  port?: number;
}

export interface HttpRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  /** Lower-case header names. */
  headers: Map<string, string>;
  /** The body as received: what `--json` copies to stdout without decoding it. */
  bytes: Uint8Array;
  /** The body as text, decoded when first read. */
  readonly body: string;
}

export type TransportFailure =
  | { kind: "connect"; code: string; message: string }
  | { kind: "timeout" }
  /** `unanswered`: the connection closed before a single byte of a response (a closing daemon). */
  | { kind: "protocol"; message: string; unanswered?: boolean };

export class TransportError extends Error {
  constructor(readonly failure: TransportFailure) {
    super(failure.kind === "timeout" ? "timed out" : failure.message);
  }
}

const CR = 13;
const LF = 10;

export interface Head {
  status: number;
  headers: Map<string, string>;
  bodyStart: number;
  contentLength: number | undefined;
  chunked: boolean;
}

/** Index just past the blank line ending the head, searching from `from`; -1 if not there yet. */
export function headEnd(bytes: Uint8Array, from: number): number {
  for (let i = Math.max(3, from); i < bytes.length; i++) {
    if (bytes[i] === LF && bytes[i - 1] === CR && bytes[i - 2] === LF && bytes[i - 3] === CR) return i + 1;
  }
  return -1;
}

const decoder = new TextDecoder();

export function parseHead(bytes: Uint8Array, end: number): Head {
  // The head is ASCII; one UTF-8 decoder serves head and body (each decoder kind costs its
  // own set-up, and so would a regular expression, at a CLI's start).
  const lines = decoder.decode(bytes.subarray(0, end - 4)).split("\r\n");
  const statusLine = lines[0] ?? "";
  const status = Number(statusLine.slice(9, 12));
  if (!statusLine.startsWith("HTTP/1.") || statusLine[8] !== " " || !Number.isInteger(status) || status < 100) {
    throw new TransportError({ kind: "protocol", message: `not an HTTP response: ${statusLine.slice(0, 80)}` });
  }
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const length = headers.get("content-length");
  return {
    status,
    headers,
    bodyStart: end,
    contentLength: length === undefined ? undefined : Number(length),
    chunked: headers.get("transfer-encoding")?.toLowerCase() === "chunked",
  };
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : new Uint8Array(Bun.concatArrayBuffers(chunks as Uint8Array[]));
}

/** Decodes a chunked body as its bytes arrive (the streaming exchange feeds it piece by piece). */
export class ChunkedDecoder {
  private pending = new Uint8Array(0);
  finished = false;

  /** The chunks' contents completed by `bytes`. */
  feed(bytes: Uint8Array): Uint8Array[] {
    const all = this.pending.byteLength === 0 ? bytes : concat([this.pending, bytes]);
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

/** The body of a chunked message, or undefined while its last chunk has not arrived. */
function decodeChunked(body: Uint8Array): Uint8Array | undefined {
  const decoding = new ChunkedDecoder();
  const parts = decoding.feed(body);
  return decoding.finished ? concat(parts) : undefined;
}

/** The bytes of a request: its line, the headers every exchange sends, then `headers`. */
export function requestBytes(request: HttpRequest, fixed: readonly string[]): Uint8Array {
  const encoder = new TextEncoder();
  const body = request.body === undefined ? undefined : encoder.encode(request.body);
  const lines = [`${request.method} ${request.path} HTTP/1.1`, "Host: localhost", ...fixed];
  for (const [name, value] of Object.entries(request.headers ?? {})) lines.push(`${name}: ${value}`);
  if (body) lines.push("Content-Type: application/json", `Content-Length: ${body.byteLength}`);
  const head = encoder.encode(`${lines.join("\r\n")}\r\n\r\n`);
  return body ? concat([head, body]) : head;
}

/** What an exchange does with its connection; `connectWire` does the rest. */
export interface Wire {
  data(data: Uint8Array): void;
  close(): void;
  fail(error: TransportError | Error): void;
  /** The exchange has ended: nothing more is written, and a socket connected late is closed. */
  over(): boolean;
  /** The connected socket, for the exchange to end it. */
  connected(socket: { terminate(): void }): void;
}

function connectFailure(error: Error & { code?: string }, code: string): TransportError {
  return new TransportError({ kind: "connect", code: error.code ?? code, message: error.message });
}

/**
 * Connects to `target` and writes `payload` once `ready` has resolved (the client's check of
 * who owns the socket, run while the connect is under way; its rejection fails the exchange),
 * as fast as the socket takes it.
 */
export function connectWire(target: Target, payload: Uint8Array, ready: Promise<void> | undefined, wire: Wire): void {
  let pending = payload;
  let released = ready === undefined;
  const send = (s: { write(data: Uint8Array): number }) => {
    const written = s.write(pending);
    pending = pending.subarray(Math.max(0, written));
  };
  const handlers = {
    binaryType: "uint8array" as const,
    open(s: { write(data: Uint8Array): number }) {
      if (released) send(s);
      else {
        ready?.then(
          () => {
            released = true;
            if (!wire.over()) send(s);
          },
          (error: Error) => wire.fail(error),
        );
      }
    },
    drain(s: { write(data: Uint8Array): number }) {
      if (released && pending.byteLength > 0) send(s);
    },
    data(_s: unknown, data: Uint8Array) {
      wire.data(data);
    },
    close() {
      wire.close();
    },
    connectError(_s: unknown, error: Error & { code?: string }) {
      wire.fail(connectFailure(error, "ECONNREFUSED"));
    },
    error(_s: unknown, error: Error & { code?: string }) {
      wire.fail(connectFailure(error, "EIO"));
    },
  };
  const connecting = target.unix
    ? Bun.connect({ unix: target.unix, socket: handlers })
    : Bun.connect({ hostname: target.hostname ?? "127.0.0.1", port: target.port ?? 0, socket: handlers });
  connecting.then(
    (s) => {
      wire.connected(s);
      if (wire.over()) s.terminate();
    },
    (error: Error & { code?: string }) => wire.fail(connectFailure(error, "ECONNREFUSED")),
  );
}

/**
 * `ready`, when given, must resolve before the request is written (the client's check of who
 * owns the socket, run while the connect is under way); its rejection is the exchange's.
 */
export function exchange(target: Target, request: HttpRequest, timeoutMs: number, ready?: Promise<void>): Promise<HttpResponse> {
  const payload = requestBytes(request, ["Connection: close"]);

  return new Promise<HttpResponse>((resolve, reject) => {
    // The head is found in the first chunks; after that, bytes are only counted until the
    // body is complete, and joined once.
    const chunks: Uint8Array[] = [];
    let received = 0;
    let parsed: Head | undefined;
    let settled = false;
    let socket: { terminate(): void } | undefined;

    const finish = (error?: Error, response?: HttpResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket?.terminate();
      if (error) reject(error);
      else resolve(response as HttpResponse);
    };
    const timer = setTimeout(() => finish(new TransportError({ kind: "timeout" })), timeoutMs);

    const respond = (head: Head, bytes: Uint8Array) => {
      let text: string | undefined;
      finish(undefined, {
        status: head.status,
        headers: head.headers,
        bytes,
        get body() {
          text ??= decoder.decode(bytes);
          return text;
        },
      });
    };

    const progress = (closed: boolean) => {
      if (!parsed) {
        const all = concat(chunks);
        chunks.length = 0;
        chunks.push(all);
        const end = headEnd(all, 0);
        if (end === -1) {
          if (closed) {
            finish(
              new TransportError({ kind: "protocol", message: "connection closed before a response", unanswered: received === 0 }),
            );
          }
          return;
        }
        parsed = parseHead(all, end);
      }
      const { bodyStart, contentLength, chunked } = parsed;
      if (contentLength !== undefined) {
        if (received - bodyStart >= contentLength) {
          respond(parsed, concat(chunks).subarray(bodyStart, bodyStart + contentLength));
        } else if (closed) {
          finish(new TransportError({ kind: "protocol", message: "connection closed mid-response" }));
        }
        return;
      }
      if (chunked) {
        const decoded = closed || received > bodyStart ? decodeChunked(concat(chunks).subarray(bodyStart)) : undefined;
        if (decoded) respond(parsed, decoded);
        else if (closed) finish(new TransportError({ kind: "protocol", message: "connection closed mid-response" }));
        return;
      }
      if (closed) respond(parsed, concat(chunks).subarray(bodyStart));
    };

    const guarded = (closed: boolean) => {
      try {
        progress(closed);
      } catch (error) {
        finish(error as Error);
      }
    };

    connectWire(target, payload, ready, {
      data(data) {
        chunks.push(data);
        received += data.byteLength;
        // Chunked bodies are checked once the connection closes (we ask for Connection: close).
        if (!parsed || parsed.contentLength !== undefined) guarded(false);
      },
      close: () => guarded(true),
      fail: (error) => finish(error),
      over: () => settled,
      connected: (s) => {
        socket = s;
      },
    });
  });
}
