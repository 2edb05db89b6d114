// The vocabulary and rules of a work unit as plain data. The schemas (models.ts), the store
// and the CLI all derive from this module; it imports nothing, so the CLI can use it without
// paying for schema construction at start-up.

export const PHASES = ["GOAL", "PLAN", "IMPLEMENT", "COMPLETE"] as const;
export type Phase = (typeof PHASES)[number];

export const STATUSES = ["READY", "RUNNING", "BLOCKED", "NEEDS_ATTENTION", "DONE"] as const;
export type Status = (typeof STATUSES)[number];

/** Status changes allowed without `force` (a same-status update is a no-op, not a transition). */
export const STATUS_TRANSITIONS: Readonly<Record<Status, readonly Status[]>> = {
  READY: ["RUNNING", "BLOCKED", "NEEDS_ATTENTION", "DONE"],
  RUNNING: ["READY", "BLOCKED", "NEEDS_ATTENTION", "DONE"],
  BLOCKED: ["READY", "NEEDS_ATTENTION", "DONE"],
  NEEDS_ATTENTION: ["READY", "BLOCKED", "DONE"],
  DONE: ["READY"],
};

/** Statuses a unit may not hold while any of its blockers is unfinished. */
export const STATUSES_NEEDING_FREE_PATH: readonly Status[] = ["READY", "RUNNING"];

export function isStatusTransitionAllowed(from: Status, to: Status): boolean {
  return STATUS_TRANSITIONS[from].includes(to);
}

/** Phases move forward any distance; backward only with `force`. */
export function isPhaseForward(from: Phase, to: Phase): boolean {
  return PHASES.indexOf(to) > PHASES.indexOf(from);
}

export const CHUNK_NAME_MAX_LENGTH = 100;
// A chunk becomes a directory and a git branch name, so the rule is the intersection of both:
// a safe character set, no `..`, and none of the endings git refuses (`.`, `.lock`).
export const CHUNK_NAME_PATTERN = "^(?!.*\\.\\.)(?!.*\\.lock$)[A-Za-z0-9][A-Za-z0-9._-]{0,99}(?<!\\.)$";
let chunkNameRegex: RegExp | undefined;
export const CHUNK_NAME_RULE =
  "1-100 characters of letters, digits, '.', '_' or '-', starting with a letter or digit, " +
  "without '..' and not ending in '.' or '.lock'";

export function isValidChunkName(name: unknown): name is string {
  // Compiled on first use: most CLI runs never check a name, and compiling costs at start-up.
  chunkNameRegex ??= new RegExp(CHUNK_NAME_PATTERN);
  return typeof name === "string" && chunkNameRegex.test(name);
}

export const WORKTREE_MAX_LENGTH = 4096;
