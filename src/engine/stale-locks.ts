// Git lock files a killed daemon's git left behind (SIGKILL of the daemon's whole group kills a
// `git add` or `update-ref` between its taking `<file>.lock` and renaming it): at the next
// start, those in ve's own worktrees and branches are removed, since ve's git would otherwise
// fail on them forever; those in the user's part of the repository are reported with the
// command, never removed, since only the person knows whether their own git is still at work.
import { realpathSync, rmSync } from "node:fs";
import { basename, dirname } from "node:path";
import { type GitLockFile, gitWorktreeRecords, listGitLocks } from "../git/locks.ts";
import { gitProcessesIn } from "../platform/process.ts";
import { UNIT_BRANCH_PREFIX, unitWorktreePath } from "./worktrees.ts";

export type LockAction =
  /** ve's, older than the daemon, no git alive in the repository: removed. */
  | "remove"
  /** ve's, but a git process works in the repository and may hold it: left, logged. */
  | "leave"
  /** The user's (or ve's where no process listing exists): a warning with the `rm` command. */
  | "report"
  /** Made after the daemon started: a live git's. */
  | "ignore";

export interface LockDecision {
  lock: GitLockFile;
  action: LockAction;
  owner: "ve" | "user";
}

export interface LockFacts {
  locks: readonly GitLockFile[];
  daemonStartMs: number;
  /** Names under `<common dir>/worktrees/` of the worktrees that are ve's units. */
  veWorktreeNames: readonly string[];
  /** Git processes working in the repository, or undefined when they cannot be listed. */
  liveGit: readonly number[] | undefined;
}

/** Whose a lock is, by its path relative to the common git directory. */
export function lockOwner(relative: string, veWorktreeNames: readonly string[]): "ve" | "user" {
  if (relative.startsWith(`refs/heads/${UNIT_BRANCH_PREFIX}`)) return "ve";
  const worktree = /^worktrees\/([^/]+)\//.exec(relative);
  return worktree && veWorktreeNames.includes(worktree[1] as string) ? "ve" : "user";
}

export function decideStaleLocks(facts: LockFacts): LockDecision[] {
  return facts.locks.map((lock) => {
    const owner = lockOwner(lock.relative, facts.veWorktreeNames);
    if (lock.mtimeMs >= facts.daemonStartMs) return { lock, owner, action: "ignore" };
    if (owner === "user" || facts.liveGit === undefined) return { lock, owner, action: "report" };
    return { lock, owner, action: facts.liveGit.length > 0 ? "leave" : "remove" };
  });
}

/** A path as one argument for a POSIX shell. */
export function shellQuote(path: string): string {
  return `'${path.replaceAll("'", "'\\''")}'`;
}

/** Where the findings go: the daemon's log (declared here, not taken from the daemon: the engine sits below it). */
export interface StaleLockReporter {
  info(message: string): void;
  warn(message: string): void;
}

export interface StaleLockOptions {
  commonDir: () => Promise<string>;
  stateDir: string;
  /** The project's root (a checkout of the repository, or a directory inside one). */
  root: string;
  log: StaleLockReporter;
  /** When this daemon started (epoch ms): only older locks can be a dead git's. */
  daemonStartMs?: number;
}

/** Looks at the repository's lock files once, at start; never throws (a warning instead). */
export async function clearStaleGitLocks(options: StaleLockOptions): Promise<void> {
  try {
    const commonDir = await options.commonDir();
    const daemonStartMs = options.daemonStartMs ?? performance.timeOrigin;
    const stale = listGitLocks(commonDir).filter((lock) => lock.mtimeMs < daemonStartMs);
    if (stale.length === 0) return;
    const records = gitWorktreeRecords(commonDir);
    const veDir = dirname(unitWorktreePath(realOr(options.stateDir), "x"));
    const veWorktreeNames = records.filter((r) => r.path !== null && dirname(r.path) === veDir).map((r) => r.name);
    const dirs = [commonDir, realOr(options.root), ...records.flatMap((r) => (r.path === null ? [] : [r.path]))];
    if (basename(commonDir) === ".git") dirs.push(dirname(commonDir));
    const liveGit = gitProcessesIn(dirs);
    for (const { lock, action, owner } of decideStaleLocks({ locks: stale, daemonStartMs, veWorktreeNames, liveGit })) {
      const made = new Date(lock.mtimeMs).toISOString();
      if (action === "remove") {
        rmSync(lock.path, { force: true });
        options.log.info(`removed the stale git lock ${lock.path} (from ${made}, before this daemon started; no git process works in the repository): a git of an earlier daemon was killed holding it`);
      } else if (action === "leave") {
        options.log.warn(`left the git lock ${lock.path} (from ${made}) in place: git process ${liveGit?.join(", ")} runs in the repository and may hold it; once it has ended, \`rm ${shellQuote(lock.path)}\``);
      } else if (action === "report") {
        const whose = owner === "user" ? "in your part of the repository, so ve leaves it" : "ve's, but ve cannot list git processes on this system, so it leaves it";
        options.log.warn(`stale git lock ${lock.path} (from ${made}, before this daemon started) is ${whose}; git commands that need it fail until it is gone: once no git command is running in that repository, \`rm ${shellQuote(lock.path)}\``);
      }
    }
  } catch (error) {
    options.log.warn(`could not look for stale git locks: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function realOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
