// GET /events: how long from a committed change to its event at a subscriber. One change at a
// time (PATCH of a unit's status over the socket); the clock starts when the request is sent
// and stops when the subscriber has parsed the change's event, so the figure is an upper bound
// of commit-to-event (it includes the request's way in). The write's own round trip (request
// sent to answer received) is the reference: the difference is what the event path adds.
// Measured with one subscriber, then with 49 more reading in another process and one that
// never reads.
import { SseParser } from "../src/client/sse.ts";
import { BUN, type BenchConfig } from "./lib/config.ts";
import { Daemon } from "./lib/daemon.ts";
import { own } from "./lib/cleanup.ts";
import { round, stats } from "./lib/measure.ts";
import { type Figure, compare, figure } from "./lib/report.ts";

/** Nearest-rank p99 (stats() stops at p90). */
function p99(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(0.99 * sorted.length))) - 1] as number;
}

/** The other subscribers, in a process of their own: `count` readers draining, one stuck. */
const LOAD_SCRIPT = `
const [socket, count] = [process.argv.at(-2), Number(process.argv.at(-1))];
const net = require("node:net");
const stuck = net.createConnection({ path: socket });
stuck.write("GET /events HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n");
stuck.pause();
let bytes = 0;
await Promise.all(Array.from({ length: count }, async () => {
  const response = await fetch("http://localhost/events", { unix: socket });
  for await (const piece of response.body) bytes += piece.byteLength;
}));
`;

class Subscriber {
  private readonly parser = new SseParser();
  private waiter: ((at: number) => void) | undefined;
  private reader: { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> } | undefined;

  async open(socket: string): Promise<void> {
    const response = await fetch("http://localhost/events", { unix: socket });
    if (response.status !== 200) throw new Error(`GET /events answered ${response.status}`);
    this.reader = (response.body as ReadableStream<Uint8Array>).getReader();
    void (async () => {
      for (;;) {
        const { done, value } = await (this.reader as NonNullable<Subscriber["reader"]>).read();
        if (done || !value) return;
        const at = performance.now();
        for (const message of this.parser.feed(value)) {
          if (message.event === "unit.changed" && this.waiter) {
            const resolve = this.waiter;
            this.waiter = undefined;
            resolve(at);
          }
        }
      }
    })().catch(() => {});
  }

  next(): Promise<number> {
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  close(): Promise<void> {
    return this.reader?.cancel() ?? Promise.resolve();
  }
}

async function measure(daemon: Daemon, changes: number): Promise<{ event: number[]; write: number[] }> {
  const subscriber = new Subscriber();
  await subscriber.open(daemon.socket);
  const event: number[] = [];
  const write: number[] = [];
  const warmup = Math.min(50, Math.floor(changes / 10));
  try {
    for (let i = 0; i < changes + warmup; i++) {
      const arrived = subscriber.next();
      const sent = performance.now();
      const response = await fetch("http://localhost/work-units/probe", {
        method: "PATCH",
        unix: daemon.socket,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ status: i % 2 === 0 ? "BLOCKED" : "READY" }),
      });
      await response.text();
      const answered = performance.now();
      if (response.status !== 200) throw new Error(`PATCH answered ${response.status}`);
      const at = await arrived;
      if (i < warmup) continue;
      event.push(at - sent);
      write.push(answered - sent);
    }
  } finally {
    await subscriber.close();
  }
  return { event, write };
}

function latencyFigure(id: string, label: string, samples: { event: number[]; write: number[] }, context: string): Figure {
  const e = stats(samples.event);
  const w = stats(samples.write);
  const eventP99 = p99(samples.event);
  return figure({
    id,
    label,
    measured: {
      value: round(e.median, 3),
      unit: "ms",
      what: `median of ${e.n} changes, request sent to the change's event parsed at the subscriber; ${context}`,
      extra: { p90: round(e.p90, 3), p99: round(eventP99, 3), max: round(e.max, 3) },
    },
    reference: {
      label: "the write's own round trip",
      value: round(w.median, 3),
      unit: "ms",
      what: "PATCH /work-units/:chunk, request sent to answer received, the same requests",
      extra: { p99: round(p99(samples.write), 3) },
    },
    comparison: compare("delta", e.median, w.median, "ms"),
    notes: [`event p99 ${eventP99.toFixed(3)} ms; write p99 ${p99(samples.write).toFixed(3)} ms`],
    data: { event_ms: stats(samples.event), event_p99_ms: round(eventP99, 3), write_ms: stats(samples.write) },
  });
}

export async function benchEvents(config: BenchConfig, log: (line: string) => void): Promise<Figure[]> {
  const changes = config.quick ? 200 : 1000;
  const daemon = await Daemon.start("events");
  try {
    const created = await fetch("http://localhost/work-units", {
      method: "POST",
      unix: daemon.socket,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ chunk: "probe" }),
    });
    if (created.status !== 201) throw new Error(`POST /work-units answered ${created.status}`);
    const figures = [latencyFigure("events.latency.one", "change -> event, 1 subscriber", await measure(daemon, changes), "one subscriber")];
    log(`events: one subscriber done; starting 49 more and a stuck one`);
    const load = Bun.spawn([BUN, "-e", LOAD_SCRIPT, daemon.socket, "49"], { stdout: "ignore", stderr: "inherit" });
    const release = own({ close: async () => load.kill(), kill: () => load.kill("SIGKILL") });
    try {
      // All 50 subscribed before measuring.
      await Bun.sleep(500);
      figures.push(
        latencyFigure("events.latency.fifty", "change -> event, 50 subscribers (1 stuck)", await measure(daemon, changes), "49 more subscribers reading in another process and one that never reads"),
      );
    } finally {
      load.kill();
      release();
    }
    return figures;
  } finally {
    await daemon.dispose();
  }
}
