// branch_base_commit: the base commit a scheduled unit's branch was made from, written when its
// first run makes the branch and kept as the base moves on; null before that, and for a unit
// that is only tracked.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expectOk, git, useEngineProjects } from "./engine-harness.ts";
import { json, waitFor } from "./harness.ts";

const e = useEngineProjects("ve-branch-base");
const MS = 120_000;

interface Shown {
  chunk: string;
  status: string;
  worktree: string | null;
  branch_base_commit: string | null;
}

describe("branch_base_commit", () => {
  test("null until the first run makes the branch, then the base commit it was made from, kept after the base moves and the unit lands", async () => {
    const { dir, script } = e.repo({ "README.md": "x\n", "docs/chunks/waits/GOAL.md": "---\ndepends_on: [nobody]\n---\nWait.\n" });
    const go = `${script}.go`;
    await e.start(dir, script, {
      a: { IMPLEMENT: [{ wait_for_file: go }, { write: { "a.txt": "a\n" } }], "*": [] },
    });
    const show = async (chunk: string) =>
      json<{ work_unit: Shown }>(expectOk(await e.ve(dir, ["orch", "work-unit", "show", chunk, "--json"]))).work_unit;

    // Waits on a unit that does not exist, so it never runs.
    expectOk(await e.ve(dir, ["orch", "inject", "waits"]));
    expectOk(await e.ve(dir, ["orch", "work-unit", "create", "tracked"]));
    expect((await show("waits")).branch_base_commit).toBeNull();
    expect((await show("tracked")).branch_base_commit).toBeNull();

    const base = git(dir, "rev-parse", "main");
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    // The unit's worktree field is written in the same change as the branch base.
    await waitFor(async () => (await show("a")).worktree !== null, 30_000, 20);
    const running = await show("a");
    expect([running.status, running.worktree, running.branch_base_commit]).toEqual(["RUNNING", join(dir, ".ve", "worktrees", "a"), base]);

    // The base moves on while the unit works: the commit its branch was made from stays.
    writeFileSync(join(dir, "other.txt"), "other\n");
    git(dir, "add", "other.txt");
    git(dir, "commit", "-q", "-m", "other work");
    expect(git(dir, "rev-parse", "main")).not.toBe(base);
    writeFileSync(go, "");
    await e.waitUnits(dir, (units) => units.find((u) => u.chunk === "a")?.status === "DONE");
    const landed = await show("a");
    expect(landed.branch_base_commit).toBe(base);
    // The listing carries it too.
    const listed = json<{ work_units: Shown[] }>(expectOk(await e.ve(dir, ["orch", "ps", "--json"]))).work_units;
    expect(listed.map((u) => [u.chunk, u.branch_base_commit])).toEqual([
      ["waits", null],
      ["tracked", null],
      ["a", base],
    ]);
  }, MS);
});
