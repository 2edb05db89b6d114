// The daemon's HTTP/1.1 server: its own reader of requests on the raw socket (Bun.listen), in
// front of the app's fetch. Measured on Bun 1.4.5 (docs/architecture.md, "The HTTP front"),
// Bun.serve cannot give the daemon what issue 9 asks:
// - a connection that sends nothing, or half a request head, is closed only by uWebSockets'
//   fixed HTTP_IDLE_TIMEOUT_S (10 s, checked on 4 s ticks: 12 s), whatever `idleTimeout` says;
// - a nonzero `idleTimeout` cuts a handler that takes longer (POST /shutdown's drain) and a
//   stream between two writes, and `server.timeout(request, 0)` is ignored on a Unix socket;
// - what its parser rejects (an unknown method, headers over 16 KiB, a version other than
//   1.x, a malformed line) is answered with an empty body or a closed connection, and no hook
//   lets the daemon answer instead (node:http has `clientError`, at half the request rate).
// Here every connection must deliver a complete request (head and body) within
// REQUEST_TIMEOUT_MS of being opened or of its previous response; while the app handles a
// request and while the answer is written or streamed, no timer runs. Whatever is refused is
// refused with a JSON ErrorBody.
import type { Socket, TCPSocketListener, UnixSocketListener } from "bun";
import { MAX_BODY_BYTES } from "../api/body.ts";
import { httpStatusOf } from "../api/errors.ts";
import { VeError } from "../errors.ts";
import { VERSION, VERSION_HEADER } from "../version.ts";

/** A connection has this long to deliver a complete request, from its opening or its previous response. */
export const REQUEST_TIMEOUT_MS = 3000;
/** Request line and headers together; Bun.serve's limit was the same. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** After the daemon's last byte (FIN sent), how long the client may take to close before the reset. */
export const LINGER_MS = 1000;
/** How often deadlines are checked: a connection is closed at most this late. */
export const SWEEP_INTERVAL_MS = 250;
/** A streamed answer waits for the client to read once this much is written but not yet taken. */
export const STREAM_HIGH_WATER_BYTES = 1024 * 1024;

/** The methods handed to the app (it answers 404/405 for those a path lacks); any other is refused here. */
const METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VERSION_PATTERN = /^HTTP\/(\d{1,3})(?:\.(\d{1,3}))?$/;
const HTTP11 = ["HTTP/1.1", "1", "1"] as const;
const CLOSE_TOKEN = /(?:^|,)\s*close\s*(?:,|$)/;
const KEEP_ALIVE_TOKEN = /(?:^|,)\s*keep-alive\s*(?:,|$)/;
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
/** Header lines `Name: value`, CR LF between them: a token, a colon, then tabs and visible or obs-text characters. */
const HEADER_BLOCK = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*(?:\r\n[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*)*$/;
const BAD_TARGET = /[^\x21-\x7e]/;
const ORIGIN = "http://localhost";
const TEXTUAL = /^(application\/json|text\/)/i;
const CRLF = "\r\n";
const CRLF_BYTES = Buffer.from(CRLF, "latin1");

const REASONS: Record<number, string> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  204: "No Content",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
  507: "Insufficient Storage",
};

const longLived = new WeakSet<Request>();

/**
 * A request whose `signal` is aborted when its client goes away. The AbortController behind it
 * is made only when a handler reads `signal` (GET /events' stream): making one for every
 * request was a measurable part of a request's cost, and almost no handler looks.
 */
class FrontRequest extends Request {
  #abort: AbortController | undefined;
  #abandoned = false;

  // Request's `signal` is an accessor on its prototype, which the types declare as a property.
  // @ts-expect-error TS2611, see above
  override get signal(): AbortSignal {
    if (!this.#abort) {
      this.#abort = new AbortController();
      if (this.#abandoned) this.#abort.abort();
    }
    return this.#abort.signal;
  }

  /** The client went away: the signal, made now or later, is aborted. */
  abandon(): void {
    this.#abandoned = true;
    this.#abort?.abort();
  }
}

/**
 * Marks `request`'s answer as a stream that stays open as long as the client wants it (an SSE
 * stream): it is written as it comes, never buffered whole, and a graceful stop ends it at once
 * instead of waiting for it. No timer cuts any answer, streamed or not, however long the
 * handler takes; this only says that the answer will not end by itself. An answer with
 * `Content-Type: text/event-stream` is treated so without the call.
 */
export function keepOpen(request: Request): void {
  longLived.add(request);
}

const knownText = new WeakMap<Response, string>();

/**
 * A Response with `text` as its body, which the front writes as it is instead of reading the
 * body back (a promise and two copies of the text per answer). The API's JSON answers are made
 * so (src/api/respond.ts); any other Response is read as usual.
 */
export function textResponse(text: string, init: ResponseInit): Response {
  const response = new Response(text, init);
  knownText.set(response, text);
  return response;
}

export type Fetch = (request: Request) => Response | Promise<Response>;

export interface FrontOptions {
  fetch: Fetch;
  /** The answer to a fetch that throws (it logs the error). */
  error: (error: unknown) => Response;
}

export type FrontAddress = { unix: string } | { hostname: string; port: number; reusePort?: boolean };

interface Head {
  method: string;
  target: string;
  headers: [string, string][];
  contentLength: number;
  chunked: boolean;
  /** The answer ends the connection (Connection: close, or HTTP/1.0 without keep-alive). */
  close: boolean;
  http10: boolean;
  expectContinue: boolean;
}

type Phase = "waiting" | "body" | "busy" | "closing";

/** An answer written whole: its status, its header lines so far, what ends the connection. */
interface Whole {
  status: number;
  lines: string;
  closeAfter: boolean;
  noBody: boolean;
}

interface Conn {
  socket: Socket<Conn>;
  phase: Phase;
  /** Unparsed input; undefined when none. */
  input: Buffer | undefined;
  /** performance.now() by which the current wait must end; 0 while nothing is awaited. */
  deadline: number;
  head: Head | undefined;
  /** Chunked bodies: the chunks decoded so far and their total. */
  parts: Buffer[];
  partBytes: number;
  /** Written but not yet accepted by the kernel. */
  queue: Uint8Array[];
  queued: number;
  endWhenFlushed: boolean;
  closed: boolean;
  peerEnded: boolean;
  /** The request in flight (its signal ends when the client goes), and a stream being written. */
  request: FrontRequest | undefined;
  reader: { cancel(): Promise<void> } | undefined;
  /** The answer being written is a stream that a stop must end rather than wait for. */
  streaming: boolean;
  /** The answer in flight must end the connection (a stop began). */
  closeAfter: boolean;
  drained: (() => void) | undefined;
}

let dateSecond = 0;
let dateValue = "";
function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(second * 1000).toUTCString();
  }
  return dateValue;
}

/** Printable, bounded: what an error message may quote of what a client sent. */
function quote(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, "?");
  return printable.length > 60 ? `${printable.slice(0, 60)}...` : printable;
}

function malformed(message: string): VeError {
  return new VeError("malformed_request", `${message}; send a well-formed HTTP/1.1 request (docs/api.md).`);
}

function parseHead(text: string): Head | VeError {
  const lines = text.split(CRLF);
  const requestLine = lines[0] as string;
  const parts = requestLine.split(" ");
  if (parts.length !== 3 || (!METHODS.has(parts[0] as string) && !TOKEN.test(parts[0] as string))) {
    return malformed(`The request line '${quote(requestLine)}' is not 'METHOD /path HTTP/1.1'`);
  }
  const [method, target, version] = parts as [string, string, string];
  // HTTP/1.1 is what every client of the daemon sends: no expression to run for it.
  const matched = version === "HTTP/1.1" ? HTTP11 : VERSION_PATTERN.exec(version);
  if (!matched) return malformed(`The request line '${quote(requestLine)}' names no HTTP version ('HTTP/1.1')`);
  if (Number(matched[1]) !== 1) {
    return new VeError("http_version_not_supported", `${quote(version)} is not supported; the daemon speaks HTTP/1.1 (and 1.0).`, {
      version: quote(version),
    });
  }
  if (matched[2] === undefined) return malformed(`The request line '${quote(requestLine)}' names no HTTP version ('HTTP/1.1')`);
  if (!METHODS.has(method)) {
    return new VeError("method_not_allowed", `The method '${quote(method)}' is not one the ve API uses (${[...METHODS].join(", ")}).`, {
      method: quote(method),
      allowed: [...METHODS],
    });
  }
  let path = target;
  if (!path.startsWith("/")) {
    // The absolute form a proxy would send: the path is what is routed, as for any Host.
    const scheme = /^https?:\/\/[^/?#]*/i.exec(path);
    if (!scheme) return malformed(`The request target '${quote(target)}' is not a path starting with '/'`);
    path = path.slice(scheme[0].length);
    if (!path.startsWith("/")) path = `/${path}`;
  }
  if (BAD_TARGET.test(path)) return malformed(`The request target '${quote(target)}' holds a character that must be percent-encoded`);

  const http10 = Number(matched[2]) === 0;
  const head: Head = {
    method,
    target: path,
    headers: [],
    contentLength: 0,
    chunked: false,
    close: http10,
    http10,
    expectContinue: false,
  };
  // One pass of one expression checks every header line; the lines are looked at one by one
  // only to say what is wrong.
  const firstEnd = requestLine.length + 2;
  if (firstEnd < text.length && !HEADER_BLOCK.test(text.slice(firstEnd))) return badHeaderLine(lines);
  let lengthSeen: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(":");
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    head.headers.push([name, value]);
    // Only names of these lengths that start with c, t or e can matter (lower-casing every name
    // was a measurable part of a request's cost).
    const first = name.charCodeAt(0) | 0x20;
    if (first !== 0x63 && first !== 0x74 && first !== 0x65) continue;
    switch (name.length) {
      case 10:
        if (name.toLowerCase() === "connection") {
          const tokens = value.toLowerCase();
          if (tokens === "close" || CLOSE_TOKEN.test(tokens)) head.close = true;
          else if (http10 && (tokens === "keep-alive" || KEEP_ALIVE_TOKEN.test(tokens))) head.close = false;
        }
        break;
      case 14:
        if (name.toLowerCase() === "content-length") {
          if (!/^\d{1,15}$/.test(value) || (lengthSeen !== undefined && lengthSeen !== value)) {
            return malformed(`The Content-Length '${quote(value)}' is not one decimal number`);
          }
          lengthSeen = value;
          head.contentLength = Number(value);
        }
        break;
      case 17:
        if (name.toLowerCase() === "transfer-encoding") {
          if (value.toLowerCase() !== "chunked" || head.chunked) {
            return malformed(`The Transfer-Encoding '${quote(value)}' is not supported (send Content-Length, or 'chunked' alone)`);
          }
          head.chunked = true;
        }
        break;
      case 6:
        if (name.toLowerCase() === "expect" && value.toLowerCase() === "100-continue") head.expectContinue = true;
        break;
    }
  }
  if (head.chunked && lengthSeen !== undefined) return malformed("The request has both Content-Length and Transfer-Encoding");
  if (head.contentLength > MAX_BODY_BYTES) return tooLarge();
  return head;
}

/** Why the header lines of a head that failed HEADER_BLOCK are not HTTP. */
function badHeaderLine(lines: readonly string[]): VeError {
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN.test(name)) {
      return malformed(
        line.startsWith(" ") || line.startsWith("\t")
          ? `The header line '${quote(line)}' continues the previous one (obsolete line folding)`
          : `The header line '${quote(line)}' is not 'Name: value'`,
      );
    }
    if (BAD_VALUE.test(line.slice(colon + 1))) return malformed(`The header '${quote(name)}' holds a control character`);
  }
  return malformed("A header line is malformed");
}

function tooLarge(): VeError {
  return new VeError("payload_too_large", `The request body is over ${MAX_BODY_BYTES} bytes; send a smaller JSON object.`, {
    limit_bytes: MAX_BODY_BYTES,
  });
}

/** The bytes of an answer whose whole body is known. */
function message(status: number, headerLines: string, body: Uint8Array | undefined): Uint8Array {
  const head = Buffer.from(`HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\n${headerLines}\r\n`, "latin1");
  return body && body.length > 0 ? Buffer.concat([head, body]) : head;
}

export class Front {
  readonly #listener: UnixSocketListener<Conn> | TCPSocketListener<Conn>;
  readonly #conns = new Set<Conn>();
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #stopping = false;
  #stopped: (() => void) | undefined;
  #allClosed: Promise<void> | undefined;

  constructor(
    address: FrontAddress,
    private readonly options: FrontOptions,
  ) {
    const front = this;
    const socket = {
      open(s: Socket<Conn>) {
        front.#open(s);
      },
      data(s: Socket<Conn>, data: Buffer) {
        front.#data(s.data, data);
      },
      drain(s: Socket<Conn>) {
        front.#flush(s.data);
      },
      end(s: Socket<Conn>) {
        front.#peerEnd(s.data);
      },
      close(s: Socket<Conn>) {
        front.#closed(s.data);
      },
      error() {
        // close follows, which is where the connection is let go.
      },
    };
    // allowHalfOpen: a client that shuts down its sending side after the request still gets
    // the answer.
    this.#listener =
      "unix" in address
        ? Bun.listen<Conn>({ unix: address.unix, allowHalfOpen: true, socket })
        : Bun.listen<Conn>({ hostname: address.hostname, port: address.port, allowHalfOpen: true, socket, ...tcpExtras(address) });
  }

  /** The TCP port listened on; undefined on a Unix socket. */
  get port(): number | undefined {
    return "port" in this.#listener ? this.#listener.port : undefined;
  }

  /** Open connections, whatever their state. */
  get connections(): number {
    return this.#conns.size;
  }

  /**
   * Stops listening (on a Unix socket, Bun removes the socket file). Graceful: connections
   * waiting for a request are closed, a request being handled gets its answer (then the
   * connection closes), a stream is ended; resolves once every connection is closed. `force`
   * closes every connection at once.
   */
  stop(force = false): Promise<void> {
    if (!this.#stopping) this.#listener.stop(false);
    this.#stopping = true;
    this.#allClosed ??= new Promise<void>((resolve) => {
      this.#stopped = resolve;
    });
    const done = this.#allClosed;
    for (const conn of this.#conns) {
      if (force) {
        conn.socket.terminate();
        continue;
      }
      conn.closeAfter = true;
      if (conn.phase === "waiting" && !conn.input) this.#end(conn);
      else if (conn.streaming) conn.reader?.cancel().catch(() => {});
    }
    this.#checkStopped();
    return done;
  }

  #checkStopped(): void {
    if (this.#stopping && this.#conns.size === 0) {
      if (this.#sweeper) clearInterval(this.#sweeper);
      this.#sweeper = undefined;
      this.#stopped?.();
    }
  }

  #open(socket: Socket<Conn>): void {
    const conn: Conn = {
      socket,
      phase: "waiting",
      input: undefined,
      deadline: performance.now() + REQUEST_TIMEOUT_MS,
      head: undefined,
      parts: [],
      partBytes: 0,
      queue: [],
      queued: 0,
      endWhenFlushed: false,
      closed: false,
      peerEnded: false,
      request: undefined,
      reader: undefined,
      streaming: false,
      closeAfter: this.#stopping,
      drained: undefined,
    };
    socket.data = conn;
    this.#conns.add(conn);
    if (this.#stopping) {
      this.#end(conn);
      return;
    }
    this.#sweeper ??= setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
  }

  #sweep(): void {
    const now = performance.now();
    for (const conn of this.#conns) {
      if (conn.deadline === 0 || now < conn.deadline) continue;
      if (conn.phase === "closing") {
        conn.socket.terminate();
      } else if (conn.phase === "body" || conn.input) {
        this.#refuse(
          conn,
          new VeError(
            "request_timeout",
            `No complete request arrived within ${REQUEST_TIMEOUT_MS} ms of the connection opening (or of the previous answer); send the whole request at once.`,
            { timeout_ms: REQUEST_TIMEOUT_MS },
          ),
        );
      } else if (conn.phase === "waiting") {
        this.#end(conn);
      }
    }
    if (this.#conns.size === 0 && !this.#stopping && this.#sweeper) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  #data(conn: Conn, data: Buffer): void {
    if (conn.phase === "closing") return;
    conn.input = conn.input ? Buffer.concat([conn.input, data]) : data;
    if (conn.phase === "busy") {
      // A client may send its next request early (pipelining); it is read after this answer.
      if (conn.input.length > MAX_HEAD_BYTES + MAX_BODY_BYTES) conn.socket.terminate();
      return;
    }
    this.#parse(conn);
  }

  /** Reads as much of the next request as has arrived, and dispatches it once complete. */
  #parse(conn: Conn): void {
    for (;;) {
      const input = conn.input;
      if (conn.phase === "waiting") {
        if (!input) {
          if (conn.peerEnded) this.#end(conn);
          return;
        }
        // A client may precede a request with empty lines (RFC 9112, 2.2).
        let start = 0;
        while (input[start] === 13 && input[start + 1] === 10) start += 2;
        const end = input.indexOf("\r\n\r\n", start, "latin1");
        if (end === -1) {
          // The request line alone is enough to refuse garbage at once.
          if (bareLineFeed(input, start)) return this.#refuse(conn, malformed("A line of the request head ends without CR LF"));
          const lineEnd = input.indexOf("\r\n", start, "latin1");
          if (lineEnd !== -1) {
            const checked = parseHead(input.toString("latin1", start, lineEnd));
            if (checked instanceof VeError) return this.#refuse(conn, checked);
          }
          if (input.length - start > MAX_HEAD_BYTES) return this.#refuse(conn, headTooLarge());
          if (start === input.length) conn.input = undefined;
          else if (conn.peerEnded) return this.#refuse(conn, malformed("The connection ended before the request head was complete"));
          if (conn.peerEnded) this.#end(conn);
          return;
        }
        if (end - start > MAX_HEAD_BYTES) return this.#refuse(conn, headTooLarge());
        const head = parseHead(input.toString("latin1", start, end));
        // parseHead refuses any line feed that is not part of a CR LF (no token, target, version
        // or header value may hold one), so looking for a bare one is only needed to say why.
        if (head instanceof VeError) {
          if (bareLineFeed(input.subarray(0, end), start)) return this.#refuse(conn, malformed("A line of the request head ends without CR LF"));
          return this.#refuse(conn, head);
        }
        conn.head = head;
        conn.input = end + 4 < input.length ? input.subarray(end + 4) : undefined;
        conn.phase = "body";
        if (head.expectContinue && (head.chunked || head.contentLength > 0)) this.#send(conn, message(100, "", undefined));
        continue;
      }
      if (conn.phase !== "body") return;
      const head = conn.head as Head;
      if (!head.chunked) {
        const have = input?.length ?? 0;
        if (have < head.contentLength) {
          if (conn.peerEnded) return this.#refuse(conn, malformed("The connection ended before the request body was complete"));
          return;
        }
        const body = head.contentLength > 0 ? (input as Buffer).subarray(0, head.contentLength) : undefined;
        conn.input = have > head.contentLength ? (input as Buffer).subarray(head.contentLength) : undefined;
        this.#dispatch(conn, head, body);
        return;
      }
      const decoded = this.#chunks(conn);
      if (decoded instanceof VeError) return this.#refuse(conn, decoded);
      if (!decoded) {
        if (conn.peerEnded) return this.#refuse(conn, malformed("The connection ended before the request body was complete"));
        return;
      }
      const body = conn.parts.length === 1 ? conn.parts[0] : Buffer.concat(conn.parts);
      conn.parts = [];
      conn.partBytes = 0;
      this.#dispatch(conn, head, body);
      return;
    }
  }

  /** Decodes the chunks that have arrived; true once the last chunk and the trailers have. */
  #chunks(conn: Conn): boolean | VeError {
    for (;;) {
      const input = conn.input;
      if (!input) return false;
      const lineEnd = input.indexOf("\r\n", 0, "latin1");
      if (lineEnd === -1) return input.length > 1024 ? malformed("A chunk size line is over 1024 bytes") : false;
      const sizeText = input.toString("latin1", 0, lineEnd).split(";")[0]?.trim() ?? "";
      if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) return malformed(`The chunk size '${quote(sizeText)}' is not hexadecimal`);
      const size = Number.parseInt(sizeText, 16);
      if (size === 0) {
        // Trailers, if any, up to the empty line; they are not kept.
        const end = input.indexOf("\r\n\r\n", lineEnd, "latin1");
        if (end === -1) return input.length > MAX_HEAD_BYTES ? headTooLarge() : false;
        conn.input = end + 4 < input.length ? input.subarray(end + 4) : undefined;
        return true;
      }
      if (conn.partBytes + size > MAX_BODY_BYTES) return tooLarge();
      const start = lineEnd + 2;
      if (input.length < start + size + 2) return false;
      if (input[start + size] !== 13 || input[start + size + 1] !== 10) return malformed("A chunk does not end with CR LF");
      conn.parts.push(input.subarray(start, start + size));
      conn.partBytes += size;
      conn.input = input.length > start + size + 2 ? input.subarray(start + size + 2) : undefined;
    }
  }

  async #dispatch(conn: Conn, head: Head, body: Buffer | undefined): Promise<void> {
    conn.phase = "busy";
    conn.deadline = 0;
    conn.head = undefined;
    let request: FrontRequest;
    try {
      const init: RequestInit = { method: head.method, headers: head.headers };
      if (body && head.method !== "GET" && head.method !== "HEAD") init.body = body;
      request = new FrontRequest(ORIGIN + head.target, init);
      conn.request = request;
    } catch (error) {
      return this.#refuse(conn, malformed(`The request cannot be read (${quote((error as Error).message)})`));
    }
    let response: Response;
    try {
      // Most answers are made synchronously: awaiting one that is already there costs a turn.
      const answer = this.options.fetch(request);
      response = answer instanceof Response ? answer : await answer;
    } catch (error) {
      response = this.options.error(error);
    }
    if (conn.closed) return;
    let close = head.close || conn.closeAfter || conn.peerEnded;
    try {
      const written = this.#write(conn, head, request, response, close);
      close = (typeof written === "boolean" ? written : await written) || close;
    } catch (error) {
      // The answer's stream failed half-way: the client cannot be told in-band any more.
      conn.socket.terminate();
      return;
    } finally {
      conn.request = undefined;
      conn.reader = undefined;
      conn.streaming = false;
    }
    if (conn.closed) return;
    if (close || conn.closeAfter) return this.#end(conn);
    conn.phase = "waiting";
    conn.deadline = performance.now() + REQUEST_TIMEOUT_MS;
    this.#parse(conn);
  }

  /**
   * Writes `response`; returns (or resolves to) whether the connection must close after it.
   * An answer whose text is known (textResponse) is written at once, without a turn.
   */
  #write(conn: Conn, head: Head, request: Request, response: Response, close: boolean): boolean | Promise<boolean> {
    const status = response.status;
    let lines = "";
    let closeAfter = close;
    let contentType = "";
    response.headers.forEach((value, name) => {
      switch (name) {
        case "content-length":
        case "transfer-encoding":
        case "keep-alive":
          return;
        case "connection":
          if (value.toLowerCase().includes("close")) closeAfter = true;
          return;
        case "content-type":
          contentType = value;
          break;
      }
      lines += `${name}: ${value}\r\n`;
    });
    lines += `Date: ${httpDate()}\r\n`;
    if (closeAfter) lines += "Connection: close\r\n";
    else if (head.http10) lines += "Connection: keep-alive\r\n";
    const noBody = head.method === "HEAD" || status === 204 || status === 304 || status < 200;
    // `body` is asked last: for an answer made from a string, asking makes a ReadableStream.
    const stream =
      !noBody &&
      status < 300 &&
      (longLived.has(request) || contentType.startsWith("text/event-stream")) &&
      response.body !== null;
    if (stream) return this.#stream(conn, head, response, status, lines, closeAfter);
    const answer: Whole = { status, lines, closeAfter, noBody };
    const known = knownText.get(response);
    if (known !== undefined) return this.#whole(conn, answer, known);
    if (response.body === null) return this.#whole(conn, answer, undefined);
    return this.#readWhole(conn, head, request, response, close, answer, TEXTUAL.test(contentType));
  }

  /** Reads a body the front does not know, then writes it whole. */
  async #readWhole(conn: Conn, head: Head, request: Request, response: Response, close: boolean, answer: Whole, textual: boolean): Promise<boolean> {
    let body: Uint8Array | string;
    try {
      body = textual ? await response.text() : new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      return this.#write(conn, head, request, this.options.error(error), close);
    }
    if (conn.closed) return true;
    return this.#whole(conn, answer, body);
  }

  /** Writes an answer with its whole body, head and body at once; returns whether the connection must close. */
  #whole(conn: Conn, { status, lines, closeAfter, noBody }: Whole, body: Uint8Array | string | undefined): boolean {
    const lengthLine = status !== 204 && status !== 304 && status >= 200;
    // JSON and text (every answer of the API) go out as one string: one native encoding and
    // one write, where bytes would cost a copy into a buffer first.
    if (typeof body === "string") {
      const length = Buffer.byteLength(body);
      const headText = `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\n${lines}${lengthLine ? `Content-Length: ${length}\r\n` : ""}\r\n`;
      const headBytes = Buffer.byteLength(headText);
      if (noBody) this.#sendText(conn, headText, headBytes);
      else this.#sendText(conn, headText + body, headBytes + length);
      return closeAfter;
    }
    if (lengthLine) lines += `Content-Length: ${body?.length ?? 0}\r\n`;
    this.#send(conn, message(status, lines, noBody ? undefined : body));
    return closeAfter;
  }

  /** Writes a streamed answer as it comes; resolves to whether the connection must close. */
  async #stream(conn: Conn, head: Head, response: Response, status: number, lines: string, closeAfter: boolean): Promise<boolean> {
    // An HTTP/1.0 client cannot read chunks: it reads the stream until the connection closes.
    const chunked = !head.http10;
    if (chunked) this.#send(conn, message(status, `${lines}Transfer-Encoding: chunked\r\n`, undefined));
    else this.#send(conn, message(status, closeAfter ? lines : lines.replace("Connection: keep-alive\r\n", "Connection: close\r\n"), undefined));
    const reader = (response.body as ReadableStream<unknown>).getReader();
    conn.reader = reader;
    conn.streaming = true;
    if (conn.closeAfter) reader.cancel().catch(() => {});
    const encoder = new TextEncoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (conn.closed) {
        reader.cancel().catch(() => {});
        return true;
      }
      if (done) break;
      const bytes =
        typeof value === "string" ? encoder.encode(value) : value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBuffer);
      if (bytes.length === 0) continue;
      this.#send(conn, chunked ? Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`, "latin1"), bytes, CRLF_BYTES]) : bytes);
      if (conn.queued > STREAM_HIGH_WATER_BYTES) {
        await new Promise<void>((resolve) => {
          conn.drained = resolve;
        });
        if (conn.closed) {
          reader.cancel().catch(() => {});
          return true;
        }
      }
    }
    if (!chunked) return true;
    this.#send(conn, Buffer.from("0\r\n\r\n", "latin1"));
    return closeAfter;
  }

  /** `byteLength`: the length of `text` in UTF-8, as the socket writes it. */
  #sendText(conn: Conn, text: string, byteLength: number): void {
    if (conn.closed) return;
    if (conn.queue.length === 0) {
      const written = conn.socket.write(text);
      if (written === byteLength || written < 0) return;
      this.#send(conn, Buffer.from(text).subarray(written));
      return;
    }
    this.#send(conn, Buffer.from(text));
  }

  #send(conn: Conn, bytes: Uint8Array): void {
    if (conn.closed) return;
    if (conn.queue.length === 0) {
      const written = conn.socket.write(bytes);
      if (written === bytes.length) return;
      if (written < 0) return;
      bytes = bytes.subarray(written);
    }
    conn.queue.push(bytes);
    conn.queued += bytes.length;
  }

  #flush(conn: Conn): void {
    while (conn.queue.length > 0) {
      const first = conn.queue[0] as Uint8Array;
      const written = conn.socket.write(first);
      if (written < 0) return;
      conn.queued -= Math.max(0, written);
      if (written < first.length) {
        conn.queue[0] = first.subarray(written);
        return;
      }
      conn.queue.shift();
    }
    const drained = conn.drained;
    conn.drained = undefined;
    drained?.();
    if (conn.endWhenFlushed) this.#finishEnd(conn);
  }

  /** Answers with `error` and closes the connection: what follows on it cannot be trusted. */
  #refuse(conn: Conn, error: VeError): void {
    const body = Buffer.from(JSON.stringify(error.toBody()));
    const lines = `content-type: application/json\r\n${VERSION_HEADER.toLowerCase()}: ${VERSION}\r\nDate: ${httpDate()}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n`;
    this.#send(conn, message(httpStatusOf(error), lines, body));
    this.#end(conn);
  }

  /** Sends FIN once everything is written; the client then has LINGER_MS to close. */
  #end(conn: Conn): void {
    if (conn.phase === "closing") return;
    conn.phase = "closing";
    conn.input = undefined;
    conn.endWhenFlushed = true;
    if (conn.queue.length === 0) this.#finishEnd(conn);
    // Bounded even when the client reads nothing of what is queued.
    conn.deadline = performance.now() + LINGER_MS + REQUEST_TIMEOUT_MS;
    this.#sweeper ??= setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
  }

  #finishEnd(conn: Conn): void {
    conn.endWhenFlushed = false;
    conn.deadline = performance.now() + LINGER_MS;
    conn.socket.end();
  }

  #peerEnd(conn: Conn): void {
    conn.peerEnded = true;
    if (conn.phase === "waiting" || conn.phase === "body") this.#parse(conn);
  }

  #closed(conn: Conn): void {
    if (conn.closed) return;
    conn.closed = true;
    conn.queue = [];
    conn.queued = 0;
    conn.request?.abandon();
    conn.reader?.cancel().catch(() => {});
    const drained = conn.drained;
    conn.drained = undefined;
    drained?.();
    this.#conns.delete(conn);
    this.#checkStopped();
  }
}

/** SO_REUSEPORT (fd-guard.ts): Bun.listen honours it, bun-types does not list it. */
function tcpExtras(address: { reusePort?: boolean }): object {
  return address.reusePort ? { reusePort: true } : {};
}

/** Whether a line feed not preceded by a carriage return is in `bytes` from `start`. */
function bareLineFeed(bytes: Uint8Array, start: number): boolean {
  for (let at = bytes.indexOf(10, start); at !== -1; at = bytes.indexOf(10, at + 1)) {
    if (at === start || bytes[at - 1] !== 13) return true;
  }
  return false;
}

function headTooLarge(): VeError {
  return new VeError(
    "headers_too_large",
    `The request line and headers are over ${MAX_HEAD_BYTES} bytes; send fewer or shorter headers.`,
    { limit_bytes: MAX_HEAD_BYTES },
  );
}
