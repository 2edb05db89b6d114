import { expect, test } from "bun:test";
import type { Worktree } from "../../src/git/worktrees.ts";
import { reconcileWorktrees } from "../../src/engine/reconcile.ts";

const S = "/p/.ve";
const wt = (path: string, branch: string | null, extra: Partial<Worktree> = {}): Worktree => ({
  path, head: "abc", branch: branch && `refs/heads/${branch}`, bare: false, detached: branch === null, locked: null, prunable: null, ...extra,
});

test("engine worktrees are active, missing or orphaned; the user's own are not listed", () => {
  const rows = reconcileWorktrees(
    S,
    [
      { chunk: "a", scheduled: true, inFlight: true, worktreeMade: true },
      { chunk: "b", scheduled: true, inFlight: true, worktreeMade: true },
      { chunk: "c", scheduled: true, inFlight: true, worktreeMade: true },
      { chunk: "done", scheduled: true, inFlight: false, worktreeMade: true },
      // Waiting for its first run: no worktree yet, and none is missing.
      { chunk: "waiting", scheduled: true, inFlight: true, worktreeMade: false },
    ],
    [
      wt("/p", "main"),
      wt("/home/u/feature", "feature"),
      wt(`${S}/worktrees/a`, "ve/a", { locked: "ve: unit a" }),
      wt(`${S}/worktrees/b`, "ve/b", { prunable: "gitdir file points to non-existent location" }),
      wt(`${S}/worktrees/done`, "ve/done"),
      wt(`${S}/worktrees/stray`, "experiment"),
      wt("/elsewhere/x", "ve/x"),
    ],
  );
  expect(rows.map((r) => [r.chunk, r.state, r.locked])).toEqual([
    ["a", "active", true],
    ["b", "missing", false],
    ["done", "orphaned", false],
    ["stray", "orphaned", false],
    ["x", "orphaned", false],
    ["c", "missing", false],
  ]);
});
