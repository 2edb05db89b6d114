// Two projects on one repository (one at its root, one `--nested` in a subdirectory) each have
// their own unit branches: a unit of the same name in both gets `ve/<chunk>` at the root and
// `ve/@<subdirectory>/<chunk>` below it, so neither lands, checks out or prunes the other's.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "./harness.ts";
import { expectOk, git, useEngineProjects } from "./engine-harness.ts";

const e = useEngineProjects("ve-nested-branches");
const ENGINE_TEST_MS = 120_000;

interface WorktreeJson {
  chunk: string | null;
  path: string;
  branch: string | null;
  state: string;
}

describe("nested projects on one repository", () => {
  test("a unit of the same name in the root project and in a nested one: own branches, both land their own files", async () => {
    const { dir, script } = e.repo({ "README.md": "hello\n", "sub/README.md": "sub\n" });
    const sub = join(dir, "sub");
    const subScript = `${script}.sub.json`;
    const rootStarted = `${script}.root-started`;
    const subStarted = `${script}.sub-started`;
    const release = `${script}.release`;
    // Both agents stay in their worktrees until the test has seen both branches at once.
    expectOk(await e.ve(sub, ["orch", "start", "--nested"]));
    await e.start(sub, subScript, { api: { IMPLEMENT: [{ write: { "sub-api.txt": "from sub\n" } }, { run: ["touch", subStarted] }, { wait_for_file: release }], "*": [] } });
    await e.start(dir, script, { api: { IMPLEMENT: [{ write: { "root-api.txt": "from root\n" } }, { run: ["touch", rootStarted] }, { wait_for_file: release }], "*": [] } });

    expectOk(await e.ve(dir, ["orch", "inject", "api", "--phase", "IMPLEMENT"]));
    expect(await waitFor(() => existsSync(rootStarted), 30_000, 20)).toBe(true);
    expectOk(await e.ve(sub, ["orch", "inject", "api", "--phase", "IMPLEMENT"]));
    expect(await waitFor(() => existsSync(subStarted), 30_000, 20)).toBe(true);

    expect(git(dir, "for-each-ref", "--format=%(refname:short)", "refs/heads/ve/").split("\n").sort()).toEqual(["ve/@sub/api", "ve/api"]);
    // Each project's worktree list shows its own unit's worktree, active, and not the other's as orphaned.
    const listed = async (project: string) =>
      (JSON.parse(expectOk(await e.ve(project, ["orch", "worktree", "list", "--json"])).stdout) as { worktrees: WorktreeJson[] }).worktrees.map((w) => [w.chunk, w.branch, w.state, w.path]);
    expect(await listed(dir)).toEqual([["api", "ve/api", "active", join(dir, ".ve", "worktrees", "api")]]);
    expect(await listed(sub)).toEqual([["api", "ve/@sub/api", "active", join(sub, ".ve", "worktrees", "api")]]);

    Bun.spawnSync(["touch", release]);
    for (const project of [dir, sub]) {
      const [api] = await e.waitUnits(project, (us) => us[0]?.status === "DONE" || us[0]?.status === "NEEDS_ATTENTION");
      expect(api?.status).toBe("DONE");
    }
    expect(git(dir, "show", "main:root-api.txt")).toBe("from root");
    expect(git(dir, "show", "main:sub-api.txt")).toBe("from sub");
    expect(git(dir, "for-each-ref", "--format=%(refname:short)", "refs/heads/ve/")).toBe("");
    // Each landing names its project, so recovery after a crash finds its own merge, not the other's.
    const landings = git(dir, "log", "--merges", "--format=%(trailers:key=Ve-Chunk,valueonly,separator=%x2C)|%(trailers:key=Ve-Project,valueonly,separator=%x2C)", "main");
    expect(landings.split("\n").sort()).toEqual(["api|", "api|sub"]);
  }, ENGINE_TEST_MS);
});
