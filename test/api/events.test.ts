// GET /events through app.handle: every committed change as an event, in commit order with no
// gap; Last-Event-ID resumes inside the buffer and is told (`reset`) when it missed more; a
// subscriber that never reads is dropped while the others get everything, and what the hub
// holds stays bounded.
import { describe, expect, test } from "bun:test";
import { dirname } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { type App, createApp } from "../../src/api/app.ts";
import { SseParser, type SseMessage } from "../../src/client/sse.ts";
import { EngineApi } from "../../src/engine/api.ts";
import { EventHub } from "../../src/engine/events.ts";
import { projectPaths } from "../../src/project/paths.ts";
import { AttentionEventData, RunEventData, StreamEventData, UnitEventData, type WorkUnitChange } from "../../src/models/index.ts";
import { EngineStore } from "../../src/state/engine.ts";
import type { Store } from "../../src/state/store.ts";
import { useStores } from "../helpers/stores.ts";
import { BASE, VERSION } from "./helpers.ts";

const stores = useStores("ve-api-events");

function setup(capacity?: number, heartbeatMs?: number): { app: App; store: Store; hub: EventHub; state: EngineStore } {
  const store = stores.open({ exclusive: true });
  const dir = dirname(store.path);
  const state = new EngineStore(store);
  const engine = new EngineApi(projectPaths(dir), state);
  const hub = new EventHub(state, (id) => engine.run(id), {
    ...(capacity === undefined ? {} : { capacity }),
    ...(heartbeatMs === undefined ? {} : { heartbeatMs }),
  });
  const app = createApp(
    store,
    { pid: 1, version: VERSION, startedAt: new Date(), projectDir: dir, transport: "unix", socket: `${dir}/s.sock`, port: null },
    { events: hub, engine },
  );
  return { app, store, hub, state };
}

/** A subscriber reading the stream as it comes, parsed. */
class Subscriber {
  readonly messages: SseMessage[] = [];
  readonly parser = new SseParser();
  done = false;
  private constructor(
    readonly response: Response,
    private readonly reader: { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> },
  ) {}

  static async open(app: App, headers: Record<string, string> = {}, query = ""): Promise<Subscriber> {
    const response = await app.handle(new Request(`${BASE}/events${query}`, { headers }));
    expect(response.status).toBe(200);
    return new Subscriber(response, (response.body as ReadableStream<Uint8Array>).getReader());
  }

  /** Reads in the background until the stream ends. */
  follow(): Promise<void> {
    return (async () => {
      for (;;) {
        const { done, value } = await this.reader.read();
        if (done || !value) break;
        this.messages.push(...this.parser.feed(value));
      }
      this.done = true;
    })();
  }

  async until(check: (messages: SseMessage[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this.messages)) {
      if (this.done || Date.now() > deadline) throw new Error(`gave up waiting; got ${this.messages.length} events${this.done ? ", stream ended" : ""}`);
      await Bun.sleep(5);
    }
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }

  changes(): SseMessage[] {
    return this.messages.filter((m) => m.id !== undefined && m.event !== "reset");
  }
}

/** Every change the store publishes, in order: what the stream must show. */
function record(store: Store): WorkUnitChange[] {
  const all: WorkUnitChange[] = [];
  store.onChange((changes) => all.push(...changes));
  return all;
}

/** 200 units created (each fourth blocked by the one before), each moved READY -> RUNNING -> DONE. */
function run200(store: Store): void {
  for (let i = 0; i < 200; i++) {
    store.create({ chunk: `u${i}`, ...(i % 4 === 3 ? { blocked_by: [`u${i - 1}`] } : {}) });
  }
  for (let i = 0; i < 200; i++) {
    store.update(`u${i}`, { status: "RUNNING" });
    store.update(`u${i}`, { status: "DONE" });
  }
}

describe("GET /events", () => {
  test("answers a text/event-stream with the version header, and refuses a Last-Event-ID that is no id", async () => {
    const { app } = setup();
    const response = await app.handle(new Request(`${BASE}/events`));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("text/event-stream");
    expect(response.headers.get("x-ve-version")).toBe(VERSION);
    await response.body?.cancel();
    for (const bad of ["abc", "-1", "1.5"]) {
      const refused = await app.handle(new Request(`${BASE}/events`, { headers: { "last-event-id": bad } }));
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: { code: string; details: { field: string } } }).error).toMatchObject({
        code: "validation_failed",
        details: { field: "Last-Event-ID" },
      });
    }
    const badQuery = await app.handle(new Request(`${BASE}/events?last_event_id=x`));
    expect(badQuery.status).toBe(400);
  });

  test("a subscriber sees every change of a 200-unit run, in order, with no gap", async () => {
    const { app, store } = setup();
    const expected = record(store);
    const subscriber = await Subscriber.open(app);
    const reading = subscriber.follow();
    run200(store);
    // 200 creations, 400 status changes, and the 50 units unblocked when their blocker was DONE.
    expect(expected.length).toBe(650);
    await subscriber.until((m) => m.length >= expected.length);
    const got = subscriber.changes();
    expect(got.length).toBe(expected.length);
    const ids = got.map((m) => Number(m.id));
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBe((ids[i - 1] as number) + 1);
    got.forEach((message, i) => {
      const change = expected[i] as WorkUnitChange;
      expect(message.event).toBe(`unit.${change.kind}`);
      const data = JSON.parse(message.data);
      expect(Value.Check(UnitEventData, data), message.data).toBe(true);
      expect([data.chunk, data.old_status, data.new_status, data.reason]).toEqual([change.chunk, change.old_status, change.new_status, change.reason]);
    });
    await subscriber.cancel();
    await reading;
  });

  test("Last-Event-ID (header or query) resumes with exactly the events after it", async () => {
    const { app, store } = setup();
    const first = await Subscriber.open(app);
    const reading = first.follow();
    for (let i = 0; i < 30; i++) store.create({ chunk: `a${i}` });
    await first.until((m) => m.length >= 30);
    await first.cancel();
    await reading;
    const seen = first.changes().slice(0, 10);
    const lastSeen = seen.at(-1)?.id as string;
    // Missed meanwhile: 20 already there, 5 more after the reconnect.
    const resumes: { headers: Record<string, string>; query: string }[] = [
      { headers: { "last-event-id": lastSeen }, query: "" },
      { headers: {}, query: `?last_event_id=${lastSeen}` },
    ];
    for (const resume of resumes) {
      const again = await Subscriber.open(app, resume.headers, resume.query);
      const readingAgain = again.follow();
      await again.until((m) => m.length >= 20);
      const more = store.list().length;
      store.create({ chunk: `b${more}` });
      await again.until((m) => m.length >= 21);
      const ids = again.changes().map((m) => Number(m.id));
      expect(again.messages.some((m) => m.event === "reset")).toBe(false);
      expect(ids[0]).toBe(Number(lastSeen) + 1);
      for (let i = 1; i < ids.length; i++) expect(ids[i]).toBe((ids[i - 1] as number) + 1);
      await again.cancel();
      await readingAgain;
    }
  });

  test("resuming from further back than the buffer holds starts with `reset`, then follows live", async () => {
    const { app, store, hub } = setup(16);
    const first = await Subscriber.open(app);
    const reading = first.follow();
    store.create({ chunk: "seen" });
    await first.until((m) => m.length >= 1);
    await first.cancel();
    await reading;
    const lastSeen = Number(first.changes()[0]?.id);
    for (let i = 0; i < 40; i++) store.create({ chunk: `m${i}` });
    const again = await Subscriber.open(app, { "last-event-id": String(lastSeen) });
    const readingAgain = again.follow();
    await again.until((m) => m.length >= 1);
    const reset = again.messages[0] as SseMessage;
    expect(reset.event).toBe("reset");
    const data = JSON.parse(reset.data);
    expect(Value.Check(StreamEventData, data)).toBe(true);
    expect(data).toMatchObject({ last_event_id: lastSeen, oldest_event_id: hub.latestId - 15 });
    // Its id is the newest: resuming after it later misses nothing.
    expect(Number(reset.id)).toBe(hub.latestId);
    store.create({ chunk: "after" });
    await again.until((m) => m.length >= 2);
    expect(again.messages[1]).toMatchObject({ event: "unit.created", id: String(hub.latestId) });
    await again.cancel();
    await readingAgain;
    // An id from another daemon (before this one's first) is a reset too.
    const stranger = await Subscriber.open(app, { "last-event-id": "5" });
    const readingStranger = stranger.follow();
    await stranger.until((m) => m.length >= 1);
    expect(stranger.messages[0]?.event).toBe("reset");
    await stranger.cancel();
    await readingStranger;
  });

  test("50 subscribers, one never reading, 1,000 changes: 49 get every event, the stuck one is dropped, the hub stays bounded", async () => {
    const { app, store, hub } = setup(256);
    const readers = await Promise.all(Array.from({ length: 49 }, () => Subscriber.open(app)));
    const readings = readers.map((r) => r.follow());
    const stuck = await Subscriber.open(app);
    // It takes what the stream holds before it is read: the greeting.
    expect(hub.stats().subscribers).toBe(50);
    // The readers get their turn now and then, as a daemon's event loop gives it between requests.
    for (let i = 0; i < 500; i++) {
      store.create({ chunk: `c${i}` });
      if (i % 50 === 0) await Bun.sleep(0);
    }
    for (let i = 0; i < 500; i++) {
      store.update(`c${i}`, { status: "BLOCKED" });
      if (i % 50 === 0) await Bun.sleep(0);
    }
    for (const reader of readers) await reader.until((m) => m.length >= 1000);
    for (const reader of readers) {
      const ids = reader.changes().map((m) => Number(m.id));
      expect(ids.length).toBe(1000);
      for (let i = 1; i < ids.length; i++) expect(ids[i]).toBe((ids[i - 1] as number) + 1);
    }
    expect(hub.stats()).toMatchObject({ subscribers: 49, buffered_events: 256 });
    expect(hub.stats().buffered_bytes).toBeLessThan(256 * 2048);
    // The stuck one, read at last: the greeting, then the end.
    const late = stuck.follow();
    await late;
    const dropped = stuck.messages.find((m) => m.event === "dropped");
    expect(dropped, JSON.stringify(stuck.messages.slice(0, 3))).toBeDefined();
    expect(Value.Check(StreamEventData, JSON.parse((dropped as SseMessage).data))).toBe(true);
    expect(stuck.messages.filter((m) => m.event.startsWith("unit.")).length).toBeLessThan(1000);
    for (const reader of readers) await reader.cancel();
    await Promise.all(readings);
    expect(hub.stats().subscribers).toBe(0);
  });

  test("an idle stream gets heartbeat comment lines, which are no events", async () => {
    const { app, store } = setup(undefined, 20);
    const subscriber = await Subscriber.open(app);
    const reading = subscriber.follow();
    const deadline = Date.now() + 10_000;
    // The greeting is a comment too; then heartbeats.
    while (subscriber.parser.comments < 3 && Date.now() < deadline) await Bun.sleep(10);
    expect(subscriber.parser.comments).toBeGreaterThanOrEqual(3);
    expect(subscriber.messages).toEqual([]);
    store.create({ chunk: "after-heartbeats" });
    await subscriber.until((m) => m.length >= 1);
    expect(subscriber.messages[0]?.event).toBe("unit.created");
    await subscriber.cancel();
    await reading;
  });

  test("closing the hub ends every stream with `shutdown`; a subscriber after that gets it at once", async () => {
    const { app, hub } = setup();
    const subscribers = await Promise.all([Subscriber.open(app), Subscriber.open(app)]);
    const readings = subscribers.map((s) => s.follow());
    hub.close();
    await Promise.all(readings);
    for (const s of subscribers) expect(s.messages.map((m) => m.event)).toEqual(["shutdown"]);
    const late = await Subscriber.open(app);
    await late.follow();
    expect(late.messages.map((m) => m.event)).toEqual(["shutdown"]);
  });
});

describe("runs and attention", () => {
  test("a run's start and end and an attention record's coming and going are events, beside the unit's changes", async () => {
    const { app, store, state } = setup();
    const subscriber = await Subscriber.open(app);
    const reading = subscriber.follow();
    const [unit] = state.inject([{ chunk: "job", phase: "IMPLEMENT", blocked_by: [], goal: null }], { priority: 0, base_branch: "main", backend: "command" });
    const run = state.claim("job", (unit as { updated_at: string }).updated_at, { id: "run-1", purpose: "phase", backend: "command", tokenHash: "x", sessionId: null });
    expect(run).toBeDefined();
    state.finishRun(
      "run-1",
      { outcome: "question", reason: "asked", exit_code: 0 },
      { status: "NEEDS_ATTENTION", reason: "the agent asked", attention: { kind: "question", reason: "Which way?", question: "Left or right?", options: ["left", "right"] } },
    );
    state.retry("job", false);
    await subscriber.until((m) => m.length >= 7);
    const events = subscriber.messages.map((m) => m.event);
    expect(events).toEqual([
      "unit.created",
      "unit.changed", // READY -> RUNNING
      "run.started",
      "run.ended",
      "unit.changed", // RUNNING -> NEEDS_ATTENTION
      "attention.added",
      "attention.resolved",
      "unit.changed", // NEEDS_ATTENTION -> READY
    ].slice(0, events.length));
    await subscriber.until((m) => m.length >= 8);
    const byName = (name: string) => JSON.parse(subscriber.messages.find((m) => m.event === name)?.data as string);
    expect(Value.Check(RunEventData, byName("run.started"))).toBe(true);
    expect(byName("run.started").run).toMatchObject({ id: "run-1", ended_at: null });
    expect(byName("run.ended").run).toMatchObject({ id: "run-1", outcome: "question" });
    expect(Value.Check(AttentionEventData, byName("attention.added"))).toBe(true);
    expect(byName("attention.added").attention).toMatchObject({ kind: "question", question: "Left or right?", options: ["left", "right"], run_id: "run-1" });
    expect(byName("attention.resolved")).toMatchObject({ attention: { kind: "question" }, reason: "retried by a person" });
    // A forced delete of a running unit: its run ends (interrupted), then the unit goes.
    const again = state.store.get("job");
    state.claim("job", again.updated_at, { id: "run-2", purpose: "phase", backend: "command", tokenHash: "y", sessionId: null });
    store.delete("job", { force: true });
    await subscriber.until((m) => m.some((e) => e.event === "unit.deleted"));
    expect(subscriber.messages.slice(-2).map((m) => m.event)).toEqual(["run.ended", "unit.deleted"]);
    expect(JSON.parse(subscriber.messages.at(-2)?.data as string).run).toMatchObject({ id: "run-2", outcome: "interrupted" });
    await subscriber.cancel();
    await reading;
  });
});
