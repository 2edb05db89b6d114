// Following GET /events: the stream parsed into typed events, resumed with Last-Event-ID when
// it breaks (dropped for falling behind, a connection cut, a daemon gone silent), and ended
// when the daemon says it stops or cannot be reached any more.
import { VeError } from "../errors.ts";
import type { DaemonEvent } from "../models/index.ts";
import type { Client } from "./client.ts";
import { SseParser } from "./sse.ts";

/**
 * Three heartbeats missed (the daemon sends one every 15 s while idle): the daemon is
 * suspended or the connection is dead; reconnect.
 */
export const STREAM_SILENCE_MS = 45_000;
/** Reconnects in a row that found the daemon gone before giving up. */
const RECONNECT_ATTEMPTS = 3;
const RECONNECT_PAUSE_MS = 200;

export interface FollowOptions {
  /** Resume after this id (the last one received); from now on when absent. */
  lastEventId?: number;
  /** Ends the iteration (the connection is closed). */
  signal?: AbortSignal;
  silenceMs?: number;
  /** Called each time the stream is (re)connected, before its first event. */
  onConnect?: () => void;
}

function gone(client: Client): VeError {
  return new VeError(
    "daemon_not_running",
    `The ve daemon for ${client.paths.root} stopped without a word (crashed or killed); the event stream ended. \`ve orch start\` starts it again.`,
    { project_dir: client.paths.root },
  );
}

export async function* followEvents(client: Client, options: FollowOptions = {}): AsyncGenerator<DaemonEvent> {
  let last = options.lastEventId;
  let failures = 0;
  let connected = false;
  const { signal } = options;
  while (!signal?.aborted) {
    let stream: Awaited<ReturnType<Client["openStream"]>>;
    try {
      stream = await client.openStream("/events", last === undefined ? {} : { "last-event-id": String(last) });
    } catch (error) {
      // The first connect reports what it found; a reconnect that finds nobody means the daemon went.
      if (!connected) throw error;
      const unreachable = error instanceof VeError && ["daemon_not_running", "daemon_stopping", "daemon_unresponsive"].includes(error.code);
      if (!unreachable) throw error;
      if (++failures >= RECONNECT_ATTEMPTS) throw gone(client);
      await Bun.sleep(RECONNECT_PAUSE_MS);
      continue;
    }
    // Ctrl-C while connecting: the abort listener below would never hear it.
    if (signal?.aborted) {
      stream.close();
      return;
    }
    connected = true;
    options.onConnect?.();
    const onAbort = () => stream.close();
    signal?.addEventListener("abort", onAbort, { once: true });
    const parser = new SseParser();
    let silence: ReturnType<typeof setTimeout> | undefined;
    const watch = () => {
      if (silence) clearTimeout(silence);
      silence = setTimeout(() => stream.close(), options.silenceMs ?? STREAM_SILENCE_MS);
    };
    let reconnect = true;
    try {
      watch();
      for await (const piece of stream.body) {
        watch();
        failures = 0;
        for (const message of parser.feed(piece)) {
          let data: unknown;
          try {
            data = JSON.parse(message.data);
          } catch {
            throw new VeError("bad_response", `The daemon sent an event '${message.event}' whose data is not JSON; restart it.`);
          }
          const id = message.id === undefined ? null : Number(message.id);
          if (id !== null && Number.isFinite(id)) last = id;
          yield { id, event: message.event, data } as DaemonEvent;
          if (message.event === "shutdown") {
            reconnect = false;
            return;
          }
        }
      }
    } finally {
      if (silence) clearTimeout(silence);
      signal?.removeEventListener("abort", onAbort);
      stream.close();
    }
    if (!reconnect) return;
  }
}
