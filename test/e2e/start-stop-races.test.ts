// Starts and stops racing from several shells (issue 9 item 9): stop returns once the daemon it
// signalled is gone, even if another start took the lock meanwhile; a start during a graceful
// stop waits for it and then starts; a request reaching a closing daemon gets daemon_stopping
// (or not_running), never a broken answer. Bounded: a few rounds, every command time-bounded.
import { describe, expect, test } from "bun:test";
import { StartResult } from "../../src/models/index.ts";
import { type Run, daemonPids, isRunning, jsonOf, useProjects, waitFor } from "./harness.ts";

const { project, trackPid, ve } = useProjects("ve-races");
const ROUNDS = 4;

async function startedPid(dir: string): Promise<number> {
  const start = await ve(dir, ["orch", "start", "--json"]);
  expect({ code: start.code, stderr: start.stderr }).toEqual({ code: 0, stderr: "" });
  return jsonOf(StartResult, start).daemon.pid;
}

/** Runs `command` over and over until `until` settles (bounded in count), collecting the runs. */
async function repeatWhile<T>(until: Promise<unknown>, command: () => Promise<T>, max: number): Promise<T[]> {
  let done = false;
  void until.finally(() => {
    done = true;
  });
  const runs: T[] = [];
  while (!done && runs.length < max) runs.push(await command());
  return runs;
}

describe("start and stop racing", () => {
  test("three shells alternating start and stop: every command succeeds, one daemon at most remains", async () => {
    const dir = project();
    // Each shell: start, stop, start, stop... The old stop waited all of its short timeout for
    // a lock a new daemon had taken ("lock changed hands"), starts lost to a stopping daemon,
    // and probes got "a broken answer".
    const shell = async () => {
      const runs: Run[] = [];
      for (let i = 0; i < 8; i++) {
        runs.push(await ve(dir, ["orch", "start"]));
        runs.push(await ve(dir, ["orch", "stop", "--timeout", "3"]));
      }
      return runs;
    };
    const runs = (await Promise.all([shell(), shell(), shell()])).flat();
    for (const pid of daemonPids(dir)) trackPid(pid);
    const failed = runs.filter((r) => r.code !== 0).map((r) => r.stderr.trim());
    expect(failed).toEqual([]);
    // A start's child that lost the lock exits on its own, maybe just after its start returned.
    expect(await waitFor(() => daemonPids(dir).length <= 1, 20_000, 50)).toBe(true);
  });

  test("a start during a graceful stop waits for it, then starts its own daemon", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const dir = project();
      const first = await startedPid(dir);
      process.kill(first, "SIGTERM");
      const start = await ve(dir, ["orch", "start", "--json"]);
      for (const pid of daemonPids(dir)) trackPid(pid);
      expect({ round, code: start.code, stderr: start.stderr }).toEqual({ round, code: 0, stderr: "" });
      const doc = jsonOf(StartResult, start);
      // Either it found the old daemon still answering (then it reports that one), or it
      // started a new one once the old had let go; never a failure.
      if (doc.daemon.pid !== first) {
        expect(doc.already_running).toBe(false);
        expect(isRunning(doc.daemon.pid)).toBe(true);
      }
    }
  });

  test("requests racing a stop get an answer, daemon_stopping or daemon_not_running; never a broken answer", async () => {
    const seen = new Set<string>();
    for (let round = 0; round < ROUNDS; round++) {
      const dir = project();
      await startedPid(dir);
      const batch = () => Promise.all([1, 2, 3].map(() => ve(dir, ["orch", "ps", "--json"])));
      // One batch before the stop, so the ones racing it are requests a daemon was serving.
      const requests = await batch();
      const stop = ve(dir, ["orch", "stop"]);
      requests.push(...(await repeatWhile(stop, batch, 40)).flat());
      expect((await stop).code).toBe(0);
      for (const r of requests) {
        if (r.code === 0) {
          seen.add("ok");
          continue;
        }
        const code = (JSON.parse(r.stdout) as { error: { code: string } }).error.code;
        seen.add(code);
        expect({ round, code, exit: r.code }).toEqual({
          round,
          code: code === "daemon_stopping" ? "daemon_stopping" : "daemon_not_running",
          exit: 3,
        });
      }
    }
    expect(seen.has("ok")).toBe(true);
  });
});
