// The repository's worktrees as git reports them, and the few changes the engine makes to them.
// `git worktree list --porcelain` is the truth: the engine reconciles its units with it and
// never assumes a directory it made is still there.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { git, gitFailure, isAncestor, resolveCommit, runGit } from "./git.ts";

export interface Worktree {
  path: string;
  /** The commit checked out; null in a bare repository. */
  head: string | null;
  /** `refs/heads/<name>` checked out there, or null when detached (or bare). */
  branch: string | null;
  bare: boolean;
  detached: boolean;
  /** The lock reason ("" when locked without one), or null when not locked. */
  locked: string | null;
  /** Why git considers it prunable (its directory is gone), or null. */
  prunable: string | null;
}

/** Parses `git worktree list --porcelain` (one stanza per worktree, blank-line separated). */
export function parseWorktreeList(text: string): Worktree[] {
  const worktrees: Worktree[] = [];
  let current: Worktree | undefined;
  for (const line of text.split("\n")) {
    if (line === "") {
      if (current) worktrees.push(current);
      current = undefined;
      continue;
    }
    const space = line.indexOf(" ");
    const key = space === -1 ? line : line.slice(0, space);
    const value = space === -1 ? "" : line.slice(space + 1);
    if (key === "worktree") {
      if (current) worktrees.push(current);
      current = { path: value, head: null, branch: null, bare: false, detached: false, locked: null, prunable: null };
      continue;
    }
    if (!current) continue;
    if (key === "HEAD") current.head = value;
    else if (key === "branch") current.branch = value;
    else if (key === "bare") current.bare = true;
    else if (key === "detached") current.detached = true;
    else if (key === "locked") current.locked = value;
    else if (key === "prunable") current.prunable = value;
  }
  if (current) worktrees.push(current);
  return worktrees;
}

export async function listWorktrees(repo: string): Promise<Worktree[]> {
  const worktrees = parseWorktreeList(await git(["worktree", "list", "--porcelain"], { cwd: repo }));
  // git never calls a locked worktree prunable, even when its directory is gone (a lock is
  // how a removable disk says "keep my record"); the engine locks every worktree it owns, so
  // one deleted by hand would look present.
  for (const worktree of worktrees) {
    if (worktree.prunable === null && !worktree.bare && !existsSync(worktree.path)) {
      worktree.prunable = "its directory does not exist";
    }
  }
  return worktrees;
}

/** A git command stopped half way in a checkout; its branch must not move under it. */
export type GitOperation = "rebase" | "merge" | "cherry-pick" | "revert";

/** The git directory of a worktree: its `.git` directory, or where its `.git` file points. */
export function gitDirOf(worktree: string): string | undefined {
  const dotGit = join(worktree, ".git");
  try {
    if (statSync(dotGit).isDirectory()) return dotGit;
    const line = readFileSync(dotGit, "utf8").split("\n")[0] ?? "";
    return line.startsWith("gitdir: ") ? resolve(worktree, line.slice("gitdir: ".length).trim()) : undefined;
  } catch {
    return undefined;
  }
}

/** The branch a rebase stopped in this git directory writes when it ends (`refs/heads/...`). */
function rebasedBranch(gitDir: string): string | undefined {
  for (const dir of ["rebase-merge", "rebase-apply"]) {
    try {
      return readFileSync(join(gitDir, dir, "head-name"), "utf8").trim();
    } catch {}
  }
  return undefined;
}

export function operationIn(gitDir: string): GitOperation | null {
  if (existsSync(join(gitDir, "rebase-merge")) || existsSync(join(gitDir, "rebase-apply"))) return "rebase";
  if (existsSync(join(gitDir, "MERGE_HEAD"))) return "merge";
  if (existsSync(join(gitDir, "CHERRY_PICK_HEAD"))) return "cherry-pick";
  if (existsSync(join(gitDir, "REVERT_HEAD"))) return "revert";
  return null;
}

/**
 * The worktree where `refs/heads/<branch>` is checked out, or is being rebased (git detaches
 * HEAD for a rebase and writes the branch when it ends, so moving the branch meanwhile would
 * make the user's `git rebase --continue` fail), and what git command is stopped half way there.
 */
export async function checkoutOfBranch(repo: string, branch: string): Promise<{ worktree: Worktree; operation: GitOperation | null } | undefined> {
  const ref = `refs/heads/${branch}`;
  for (const worktree of await listWorktrees(repo)) {
    if (worktree.bare) continue;
    const gitDir = gitDirOf(worktree.path);
    if (worktree.branch === ref) return { worktree, operation: gitDir === undefined ? null : operationIn(gitDir) };
    if (worktree.branch === null && gitDir !== undefined && rebasedBranch(gitDir) === ref) return { worktree, operation: "rebase" };
  }
  return undefined;
}

/**
 * Changes in a checkout that a merge there could overwrite or mix with: staged, unstaged and
 * untracked files (ignored ones are the user's own business and never touched by a merge of
 * tracked files unless they collide, which git itself refuses). Empty when clean.
 */
export async function uncommittedChanges(worktree: string): Promise<string[]> {
  const out = await git(["status", "--porcelain=v1", "-z", "--untracked-files=normal"], { cwd: worktree });
  return out
    .split("\0")
    .filter((entry) => entry !== "")
    .map((entry) => entry.slice(3));
}

export async function branchExists(repo: string, branch: string): Promise<boolean> {
  const result = await runGit(["show-ref", "--verify", "--quiet", `refs/heads/${branch}`], { cwd: repo });
  return result.code === 0;
}

/** Adds a worktree at `path` on `branch`, creating the branch at `startPoint` when given. */
export async function addWorktree(repo: string, path: string, branch: string, startPoint?: string): Promise<void> {
  const args = startPoint === undefined ? ["worktree", "add", path, branch] : ["worktree", "add", "-b", branch, path, startPoint];
  await git(args, { cwd: repo });
}

export async function lockWorktree(repo: string, path: string, reason: string): Promise<void> {
  const result = await runGit(["worktree", "lock", "--reason", reason, path], { cwd: repo });
  // Locking an already locked worktree is what we wanted.
  if (result.code !== 0 && !/already locked/.test(result.stderr)) {
    throw gitFailure(["worktree", "lock", path], repo, result);
  }
}

export async function unlockWorktree(repo: string, path: string): Promise<void> {
  const result = await runGit(["worktree", "unlock", path], { cwd: repo });
  if (result.code !== 0 && !/is not locked/.test(result.stderr)) {
    throw gitFailure(["worktree", "unlock", path], repo, result);
  }
}

/**
 * Removes a worktree the engine owns. `--force` once: the engine has committed everything the
 * agent left, so what remains is build output and ignored files.
 */
export async function removeWorktree(repo: string, path: string): Promise<void> {
  await git(["worktree", "remove", "--force", path], { cwd: repo });
}

/**
 * Deletes `branch` only when its tip is contained in `base`, as `git branch -d` would, and only
 * if it still points where we checked (compare-and-swap). `git branch -d` itself compares with
 * whatever HEAD the main checkout has, which is the user's business and often not the base.
 * Returns false (and deletes nothing) when the branch holds commits the base lacks.
 */
export async function deleteMergedBranch(repo: string, branch: string, base: string): Promise<boolean> {
  const tip = await resolveCommit(`refs/heads/${branch}`, repo);
  if (tip === undefined) return true;
  if (!(await isAncestor(tip, `refs/heads/${base}`, repo))) return false;
  await git(["update-ref", "-d", `refs/heads/${branch}`, tip], { cwd: repo });
  return true;
}

/**
 * Whether the linked worktree at `path` is known complete, read from the files alone (it runs on
 * every dispatch). `git worktree add` writes the `.git` file first and the index last, after the
 * checkout: a kill in between, or `git worktree add --no-checkout`, leaves a worktree with no
 * index, whose first `git add -A` would record the deletion of every file.
 */
export function worktreeCompleteness(path: string): { state: "absent" } | { state: "complete" } | { state: "incomplete"; why: string } {
  if (!existsSync(path)) return { state: "absent" };
  const dotGit = join(path, ".git");
  let isFile = false;
  try {
    isFile = statSync(dotGit).isFile();
  } catch {
    return { state: "incomplete", why: "it has no .git file" };
  }
  if (!isFile) return { state: "incomplete", why: "its .git is a repository of its own, not a worktree's link" };
  const gitDir = gitDirOf(path);
  if (gitDir === undefined || !existsSync(gitDir)) return { state: "incomplete", why: "its .git file points nowhere" };
  if (!existsSync(join(gitDir, "index"))) return { state: "incomplete", why: "git has no index for it (its checkout never finished)" };
  return { state: "complete" };
}

/**
 * Files under `dir` (not its `.git`) that are not exactly as in `ref`'s tree: what removing an
 * incomplete worktree could lose. A partial checkout holds only the branch's own files.
 */
export async function filesNotInTree(repo: string, dir: string, ref: string): Promise<string[]> {
  const { readdirSync } = await import("node:fs");
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const name = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (name === ".git") continue;
      if (entry.isDirectory()) walk(name);
      else files.push(name);
    }
  };
  walk("");
  if (files.length === 0) return [];
  const listed = await runGit(["ls-tree", "-r", "-z", ref], { cwd: repo });
  const blobs = new Map<string, string>();
  if (listed.code === 0) {
    for (const entry of listed.stdout.split("\0")) {
      const tab = entry.indexOf("\t");
      if (tab === -1) continue;
      blobs.set(entry.slice(tab + 1), entry.slice(0, tab).split(" ")[2] ?? "");
    }
  }
  const hashed = await git(["hash-object", "--no-filters", "--stdin-paths"], { cwd: repo, input: `${files.map((f) => join(dir, f)).join("\n")}\n` });
  const hashes = hashed.split("\n");
  return files.filter((file, i) => blobs.get(file) !== hashes[i]);
}
