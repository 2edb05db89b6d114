// The figures the guards decide on (src/engine/guards.ts), read from git: what a phase's staged
// change or a landing's merge deletes of the base, and what a phase adds.
import { git, gitFailure, resolveCommit, runGit } from "./git.ts";

const nulList = (out: string): string[] => out.split("\0").filter((entry) => entry !== "");

/** How many files (blobs, links and gitlinks) the tree of `treeish` holds. */
export async function filesInTree(cwd: string, treeish: string): Promise<number> {
  return nulList(await git(["ls-tree", "-r", "-z", "--name-only", treeish], { cwd })).length;
}

/** `git merge-base a b`, or undefined when they share no history. */
async function mergeBase(cwd: string, a: string, b: string): Promise<string | undefined> {
  const found = await runGit(["merge-base", a, b], { cwd });
  if (found.code === 1) return undefined;
  if (found.code !== 0) throw gitFailure(["merge-base", a, b], cwd, found);
  return found.stdout.trim();
}

export interface DeletionFigures {
  /** Files of the base the change deletes (a file moved with its content is no deletion). */
  deleted: string[];
  /** Files the base holds. */
  baseFiles: number;
  /** The base commit counted against. */
  from: string;
}

/**
 * What the worktree's index (staged, before the phase commit) deletes of the base: the whole
 * branch's deletions, against its merge base with the base, so that a deletion spread over
 * phases is counted once. Undefined when the base is gone or shares no history with the branch.
 */
export async function stagedDeletions(worktree: string, base: string): Promise<DeletionFigures | undefined> {
  const baseHead = await resolveCommit(`refs/heads/${base}`, worktree);
  if (baseHead === undefined) return undefined;
  const from = await mergeBase(worktree, baseHead, "HEAD");
  if (from === undefined) return undefined;
  const deleted = nulList(await git(["diff", "--cached", "-z", "-M", "--diff-filter=D", "--name-only", from], { cwd: worktree }));
  return { deleted, baseFiles: deleted.length === 0 ? 0 : await filesInTree(worktree, from), from };
}

/**
 * What landing `tip` on `baseHead` would delete of the base's files: the merge git would make
 * (`merge-tree --write-tree`, conflicted or not) against the base's head.
 */
export async function landingDeletions(repo: string, baseHead: string, tip: string): Promise<DeletionFigures> {
  const args = ["merge-tree", "--write-tree", "--no-messages", baseHead, tip];
  const merged = await runGit(args, { cwd: repo });
  // Exit 1 is a conflicted merge, whose tree is still written (first line); the landing hands
  // the conflicts to a resolution run, and this guard runs again when it lands.
  if (merged.code !== 0 && merged.code !== 1) throw gitFailure(args, repo, merged);
  const tree = merged.stdout.split("\n")[0]?.trim() ?? "";
  const deleted = nulList(await git(["diff-tree", "-r", "-z", "-M", "--diff-filter=D", "--name-only", baseHead, tree], { cwd: repo }));
  return { deleted, baseFiles: deleted.length === 0 ? 0 : await filesInTree(repo, baseHead), from: baseHead };
}

export interface StagedAdditions {
  /** Paths the index adds against HEAD. */
  added: string[];
  /** Files the index adds or changes against HEAD, with their staged sizes (gitlinks left out). */
  sizes: { path: string; bytes: number }[];
}

/** What the worktree's index adds or changes against HEAD: the phase commit about to be made. */
export async function stagedAdditions(worktree: string): Promise<StagedAdditions> {
  // `:old new oldsha newsha status\0path\0` per entry.
  const raw = nulList(await git(["diff", "--cached", "-z", "--raw", "--no-renames", "--no-abbrev", "--diff-filter=AM", "HEAD"], { cwd: worktree }));
  const entries: { path: string; oid: string; status: string }[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const [, newMode = "", , oid = "", status = ""] = (raw[i] as string).slice(1).split(" ");
    if (newMode !== "160000") entries.push({ path: raw[i + 1] as string, oid, status });
  }
  const added = entries.filter((e) => e.status === "A").map((e) => e.path);
  if (entries.length === 0) return { added, sizes: [] };
  const out = await git(["cat-file", "--batch-check=%(objectsize)"], { cwd: worktree, input: `${entries.map((e) => e.oid).join("\n")}\n` });
  const bytes = out.split("\n");
  return { added, sizes: entries.map((e, i) => ({ path: e.path, bytes: Number.parseInt(bytes[i] ?? "0", 10) || 0 })) };
}
