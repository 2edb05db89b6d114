// A streaming HTTP/1.1 exchange over a Unix socket or loopback TCP (Bun.connect), for
// GET /events: the head is awaited within a timeout, then the body is handed on piece by
// piece as it arrives (chunked transfer decoded) until the server ends it or the caller
// closes. Loaded only by the commands that follow a stream.
import { ChunkedDecoder, connectWire, type HttpRequest, headEnd, parseHead, requestBytes, type Target, TransportError } from "./http.ts";

export interface StreamResponse {
  status: number;
  /** Lower-case header names. */
  headers: Map<string, string>;
  /** The body's pieces as they arrive; ends when the server ends the body or the connection closes. */
  body: AsyncIterable<Uint8Array>;
  /** Ends the exchange (the body iteration then ends). */
  close(): void;
}

/**
 * Sends `request` and resolves with the response once its head has arrived (within
 * `timeoutMs`); `ready` must resolve before the request is written (the socket's owner check).
 */
export function openStream(target: Target, request: HttpRequest, timeoutMs: number, ready?: Promise<void>): Promise<StreamResponse> {
  const payload = requestBytes(request, ["Accept: text/event-stream"]);

  return new Promise<StreamResponse>((resolve, reject) => {
    let headBytes = new Uint8Array(0);
    let headDone = false;
    let settled = false;
    let socket: { terminate(): void } | undefined;
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
      const end = headEnd(headBytes, 0);
      if (end === -1) return;
      headDone = true;
      let head: ReturnType<typeof parseHead>;
      try {
        head = parseHead(headBytes, end);
      } catch (error) {
        fail(error as Error);
        return;
      }
      const { status, headers } = head;
      chunked = head.chunked;
      length = head.contentLength;
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

    connectWire(target, payload, ready, {
      data: onData,
      close() {
        if (!settled) fail(new TransportError({ kind: "protocol", message: "connection closed before a response", unanswered: !headDone }));
        else endBody();
      },
      fail,
      over: () => ended || (settled && !headDone),
      connected: (s) => {
        socket = s;
      },
    });
  });
}
