// The gate's candidate: the exact merge commit a landing would publish (merge-tree of the unit's
// branch into the base head, then commit-tree with the final message and parents), and a scratch
// worktree where it is checked out detached for `verify`. The scratch worktree is no agent's and
// not the user's checkout; it is locked with a `ve: ` reason, so a landing that moves an unchecked
// base leaves its index alone, as it does the agents' worktrees.
import { existsSync, rmSync } from "node:fs";
import { VeError } from "../errors.ts";
import { git, isAncestor, resolveCommit, runGit } from "./git.ts";
import { commitIdentity, mergeTree } from "./land.ts";
import { listWorktrees } from "./worktrees.ts";

export type Candidate =
  /** The branch's tip is already in the base: nothing to gate (a landing finished before a crash). */
  | { kind: "already_landed"; commit: string }
  | { kind: "conflict"; files: string[]; base_commit: string }
  | { kind: "candidate"; commit: string; base_commit: string; tip: string };

/** The lock reason of a scratch worktree; `ve: ` marks it as ve's own to the landing. */
export const SCRATCH_LOCK_PREFIX = "ve: gate ";

async function requireCommit(ref: string, repo: string, what: string): Promise<string> {
  const commit = await resolveCommit(ref, repo);
  if (commit === undefined) throw new VeError("git_failed", `The ${what} ${ref} does not exist in ${repo}; nothing was landed.`, { ref });
  return commit;
}

/** The merge commit of `branch` onto the current head of `base` that would land, written but published nowhere. */
export async function buildCandidate(repo: string, base: string, branch: string, message: string): Promise<Candidate> {
  const baseHead = await requireCommit(`refs/heads/${base}`, repo, "base branch");
  const tip = await requireCommit(`refs/heads/${branch}`, repo, "unit branch");
  if (await isAncestor(tip, baseHead, repo)) return { kind: "already_landed", commit: baseHead };
  const merged = await mergeTree(repo, baseHead, tip);
  if (!merged.clean) return { kind: "conflict", files: merged.files, base_commit: baseHead };
  const commit = (await git(["commit-tree", merged.tree, "-p", baseHead, "-p", tip, "-F", "-"], { cwd: repo, input: `${message}\n`, env: await commitIdentity(repo) })).trim();
  return { kind: "candidate", commit, base_commit: baseHead, tip };
}

/** Checks `commit` out detached at `path`, a new worktree locked as the gate `gateId`'s. */
export async function addScratchWorktree(repo: string, path: string, commit: string, gateId: string): Promise<void> {
  // Locked in a second step: `worktree add --reason` needs git 2.36.
  await git(["worktree", "add", "--detach", path, commit], { cwd: repo });
  await git(["worktree", "lock", "--reason", `${SCRATCH_LOCK_PREFIX}${gateId}`, path], { cwd: repo });
}

/** Removes a scratch worktree whatever state it is in (a crash may have left it half made). */
export async function removeScratchWorktree(repo: string, path: string): Promise<void> {
  if ((await listWorktrees(repo)).some((w) => w.path === path)) {
    await runGit(["worktree", "unlock", path], { cwd: repo });
    await runGit(["worktree", "remove", "--force", "--force", path], { cwd: repo });
  }
  if (existsSync(path)) rmSync(path, { recursive: true, force: true });
  // A record whose directory was gone before `remove` (a crash half way): only prune forgets it.
  if ((await listWorktrees(repo)).some((w) => w.path === path)) await runGit(["worktree", "prune"], { cwd: repo });
}

/** Every scratch worktree git knows of (locked by a gate), for the clean-up at start. */
export async function scratchWorktrees(repo: string): Promise<string[]> {
  return (await listWorktrees(repo)).filter((w) => w.locked?.startsWith(SCRATCH_LOCK_PREFIX)).map((w) => w.path);
}
