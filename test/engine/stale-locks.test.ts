import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LockAction, decideStaleLocks, lockOwner, shellQuote } from "../../src/engine/stale-locks.ts";
import { listGitLocks } from "../../src/git/locks.ts";

const START_MS = 1_000_000;
const OLD_MS = START_MS - 60_000;
const lock = (relative: string, mtimeMs = OLD_MS) => ({ path: `/r/.git/${relative}`, relative, mtimeMs });

test("whose a lock is: ve's unit worktrees and ve/ branches are ve's, everything else the user's", () => {
  const ve = ["a", "b1"];
  const table: [string, "ve" | "user"][] = [
    ["worktrees/a/index.lock", "ve"],
    ["worktrees/a/HEAD.lock", "ve"],
    ["worktrees/b1/refs/bisect/x.lock", "ve"],
    ["worktrees/mine/index.lock", "user"],
    ["worktrees/ab/index.lock", "user"],
    ["refs/heads/ve/a.lock", "ve"],
    ["refs/heads/ve/deep/er.lock", "ve"],
    ["refs/heads/vex.lock", "user"],
    ["refs/heads/main.lock", "user"],
    ["index.lock", "user"],
    ["HEAD.lock", "user"],
    ["config.lock", "user"],
    ["packed-refs.lock", "user"],
  ];
  for (const [relative, owner] of table) expect([relative, lockOwner(relative, ve)]).toEqual([relative, owner]);
});

test("ve's stale locks are removed only when no git runs; the user's are reported; young ones ignored", () => {
  const locks = [lock("worktrees/a/index.lock"), lock("refs/heads/ve/a.lock"), lock("packed-refs.lock"), lock("index.lock"), lock("worktrees/a/HEAD.lock", START_MS), lock("worktrees/a/ORIG_HEAD.lock", START_MS + 5)];
  const table: [readonly number[] | undefined, LockAction[]][] = [
    [[], ["remove", "remove", "report", "report", "ignore", "ignore"]],
    [[4242], ["leave", "leave", "report", "report", "ignore", "ignore"]],
    // No process listing (macOS): nothing can be known free, so nothing is removed.
    [undefined, ["report", "report", "report", "report", "ignore", "ignore"]],
  ];
  for (const [liveGit, actions] of table) {
    const decided = decideStaleLocks({ locks, daemonStartMs: START_MS, veWorktreeNames: ["a"], liveGit });
    expect(decided.map((d) => d.action)).toEqual(actions);
  }
});

test("the rm command quotes the path for a shell", () => {
  expect(shellQuote("/r/.git/packed-refs.lock")).toBe("'/r/.git/packed-refs.lock'");
  expect(shellQuote("/it's/x.lock")).toBe("'/it'\\''s/x.lock'");
});

test("listGitLocks finds the top-level, refs and worktree locks, not objects' or logs'", () => {
  const dir = mkdtempSync(join(tmpdir(), "ve-locks-"));
  try {
    for (const rel of ["index.lock", "packed-refs.lock", "refs/heads/ve/a.lock", "worktrees/a/index.lock", "worktrees/a/gitdir", "objects/ab/x.lock", "logs/HEAD.lock", "refs/heads/main"]) {
      mkdirSync(join(dir, rel, ".."), { recursive: true });
      writeFileSync(join(dir, rel), "");
    }
    utimesSync(join(dir, "index.lock"), 100, 100);
    const found = listGitLocks(dir);
    expect(found.map((l) => l.relative)).toEqual(["index.lock", "packed-refs.lock", "refs/heads/ve/a.lock", "worktrees/a/index.lock"]);
    expect(found[0]?.mtimeMs).toBe(100_000);
    expect(found[0]?.path).toBe(join(dir, "index.lock"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
