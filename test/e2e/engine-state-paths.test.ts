// ve's own paths (`.ve/`, where the database and the worktrees live) never land from a unit: an
// agent that writes a `.ve/orchestrator.db` in its worktree must not have it committed, and a
// branch that carries one anyway (the agent committed it with git) is refused at landing. Either
// way the project's live, ignored `.ve/` in the user's checkout is untouched.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expectOk, git, useEngineProjects } from "./engine-harness.ts";

const e = useEngineProjects("ve-state-paths");
const ENGINE_TEST_MS = 120_000;
const AGENT_DB = "an agent's orchestrator.db\n";

describe("ve's own paths never land from a worktree", () => {
  test("a .ve/ the agent writes in its worktree (at any depth) is not committed; the unit lands and the project's database is intact", async () => {
    const { dir, script } = e.repo();
    await e.start(dir, script, {
      a: {
        IMPLEMENT: [{ write: { "a.txt": "a\n", ".ve/orchestrator.db": AGENT_DB, ".ve/worktrees/x/f": "x\n", "sub/.ve/orchestrator.db": AGENT_DB } }],
        "*": [],
      },
    });
    const dbBefore = readFileSync(join(dir, ".ve", "orchestrator.db"));
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    const [a] = await e.waitUnits(dir, (us) => us[0]?.status === "DONE" || us[0]?.status === "NEEDS_ATTENTION");
    expect(a?.status).toBe("DONE");
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\n");
    expect(git(dir, "ls-tree", "-r", "--name-only", "main").split("\n").filter((p) => p.includes(".ve"))).toEqual([]);
    expect(readFileSync(join(dir, ".ve", "orchestrator.db")).subarray(0, 16).toString()).toBe(dbBefore.subarray(0, 16).toString());
    // The state survives a restart (a database written over by the agent's makes start refuse),
    // and the daemon goes on: a second unit runs and lands.
    expectOk(await e.ve(dir, ["orch", "stop"]));
    expectOk(await e.ve(dir, ["orch", "start"]));
    expect((await e.units(dir)).map((u) => [u.chunk, u.status])).toEqual([["a", "DONE"]]);
    expectOk(await e.ve(dir, ["orch", "inject", "b", "--phase", "IMPLEMENT"]));
    const units = await e.waitUnits(dir, (us) => us.find((u) => u.chunk === "b")?.status === "DONE");
    expect(units.map((u) => [u.chunk, u.status])).toEqual([["a", "DONE"], ["b", "DONE"]]);
  }, ENGINE_TEST_MS);

  test("a branch the agent committed .ve/ on itself is refused at landing, naming the files; the project's database intact; without them, retry lands it", async () => {
    const { dir, script } = e.repo();
    await e.start(dir, script, {
      a: {
        IMPLEMENT: [
          { write: { "a.txt": "a\n", ".ve/orchestrator.db": AGENT_DB } },
          { git: ["add", "-f", "a.txt", ".ve/orchestrator.db"] },
          { git: ["-c", "user.name=agent", "-c", "user.email=agent@example.invalid", "commit", "-q", "-m", "agent's own commit"] },
        ],
        "*": [],
      },
    });
    expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
    const before = git(dir, "rev-parse", "main");
    const [a] = await e.waitUnits(dir, (us) => us[0]?.status === "DONE" || us[0]?.status === "NEEDS_ATTENTION");
    expect(a?.status).toBe("NEEDS_ATTENTION");
    expect(a?.attention?.kind).toBe("error");
    expect(a?.attention?.reason).toContain(".ve/orchestrator.db");
    expect(a?.attention?.reason).toContain("ve orch retry a");
    expect(git(dir, "rev-parse", "main")).toBe(before);
    expect(readFileSync(join(dir, ".ve", "orchestrator.db"), "utf8")).not.toBe(AGENT_DB);
    // What the attention says to do: take them off the branch, then retry.
    const worktree = join(dir, ".ve", "worktrees", "a");
    git(worktree, "rm", "-r", "-q", "--cached", ".ve");
    git(worktree, "commit", "-q", "-m", "drop .ve");
    expectOk(await e.ve(dir, ["orch", "retry", "a"]));
    const [landed] = await e.waitUnits(dir, (us) => us[0]?.status === "DONE" || us[0]?.status === "NEEDS_ATTENTION");
    expect(landed?.status).toBe("DONE");
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\n");
    expect(git(dir, "ls-tree", "-r", "--name-only", "main").split("\n").filter((p) => p.includes(".ve"))).toEqual([]);
  }, ENGINE_TEST_MS);
});
