// The lock files git leaves in a repository's common directory when it is killed between taking
// a lock and renaming it into place (`<file>.lock`), and the repository's worktrees as git
// records them: what the daemon's start looks at to clear its own stale locks.
import { readFileSync, readdirSync, realpathSync, statSync } from "node:fs";
import { dirname, join } from "node:path";

export interface GitLockFile {
  /** Absolute path of the `.lock` file. */
  path: string;
  /** Its path relative to the common git directory, with `/` separators. */
  relative: string;
  mtimeMs: number;
}

export interface GitWorktreeRecord {
  /** The name of its directory under `<common dir>/worktrees/`. */
  name: string;
  /** The worktree's directory as git records it (real path when it still exists). */
  path: string | null;
}

/**
 * The `.lock` files at the top of the common git directory (index, HEAD, config, packed-refs),
 * anywhere under `refs/`, and in each `worktrees/<name>/` (its index, HEAD and own refs).
 * objects/ and logs/ are not looked in: git's object writes take no `.lock`, and a reflog's
 * lock is its ref's.
 */
export function listGitLocks(commonDir: string): GitLockFile[] {
  const found: GitLockFile[] = [];
  const visit = (relative: string, recurse: boolean) => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(join(commonDir, relative), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const rel = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        if (recurse) visit(rel, true);
      } else if (entry.name.endsWith(".lock")) {
        try {
          found.push({ path: join(commonDir, rel), relative: rel, mtimeMs: statSync(join(commonDir, rel)).mtimeMs });
        } catch {
          // Gone since it was listed: its git finished.
        }
      }
    }
  };
  visit("", false);
  visit("refs", true);
  for (const worktree of gitWorktreeRecords(commonDir)) visit(`worktrees/${worktree.name}`, true);
  return found.sort((a, b) => a.relative.localeCompare(b.relative));
}

/** The linked worktrees git records, from `<common dir>/worktrees/<name>/gitdir`. */
export function gitWorktreeRecords(commonDir: string): GitWorktreeRecord[] {
  let names: string[];
  try {
    names = readdirSync(join(commonDir, "worktrees"), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch {
    return [];
  }
  return names.sort().map((name) => {
    let path: string | null = null;
    try {
      // "gitdir" holds "<worktree>/.git".
      path = dirname(readFileSync(join(commonDir, "worktrees", name, "gitdir"), "utf8").trim());
      path = realpathSync(path);
    } catch {
      // A worktree deleted by hand keeps the recorded path, or none when the record is broken.
    }
    return { name, path };
  });
}
