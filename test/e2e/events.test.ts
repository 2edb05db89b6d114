// GET /events, `ve orch events` and `ve orch watch` against a real daemon of dist/ve: every
// change of a 200-unit run in order with no gap; resuming with --after; 50 subscribers with
// one that never reads while 1,000 changes happen; Ctrl-C and the daemon's stop end both
// commands cleanly.
import { afterEach, describe, expect, test } from "bun:test";
import { createConnection } from "node:net";
import { readFileSync } from "node:fs";
import { SseParser, type SseMessage } from "../../src/client/sse.ts";
import { DaemonStatus } from "../../src/models/index.ts";
import { hasUtilLinuxScript, onPty } from "../helpers/processes.ts";
import { VE, jsonOf, killQuietly, useProjects, waitFor } from "./harness.ts";

const { project, ve } = useProjects("ve-events");
const hasScript = hasUtilLinuxScript("events terminal tests");

interface Follower {
  child: ReturnType<typeof Bun.spawn>;
  readonly out: string;
  readonly err: string;
  exited: Promise<number>;
}

const spawned: Follower[] = [];
afterEach(() => {
  for (const f of spawned.splice(0)) killQuietly(f.child.pid);
});

/** A long-running `ve` whose output is collected as it comes. */
function follow(command: string[], env: Record<string, string> = {}): Follower {
  const child = Bun.spawn(command, { stdin: "pipe", stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1", ...env } });
  let out = "";
  let err = "";
  const collect = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    const decoder = new TextDecoder();
    for await (const piece of stream) add(decoder.decode(piece, { stream: true }));
  };
  const reading = Promise.all([
    collect(child.stdout as ReadableStream<Uint8Array>, (s) => (out += s)),
    collect(child.stderr as ReadableStream<Uint8Array>, (s) => (err += s)),
  ]);
  const follower: Follower = {
    child,
    get out() {
      return out;
    },
    get err() {
      return err;
    },
    exited: reading.then(() => child.exited),
  };
  spawned.push(follower);
  return follower;
}

async function started(dir: string): Promise<{ socket: string; pid: number }> {
  expect((await ve(dir, ["orch", "start"])).code).toBe(0);
  const status = jsonOf(DaemonStatus, await ve(dir, ["orch", "status", "--json"]));
  return { socket: status.socket as string, pid: status.pid };
}

async function api(socket: string, method: string, path: string, body?: unknown): Promise<Response> {
  // One connection per request, as ve's own client does: a pooled one the daemon closes for
  // idling (3 s, more on a loaded machine between two uses) can be reset under the next request.
  const init: RequestInit & { unix: string } = { method, unix: socket, keepalive: false };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const response = await fetch(`http://localhost${path}`, init);
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response;
}

type Line = { id: number | null; event: string; data: Record<string, unknown> };
const jsonLines = (text: string): Line[] =>
  text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Line);

/**
 * Waits until a follower is subscribed: it has printed a change made after it started (units
 * named `probe-N`, made until one shows).
 */
async function subscribed(socket: string, follower: Follower): Promise<void> {
  let n = 0;
  const seen = await waitFor(
    async () => {
      if (follower.out.includes('"probe-')) return true;
      await api(socket, "POST", "/work-units", { chunk: `probe-${n++}` });
      return false;
    },
    10_000,
    100,
  );
  expect(seen).toBe(true);
}

const probe = (l: Line) => String(l.data.chunk ?? "").startsWith("probe-");

/** Runs `work(0..count-1)` with `lanes` requests in flight at once (the machine may be loaded). */
async function inLanes(count: number, lanes: number, work: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

function rssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:")) ?? "";
  return Number(line.replace(/\D+/g, ""));
}

describe("ve orch events", () => {
  test("--json: a 200-unit run's every change in order with no gap; the daemon's stop ends it with exit 3", async () => {
    const dir = project();
    const { socket } = await started(dir);
    // Started before the daemon has any change: it must see the very first one.
    const events = follow([VE, "orch", "events", "--json", "--project-dir", dir]);
    await subscribed(socket, events);
    for (let i = 0; i < 200; i++) await api(socket, "POST", "/work-units", { chunk: `u${i}`, ...(i % 4 === 3 ? { blocked_by: [`u${i - 1}`] } : {}) });
    // Each group of four in order (the fourth waits on the third); the groups side by side.
    await inLanes(50, 8, async (group) => {
      for (let i = group * 4; i < group * 4 + 4; i++) {
        await api(socket, "PATCH", `/work-units/u${i}`, { status: "RUNNING" });
        await api(socket, "PATCH", `/work-units/u${i}`, { status: "DONE" });
      }
    });
    // 200 created + 400 moves + 50 unblocked.
    expect(await waitFor(() => jsonLines(events.out).filter((l) => !probe(l)).length >= 650, 20_000)).toBe(true);
    expect((await ve(dir, ["orch", "stop"])).code).toBe(0);
    expect(await events.exited).toBe(3);
    const lines = jsonLines(events.out);
    expect(lines.at(-1)?.event).toBe("shutdown");
    const changes = lines.filter((l) => l.event.startsWith("unit.") && !probe(l));
    expect(changes.length).toBe(650);
    for (let i = 1; i < changes.length; i++) expect(changes[i]?.id).toBe((changes[i - 1]?.id as number) + 1);
    for (let i = 0; i < 200; i++) {
      const mine = changes.filter((c) => c.data.chunk === `u${i}`).map((c) => `${c.event} ${c.data.new_status}`);
      const expected =
        i % 4 === 3
          ? ["unit.created BLOCKED", "unit.changed READY", "unit.changed RUNNING", "unit.changed DONE"]
          : ["unit.created READY", "unit.changed RUNNING", "unit.changed DONE"];
      expect({ unit: i, mine }).toEqual({ unit: i, mine: expected });
    }
    expect(events.err).not.toContain("    at ");
  }, 120_000);

  test("--after ID replays what the daemon holds after it; an id of an earlier daemon starts with reset; Ctrl-C (SIGINT) exits 0", async () => {
    const dir = project();
    const { socket } = await started(dir);
    const first = follow([VE, "orch", "events", "--json", "--project-dir", dir]);
    await subscribed(socket, first);
    for (let i = 0; i < 10; i++) await api(socket, "POST", "/work-units", { chunk: `a${i}` });
    expect(await waitFor(() => jsonLines(first.out).filter((l) => !probe(l)).length >= 10)).toBe(true);
    first.child.kill("SIGINT");
    expect(await first.exited).toBe(0);
    expect(first.err).toBe("");
    const seen = jsonLines(first.out).filter((l) => !probe(l));
    const fifth = seen[4]?.id as number;
    const again = follow([VE, "orch", "events", "--json", "--after", String(fifth), "--project-dir", dir]);
    expect(await waitFor(() => jsonLines(again.out).length >= 5)).toBe(true);
    expect(jsonLines(again.out).map((l) => l.data.chunk)).toEqual(["a5", "a6", "a7", "a8", "a9"]);
    again.child.kill("SIGINT");
    expect(await again.exited).toBe(0);
    // A new daemon knows nothing of the old one's ids.
    expect((await ve(dir, ["orch", "stop"])).code).toBe(0);
    const { socket: socket2 } = await started(dir);
    const human = follow([VE, "orch", "events", "--after", String(fifth), "--project-dir", dir]);
    expect(await waitFor(() => human.out.includes("reset"))).toBe(true);
    await api(socket2, "POST", "/work-units", { chunk: "fresh" });
    expect(await waitFor(() => human.out.includes("fresh created READY"))).toBe(true);
    expect(human.out.split("\n")[0]).toMatch(/^\d\d:\d\d:\d\d {2}reset {13} Event \d+ is not from this daemon/);
    human.child.kill("SIGINT");
    expect(await human.exited).toBe(0);
  });

  test("50 subscribers, one never reading, 1,000 changes: the 49 get every event, the daemon stays bounded and answers", async () => {
    const dir = project();
    const { socket, pid } = await started(dir);
    await api(socket, "POST", "/work-units", { chunk: "warm-up" });
    const before = rssKiB(pid);
    // The stuck one: asks, then never reads a byte.
    const stuck = createConnection({ path: socket });
    stuck.write("GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n");
    stuck.pause();
    const readers = await Promise.all(
      Array.from({ length: 49 }, async () => {
        const response = await api(socket, "GET", "/events");
        const parser = new SseParser();
        const got: SseMessage[] = [];
        const reader = (response.body as ReadableStream<Uint8Array>).getReader();
        const reading = (async () => {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return;
            got.push(...parser.feed(value));
          }
        })().catch(() => {});
        return { got, reading, reader };
      }),
    );
    const started1000 = Date.now();
    await inLanes(500, 8, (i) => api(socket, "POST", "/work-units", { chunk: `c${i}` }));
    await inLanes(500, 8, (i) => api(socket, "PATCH", `/work-units/c${i}`, { status: "BLOCKED" }));
    const writesMs = Date.now() - started1000;
    expect(await waitFor(() => readers.every((r) => r.got.length >= 1000), 20_000)).toBe(true);
    for (const r of readers) {
      const ids = r.got.map((m) => Number(m.id));
      expect(ids.length).toBe(1000);
      for (let i = 1; i < ids.length; i++) expect(ids[i]).toBe((ids[i - 1] as number) + 1);
    }
    const after = rssKiB(pid);
    console.log(`1,000 changes with 50 subscribers (one stuck): ${writesMs} ms of writes; daemon RSS ${before} KiB -> ${after} KiB`);
    // The ring (2048 events) and the connections' buffers, not a queue per subscriber per change.
    expect(after - before).toBeLessThan(64 * 1024);
    // The daemon still answers at once.
    await api(socket, "GET", "/status");
    for (const r of readers) await r.reader.cancel();
    stuck.destroy();
  }, 120_000);
});

describe("ve orch watch", () => {
  test("piped: one frame per change without ANSI, attention queue on top; exit 3 with a line when the daemon stops", async () => {
    const dir = project();
    const { socket } = await started(dir);
    const watch = follow([VE, "orch", "watch", "--project-dir", dir], { NO_COLOR: "" });
    expect(await waitFor(() => watch.out.includes("No work units."))).toBe(true);
    await api(socket, "POST", "/work-units", { chunk: "alpha" });
    expect(await waitFor(() => watch.out.includes("alpha"))).toBe(true);
    await api(socket, "PATCH", "/work-units/alpha", { status: "NEEDS_ATTENTION" });
    expect(await waitFor(() => watch.out.includes("NEEDS ATTENTION (1)"))).toBe(true);
    expect((await ve(dir, ["orch", "stop"])).code).toBe(0);
    expect(await watch.exited).toBe(3);
    expect(watch.out).not.toContain("\u001b[");
    const frames = watch.out.split("ve orch watch ").filter((f) => f.trim() !== "");
    expect(frames.length).toBeGreaterThanOrEqual(3);
    const last = frames.at(-1) as string;
    expect(last.indexOf("NEEDS ATTENTION (1)")).toBeLessThan(last.indexOf("CHUNK"));
    expect(watch.err).toContain("the daemon stopped; watch ended");
    expect(watch.err).not.toContain("    at ");
  });

  test("--json is refused with a pointer to events --json", async () => {
    const dir = project();
    await started(dir);
    const r = await ve(dir, ["orch", "watch", "--json"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("events --json");
  });

  test.skipIf(!hasScript)("on a terminal: redrawn in place; Ctrl-C exits 0 and shows the cursor again", async () => {
    const dir = project();
    const { socket } = await started(dir);
    for (const command of [["orch", "watch"], ["orch", "events"]]) {
      // exec: the terminal's SIGINT then reaches ve alone, not a shell waiting on it as well.
      const shell = `stty cols 100 rows 30; exec '${VE}' ${command.join(" ")} --project-dir '${dir}'`;
      const terminal = onPty(shell);
      const pty = follow(terminal.argv, terminal.env);
      const marker = `${command[1]}-probe`;
      await waitFor(async () => {
        if (!pty.out.includes(marker)) await api(socket, "POST", "/work-units", { chunk: `${marker}-${Date.now()}` }).catch(() => {});
        return pty.out.includes(marker);
      }, 10_000, 300);
      expect(pty.out).toContain(marker);
      // Ctrl-C typed on the terminal: the line discipline sends SIGINT to the command.
      const keyboard = pty.child.stdin as import("bun").FileSink;
      keyboard.write("\u0003");
      keyboard.flush();
      const code = await pty.exited;
      const watch = command[1] === "watch";
      // One comparison, so that a failure shows the exit code and the screen's end together.
      expect({
        code,
        trace: pty.out.includes("    at "),
        ...(watch ? { cleared: pty.out.includes("\u001b[H\u001b[2J"), cursorShownLast: pty.out.lastIndexOf("\u001b[?25h") > pty.out.lastIndexOf("\u001b[?25l") } : {}),
        end: pty.out.slice(-400),
      }).toMatchObject({ code: 0, trace: false, ...(watch ? { cleared: true, cursorShownLast: true } : {}) });
    }
  });
});
