// Landing integrity (issue 24): what a crash, or a worktree made by hand, leaves behind never
// lands as the deletion of the project's files.
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expectOk, git, useEngineProjects } from "./engine-harness.ts";
import { isVeDaemon, waitFor } from "./harness.ts";

const e = useEngineProjects("ve-integrity");
const TEST_MS = 120_000;

function projectFiles(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`src/file${i}.txt`, `content ${i}\n`]));
}

describe("a worktree that was never complete", () => {
  test("one made with `git worktree add --no-checkout` at the unit's path is removed and made again: the landing keeps all 200 files", async () => {
    const { dir, script } = e.repo(projectFiles(200));
    const gate = `${script}.gate`;
    await e.start(dir, script, { a: { IMPLEMENT: [[{ wait_for_file: gate }], [{ write: { "a.txt": "a\n" } }]], "*": [] } });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    const worktree = join(dir, ".ve", "worktrees", "a");
    // The first attempt's agent has started (it counts its attempts) and waits.
    await waitFor(() => existsSync(`${script}.counts/a.IMPLEMENT`), 30_000);
    expectOk(await e.ve(dir, ["orch", "stop"]));
    // The state a `git worktree add` killed between its .git file and its checkout leaves.
    git(dir, "worktree", "unlock", worktree);
    git(dir, "worktree", "remove", "--force", worktree);
    git(dir, "worktree", "add", "-q", "--no-checkout", worktree, "ve/a");
    expect(existsSync(join(worktree, "src"))).toBe(false);
    expectOk(await e.ve(dir, ["orch", "start"]));
    const [unit] = await e.waitUnits(dir, (us) => us[0]?.status === "DONE" || us[0]?.status === "NEEDS_ATTENTION");
    expect(unit?.status).toBe("DONE");
    expect(git(dir, "ls-tree", "-r", "--name-only", "main").split("\n").filter((f) => f.startsWith("src/"))).toHaveLength(200);
    expect(readFileSync(join(dir, "src", "file199.txt"), "utf8")).toBe("content 199\n");
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\n");
    expect(git(dir, "status", "--porcelain")).toBe("");
    const log = await e.ve(dir, ["orch", "logs"]);
    expect(log.stdout + log.stderr).toContain("never complete");
  }, TEST_MS);

  test("a kill -9 of the daemon and its git during `git worktree add`'s checkout: the next daemon makes the worktree again, and the landing keeps all 200 files", async () => {
    const { dir, script } = e.repo(projectFiles(200));
    const realGit = Bun.which("git") as string;
    // A git on the daemon's PATH that gives `worktree add` an exec path whose `git reset` (the
    // checkout step, run after the .git file is written) kills that git and the daemon.
    const shim = join(script, "..", "git-shim");
    mkdirSync(join(shim, "exec"), { recursive: true });
    writeFileSync(join(shim, "git"), `#!/bin/sh\nif [ "$1" = worktree ] && [ "$2" = add ]; then GIT_EXEC_PATH='${shim}/exec' exec '${realGit}' "$@"; fi\nexec '${realGit}' "$@"\n`);
    writeFileSync(
      join(shim, "exec", "git"),
      `#!/bin/sh\nif [ "$1" = reset ]; then adder=$PPID; daemon=$(awk '{print $4}' /proc/$adder/stat); kill -9 "$daemon" "$adder"; exit 137; fi\nexec '${realGit}' "$@"\n`,
    );
    chmodSync(join(shim, "git"), 0o755);
    chmodSync(join(shim, "exec", "git"), 0o755);
    expectOk(await e.ve(dir, ["orch", "start"], { PATH: `${shim}:${process.env.PATH}` }));
    const pid = Number.parseInt(readFileSync(join(dir, ".ve", "orchestrator.pid"), "utf8"), 10);
    expect(isVeDaemon(pid)).toBe(true);
    await e.start(dir, script, { a: { IMPLEMENT: [{ write: { "a.txt": "a\n" } }], "*": [] } });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    expect(await waitFor(() => !isVeDaemon(pid), 30_000)).toBe(true);
    const worktree = join(dir, ".ve", "worktrees", "a");
    expect(existsSync(join(worktree, ".git"))).toBe(true);
    expect(existsSync(join(worktree, "src"))).toBe(false);
    expectOk(await e.ve(dir, ["orch", "start"]));
    const [unit] = await e.waitUnits(dir, (us) => us[0]?.status === "DONE" || us[0]?.status === "NEEDS_ATTENTION");
    expect(unit?.status).toBe("DONE");
    expect(git(dir, "ls-tree", "-r", "--name-only", "main").split("\n").filter((f) => f.startsWith("src/"))).toHaveLength(200);
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\n");
    expect(git(dir, "status", "--porcelain")).toBe("");
  }, TEST_MS);
});

describe("a nested git repository the agent made", () => {
  test("is not committed as a gitlink: NEEDS_ATTENTION error naming it, its files kept; with its .git removed, retry lands its files", async () => {
    const { dir, script } = e.repo();
    const make = "mkdir sub && cd sub && git init -q && echo nested > f.txt && git add f.txt && git commit -qm nested";
    await e.start(dir, script, { a: { IMPLEMENT: [[{ run: ["sh", "-c", make] }], []], "*": [] } });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    const [unit] = await e.waitUnits(dir, (us) => us[0]?.status === "DONE" || us[0]?.status === "NEEDS_ATTENTION");
    expect(unit?.status).toBe("NEEDS_ATTENTION");
    expect(unit?.attention?.kind).toBe("error");
    expect(unit?.attention?.reason).toContain("sub/");
    expect(unit?.attention?.reason).toContain("ve orch retry a");
    const worktree = join(dir, ".ve", "worktrees", "a");
    expect(readFileSync(join(worktree, "sub", "f.txt"), "utf8")).toBe("nested\n");
    Bun.spawnSync(["rm", "-rf", join(worktree, "sub", ".git")]);
    expectOk(await e.ve(dir, ["orch", "retry", "a"]));
    const [done] = await e.waitUnits(dir, (us) => us[0]?.status === "DONE" || us[0]?.status === "NEEDS_ATTENTION");
    expect(done?.status).toBe("DONE");
    expect(git(dir, "ls-tree", "-r", "main", "sub")).toContain("100644 blob");
    expect(readFileSync(join(dir, "sub", "f.txt"), "utf8")).toBe("nested\n");
  }, TEST_MS);
});
