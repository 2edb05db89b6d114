// Injecting: phases from the base branch's documents, depends_on, all-or-none batches, the
// goal and prompt overrides, and a person's change to a unit whose agent runs.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expectOk, git, useEngineProjects } from "./engine-harness.ts";
import { json, waitFor } from "./harness.ts";

const e = useEngineProjects("ve-inject");
const MS = 120_000;

describe("inject", () => {
  test("the phase comes from the base branch's documents and GOAL.md's depends_on becomes what it waits on", async () => {
    const { dir, script } = e.repo({
      "README.md": "x\n",
      "docs/chunks/planned/GOAL.md": "---\ndepends_on: [base]\n---\nDo it.\n",
      "docs/chunks/planned/PLAN.md": "1. it\n",
      "docs/chunks/goaled/GOAL.md": "Do that.\n",
    });
    await e.start(dir, script, { "*": { "*": [{ wait_for_file: `${script}.never` }] } });
    const injected = json<{ work_units: { chunk: string; phase: string; status: string; depends_on: string[]; scheduled: boolean; base_branch: string }[] }>(
      expectOk(await e.ve(dir, ["orch", "inject", "planned", "goaled", "fresh", "--json"])),
    ).work_units;
    expect(injected.map((u) => [u.chunk, u.phase, u.status, u.depends_on, u.scheduled, u.base_branch])).toEqual([
      ["planned", "IMPLEMENT", "BLOCKED", ["base"], true, "main"],
      ["goaled", "PLAN", expect.any(String), [], true, "main"],
      ["fresh", "GOAL", expect.any(String), [], true, "main"],
    ]);
  }, MS);

  test("a batch is created in dependency order in one transaction; a cycle refuses all of it", async () => {
    const { dir, script } = e.repo({
      "README.md": "x\n",
      "docs/chunks/x/GOAL.md": "---\ndepends_on: [y]\n---\n",
      "docs/chunks/y/GOAL.md": "---\ndepends_on: [x]\n---\n",
      "docs/chunks/late/GOAL.md": "---\ndepends_on: [early]\n---\n",
    });
    await e.start(dir, script, { "*": { "*": [{ wait_for_file: `${script}.never` }] } });
    const refused = await e.ve(dir, ["orch", "inject", "ok", "x", "y"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("cycle");
    expect(await e.units(dir)).toEqual([]);
    const order = json<{ work_units: { chunk: string }[] }>(expectOk(await e.ve(dir, ["orch", "inject", "late", "early", "--json"])));
    expect(order.work_units.map((u) => u.chunk)).toEqual(["early", "late"]);
  }, MS);

  test("--goal seeds GOAL.md in the GOAL phase, and a committed docs/prompts/<PHASE>.md replaces the built-in prompt", async () => {
    const { dir, script } = e.repo({ "README.md": "x\n", "docs/prompts/PLAN.md": "Project plan prompt for {{chunk}}: {{goal}}\n" });
    await e.start(dir, script, { a: { GOAL: [], PLAN: [], "*": [{ wait_for_file: `${script}.never` }] } });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--goal", "Make the parser fast"]));
    await waitFor(async () => (await e.units(dir))[0]?.phase === "IMPLEMENT", 60_000, 50);
    const prompts = readFileSync(`${script}.prompts`, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { phase: string; prompt: string });
    expect(prompts.find((p) => p.phase === "GOAL")?.prompt).toContain("Make the parser fast");
    const plan = prompts.find((p) => p.phase === "PLAN")?.prompt ?? "";
    expect(plan).toContain("Project plan prompt for a: Make the parser fast");
    expect(plan).toContain(join(dir, ".ve", "worktrees", "a"));
    const wt = join(dir, ".ve", "worktrees", "a");
    expect(git(wt, "log", "-1", "--format=%s")).toBe("a: GOAL");
    expect(git(wt, "show", "HEAD:docs/chunks/a/GOAL.md")).toBe("Make the parser fast");
  }, MS);
});

describe("a person and a running scheduled unit", () => {
  test("a change while its agent runs is refused unless forced; forced, the agent is ended and the run closed interrupted", async () => {
    const { dir, script } = e.repo();
    await e.start(dir, script, { a: { IMPLEMENT: [{ print: "up" }, { hang: true }] } });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    const worktree = join(dir, ".ve", "worktrees", "a");
    await waitFor(async () => (await e.units(dir))[0]?.status === "RUNNING" && existsSync(worktree), 30_000, 20);
    const manual = await e.ve(dir, ["orch", "work-unit", "status", "a", "READY"]);
    expect(manual.code).toBe(1);
    expect(manual.stderr).toContain("has an agent running");
    const byHand = await e.ve(dir, ["orch", "work-unit", "create", "b"]);
    expectOk(byHand);
    expect((await e.ve(dir, ["orch", "work-unit", "status", "a", "NEEDS_ATTENTION", "--force"])).code).toBe(0);
    const runs = json<{ runs: { outcome: string; ended_at: string | null }[] }>(await e.ve(dir, ["orch", "runs", "a", "--json"])).runs;
    expect(runs.map((r) => r.outcome)).toEqual(["interrupted"]);
    const { processesWithCwdInside } = await import("../../src/platform/process.ts");
    expect(await waitFor(() => processesWithCwdInside(worktree).length === 0, 10_000)).toBe(true);
    // RUNNING is the scheduler's to give.
    const running = await e.ve(dir, ["orch", "work-unit", "status", "a", "RUNNING", "--force"]);
    expect(running.code).toBe(1);
    expect(running.stderr).toContain("run by the scheduler");
  }, MS);
});
