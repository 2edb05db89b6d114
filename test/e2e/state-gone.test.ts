// `.ve/` deleted under a running daemon (issue 9 item 10; `git clean -fdx` does it, `.ve` being
// ignored), or its socket deleted or its database replaced: the daemon notices within seconds
// and exits, logging why; `start` then explains the empty state; a daemon started meanwhile on
// the new files keeps its socket when the old one exits.
import { describe, expect, test } from "bun:test";
import { copyFileSync, readFileSync, renameSync, rmSync, unlinkSync } from "node:fs";
import { StartResult } from "../../src/models/index.ts";
import { isRunning, jsonOf, run, stateFiles, useProjects, waitFor } from "./harness.ts";

const { project, trackPid, ve } = useProjects("ve-gone");
/** The daemon checks once a second; this leaves room for a loaded machine. */
const NOTICE_BOUND_MS = 10_000;

async function started(dir: string): Promise<number> {
  const start = await ve(dir, ["orch", "start", "--json"]);
  expect({ code: start.code, stderr: start.stderr }).toEqual({ code: 0, stderr: "" });
  const pid = jsonOf(StartResult, start).daemon.pid;
  trackPid(pid);
  return pid;
}

describe("the daemon's files go away under it", () => {
  test("git clean -fdx deletes .ve/: the daemon exits, and the next start says why the state is empty", async () => {
    const dir = project();
    expect((await run(["git", "init", "-q", dir])).code).toBe(0);
    const pid = await started(dir);
    expect((await ve(dir, ["orch", "work-unit", "create", "lost-unit"])).code).toBe(0);

    const clean = await run(["git", "-C", dir, "clean", "-fdxq"]);
    expect(clean.code).toBe(0);
    expect(await waitFor(() => !isRunning(pid), NOTICE_BOUND_MS)).toBe(true);

    const start = await ve(dir, ["orch", "start"]);
    expect(start.code).toBe(0);
    expect(start.stderr).toContain("the previous daemon stopped because its state directory");
    expect(start.stderr).toContain("git clean -x");
    expect(start.stderr).toContain("empty state");
    // Once: a later start of the same (now non-empty) project says nothing of it.
    expect((await ve(dir, ["orch", "stop"])).code).toBe(0);
    const again = await ve(dir, ["orch", "start"]);
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: "" });
  });

  test("a start right after the deletion: the old daemon exits and leaves the new one's socket alone", async () => {
    const dir = project();
    const old = await started(dir);
    rmSync(stateFiles(dir).state, { recursive: true });
    const fresh = await started(dir);
    expect(fresh).not.toBe(old);
    expect(await waitFor(() => !isRunning(old), NOTICE_BOUND_MS)).toBe(true);
    const status = await ve(dir, ["orch", "status", "--json"]);
    expect(status.code).toBe(0);
    expect((JSON.parse(status.stdout) as { pid: number }).pid).toBe(fresh);
    expect(readFileSync(stateFiles(dir).log, "utf8")).toContain(`ve daemon (pid ${old}) stopping because its files went away`);
  });

  test("its socket deleted: it exits, logging why; the state is kept for the next start", async () => {
    const dir = project();
    const pid = await started(dir);
    expect((await ve(dir, ["orch", "work-unit", "create", "kept"])).code).toBe(0);
    unlinkSync(stateFiles(dir).socket);
    expect(await waitFor(() => !isRunning(pid), NOTICE_BOUND_MS)).toBe(true);
    expect(readFileSync(stateFiles(dir).log, "utf8")).toContain(`its socket ${stateFiles(dir).socket} was deleted`);
    expect((await ve(dir, ["orch", "start"])).code).toBe(0);
    expect((await ve(dir, ["orch", "work-unit", "show", "kept"])).code).toBe(0);
  });

  test("its database replaced by another file: it exits, logging why", async () => {
    const dir = project();
    const pid = await started(dir);
    const { db } = stateFiles(dir);
    copyFileSync(db, `${db}.copy`);
    renameSync(`${db}.copy`, db);
    expect(await waitFor(() => !isRunning(pid), NOTICE_BOUND_MS)).toBe(true);
    expect(readFileSync(stateFiles(dir).log, "utf8")).toContain(`its database ${db} was replaced`);
  });
});
