// The guards at the phase commit and at the landing (issue 24 items 1 and 13): whatever caused
// it (a half-made worktree, an agent's `git rm`), a change that deletes most of the base's files,
// or adds a huge file or too many files, needs a person before it is committed or landed.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { expectOk, git, type UnitJson, useEngineProjects } from "./engine-harness.ts";

const e = useEngineProjects("ve-guards");
const TEST_MS = 120_000;

function projectFiles(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`src/file${i}.txt`, `content ${i}\n`]));
}

const settled = (us: UnitJson[]) => us[0]?.status === "DONE" || us[0]?.status === "NEEDS_ATTENTION";
const mainFiles = (dir: string) => git(dir, "ls-tree", "-r", "--name-only", "main").split("\n").filter((f) => f !== "");

describe("the deletion guard", () => {
  test("a phase that deletes 18 of 20 files is not committed: error attention with the figures; guard.max_deleted_ratio 1 and retry land it", async () => {
    const { dir, script } = e.repo(projectFiles(20));
    // file2..file19: 18 of the 20; rm -f so that the run retry starts again does the same.
    await e.start(dir, script, { a: { IMPLEMENT: [{ run: ["sh", "-c", "rm -f src/file[2-9].txt src/file1[0-9].txt"] }], "*": [] } });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    const [unit] = await e.waitUnits(dir, settled);
    expect(unit?.status).toBe("NEEDS_ATTENTION");
    expect(unit?.attention?.kind).toBe("error");
    expect(unit?.attention?.reason).toContain("deletes 18 of 20 files of main (90%, guard.max_deleted_ratio is 0.5)");
    expect(unit?.attention?.reason).toContain("ve orch config guard.max_deleted_ratio 1");
    expect(unit?.attention?.reason).toContain("ve orch retry a");
    expect(mainFiles(dir)).toHaveLength(20);
    expect(git(dir, "rev-list", "--count", "main..ve/a")).toBe("0");
    expectOk(await e.ve(dir, ["orch", "config", "guard.max_deleted_ratio", "1"]));
    expectOk(await e.ve(dir, ["orch", "retry", "a"]));
    const [done] = await e.waitUnits(dir, settled);
    expect(done?.status).toBe("DONE");
    expect(mainFiles(dir).sort()).toEqual(["src/file0.txt", "src/file1.txt"]);
  }, TEST_MS);

  test("a branch the agent committed itself that deletes every file is refused at the landing; guard.max_deleted_ratio 1 and retry land it", async () => {
    const { dir, script } = e.repo(projectFiles(10));
    await e.start(dir, script, { a: { IMPLEMENT: [[{ run: ["sh", "-c", "git rm -q -r . && git commit -q -m wipe"] }], []], "*": [] } });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    const [unit] = await e.waitUnits(dir, settled);
    expect(unit?.status).toBe("NEEDS_ATTENTION");
    expect(unit?.attention?.kind).toBe("error");
    expect(unit?.attention?.reason).toContain("deletes 10 of 10 files of main (100%, guard.max_deleted_ratio is 0.5)");
    expect(unit?.attention?.reason).toContain("nothing was landed");
    expect(mainFiles(dir)).toHaveLength(10);
    expect(readdirSync(join(dir, "src"))).toHaveLength(10);
    expectOk(await e.ve(dir, ["orch", "config", "guard.max_deleted_ratio", "1"]));
    expectOk(await e.ve(dir, ["orch", "retry", "a"]));
    const [done] = await e.waitUnits(dir, settled);
    expect(done?.status).toBe("DONE");
    expect(mainFiles(dir)).toEqual([]);
  }, TEST_MS);
});

describe("the size guards", () => {
  test("a 2 MB file with guard.max_file_mb 1 is not committed: error attention naming it; raised, retry lands it", async () => {
    const { dir, script } = e.repo();
    await e.start(dir, script, { a: { IMPLEMENT: [{ run: ["sh", "-c", "head -c 2097152 /dev/zero > big.bin && echo small > small.txt"] }], "*": [] } }, { "guard.max_file_mb": "1" });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    const [unit] = await e.waitUnits(dir, settled);
    expect(unit?.status).toBe("NEEDS_ATTENTION");
    expect(unit?.attention?.kind).toBe("error");
    expect(unit?.attention?.reason).toContain("big.bin (2.0 MB)");
    expect(unit?.attention?.reason).toContain("guard.max_file_mb");
    expect(unit?.attention?.reason).not.toContain("small.txt");
    expect(unit?.attention?.reason).toContain("ve orch retry a");
    expect(mainFiles(dir)).toEqual(["README.md"]);
    expectOk(await e.ve(dir, ["orch", "config", "guard.max_file_mb", "3"]));
    expectOk(await e.ve(dir, ["orch", "retry", "a"]));
    const [done] = await e.waitUnits(dir, settled);
    expect(done?.status).toBe("DONE");
    expect(mainFiles(dir).sort()).toEqual(["README.md", "big.bin", "small.txt"]);
  }, TEST_MS);

  test("30 new files with guard.max_files 20 are not committed: error attention with the count; with 15 removed in the worktree, retry lands them", async () => {
    const { dir, script } = e.repo();
    const make = "mkdir -p gen && for i in $(seq 1 30); do echo $i > gen/f$i.txt; done";
    await e.start(dir, script, { a: { IMPLEMENT: [[{ run: ["sh", "-c", make] }], []], "*": [] } }, { "guard.max_files": "20" });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    const [unit] = await e.waitUnits(dir, settled);
    expect(unit?.status).toBe("NEEDS_ATTENTION");
    expect(unit?.attention?.kind).toBe("error");
    expect(unit?.attention?.reason).toContain("adds 30 files, more than guard.max_files (20)");
    expect(unit?.attention?.reason).toContain("gen/f1.txt");
    expect(unit?.attention?.reason).toContain("ve orch config guard.max_files");
    expect(unit?.attention?.reason).toContain("ve orch retry a");
    expect(mainFiles(dir)).toEqual(["README.md"]);
    const worktree = join(dir, ".ve", "worktrees", "a");
    for (let i = 16; i <= 30; i++) rmSync(join(worktree, "gen", `f${i}.txt`));
    expectOk(await e.ve(dir, ["orch", "retry", "a"]));
    const [done] = await e.waitUnits(dir, settled);
    expect(done?.status).toBe("DONE");
    expect(mainFiles(dir).filter((f) => f.startsWith("gen/"))).toHaveLength(15);
    expect(existsSync(join(dir, "gen", "f15.txt"))).toBe(true);
  }, TEST_MS);
});
