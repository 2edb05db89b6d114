// Landing integrity (issue 24): what a crash, or a worktree made by hand, leaves behind never
// lands as the deletion of the project's files.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expectOk, git, useEngineProjects } from "./engine-harness.ts";
import { waitFor } from "./harness.ts";

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
});
