// Idle TCP connections from another local user (issue 9 item 3): while 1,000 connections that
// never send a request are open, the owner's requests are answered; the daemon closes them
// after a bound; at a low open-file limit it renews its listener instead of spinning on EMFILE.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { Socket } from "bun";
import { StartResult } from "../../src/models/index.ts";
import { VE, jsonOf, run, stateFiles, useProjects, waitFor } from "./harness.ts";

const { project, trackPid, ve } = useProjects("ve-idle");
const IDLE_CONNECTIONS = 1000;
/** Bun closes a connection that sent no complete request after about ten seconds. */
const IDLE_CLOSE_BOUND_MS = 25_000;

interface Idle {
  sockets: Socket<undefined>[];
  closed(): number;
  end(): void;
}

async function openIdle(port: number, count: number): Promise<Idle> {
  let closed = 0;
  const sockets: Socket<undefined>[] = [];
  const opening = Array.from({ length: count }, () =>
    Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {}, close: () => void closed++, error() {} } }).then(
      (s) => void sockets.push(s),
      () => void closed++,
    ),
  );
  await Promise.all(opening);
  return { sockets, closed: () => closed, end: () => sockets.forEach((s) => s.terminate()) };
}

async function startTcp(dir: string, shellPrefix = ""): Promise<{ pid: number; port: number }> {
  const start = await run(["bash", "-c", `${shellPrefix}exec '${VE}' orch start --tcp --json --project-dir '${dir}'`]);
  expect({ code: start.code, stderr: start.stderr }).toEqual({ code: 0, stderr: "" });
  const doc = jsonOf(StartResult, start);
  trackPid(doc.daemon.pid);
  return { pid: doc.daemon.pid, port: doc.daemon.port as number };
}

describe("idle TCP connections", () => {
  test(`${IDLE_CONNECTIONS} idle connections: the owner is answered meanwhile, and the daemon closes them after a bound`, async () => {
    const dir = project();
    const { port } = await startTcp(dir);
    const idle = await openIdle(port, IDLE_CONNECTIONS);
    try {
      expect(idle.sockets.length).toBe(IDLE_CONNECTIONS);
      for (let i = 0; i < 3; i++) {
        const status = await ve(dir, ["orch", "status", "--json"], { timeoutMs: 10_000 });
        expect(status.code).toBe(0);
      }
      expect((await ve(dir, ["orch", "work-unit", "create", "while-flooded"])).code).toBe(0);
      expect(await waitFor(() => idle.closed() === IDLE_CONNECTIONS, IDLE_CLOSE_BOUND_MS, 100)).toBe(true);
    } finally {
      idle.end();
    }
  });

  test("at a low open-file limit the daemon sheds the flood on a new listener and keeps answering", async () => {
    const dir = project();
    // Hard limit 256: raising the soft limit cannot help; the flood exceeds it, and accept()
    // fails with EMFILE until something is closed.
    const { port } = await startTcp(dir, "ulimit -n 256; ");
    const idle = await openIdle(port, 600);
    try {
      const log = () => readFileSync(stateFiles(dir).log, "utf8");
      // Within a few of the guard's one-second checks, not Bun's idle cycles of ten seconds each.
      expect(await waitFor(() => log().includes("near the limit of 256"), 10_000, 100)).toBe(true);
      const answered = await waitFor(async () => (await ve(dir, ["orch", "status"], { timeoutMs: 3000 })).code === 0, 8000, 200);
      expect(answered).toBe(true);
      expect(idle.closed()).toBeGreaterThan(0);
    } finally {
      idle.end();
    }
  });
});
