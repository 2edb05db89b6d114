// Landing a unit's branch on its base as one merge commit, without touching any working tree
// but a clean checkout of the base itself. The merge is computed with `git merge-tree
// --write-tree` (no index, no working tree), written with `commit-tree`, and published with a
// compare-and-swap of the base ref, so a base that moves meanwhile is merged again, never
// overwritten. When the base is checked out somewhere (usually the user's own checkout),
// moving its ref alone would leave that index stale, so the checkout is fast-forwarded to the
// merge commit there, and only when it is clean.
import { VeError } from "../errors.ts";
import { git, gitFailure, isAncestor, resolveCommit, runGit } from "./git.ts";
import { type GitOperation, checkoutOfBranch, uncommittedChanges } from "./worktrees.ts";

/** A base that keeps moving under us is retried this often before giving up for now. */
export const LAND_MAX_ATTEMPTS = 5;

export type LandResult =
  /** A new merge commit is on the base; `checkout` is the worktree updated with it, if any. */
  | { kind: "landed"; commit: string; checkout: string | null }
  /** The branch's tip was already in the base (a landing finished before a crash, or nothing to add). */
  | { kind: "already_landed"; commit: string }
  /** The branch and the base change the same lines. */
  | { kind: "conflict"; files: string[]; base_commit: string }
  /** The base is checked out at `checkout` with uncommitted changes; nothing was touched. */
  | { kind: "dirty"; checkout: string; files: string[] }
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

    const found = await checkoutOfBranch(repo, base);
    if (found === undefined) {
      const swap = await runGit(["update-ref", "-m", message, baseRef, commit, baseHead], { cwd: repo });
      if (swap.code === 0) return { kind: "landed", commit, checkout: null };
    } else if (found.operation !== null) {
      return { kind: "busy", checkout: found.worktree.path, operation: found.operation };
    } else {
      const checkout = found.worktree;
      const changes = await uncommittedChanges(checkout.path);
      if (changes.length > 0) return { kind: "dirty", checkout: checkout.path, files: changes };
      // --ff-only: the checkout moves to exactly our merge commit, or not at all when its
      // branch moved since we read it (then the loop merges again).
      const merge = ["merge", "--ff-only", "--no-edit", commit];
      const forward = await runGit(merge, { cwd: checkout.path });
      if (forward.code === 0) return { kind: "landed", commit, checkout: checkout.path };
      // Only a base that moved since it was read is merged again; a base still where it was
      // means git refused to update that checkout (an index.lock of a git command running
      // there, a file it cannot write), which no retry here fixes.
      if ((await resolveCommit(baseRef, repo)) === baseHead) throw gitFailure(merge, checkout.path, forward);
    }
    if (attempt >= LAND_MAX_ATTEMPTS) {
      throw new VeError(
        "git_failed",
        `The base branch ${base} kept moving while ${branch} was being landed (${attempt} tries); nothing was landed.`,
        { base, branch },
      );
    }
  }
}
