// followEvents (src/client/events.ts), the loop behind `ve orch events` and `ve orch watch`,
// against a stand-in for the client's stream: Ctrl-C ends it whatever stage it is in.
import { expect, test } from "bun:test";
import type { Client } from "../../src/client/client.ts";
import { followEvents } from "../../src/client/events.ts";
import type { StreamResponse } from "../../src/client/stream.ts";

/** A stream that sends nothing until it is closed, the way an idle daemon's /events does. */
function quietStream(): StreamResponse & { closed: boolean } {
  let wake: (() => void) | undefined;
  const stream = {
    status: 200,
    headers: new Map<string, string>(),
    closed: false,
    body: {
      async *[Symbol.asyncIterator]() {
        if (!stream.closed) await new Promise<void>((r) => (wake = r));
      },
    },
    close() {
      stream.closed = true;
      wake?.();
    },
  };
  return stream;
}

test("an abort while the stream is still connecting ends the iteration once it connects, and closes the stream", async () => {
  const stop = new AbortController();
  const stream = quietStream();
  let connect!: (s: StreamResponse) => void;
  const client = {
    paths: { root: "/nowhere" },
    openStream: () => new Promise<StreamResponse>((resolve) => (connect = resolve)),
  } as unknown as Client;
  const next = followEvents(client, { signal: stop.signal })[Symbol.asyncIterator]().next();
  // Ctrl-C before the daemon's answer has arrived; then the answer arrives.
  stop.abort();
  connect(stream);
  const ended = await Promise.race([next, Bun.sleep(2_000).then(() => "still waiting" as const)]);
  expect(ended).toEqual({ done: true, value: undefined });
  expect(stream.closed).toBe(true);
});

test("an abort while following closes the stream and ends the iteration", async () => {
  const stop = new AbortController();
  const stream = quietStream();
  const client = { paths: { root: "/nowhere" }, openStream: async () => stream } as unknown as Client;
  let connected!: () => void;
  const onConnect = new Promise<void>((r) => (connected = r));
  const next = followEvents(client, { signal: stop.signal, onConnect: () => connected() })[Symbol.asyncIterator]().next();
  await onConnect;
  stop.abort();
  expect(await next).toEqual({ done: true, value: undefined });
  expect(stream.closed).toBe(true);
});
