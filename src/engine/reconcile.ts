// What `git worktree list` says against what the units say. Pure: start-up recovery and
// `ve orch worktree list/prune` both ask it, so a worktree is judged the same way everywhere.
import type { Worktree } from "../git/worktrees.ts";
import { unitBranch, unitBranchPrefix, unitWorktreePath } from "./worktrees.ts";

export interface UnitView {
  chunk: string;
  scheduled: boolean;
  /** The unit still has work ahead (not DONE): its worktree and branch must exist once made. */
  inFlight: boolean;
  /** Its first run has made its worktree; a unit still waiting for that run has none to miss. */
  worktreeMade: boolean;
}

export type WorktreeState =
  /** A unit in flight owns it. */
  | "active"
  /** It belongs to a unit in flight but its directory is gone: recreated from the branch at the next run. */
  | "missing"
  /** Under `.ve/worktrees/` or on a `ve/` branch, but no unit in flight owns it: reported, never removed unasked. */
  | "orphaned";

export interface WorktreeRow {
  chunk: string | null;
  path: string;
  branch: string | null;
  state: WorktreeState;
  locked: boolean;
}

function chunkOfPath(stateDir: string, path: string): string | undefined {
  const prefix = `${stateDir}/worktrees/`;
  if (!path.startsWith(prefix)) return undefined;
  const rest = path.slice(prefix.length);
  return rest.includes("/") || rest === "" ? undefined : rest;
}

/** The chunk of a branch in this project's own space; another project's (`ve/@dir/x`) is none. */
function chunkOfBranch(projectPrefix: string, branch: string | null): string | undefined {
  const ref = branch?.startsWith("refs/heads/") ? branch.slice("refs/heads/".length) : undefined;
  const prefix = unitBranchPrefix(projectPrefix);
  const rest = ref?.startsWith(prefix) ? ref.slice(prefix.length) : undefined;
  return rest === undefined || rest === "" || rest.includes("/") || rest.startsWith("@") ? undefined : rest;
}

/**
 * One row per engine worktree git knows (the main checkout, the user's own worktrees on
 * other branches and another project's on the same repository are not the engine's business), plus one per unit in flight whose worktree
 * was made but git does not know at all.
 */
export function reconcileWorktrees(stateDir: string, projectPrefix: string, units: readonly UnitView[], worktrees: readonly Worktree[]): WorktreeRow[] {
  const inFlight = new Map(units.filter((u) => u.scheduled && u.inFlight).map((u) => [u.chunk, u]));
  const rows: WorktreeRow[] = [];
  const seen = new Set<string>();
  for (const worktree of worktrees) {
    if (worktree.bare) continue;
    const byPath = chunkOfPath(stateDir, worktree.path);
    const byBranch = chunkOfBranch(projectPrefix, worktree.branch);
    const chunk = byPath ?? byBranch;
    if (chunk === undefined) continue;
    const owner = inFlight.get(chunk);
    const owned = owner !== undefined && worktree.path === unitWorktreePath(stateDir, chunk) && (worktree.branch === null || worktree.branch === `refs/heads/${unitBranch(projectPrefix, chunk)}`);
    if (owned) seen.add(chunk);
    rows.push({
      chunk,
      path: worktree.path,
      branch: worktree.branch?.replace(/^refs\/heads\//, "") ?? null,
      state: owned ? (worktree.prunable !== null ? "missing" : "active") : "orphaned",
      locked: worktree.locked !== null,
    });
  }
  for (const [chunk, unit] of inFlight) {
    if (!seen.has(chunk) && unit.worktreeMade) {
      rows.push({ chunk, path: unitWorktreePath(stateDir, chunk), branch: unitBranch(projectPrefix, chunk), state: "missing", locked: false });
    }
  }
  return rows;
}
