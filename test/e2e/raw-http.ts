// Raw HTTP/1.1 over the daemon's socket: bytes no well-behaved client sends (odd Host
// headers, malformed requests), and the answer exactly as the daemon wrote it.

export interface RawReply {
  /** Everything the daemon wrote before closing. */
  raw: string;
  status: number;
  headers: Map<string, string>;
  body: string;
}

/**
 * Sends `bytes` on a fresh connection (a Unix socket path, or a TCP port on 127.0.0.1) and
 * reads until the daemon closes it (or `timeoutMs`).
 */
export async function rawExchange(to: string | number, bytes: string | Uint8Array, timeoutMs = 10_000): Promise<RawReply> {
  const raw = await new Promise<string>((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const done = () => resolve(new TextDecoder().decode(Bun.concatArrayBuffers(chunks)));
    const timer = setTimeout(() => reject(new Error(`no close within ${timeoutMs} ms; got: ${new TextDecoder().decode(Bun.concatArrayBuffers(chunks))}`)), timeoutMs);
    const socket: Parameters<typeof Bun.connect>[0]["socket"] = {
        open(s) {
          s.write(bytes);
        },
        data(_s, data) {
          chunks.push(new Uint8Array(data));
        },
        close() {
          clearTimeout(timer);
          done();
        },
        error(_s, error) {
          clearTimeout(timer);
          reject(error);
        },
    };
    const connecting = typeof to === "number" ? Bun.connect({ hostname: "127.0.0.1", port: to, socket }) : Bun.connect({ unix: to, socket });
    connecting.catch(reject);
  });
  const headEnd = raw.indexOf("\r\n\r\n");
  const head = headEnd === -1 ? raw : raw.slice(0, headEnd);
  const [statusLine = "", ...lines] = head.split("\r\n");
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  return { raw, status, headers, body: headEnd === -1 ? "" : raw.slice(headEnd + 4) };
}

/** A request with `Connection: close`; `host` null sends no Host header at all. */
export function rawRequest(
  method: string,
  path: string,
  host: string | null,
  body?: string,
  extra: readonly string[] = [],
): string {
  const lines = [`${method} ${path} HTTP/1.1`];
  if (host !== null) lines.push(`Host: ${host}`);
  lines.push(...extra);
  if (body !== undefined) lines.push("Content-Type: application/json", `Content-Length: ${Buffer.byteLength(body)}`);
  lines.push("Connection: close");
  return `${lines.join("\r\n")}\r\n\r\n${body ?? ""}`;
}
