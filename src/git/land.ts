// Landing a unit's branch on its base as one merge commit. The merge is computed with `git
// merge-tree --write-tree` (no index, no working tree), written with `commit-tree`, and
// published with a compare-and-swap of the base ref, so a base that moves meanwhile is merged
// again, never overwritten. A base checked out somewhere (usually the user's own checkout) is
// moved together with that checkout's index and files, under its index.lock, as `git merge
// --ff-only` would: the user's work that touches none of the landing's paths is kept; work (or
// an untracked or ignored file) in the way is reported and nothing is touched.
import { VeError } from "../errors.ts";
import { clockMs } from "../clocks.ts";
import { type GitResult, git, gitFailure, isAncestor, resolveCommit, runGit } from "./git.ts";
import { copyFileSync, existsSync, lstatSync, openSync, closeSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type GitOperation, checkoutOfBranch, gitDirOf, listWorktrees, operationIn } from "./worktrees.ts";

/** A base that keeps moving under us is retried this often before giving up for now. */
export const LAND_MAX_ATTEMPTS = 5;

export type LandResult =
  /** A new merge commit is on the base; `checkout` is the worktree updated with it, if any. */
  | { kind: "landed"; commit: string; checkout: string | null }
  /** The branch's tip was already in the base (a landing finished before a crash, or nothing to add). */
  | { kind: "already_landed"; commit: string }
  /** The branch and the base change the same lines. */
  | { kind: "conflict"; files: string[]; base_commit: string }
  /** The base is checked out at `checkout` with uncommitted, untracked (`files`) or ignored (`ignored`) paths the landing would write; nothing was touched. */
  | { kind: "dirty"; checkout: string; files: string[]; ignored: string[] }
  /** The base is checked out (or being rebased) at `checkout` with a git command stopped half way; nothing was touched. */
  | { kind: "busy"; checkout: string; operation: GitOperation };

export interface LandOptions {
  repo: string;
  base: string;
  branch: string;
  message: string;
}

export type MergeTree = { clean: true; tree: string } | { clean: false; files: string[] };

/** The merge of `theirs` into `ours` as a tree, or the conflicted paths; touches no working tree. */
export async function mergeTree(repo: string, ours: string, theirs: string): Promise<MergeTree> {
  const args = ["merge-tree", "--write-tree", "--name-only", "--no-messages", ours, theirs];
  const result = await runGit(args, { cwd: repo });
  const lines = result.stdout.split("\n").filter((line) => line !== "");
  const tree = lines[0];
  // git 2.39 answers an unknown ref with exit 1 and no tree, like a conflict: refs are checked
  // before this is called, and a missing tree line is an error, never a conflict.
  const hasTree = tree !== undefined && /^[0-9a-f]{40,64}$/.test(tree);
  if (result.code === 0 && hasTree) return { clean: true, tree };
  if (result.code === 1 && hasTree) return { clean: false, files: [...new Set(lines.slice(1))] };
  throw gitFailure(args, repo, result);
}

/**
 * The author and committer git would use, or ve's own when the repository has none configured
 * (a fresh container, CI): a landing must not fail for want of a name.
 */
export async function commitIdentity(repo: string): Promise<Record<string, string>> {
  const configured = await runGit(["var", "GIT_COMMITTER_IDENT"], { cwd: repo });
  if (configured.code === 0) return {};
  return {
    GIT_AUTHOR_NAME: "ve",
    GIT_AUTHOR_EMAIL: "ve@localhost",
    GIT_COMMITTER_NAME: "ve",
    GIT_COMMITTER_EMAIL: "ve@localhost",
  };
}

async function requireCommit(ref: string, repo: string, what: string): Promise<string> {
  const commit = await resolveCommit(ref, repo);
  if (commit === undefined) {
    throw new VeError("git_failed", `The ${what} ${ref} does not exist in ${repo}; nothing was landed.`, { ref });
  }
  return commit;
}

/**
 * Which of `files` hold git's start and end conflict markers in the tree of `ref` (a
 * resolution committed as it was left by `git merge`): a merge of that tree is clean to git,
 * and would land the markers.
 */
export async function filesWithConflictMarkers(repo: string, ref: string, files: readonly string[]): Promise<string[]> {
  const marked: string[] = [];
  for (const file of files) {
    const shown = await runGit(["show", `${ref}:${file}`], { cwd: repo });
    if (shown.code === 0 && /^<{7} /m.test(shown.stdout) && /^>{7} /m.test(shown.stdout)) marked.push(file);
  }
  return marked;
}

export async function landBranch(options: LandOptions): Promise<LandResult> {
  const { repo, base, branch, message } = options;
  const baseRef = `refs/heads/${base}`;
  const identity = await commitIdentity(repo);
  for (let attempt = 1; ; attempt++) {
    const baseHead = await requireCommit(baseRef, repo, "base branch");
    const tip = await requireCommit(`refs/heads/${branch}`, repo, "unit branch");
    if (await isAncestor(tip, baseHead, repo)) return { kind: "already_landed", commit: baseHead };

    const merged = await mergeTree(repo, baseHead, tip);
    if (!merged.clean) return { kind: "conflict", files: merged.files, base_commit: baseHead };
    const commit = (
      await git(["commit-tree", merged.tree, "-p", baseHead, "-p", tip, "-F", "-"], {
        cwd: repo,
        input: `${message}\n`,
        env: identity,
      })
    ).trim();

    const published = await publishCommit(repo, base, baseHead, commit, message);
    if (published.kind !== "moved") return published.kind === "landed" ? { ...published, commit } : published;
    if (attempt >= LAND_MAX_ATTEMPTS) {
      throw new VeError(
        "git_failed",
        `The base branch ${base} kept moving while ${branch} was being landed (${attempt} tries); nothing was landed.`,
        { base, branch },
      );
    }
  }
}

export type PublishResult =
  | { kind: "landed"; checkout: string | null }
  | { kind: "moved" }
  | { kind: "dirty"; checkout: string; files: string[]; ignored: string[] }
  | { kind: "busy"; checkout: string; operation: GitOperation };

/**
 * Moves `base` from `from` to `commit` (a merge made on `from`) by compare-and-swap, with its
 * checkout when it has one: "moved" when the base is no longer at `from` (nothing was touched,
 * the caller makes its merge again on the new head). The one way a landing publishes, gated or not.
 */
export async function publishCommit(repo: string, base: string, from: string, commit: string, message: string): Promise<PublishResult> {
  const found = await checkoutOfBranch(repo, base);
  if (found === undefined) {
    const swap = await moveUncheckedBase(repo, base, from, commit, message);
    return swap === "landed" ? { kind: "landed", checkout: null } : { kind: "moved" };
  }
  if (found.operation !== null) return { kind: "busy", checkout: found.worktree.path, operation: found.operation };
  const step = await advanceCheckout(found.worktree.path, base, from, commit, message);
  if (step.kind === "landed") {
    // DONE is only ever written for a merge the base really holds.
    if ((await resolveCommit(`refs/heads/${base}`, repo)) !== commit) throw new VeError("git_failed", `${base} does not hold the merge ${commit} after it was landed; nothing is marked landed.`, { base });
    return { kind: "landed", checkout: step.checkout };
  }
  if (step.kind === "dirty") return { kind: "dirty", checkout: found.worktree.path, files: step.files, ignored: step.ignored };
  return { kind: "moved" };
}

type CheckoutStep = { kind: "landed"; checkout: string | null } | { kind: "dirty"; files: string[]; ignored: string[] } | { kind: "moved" };

/**
 * How long a landing waits for another holder of a checkout's index.lock (a person's git, or
 * another project's daemon landing on the same checkout) before it reports the lock: git holds
 * it for the length of one command.
 */
export const INDEX_LOCK_WAIT_MS = 10_000;
const INDEX_LOCK_POLL_MS = 25;

/** Takes `path` as git takes its locks, waiting up to INDEX_LOCK_WAIT_MS (VE_INDEX_LOCK_WAIT_MS in tests) for a holder to let go. */
async function takeLockWaiting(path: string): Promise<boolean> {
  const deadline = Date.now() + clockMs("INDEX_LOCK_WAIT_MS", INDEX_LOCK_WAIT_MS);
  for (;;) {
    if (takeLock(path)) return true;
    if (Date.now() >= deadline) return false;
    await Bun.sleep(INDEX_LOCK_POLL_MS);
  }
}

/** Git's own lock files: holding `index.lock` keeps every git command but `checkout -b` from writing that checkout. */
function takeLock(path: string): boolean {
  try {
    closeSync(openSync(path, "wx"));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

/** Paths the landing from `from` to `to` writes that the user's work in `checkout` holds. */
async function overlappingWork(checkout: string, env: Record<string, string>, from: string, to: string): Promise<{ files: string[]; ignored: string[] }> {
  const changed = (await git(["diff", "--name-status", "-z", "--no-renames", from, to], { cwd: checkout })).split("\0").filter((x) => x !== "");
  const landing = new Map<string, string>();
  for (let i = 0; i + 1 < changed.length; i += 2) landing.set(changed[i + 1] as string, changed[i] as string);
  const staged = (await git(["diff-index", "--cached", "--name-only", "-z", "--no-renames", from], { cwd: checkout, env })).split("\0");
  const unstaged = (await git(["diff-files", "--name-only", "-z"], { cwd: checkout, env })).split("\0");
  const files = new Set([...staged, ...unstaged].filter((p) => p !== "" && landing.has(p)));
  // A path the landing adds that is on disk but not tracked is an untracked or ignored file
  // (or a file where it adds a directory): read-tree would refuse the first and overwrite the second.
  const inTheWay = new Set<string>();
  for (const [path, status] of landing) {
    if (status !== "A") continue;
    const parts = path.split("/");
    for (let n = 1; n <= parts.length; n++) {
      const prefix = parts.slice(0, n).join("/");
      let stat;
      try {
        stat = lstatSync(join(checkout, prefix));
      } catch {
        break;
      }
      if (n === parts.length || !stat.isDirectory()) {
        const tracked = (await runGit(["cat-file", "-e", `${from}:${prefix}`], { cwd: checkout })).code === 0;
        if (!tracked) inTheWay.add(prefix);
        break;
      }
    }
  }
  const ignored: string[] = [];
  if (inTheWay.size > 0) {
    const checked = await runGit(["check-ignore", "--no-index", "-z", "--stdin"], { cwd: checkout, env, input: [...inTheWay].join("\0") + "\0" });
    for (const path of checked.stdout.split("\0")) if (path !== "") ignored.push(path);
  }
  for (const path of inTheWay) if (!ignored.includes(path)) files.add(path);
  return { files: [...files].sort(), ignored: ignored.sort() };
}

/** The paths git names when a two-tree read-tree refuses to write over them. */
function refusedPaths(stderr: string): string[] {
  const paths = new Set<string>();
  for (const match of stderr.matchAll(/(?:Untracked working tree file|Entry) '([^']+)'/g)) paths.add(match[1] as string);
  return [...paths];
}

/** Moves the index and files of `checkout` from tree `from` to `to` (two-tree read-tree keeps the user's other changes); the caller holds index.lock. */
async function moveFiles(checkout: string, gitDir: string, from: string, to: string): Promise<{ ok: true } | { ok: false; files: string[]; error: VeError }> {
  const index = join(gitDir, "index");
  const scratch = join(gitDir, "ve-landing-index");
  const env = { GIT_INDEX_FILE: scratch };
  if (existsSync(index)) copyFileSync(index, scratch);
  try {
    await runGit(["update-index", "-q", "--refresh"], { cwd: checkout, env });
    const args = ["read-tree", "-m", "-u", from, to];
    const moved = await runGit(args, { cwd: checkout, env });
    if (moved.code !== 0) return { ok: false, files: refusedPaths(moved.stderr), error: gitFailure(args, checkout, moved) };
    renameSync(scratch, index);
    return { ok: true };
  } finally {
    rmSync(scratch, { force: true });
  }
}

/**
 * Lands `commit` on `base` checked out at `checkout`, as `git merge --ff-only` would, but so that
 * no interleaving with a person's git moves the ref without that checkout's index and files or the
 * files without the ref. Under the checkout's index.lock (which every git command that writes it,
 * `checkout` and `commit` among them, takes): HEAD is verified on the base, the user's work is
 * checked against the landing's paths, ignored files included, the files and index move first
 * (a crash then shows the landing as the user's staged change, never a landed unit reverted), then
 * the ref by compare-and-swap; last, HEAD is read again, since `checkout -b` needs no index.lock.
 */
async function advanceCheckout(checkout: string, base: string, from: string, to: string, message: string): Promise<CheckoutStep> {
  const gitDir = gitDirOf(checkout);
  if (gitDir === undefined) throw new VeError("git_failed", `${checkout} has no git directory; nothing was landed.`, { checkout });
  const lock = join(gitDir, "index.lock");
  if (!(await takeLockWaiting(lock))) {
    throw new VeError("git_failed", `${lock} exists: a git command is running in ${checkout} (or one crashed there and left it: once none runs, \`rm '${lock}'\`); nothing was landed.`, { checkout });
  }
  try {
    const head = readFileSync(join(gitDir, "HEAD"), "utf8").trim();
    if (head !== `ref: refs/heads/${base}` || operationIn(gitDir) !== null) return { kind: "moved" };
    if ((await resolveCommit(`refs/heads/${base}`, checkout)) !== from) return { kind: "moved" };
    const scratch = join(gitDir, "ve-landing-index");
    if (existsSync(join(gitDir, "index"))) copyFileSync(join(gitDir, "index"), scratch);
    let overlap: { files: string[]; ignored: string[] };
    try {
      await runGit(["update-index", "-q", "--refresh"], { cwd: checkout, env: { GIT_INDEX_FILE: scratch } });
      overlap = await overlappingWork(checkout, { GIT_INDEX_FILE: scratch }, from, to);
    } finally {
      rmSync(scratch, { force: true });
    }
    if (overlap.files.length > 0 || overlap.ignored.length > 0) return { kind: "dirty", ...overlap };
    const forward = await moveFiles(checkout, gitDir, from, to);
    if (!forward.ok) {
      // An edit made since the check: the same attention as one made before it.
      if (forward.files.length > 0) return { kind: "dirty", files: forward.files, ignored: [] };
      throw forward.error;
    }
    const swap = await runGit(["update-ref", "-m", message, `refs/heads/${base}`, to, from], { cwd: checkout });
    const after = readFileSync(join(gitDir, "HEAD"), "utf8").trim();
    if (swap.code !== 0 || after !== `ref: refs/heads/${base}`) {
      // The ref did not move, or HEAD left the base meanwhile (`checkout -b` at the old commit):
      // the checkout goes back to the commit its HEAD names.
      const headCommit = await resolveCommit("HEAD", checkout);
      if (headCommit === from) {
        const back = await moveFiles(checkout, gitDir, to, from);
        if (!back.ok) throw back.error;
      }
      if (swap.code === 0) return { kind: "landed", checkout: null };
      await throwUnlessMoved(checkout, base, from, to, swap, message);
      return { kind: "moved" };
    }
    return { kind: "landed", checkout };
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * Moves a base no checkout has as HEAD, holding the index.lock of every checkout but ve's own
 * unit worktrees (whose agents must not see a lock fail their `git add`), so that a person's
 * `git checkout <base>` either finished before (then the base is found checked out, and landed
 * there) or waits for the move: never the ref moved under a checkout that just switched to it.
 */
async function moveUncheckedBase(repo: string, base: string, from: string, to: string, message: string): Promise<"landed" | "moved"> {
  const held: string[] = [];
  try {
    for (const worktree of await listWorktrees(repo)) {
      if (worktree.bare || worktree.prunable !== null || worktree.locked?.startsWith("ve: ")) continue;
      const gitDir = gitDirOf(worktree.path);
      if (gitDir === undefined) continue;
      const lock = join(gitDir, "index.lock");
      if (!(await takeLockWaiting(lock))) return "moved";
      held.push(lock);
    }
    if ((await checkoutOfBranch(repo, base)) !== undefined) return "moved";
    const swap = await runGit(["update-ref", "-m", message, `refs/heads/${base}`, to, from], { cwd: repo });
    if (swap.code === 0) return "landed";
    await throwUnlessMoved(repo, base, from, to, swap, message);
    return "moved";
  } finally {
    for (const lock of held) rmSync(lock, { force: true });
  }
}

/**
 * A compare-and-swap that failed while the base still names `from` lost no race: git could not
 * move the ref at all (a stale `refs/heads/<base>.lock` a killed git left). Trying again would
 * only end in "kept moving", so git's own reason is the error.
 */
async function throwUnlessMoved(cwd: string, base: string, from: string, to: string, swap: GitResult, message: string): Promise<void> {
  if ((await resolveCommit(`refs/heads/${base}`, cwd)) !== from) return;
  throw gitFailure(["update-ref", "-m", message, `refs/heads/${base}`, to, from], cwd, swap);
}
