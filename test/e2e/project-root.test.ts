// Which project a command acts on: --project-dir, else VE_PROJECT_DIR, else the nearest
// directory upward holding .ve/ or .git, else the working directory. And two projects, two
// independent daemons.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { DaemonStatus, StartResult, WorkUnitList } from "../../src/models/index.ts";
import { isRunning, jsonOf, useProjects } from "./harness.ts";

const { project, track, ve } = useProjects("ve-root");

function subdir(dir: string, ...parts: string[]): string {
  const path = join(dir, ...parts);
  mkdirSync(path, { recursive: true });
  return path;
}

async function statusFrom(cwd: string, env: Record<string, string> = {}) {
  const r = await ve(null, ["orch", "status", "--json"], { cwd, env });
  expect({ cwd, code: r.code, stderr: r.stderr }).toEqual({ cwd, code: 0, stderr: "" });
  return jsonOf(DaemonStatus, r);
}

async function chunks(dir: string): Promise<string[]> {
  const r = await ve(dir, ["orch", "ps", "--json"]);
  expect(r.code).toBe(0);
  return jsonOf(WorkUnitList, r).work_units.map((u) => u.chunk);
}

describe("project root", () => {
  test("from a subdirectory of a git project, with no --project-dir, the project's daemon is used", async () => {
    const dir = project();
    mkdirSync(join(dir, ".git"));
    const deep = subdir(dir, "a", "b");

    const start = await ve(null, ["orch", "start", "--json"], { cwd: deep });
    expect(start.code).toBe(0);
    const daemon = jsonOf(StartResult, start).daemon;
    expect(daemon.project_dir).toBe(dir);
    // State lives at the project root, not in the working directory.
    expect(existsSync(join(dir, ".ve", "orchestrator.db"))).toBe(true);
    expect(existsSync(join(deep, ".ve"))).toBe(false);

    expect((await ve(null, ["orch", "work-unit", "create", "from-deep"], { cwd: deep })).code).toBe(0);
    expect((await statusFrom(join(dir, "a"))).pid).toBe(daemon.pid);
    expect((await statusFrom(dir)).pid).toBe(daemon.pid);
    expect(await chunks(dir)).toEqual(["from-deep"]);
  });

  test("a project marked only by .ve/ (no git) is found from a subdirectory", async () => {
    const dir = project();
    const start = await ve(dir, ["orch", "start", "--json"]);
    expect(start.code).toBe(0);
    const pid = jsonOf(StartResult, start).daemon.pid;
    expect(existsSync(join(dir, ".git"))).toBe(false);
    const status = await statusFrom(subdir(dir, "x", "y", "z"));
    expect(status).toMatchObject({ pid, project_dir: dir });
  });

  test("the nearest marked directory wins over an enclosing project", async () => {
    const outer = project();
    mkdirSync(join(outer, ".git"));
    const inner = track(subdir(outer, "vendor", "inner"));
    mkdirSync(join(inner, ".git"));
    const start = await ve(null, ["orch", "start", "--json"], { cwd: subdir(inner, "src") });
    expect(start.code).toBe(0);
    expect(jsonOf(StartResult, start).daemon.project_dir).toBe(inner);
    // The outer project has no daemon.
    expect((await ve(outer, ["orch", "status"])).code).toBe(3);
  });

  test("VE_PROJECT_DIR is used without --project-dir; --project-dir beats it", async () => {
    const one = project();
    const two = project();
    const elsewhere = project();
    const a = jsonOf(StartResult, await ve(one, ["orch", "start", "--json"])).daemon.pid;
    const b = jsonOf(StartResult, await ve(two, ["orch", "start", "--json"])).daemon.pid;
    expect((await statusFrom(elsewhere, { VE_PROJECT_DIR: one })).pid).toBe(a);
    const flagged = await ve(two, ["orch", "status", "--json"], { cwd: elsewhere, env: { VE_PROJECT_DIR: one } });
    expect(jsonOf(DaemonStatus, flagged).pid).toBe(b);
  });

  test("with no marker anywhere above, the working directory is the project", async () => {
    const dir = project();
    // Precondition: nothing above the temporary directory marks a project.
    for (let up = dirname(dir); up !== dirname(up); up = dirname(up)) {
      expect({ up, marked: existsSync(join(up, ".ve")) || existsSync(join(up, ".git")) }).toEqual({ up, marked: false });
    }
    const start = await ve(null, ["orch", "start", "--json"], { cwd: dir });
    expect(start.code).toBe(0);
    expect(jsonOf(StartResult, start).daemon.project_dir).toBe(dir);
    expect(existsSync(join(dir, ".ve"))).toBe(true);
  });
});

describe("two projects side by side", () => {
  test("two independent daemons: different pids, no shared units, stopping one leaves the other", async () => {
    const one = project();
    const two = project();
    const [s1, s2] = await Promise.all([ve(one, ["orch", "start", "--json"]), ve(two, ["orch", "start", "--json"])]);
    const d1 = jsonOf(StartResult, s1!).daemon;
    const d2 = jsonOf(StartResult, s2!).daemon;
    expect(d1.pid).not.toBe(d2.pid);
    expect(d1.socket).not.toBe(d2.socket);
    expect([d1.project_dir, d2.project_dir]).toEqual([one, two]);

    expect((await ve(one, ["orch", "work-unit", "create", "only-one"])).code).toBe(0);
    expect((await ve(two, ["orch", "work-unit", "create", "only-two"])).code).toBe(0);
    // The same chunk name in both is no conflict.
    expect((await ve(one, ["orch", "work-unit", "create", "shared-name"])).code).toBe(0);
    expect((await ve(two, ["orch", "work-unit", "create", "shared-name"])).code).toBe(0);
    expect(await chunks(one)).toEqual(["only-one", "shared-name"]);
    expect(await chunks(two)).toEqual(["only-two", "shared-name"]);
    expect((await ve(two, ["orch", "work-unit", "show", "only-one"])).code).toBe(1);

    const stop = await ve(one, ["orch", "stop"]);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain(`pid ${d1.pid}`);
    expect((await ve(one, ["orch", "status"])).code).toBe(3);
    expect(isRunning(d2.pid)).toBe(true);
    expect((await ve(two, ["orch", "status", "--json"])).code).toBe(0);
    expect(await chunks(two)).toEqual(["only-two", "shared-name"]);
  });
});
