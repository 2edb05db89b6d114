// Many `ve orch start` at once: one daemon, and every start reports it.
import { describe, expect, test } from "bun:test";
import { StartResult, WorkUnitList } from "../../src/models/index.ts";
import { daemonPids, jsonOf, useProjects, waitFor } from "./harness.ts";

const { project, trackPid, ve } = useProjects("ve-race");

describe("concurrent starts", () => {
  test("twenty starts at once: all exit 0, all report the same pid, one daemon remains", async () => {
    const dir = project();
    const runs = await Promise.all(Array.from({ length: 20 }, () => ve(dir, ["orch", "start", "--json"])));
    // Whatever happened, every daemon of this project is killed after the test.
    for (const pid of daemonPids(dir)) trackPid(pid);

    for (const r of runs) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const docs = runs.map((r) => jsonOf(StartResult, r));
    const pids = new Set(docs.map((d) => d.daemon.pid));
    expect([...pids]).toHaveLength(1);
    const [pid] = [...pids] as [number];

    // Losing daemons exit on their own once they see the lock taken; one process remains. The
    // bound is for nineteen of them still starting up on a loaded machine.
    const settled = await waitFor(() => daemonPids(dir).length === 1, 20_000, 50);
    expect({ settled, daemons: daemonPids(dir) }).toEqual({ settled: true, daemons: [pid] });

    // And it works.
    expect((await ve(dir, ["orch", "work-unit", "create", "after-race"])).code).toBe(0);
    expect(jsonOf(WorkUnitList, await ve(dir, ["orch", "ps", "--json"])).count).toBe(1);
  });

  test("of concurrent starts, only the one whose daemon won says it started it", async () => {
    const dir = project();
    const runs = await Promise.all(Array.from({ length: 8 }, () => ve(dir, ["orch", "start", "--json"])));
    for (const pid of daemonPids(dir)) trackPid(pid);
    const docs = runs.map((r) => jsonOf(StartResult, r));
    expect(new Set(docs.map((d) => d.daemon.pid)).size).toBe(1);
    // A script that sees `already_running: false` believes it started (and owns) the daemon;
    // a start whose own daemon lost the race must say `already_running: true`.
    const claimedStarted = docs.filter((d) => !d.already_running).length;
    expect(claimedStarted).toBe(1);
  });

  test("concurrent writes from many CLIs all land, each exactly once", async () => {
    const dir = project();
    expect((await ve(dir, ["orch", "start"])).code).toBe(0);
    const names = Array.from({ length: 20 }, (_, i) => `unit-${i}`);
    const creates = await Promise.all(names.map((name) => ve(dir, ["orch", "work-unit", "create", name])));
    for (const r of creates) expect(r.code).toBe(0);
    // The same name twice at once: exactly one wins, the other is a duplicate (exit 1).
    const dup = await Promise.all([1, 2, 3].map(() => ve(dir, ["orch", "work-unit", "create", "contested", "--json"])));
    expect(dup.map((r) => r.code).sort()).toEqual([0, 1, 1]);
    const list = jsonOf(WorkUnitList, await ve(dir, ["orch", "ps", "--json"]));
    expect(list.work_units.map((u) => u.chunk).sort()).toEqual([...names, "contested"].sort());
  });
});
