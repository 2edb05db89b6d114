// The event hub behind GET /events: every committed change as a Server-Sent Event. It hears
// the store's change feed after each commit and derives, for the units a transaction touched,
// the runs that started or ended and the attention records added or resolved (read from the
// database right after the commit, so whatever path wrote them is covered). Each event is
// framed once and kept in a ring of the last EVENT_BUFFER_EVENTS; a subscriber is only a
// cursor into that ring, so a slow one costs no memory and never holds up the daemon or the
// others. One that falls further behind than the ring holds is dropped with a final event.
import type { Attention, ChangeEventName, Run, StreamEventData, StreamEventName, WorkUnit, WorkUnitChange } from "../models/index.ts";
import type { EngineStore } from "../state/engine.ts";

/** How many events the ring keeps for resuming (`Last-Event-ID`) and for slow subscribers. */
export const EVENT_BUFFER_EVENTS = 2048;
/** How often an idle stream gets a comment line, so proxies and clients see it alive. */
export const HEARTBEAT_INTERVAL_MS = 15_000;
/** At most this many events go out in one write to a subscriber. */
export const EVENTS_PER_WRITE = 256;

const encoder = new TextEncoder();

export const HEARTBEAT_FRAME = encoder.encode(": heartbeat\n\n");
/** Sent first, so a client knows at once that it is subscribed. */
export const HELLO_FRAME = encoder.encode(": ve events\n\n");

interface Buffered {
  id: number;
  frame: Uint8Array;
}

function frameOf(id: number | null, name: string, data: unknown): Uint8Array {
  return encoder.encode(`${id === null ? "" : `id: ${id}\n`}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
}

export function streamFrame(name: StreamEventName, data: StreamEventData, id: number | null = null): Uint8Array {
  return frameOf(id, name, data);
}

/** What a subscriber's stream does with what the hub hands it. */
export interface SubscriberSink {
  /** New events are there to take (called only while the sink waits for them). */
  wake(): void;
  /** The stream must end with this last frame (dropped, shutdown). */
  end(frame: Uint8Array): void;
}

export class Subscription {
  /** The id of the last event handed to the stream. */
  cursor: number;
  waiting = false;
  ended = false;

  constructor(
    private readonly hub: EventHub,
    cursor: number,
    readonly sink: SubscriberSink,
  ) {
    this.cursor = cursor;
  }

  /** The frames after the cursor, up to `max` events, as one chunk; undefined when there are none. */
  take(max = EVENTS_PER_WRITE): Uint8Array | undefined {
    return this.hub.take(this, max);
  }

  close(): void {
    this.hub.unsubscribe(this);
  }
}

export interface EventHubOptions {
  capacity?: number;
  /** Milliseconds since the epoch: where this daemon's ids start (times 1000). */
  now?: () => number;
  /** HEARTBEAT_INTERVAL_MS unless a test needs them sooner. */
  heartbeatMs?: number;
}

export interface SubscribeResult {
  subscription: Subscription;
  /** A `reset` frame to send first: the resume point was older than the buffer (or unknown). */
  reset?: Uint8Array;
}

export class EventHub {
  readonly capacity: number;
  private readonly heartbeatMs: number;
  /**
   * Ids start above this daemon's start time in microseconds: a client resuming with an id of
   * an earlier daemon is below it and gets a `reset`, never another daemon's events.
   */
  readonly baseId: number;
  private lastId: number;
  private readonly ring: (Buffered | undefined)[];
  /** Index in the ring of the oldest event. */
  private head = 0;
  private size = 0;
  private bytes = 0;
  private readonly subscribers = new Set<Subscription>();
  /** Per unit: the open run's id, and the attention record as JSON, as last published. */
  private readonly openRuns = new Map<string, string>();
  private readonly attention = new Map<string, string>();
  private readonly unsubscribeStore: () => void;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(
    private readonly state: EngineStore,
    /** A run as the API shows it (GET /runs/:id). */
    private readonly runOf: (id: string) => Run,
    options: EventHubOptions = {},
  ) {
    this.capacity = options.capacity ?? EVENT_BUFFER_EVENTS;
    this.heartbeatMs = options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS;
    this.ring = new Array(this.capacity);
    this.baseId = Math.floor((options.now ?? Date.now)()) * 1000;
    this.lastId = this.baseId;
    for (const run of state.openRuns()) this.openRuns.set(run.chunk, run.id);
    for (const unit of state.store.list()) if (unit.attention) this.attention.set(unit.chunk, JSON.stringify(unit.attention));
    this.unsubscribeStore = state.store.onChange((changes) => this.publish(changes));
  }

  /** The id of the newest event (the base id while there is none). */
  get latestId(): number {
    return this.lastId;
  }

  /** The oldest id the ring still holds; undefined while it is empty. */
  get oldestId(): number | undefined {
    return this.size === 0 ? undefined : (this.ring[this.head] as Buffered).id;
  }

  /** What the hub holds, for tests and the status of a daemon. */
  stats(): { subscribers: number; buffered_events: number; buffered_bytes: number; latest_id: number } {
    return { subscribers: this.subscribers.size, buffered_events: this.size, buffered_bytes: this.bytes, latest_id: this.lastId };
  }

  /**
   * A new subscriber: from the live end, or after `lastEventId` if the ring still holds what
   * came after it; otherwise with a `reset` frame first, then from the live end.
   */
  subscribe(sink: SubscriberSink, lastEventId?: number): SubscribeResult {
    let cursor = this.lastId;
    let reset: Uint8Array | undefined;
    if (lastEventId !== undefined) {
      const oldest = this.oldestId ?? this.lastId + 1;
      if (lastEventId >= Math.max(this.baseId, oldest - 1) && lastEventId <= this.lastId) cursor = lastEventId;
      else {
        const data: StreamEventData = {
          message:
            lastEventId > this.lastId || lastEventId < this.baseId
              ? `Event ${lastEventId} is not from this daemon (it started at id ${this.baseId + 1}); reread the state (GET /work-units), then follow the events from here.`
              : `Events after ${lastEventId} are no longer buffered (the oldest kept is ${oldest}); reread the state (GET /work-units), then follow the events from here.`,
          last_event_id: lastEventId,
          oldest_event_id: this.oldestId ?? null,
        };
        reset = streamFrame("reset", data, this.lastId);
      }
    }
    const subscription = new Subscription(this, cursor, sink);
    if (this.closed) {
      subscription.ended = true;
      queueMicrotask(() => sink.end(this.shutdownFrame()));
    } else {
      this.subscribers.add(subscription);
      this.startHeartbeat();
    }
    return reset ? { subscription, reset } : { subscription };
  }

  unsubscribe(subscription: Subscription): void {
    subscription.ended = true;
    this.subscribers.delete(subscription);
    if (this.subscribers.size === 0) this.stopHeartbeat();
  }

  take(subscription: Subscription, max: number): Uint8Array | undefined {
    if (subscription.ended || subscription.cursor >= this.lastId) return undefined;
    const oldest = this.oldestId ?? this.lastId + 1;
    // The cursor's next event is always in the ring: publish drops a subscriber before it is overwritten.
    const from = subscription.cursor + 1 - oldest;
    const count = Math.min(max, this.lastId - subscription.cursor);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < count; i++) frames.push((this.ring[(this.head + from + i) % this.capacity] as Buffered).frame);
    subscription.cursor += count;
    return frames.length === 1 ? frames[0] : new Uint8Array(Bun.concatArrayBuffers(frames));
  }

  /** Ends every stream with `shutdown` and stops listening (the daemon is stopping). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribeStore();
    this.stopHeartbeat();
    const frame = this.shutdownFrame();
    for (const subscription of [...this.subscribers]) {
      this.unsubscribe(subscription);
      subscription.sink.end(frame);
    }
  }

  private shutdownFrame(): Uint8Array {
    return streamFrame("shutdown", { message: `The ve daemon (pid ${process.pid}) is stopping; no more events from it.` });
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      for (const subscription of this.subscribers) if (subscription.waiting) subscription.sink.wake();
    }, this.heartbeatMs);
    // The streams keep the server busy; this timer alone must not keep a process alive.
    this.heartbeat.unref?.();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private append(name: ChangeEventName, data: unknown): void {
    const id = ++this.lastId;
    const frame = frameOf(id, name, data);
    const index = (this.head + this.size) % this.capacity;
    if (this.size === this.capacity) {
      this.bytes -= (this.ring[index] as Buffered).frame.byteLength;
      this.head = (this.head + 1) % this.capacity;
    } else this.size++;
    this.ring[index] = { id, frame };
    this.bytes += frame.byteLength;
  }

  /** One committed transaction: its unit changes in order, with the runs and attention they went with. */
  private publish(changes: readonly WorkUnitChange[]): void {
    if (this.closed) return;
    const last = new Map<string, number>();
    changes.forEach((change, i) => last.set(change.chunk, i));
    const seen = new Set<string>();
    const units = new Map<string, WorkUnit | null>();
    const unitOf = (chunk: string): WorkUnit | null => {
      if (!units.has(chunk)) {
        let unit: WorkUnit | null = null;
        try {
          unit = this.state.store.get(chunk);
        } catch {
          // Deleted later in the same transaction.
        }
        units.set(chunk, unit);
      }
      return units.get(chunk) as WorkUnit | null;
    };
    changes.forEach((change, i) => {
      const { chunk } = change;
      const unit = unitOf(chunk);
      if (!seen.has(chunk)) {
        seen.add(chunk);
        this.endings(chunk, unit, changes[last.get(chunk) as number] as WorkUnitChange);
      }
      const { kind, ...fields } = change;
      this.append(`unit.${kind}`, { ...fields, unit: kind === "deleted" ? null : unit });
      if (last.get(chunk) === i) this.beginnings(chunk, unit);
    });
    this.deliver();
  }

  /** Before a unit's changes: the run that ended with them, the attention record that went. */
  private endings(chunk: string, unit: WorkUnit | null, lastChange: WorkUnitChange): void {
    const runId = this.openRuns.get(chunk);
    // The store's invariant: a scheduled unit is RUNNING exactly while its one run is open.
    if (runId !== undefined && unit?.status !== "RUNNING") {
      const row = this.state.run(runId);
      if (!row || row.ended_at !== null) {
        this.openRuns.delete(chunk);
        if (row) this.append("run.ended", { chunk, run: this.runOf(row.id) });
      }
    }
    const known = this.attention.get(chunk);
    if (known !== undefined && known !== (unit?.attention ? JSON.stringify(unit.attention) : undefined)) {
      this.attention.delete(chunk);
      this.append("attention.resolved", { chunk, attention: JSON.parse(known) as Attention, reason: lastChange.reason });
    }
  }

  /** After a unit's changes: the run they started, the attention record they added. */
  private beginnings(chunk: string, unit: WorkUnit | null): void {
    if (unit === null) return;
    if (unit.status === "RUNNING" && unit.scheduled && !this.openRuns.has(chunk)) {
      const row = this.state.openRun(chunk);
      if (row) {
        this.openRuns.set(chunk, row.id);
        this.append("run.started", { chunk, run: this.runOf(row.id) });
      }
    }
    if (unit.attention && !this.attention.has(chunk)) {
      this.attention.set(chunk, JSON.stringify(unit.attention));
      this.append("attention.added", { chunk, attention: unit.attention });
    }
  }

  /** Wakes the waiting streams; drops those the ring has moved past. */
  private deliver(): void {
    const oldest = this.oldestId ?? this.lastId + 1;
    for (const subscription of [...this.subscribers]) {
      if (subscription.cursor < oldest - 1) {
        this.unsubscribe(subscription);
        subscription.sink.end(
          streamFrame("dropped", {
            message: `This subscriber fell more than ${this.capacity} events behind and was dropped; reconnect with Last-Event-ID ${subscription.cursor} (it will be told to reread the state).`,
            last_event_id: subscription.cursor,
            oldest_event_id: oldest,
          }),
        );
      } else if (subscription.waiting) subscription.sink.wake();
    }
  }
}
