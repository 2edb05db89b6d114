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
    "",
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

test("another project's worktrees and branches on the same repository are not this project's", () => {
  const units = [{ chunk: "api", scheduled: true, inFlight: true, worktreeMade: true }];
  const worktrees = [
    wt("/r", "main"),
    wt("/r/.ve/worktrees/api", "ve/api", { locked: "ve: unit api" }),
    wt("/r/sub/.ve/worktrees/api", "ve/@sub/api", { locked: "ve: unit api" }),
    wt("/r/sub/.ve/worktrees/old", "ve/@sub/old"),
    wt("/r/lib/.ve/worktrees/api", "ve/@lib/api"),
  ];
  const root = reconcileWorktrees("/r/.ve", "", units, worktrees);
  expect(root.map((r) => [r.chunk, r.branch, r.state])).toEqual([["api", "ve/api", "active"]]);
  const sub = reconcileWorktrees("/r/sub/.ve", "sub/", units, worktrees);
  expect(sub.map((r) => [r.chunk, r.branch, r.state])).toEqual([
    ["api", "ve/@sub/api", "active"],
    ["old", "ve/@sub/old", "orphaned"],
  ]);
  // A unit in flight whose worktree git does not know is missing on its own project's branch.
  expect(reconcileWorktrees("/r/deep/er/.ve", "deep/er/", units, worktrees).map((r) => [r.chunk, r.branch, r.state])).toEqual([["api", "ve/@deep+er/api", "missing"]]);
});
