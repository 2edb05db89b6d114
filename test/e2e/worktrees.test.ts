// Which project a command acts on inside git worktrees and submodules (real repositories made
// with the git on this machine), and the refusal to create a project inside another one.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DaemonStatus, StartResult, WorkUnitList } from "../../src/models/index.ts";
import { jsonOf, run, useProjects } from "./harness.ts";

const { project, track, ve } = useProjects("ve-worktree");

/** git with no user or system configuration, so the machine's settings cannot change a result. */
const GIT_ENV = {
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "ve test",
  GIT_AUTHOR_EMAIL: "ve@example.invalid",
  GIT_COMMITTER_NAME: "ve test",
  GIT_COMMITTER_EMAIL: "ve@example.invalid",
};

async function git(cwd: string, ...args: string[]): Promise<string> {
  const r = await run(["git", "-c", "protocol.file.allow=always", "-c", "init.defaultBranch=main", ...args], {
    cwd,
    env: GIT_ENV,
  });
  if (r.code !== 0) throw new Error(`git ${args.join(" ")} failed in ${cwd}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A repository with one commit. */
async function repo(dir: string): Promise<string> {
  await git(dir, "init", "-q");
  writeFileSync(join(dir, "README"), "x\n");
  await git(dir, "add", "README");
  await git(dir, "commit", "-q", "-m", "first");
  return dir;
}

async function startedPid(cwd: string): Promise<number> {
  const r = await ve(null, ["orch", "start", "--json"], { cwd });
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return jsonOf(StartResult, r).daemon.pid;
}

async function statusFrom(cwd: string) {
  const r = await ve(null, ["orch", "status", "--json"], { cwd });
  expect({ cwd, code: r.code, stderr: r.stderr }).toEqual({ cwd, code: 0, stderr: "" });
  return jsonOf(DaemonStatus, r);
}

function subdir(...parts: string[]): string {
  const dir = join(...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe("git worktrees resolve to the main repository's project", () => {
  test("a linked worktree outside the repository reaches the main project's daemon", async () => {
    const main = await repo(project());
    const elsewhere = project();
    const worktree = join(elsewhere, "feature-wt");
    await git(main, "worktree", "add", "-q", "-b", "feature", worktree);
    const pid = await startedPid(main);

    const deep = subdir(worktree, "src", "deep");
    expect(await statusFrom(worktree)).toMatchObject({ pid, project_dir: main });
    expect(await statusFrom(deep)).toMatchObject({ pid, project_dir: main });
    // A unit created from the worktree is the main project's.
    expect((await ve(null, ["orch", "work-unit", "create", "from-worktree"], { cwd: deep })).code).toBe(0);
    const ps = await ve(main, ["orch", "ps", "--json"]);
    expect(jsonOf(WorkUnitList, ps).work_units.map((u) => u.chunk)).toEqual(["from-worktree"]);
    // `start` in the worktree finds the running daemon instead of starting a second one.
    const again = await ve(null, ["orch", "start", "--json"], { cwd: deep });
    expect(jsonOf(StartResult, again)).toMatchObject({ already_running: true, daemon: { pid } });
    expect(existsSync(join(worktree, ".ve"))).toBe(false);
    // Named explicitly, the worktree stands for the main project as well.
    expect(jsonOf(DaemonStatus, await ve(worktree, ["orch", "status", "--json"])).pid).toBe(pid);
  });

  test("a worktree nested in .ve/worktrees/<chunk> reaches the main project's daemon", async () => {
    const main = await repo(project());
    const pid = await startedPid(main);
    const worktree = join(main, ".ve", "worktrees", "chunk-a");
    await git(main, "worktree", "add", "-q", "-b", "chunk-a", worktree);
    expect(await statusFrom(worktree)).toMatchObject({ pid, project_dir: main });
    expect(await statusFrom(subdir(worktree, "lib"))).toMatchObject({ pid, project_dir: main });
    expect(existsSync(join(worktree, ".ve"))).toBe(false);
  });

  test("a worktree with a stray .ve/ of its own still resolves to the main project", async () => {
    const main = await repo(project());
    const worktree = join(project(), "wt");
    await git(main, "worktree", "add", "-q", "-b", "stray", worktree);
    // What an older ve left behind when it was started inside the worktree.
    mkdirSync(join(worktree, ".ve"), { mode: 0o700 });
    const pid = await startedPid(main);
    expect(await statusFrom(worktree)).toMatchObject({ pid, project_dir: main });
  });

  test("a submodule is its own project, and so are its worktrees' commands", async () => {
    const library = await repo(project());
    const main = await repo(project());
    await git(main, "submodule", "add", "-q", library, "lib");
    await git(main, "commit", "-q", "-m", "add lib");
    const sub = track(join(main, "lib"));
    const mainPid = await startedPid(main);

    // No daemon for the submodule yet: the command says so for the submodule, not the superproject.
    const none = await ve(null, ["orch", "status", "--json"], { cwd: subdir(sub, "inner") });
    expect(none.code).toBe(3);
    expect(none.stdout).toContain(sub);

    const subPid = await startedPid(subdir(sub, "inner"));
    expect(subPid).not.toBe(mainPid);
    expect(await statusFrom(sub)).toMatchObject({ pid: subPid, project_dir: sub });
    expect(await statusFrom(main)).toMatchObject({ pid: mainPid, project_dir: main });

    // A linked worktree of the submodule belongs to the submodule's project.
    const subWorktree = join(project(), "lib-wt");
    await git(sub, "worktree", "add", "-q", "-b", "lib-feature", subWorktree);
    expect(await statusFrom(subWorktree)).toMatchObject({ pid: subPid, project_dir: sub });
  });
});

describe("a project inside another one is created only on request", () => {
  test("--project-dir into a subdirectory of a project is refused, naming the enclosing project", async () => {
    const outer = project();
    mkdirSync(join(outer, ".git"));
    const inner = track(subdir(outer, "packages", "inner"));
    const refused = await ve(inner, ["orch", "start"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${inner} lies inside the project ${outer}`);
    expect(refused.stderr).toContain("--nested");
    expect(existsSync(join(inner, ".ve"))).toBe(false);
    // The same through VE_PROJECT_DIR, and in the foreground.
    const viaEnv = await ve(null, ["orch", "start"], { cwd: outer, env: { VE_PROJECT_DIR: inner } });
    expect(viaEnv.code).toBe(2);
    expect((await ve(inner, ["orch", "start", "--foreground"])).code).toBe(2);
    expect(existsSync(join(inner, ".ve"))).toBe(false);

    // Asked for explicitly, the nested project is created and is its own.
    const nested = await ve(inner, ["orch", "start", "--nested", "--json"]);
    expect(nested.code).toBe(0);
    expect(jsonOf(StartResult, nested).daemon.project_dir).toBe(inner);
    // Once it exists it is a project like any other: no flag needed any more.
    expect((await ve(inner, ["orch", "stop"])).code).toBe(0);
    expect((await ve(inner, ["orch", "start"])).code).toBe(0);
  });

  test("a directory that is a repository of its own is no nested project", async () => {
    const outer = project();
    mkdirSync(join(outer, ".ve"), { mode: 0o700 });
    const inner = track(subdir(outer, "vendor", "lib"));
    mkdirSync(join(inner, ".git"));
    expect((await ve(inner, ["orch", "start"])).code).toBe(0);
  });

  test("an empty --project-dir is a usage error, not the current directory", async () => {
    const dir = project();
    const r = await ve(null, ["orch", "start", "--project-dir", ""], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--project-dir is empty");
    expect(existsSync(join(dir, ".ve"))).toBe(false);
    expect((await ve(null, ["orch", "ps", "--project-dir="], { cwd: dir })).code).toBe(2);
  });
});
