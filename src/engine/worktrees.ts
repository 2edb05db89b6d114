// A scheduled unit's branch and worktree. The branch `ve/<chunk>` (`ve/@<dir>/<chunk>` for a
// project nested in a subdirectory of its repository) is made at the unit's first
// run from its base branch's head at that moment (so a dependent starts from its blockers'
// landed work); the worktree `.ve/worktrees/<chunk>` keeps the same path for the unit's whole
// life (agent sessions are tied to their directory) and is locked while the unit is in flight,
// so `git worktree prune` never takes it from under an agent.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { VeError } from "../errors.ts";
import { git, gitFailure, resolveCommit, runGit } from "../git/git.ts";
import { stagedAdditions, stagedDeletions } from "../git/guards.ts";
import {
  addWorktree,
  branchExists,
  filesNotInTree,
  listWorktrees,
  lockWorktree,
  removeWorktree,
  unlockWorktree,
  worktreeCompleteness,
} from "../git/worktrees.ts";
import { commitVerdict, type GuardLimits, GuardRefused } from "./guards.ts";

export const UNIT_BRANCH_PREFIX = "ve/";

/**
 * ve's own paths as git pathspecs: a `.ve` (the state directory, with the database and the
 * worktrees) at any depth, since a project nested in the repository has its `.ve/` below the
 * root, and the landing's fast-forward writes over the ignored one in the user's checkout.
 */
export const VE_OWN_PATHSPECS: readonly string[] = ["**/.ve", "**/.ve/**"].map((glob) => `:(glob)${glob}`);
const VE_OWN_EXCLUDED: readonly string[] = ["**/.ve", "**/.ve/**"].map((glob) => `:(exclude,glob)${glob}`);
/** Committed at the repository root: gitignored files (gitignore syntax) each new worktree gets a copy of. */
export const WORKTREE_INCLUDE_FILE = ".worktreeinclude";

/**
 * The project's directory as a branch name component: git's path of it below the repository's
 * top level (`git rev-parse --show-prefix`), `/` written as `+` and every byte outside
 * `[A-Za-z0-9_-]` (`+`, `%` and `.` among them) as `%XX`, so it is a valid ref component that
 * decodes back to one path. Empty for a project at the top level.
 */
export function encodeProjectPrefix(projectPrefix: string): string {
  return projectPrefix
    .split("/")
    .filter((part) => part !== "")
    .map((part) =>
      Array.from(new TextEncoder().encode(part), (byte) => {
        const c = String.fromCharCode(byte);
        return /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
      }).join(""),
    )
    .join("+");
}

/**
 * Where the project's unit branches live: `ve/` for a project at the repository's top level,
 * `ve/@<encoded directory>/` for one nested below it, so two projects on one repository never
 * share a branch. A chunk name starts with a letter or digit, never `@`, and the depth is
 * fixed, so neither space holds a ref the other's names would clash with (`ve/x` vs `ve/x/y`).
 */
export function unitBranchPrefix(projectPrefix: string): string {
  const encoded = encodeProjectPrefix(projectPrefix);
  return encoded === "" ? UNIT_BRANCH_PREFIX : `${UNIT_BRANCH_PREFIX}@${encoded}/`;
}

/** `projectPrefix`: the project's path below the repository's top level (see projectPrefixOf). */
export function unitBranch(projectPrefix: string, chunk: string): string {
  return `${unitBranchPrefix(projectPrefix)}${chunk}`;
}

const projectPrefixes = new Map<string, Promise<string>>();

/**
 * The project's directory below its repository's top level (`sub/dir/`, or "" at the top),
 * asked of git once per project directory (a failure is asked again): a daemon's project
 * does not move inside its repository while it runs.
 */
export function projectPrefixOf(root: string): Promise<string> {
  let found = projectPrefixes.get(root);
  if (found === undefined) {
    found = git(["rev-parse", "--show-prefix"], { cwd: root })
      .then((out) => out.replace(/\n$/, ""))
      .catch((error) => {
        projectPrefixes.delete(root);
        throw error;
      });
    projectPrefixes.set(root, found);
  }
  return found;
}

export function unitWorktreePath(stateDir: string, chunk: string): string {
  return `${stateDir}/worktrees/${chunk}`;
}

export interface UnitWorktree {
  path: string;
  branch: string;
  /** The base commit the branch was made from, when this call made it. */
  createdFrom: string | null;
  /** Files copied in from `.worktreeinclude`, when this call made the worktree. */
  included: string[];
  /** Files `.worktreeinclude` names that git does not ignore, so they were not copied. */
  notIncluded: string[];
  /** Why the worktree found at the path was removed and made again (it was never complete), or null. */
  remade: string | null;
}

function lockReason(chunk: string): string {
  return `ve: unit ${chunk} is in flight; \`ve orch worktree list\` shows it`;
}

/**
 * Makes sure the unit has its branch and its worktree, locked: creates what is missing (the
 * branch from the base's head, the worktree from the branch), keeps what is there. A worktree
 * deleted by hand is recreated from the branch, so no committed work is lost.
 */
export async function ensureUnitWorktree(repo: string, stateDir: string, projectPrefix: string, chunk: string, base: string): Promise<UnitWorktree> {
  const branch = unitBranch(projectPrefix, chunk);
  const path = unitWorktreePath(stateDir, chunk);
  let createdFrom: string | null = null;
  // The common case, every phase after the first: the worktree is there, and was locked when it
  // was made (a lock outlives the daemon). No git runs for it: dispatch latency is mostly git.
  const completeness = worktreeCompleteness(path);
  if (completeness.state === "complete") return { path, branch, createdFrom, included: [], notIncluded: [], remade: null };
  let remade: string | null = null;
  if (completeness.state === "incomplete") {
    await discardIncompleteWorktree(repo, path, branch, chunk, completeness.why);
    remade = completeness.why;
  }
  const registered = (await listWorktrees(repo)).find((w) => w.path === path);
  if (registered && !existsSync(path)) {
    // Deleted by hand: drop git's stale record (a lock would keep it) before adding it again.
    await unlockWorktree(repo, path);
    await git(["worktree", "prune"], { cwd: repo });
  }
  let included: string[] = [];
  let notIncluded: string[] = [];
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    if (await branchExists(repo, branch)) {
      await addWorktree(repo, path, branch);
    } else {
      const head = await resolveCommit(`refs/heads/${base}`, repo);
      if (head === undefined) throw new Error(`the base branch ${base} does not exist`);
      await addWorktree(repo, path, branch, head);
      createdFrom = head;
    }
    ({ copied: included, notIgnored: notIncluded } = await copyIncludedFiles(repo, path));
  }
  await lockWorktree(repo, path, lockReason(chunk));
  return { path, branch, createdFrom, included, notIncluded, remade };
}

/**
 * Removes a worktree that was never complete (a `git worktree add` killed before its checkout
 * ended, or one made with `--no-checkout`), so it is made again from the branch: an agent run in
 * it would commit the deletion of every file. Only when it holds nothing but the branch's own
 * files (a partial checkout); anything else may be someone's work, and a person decides.
 */
async function discardIncompleteWorktree(repo: string, path: string, branch: string, chunk: string, why: string): Promise<void> {
  const foreign = await filesNotInTree(repo, path, `refs/heads/${branch}`);
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 10).join(", ") + (foreign.length > 10 ? `, ... (${foreign.length} files)` : "");
    throw new VeError(
      "git_failed",
      `${path} is no complete worktree of ${branch} (${why}), and it holds files that are not ${branch}'s: ${shown}; no agent was run there. Move the directory aside (\`mv '${path}' '${path}.aside'\`): the next run makes the worktree again from ${branch}.`,
      { worktree: path, branch, chunk, files: foreign },
    );
  }
  if ((await listWorktrees(repo)).some((w) => w.path === path)) {
    // A killed `git worktree add` leaves its own "initializing" lock, which would keep the record.
    await runGit(["worktree", "unlock", path], { cwd: repo });
    await runGit(["worktree", "remove", "--force", "--force", path], { cwd: repo });
  }
  rmSync(path, { recursive: true, force: true });
  await git(["worktree", "prune"], { cwd: repo });
}

/**
 * Copies the untracked files of the main checkout that `.worktreeinclude` names (gitignore
 * syntax: `.env`, `config/local.*`) into a new worktree, keeping their modes. Git lists them
 * itself (`ls-files --others --ignored --exclude-from`), so the patterns mean exactly what they
 * mean in a .gitignore.
 */
export async function copyIncludedFiles(repo: string, worktree: string): Promise<{ copied: string[]; notIgnored: string[] }> {
  const list = `${repo}/${WORKTREE_INCLUDE_FILE}`;
  if (!existsSync(list)) return { copied: [], notIgnored: [] };
  const out = await git(["ls-files", "-z", "--others", "--ignored", `--exclude-from=${list}`], { cwd: repo });
  const files = out.split("\0").filter((file) => file !== "" && !file.startsWith(".ve/"));
  if (files.length === 0) return { copied: [], notIgnored: [] };
  // Only what the repository itself ignores: a file it does not ignore would be committed in
  // the worktree with the agent's work and land on the base (a secret kept out of git so far).
  const checked = await runGit(["check-ignore", "-z", "--stdin"], { cwd: repo, input: `${files.join("\0")}\0` });
  const ignored = new Set(checked.stdout.split("\0").filter((file) => file !== ""));
  const copied = files.filter((file) => ignored.has(file));
  for (const file of copied) {
    const target = `${worktree}/${file}`;
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(`${repo}/${file}`, target);
  }
  return { copied, notIgnored: files.filter((file) => !ignored.has(file)) };
}

/** Whether a file still holds git's start and end conflict markers (a deleted file holds none). */
function hasConflictMarkers(path: string): boolean {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return false;
  }
  return /^<{7} /m.test(text) && /^>{7} /m.test(text);
}

/**
 * Commits whatever the agent left in the worktree on the unit's `branch`; returns the new
 * commit, or null when there was nothing. A worktree the agent switched to another branch or a
 * detached HEAD is refused, nothing committed: the landing takes the unit's branch, so work
 * committed anywhere else would be lost with the worktree once the unit lands. With `guard`, a
 * change that crosses its limits is refused with GuardRefused, nothing committed, the work left
 * staged in the worktree.
 */
export async function commitWorktree(
  worktree: string,
  branch: string,
  message: string,
  identity: Record<string, string>,
  guard?: { base: string; limits: GuardLimits },
): Promise<string | null> {
  // Without its .git file, git in the worktree finds the main repository around it, and a
  // commit there would take the user's staged changes onto the user's branch.
  if (!existsSync(`${worktree}/.git`)) {
    throw new VeError(
      "git_failed",
      `${worktree} is no git worktree any more (its .git file is gone); nothing was committed. Move the directory aside (it holds the agent's files): the next run makes the worktree again from ${branch}.`,
      { worktree, branch },
    );
  }
  const head = await runGit(["symbolic-ref", "--quiet", "HEAD"], { cwd: worktree });
  const on = head.code === 0 ? head.stdout.trim() : null;
  if (on !== `refs/heads/${branch}`) {
    const where = on === null ? "a detached HEAD" : `the branch ${on.replace(/^refs\/heads\//, "")}`;
    throw new VeError(
      "git_failed",
      `the agent left ${worktree} on ${where} instead of ${branch}; nothing was committed and its work is still there. Bring it to ${branch} (\`git -C '${worktree}' switch ${branch}\`, then merge or cherry-pick what was committed elsewhere).`,
      { worktree, branch, head: on },
    );
  }
  // A merge the agent began and left unresolved: `add -A` would stage the conflict markers
  // as content, and the unit would land them on the base.
  const unmerged = (await git(["diff", "--name-only", "-z", "--diff-filter=U"], { cwd: worktree })).split("\0").filter((f) => f !== "");
  const marked = unmerged.filter((file) => hasConflictMarkers(`${worktree}/${file}`));
  if (marked.length > 0) {
    const shown = marked.slice(0, 10).join(", ") + (marked.length > 10 ? ", ..." : "");
    throw new VeError(
      "git_failed",
      `the merge in ${worktree} is not resolved: ${shown} still hold conflict markers (<<<<<<< ... >>>>>>>); nothing was committed. Resolve them there (or \`git merge --abort\`).`,
      { worktree, files: marked },
    );
  }
  // A directory with a `.git` of its own would be committed as a bare gitlink: its files would
  // not land, and would be lost with the worktree. git lists it as untracked `dir/`, not its files.
  const untracked = (await git(["ls-files", "-z", "--others", "--exclude-standard"], { cwd: worktree })).split("\0");
  const nested = untracked.filter((entry) => entry.endsWith("/"));
  if (nested.length > 0) {
    const shown = nested.slice(0, 10).join(", ") + (nested.length > 10 ? ", ..." : "");
    throw new VeError(
      "git_failed",
      `the agent left git repositories of their own in ${worktree}: ${shown}; committed, each would land as a bare gitlink and its files would be lost. Nothing was committed and they are kept there. To land their files as the project's, remove their .git (\`rm -rf '${worktree}/${nested[0]}.git'\`); or move them out of the worktree.`,
      { worktree, repositories: nested },
    );
  }
  // ve's own paths stay out, whatever the agent wrote there (an `.ve/orchestrator.db` landed
  // over the live one in the checkout and took every unit's state with it).
  await git(["add", "-A", "--", ":/", ...VE_OWN_EXCLUDED], { cwd: worktree });
  const staged = await runGit(["diff", "--cached", "--quiet"], { cwd: worktree });
  if (staged.code === 0) return null;
  if (guard) {
    const [deletions, additions] = await Promise.all([stagedDeletions(worktree, guard.base), stagedAdditions(worktree)]);
    const refusal = commitVerdict({ deletions, ...additions }, guard.base, guard.limits);
    if (refusal) throw new GuardRefused(refusal, refusal.code === "too_many_deletions" ? deletions?.from : undefined);
  }
  // No hooks: the agent's work is recorded as it is; the project's checks belong to its phases.
  await git(["commit", "--no-verify", "--no-gpg-sign", "-q", "-F", "-"], { cwd: worktree, input: `${message}\n`, env: identity });
  return (await git(["rev-parse", "HEAD"], { cwd: worktree })).trim();
}

/**
 * The paths of ve's own (`.ve/` at any depth) that `branch` adds, changes or deletes against
 * its merge base with `base`: what its landing would write over in the checkout's live state.
 * Empty for a branch the engine committed alone; an agent can still commit them with git.
 */
export async function veOwnPathsOnBranch(repo: string, base: string, branch: string): Promise<string[]> {
  const [baseHead, tip] = await Promise.all([resolveCommit(`refs/heads/${base}`, repo), resolveCommit(`refs/heads/${branch}`, repo)]);
  // A missing ref is the landing's to report, in its own words.
  if (baseHead === undefined || tip === undefined) return [];
  const found = await runGit(["merge-base", baseHead, tip], { cwd: repo });
  if (found.code !== 0 && found.code !== 1) throw gitFailure(["merge-base", baseHead, tip], repo, found);
  // No common history (exit 1): everything on the branch would be new to the base.
  const from = found.code === 0 ? found.stdout.trim() : (await git(["hash-object", "-t", "tree", "/dev/null"], { cwd: repo })).trim();
  const out = await git(["diff-tree", "-r", "-z", "--no-renames", "--name-only", from, tip, "--", ...VE_OWN_PATHSPECS], { cwd: repo });
  return out.split("\0").filter((path) => path !== "");
}

/** After landing: unlock and remove the worktree (the branch is deleted separately, only if merged). */
export async function removeUnitWorktree(repo: string, path: string): Promise<void> {
  if ((await listWorktrees(repo)).some((w) => w.path === path)) {
    await unlockWorktree(repo, path);
    await removeWorktree(repo, path);
  }
}

/** Disk use of a directory in bytes (the files' allocated blocks), for `ve orch worktree list`. */
export async function diskUsageBytes(path: string): Promise<number> {
  const { readdirSync, lstatSync } = await import("node:fs");
  let total = 0;
  const stack = [path];
  while (stack.length > 0) {
    const dir = stack.pop() as string;
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const full = `${dir}/${entry.name}`;
      try {
        const info = lstatSync(full);
        total += info.blocks * 512;
        if (entry.isDirectory()) stack.push(full);
      } catch {}
    }
  }
  try {
    total += statSync(path).blocks * 512;
  } catch {}
  return total;
}
