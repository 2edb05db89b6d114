// State outlives the daemon: an orderly stop/start, and a kill -9 followed by a plain start
// (the stale socket and pid file are still there; nobody cleans up by hand).
import { describe, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { StartResult, WorkUnitDetail, WorkUnitList } from "../../src/models/index.ts";
import { isRunning, jsonOf, stateFiles, useProjects, waitFor } from "./harness.ts";

const { project, ve } = useProjects("ve-persist");

/** Builds some state with history: a chain, a release on DONE, a phase change, a forced move. */
async function populate(dir: string): Promise<void> {
  const steps: string[][] = [
    ["create", "base"],
    ["create", "mid", "--blocked-by", "base"],
    ["create", "top", "--blocked-by", "mid", "--phase", "PLAN"],
    ["status", "base", "RUNNING"],
    ["update", "base", "--phase", "IMPLEMENT"],
    ["status", "base", "DONE"],
    ["status", "mid", "NEEDS_ATTENTION"],
    ["update", "top", "--phase", "GOAL", "--force"],
  ];
  for (const step of steps) {
    const r = await ve(dir, ["orch", "work-unit", ...step]);
    expect({ step, code: r.code, stderr: r.stderr }).toEqual({ step, code: 0, stderr: "" });
  }
}

/** Every unit with its full history, as the CLI reports them. */
async function snapshot(dir: string) {
  const list = jsonOf(WorkUnitList, await ve(dir, ["orch", "ps", "--json"]));
  const details = [];
  for (const unit of list.work_units) {
    details.push(jsonOf(WorkUnitDetail, await ve(dir, ["orch", "work-unit", "show", unit.chunk, "--json"])));
  }
  return { list, details };
}

async function startPid(dir: string): Promise<number> {
  const r = await ve(dir, ["orch", "start", "--json"]);
  expect(r.code).toBe(0);
  const doc = jsonOf(StartResult, r);
  expect(doc.already_running).toBe(false);
  return doc.daemon.pid;
}

describe("persistence", () => {
  test("units and their history survive stop and start", async () => {
    const dir = project();
    const first = await startPid(dir);
    await populate(dir);
    const before = await snapshot(dir);
    expect(before.list.work_units.map((u) => [u.chunk, u.status, u.phase])).toEqual([
      ["base", "DONE", "IMPLEMENT"],
      ["mid", "NEEDS_ATTENTION", "GOAL"],
      ["top", "BLOCKED", "GOAL"],
    ]);

    expect((await ve(dir, ["orch", "stop"])).code).toBe(0);
    // An orderly stop checkpoints: the project is one self-contained database file.
    const wal = `${stateFiles(dir).db}-wal`;
    expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true);

    const second = await startPid(dir);
    expect(second).not.toBe(first);
    expect(await snapshot(dir)).toEqual(before);

    // And the restarted daemon keeps working on that state: top is released when mid is DONE.
    expect((await ve(dir, ["orch", "work-unit", "status", "mid", "DONE"])).code).toBe(0);
    const top = jsonOf(WorkUnitDetail, await ve(dir, ["orch", "work-unit", "show", "top", "--json"]));
    expect(top.work_unit.status).toBe("READY");
  });

  test("units and their history survive kill -9; a plain start succeeds over the stale files", async () => {
    const dir = project();
    const files = stateFiles(dir);
    const first = await startPid(dir);
    await populate(dir);
    const before = await snapshot(dir);

    process.kill(first, "SIGKILL");
    expect(await waitFor(() => !isRunning(first))).toBe(true);
    // What a crash leaves: the socket file and the pid file naming the dead daemon.
    expect(statSync(files.socket).isSocket()).toBe(true);
    expect(existsSync(files.pid)).toBe(true);
    expect(Number.parseInt(await Bun.file(files.pid).text(), 10)).toBe(first);

    const second = await startPid(dir);
    expect(second).not.toBe(first);
    expect(await snapshot(dir)).toEqual(before);
    expect(Number.parseInt(await Bun.file(files.pid).text(), 10)).toBe(second);

    // Writes after the restart land too, and survive a second crash.
    expect((await ve(dir, ["orch", "work-unit", "create", "after-crash"])).code).toBe(0);
    process.kill(second, "SIGKILL");
    expect(await waitFor(() => !isRunning(second))).toBe(true);
    await startPid(dir);
    const after = await snapshot(dir);
    expect(after.list.work_units.map((u) => u.chunk)).toEqual(["base", "mid", "top", "after-crash"]);
    expect(after.details.slice(0, 3)).toEqual(before.details);
  });
});
