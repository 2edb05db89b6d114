// One HTTP/1.1 exchange over a Unix socket or a loopback TCP port, on Bun.connect. The CLI
// runs one request per process, and fetch's first use costs about as much as the whole rest
// of `ve orch ps`; this plain exchange is what keeps the CLI as fast as a bare Bun program.

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
  body: string;
}

export type TransportFailure =
  | { kind: "connect"; code: string; message: string }
  | { kind: "timeout" }
  | { kind: "protocol"; message: string };

export class TransportError extends Error {
  constructor(readonly failure: TransportFailure) {
    super(failure.kind === "timeout" ? "timed out" : failure.message);
  }
}

const HEADER_END = Buffer.from("\r\n\r\n");

interface Head {
  status: number;
  headers: Map<string, string>;
  bodyStart: number;
}

function parseHead(buffer: Buffer, end: number): Head {
  const lines = buffer.subarray(0, end).toString("latin1").split("\r\n");
  const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
  if (!statusLine) throw new TransportError({ kind: "protocol", message: `not an HTTP response: ${lines[0]}` });
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(statusLine[1]), headers, bodyStart: end + HEADER_END.length };
}

function decodeChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf("\r\n", at);
    if (lineEnd === -1) throw new TransportError({ kind: "protocol", message: "truncated chunked body" });
    const size = Number.parseInt(body.subarray(at, lineEnd).toString("latin1"), 16);
    if (!Number.isFinite(size)) throw new TransportError({ kind: "protocol", message: "bad chunk size" });
    if (size === 0) return Buffer.concat(parts);
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

export function exchange(target: Target, request: HttpRequest, timeoutMs: number): Promise<HttpResponse> {
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  const lines = [`${request.method} ${request.path} HTTP/1.1`, "Host: localhost", "Connection: close"];
  for (const [name, value] of Object.entries(request.headers ?? {})) lines.push(`${name}: ${value}`);
  if (body) lines.push("Content-Type: application/json", `Content-Length: ${body.byteLength}`);
  const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
  const payload = body ? Buffer.concat([head, body]) : head;

  return new Promise<HttpResponse>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let parsed: Head | undefined;
    let settled = false;
    let socket: { end(): void; terminate(): void } | undefined;

    const finish = (error?: Error, response?: HttpResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket?.terminate();
      if (error) reject(error);
      else resolve(response as HttpResponse);
    };
    const timer = setTimeout(() => finish(new TransportError({ kind: "timeout" })), timeoutMs);

    const complete = (closed: boolean) => {
      const all = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
      if (!parsed) {
        const end = all.indexOf(HEADER_END);
        if (end === -1) {
          if (closed) finish(new TransportError({ kind: "protocol", message: "connection closed before a response" }));
          return;
        }
        parsed = parseHead(all, end);
      }
      const length = parsed.headers.get("content-length");
      const bodyBytes = received - parsed.bodyStart;
      if (length !== undefined && bodyBytes >= Number(length)) {
        const raw = all.subarray(parsed.bodyStart, parsed.bodyStart + Number(length));
        finish(undefined, { status: parsed.status, headers: parsed.headers, body: raw.toString("utf8") });
      } else if (closed) {
        let raw = all.subarray(parsed.bodyStart);
        if (parsed.headers.get("transfer-encoding")?.toLowerCase() === "chunked") raw = decodeChunked(raw);
        else if (length !== undefined) {
          finish(new TransportError({ kind: "protocol", message: "connection closed mid-response" }));
          return;
        }
        finish(undefined, { status: parsed.status, headers: parsed.headers, body: raw.toString("utf8") });
      }
    };

    const handlers = {
      open(s: { write(data: Uint8Array): number }) {
        s.write(payload);
      },
      data(_s: unknown, data: Buffer) {
        chunks.push(data);
        received += data.byteLength;
        try {
          complete(false);
        } catch (error) {
          finish(error as Error);
        }
      },
      close() {
        try {
          complete(true);
        } catch (error) {
          finish(error as Error);
        }
      },
      connectError(_s: unknown, error: Error & { code?: string }) {
        finish(new TransportError({ kind: "connect", code: error.code ?? "ECONNREFUSED", message: error.message }));
      },
      error(_s: unknown, error: Error & { code?: string }) {
        finish(new TransportError({ kind: "connect", code: error.code ?? "EIO", message: error.message }));
      },
    };
    const connecting = target.unix
      ? Bun.connect({ unix: target.unix, socket: handlers })
      : Bun.connect({ hostname: target.hostname ?? "127.0.0.1", port: target.port ?? 0, socket: handlers });
    connecting.then(
      (s) => {
        socket = s;
        if (settled) s.terminate();
      },
      (error: Error & { code?: string }) =>
        finish(new TransportError({ kind: "connect", code: error.code ?? "ECONNREFUSED", message: error.message })),
    );
  });
}
