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

// --- chunk names: which rule a name breaks ------------------------------------------------

/** The characters a chunk name may hold besides letters and digits. */
const CHUNK_NAME_PUNCTUATION = "._-";

function isAlphanumeric(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** How a character is named in a message: printable ones quoted, the others by code point. */
function describeCharacter(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  if (char === " ") return "a space";
  if (char === "/") return "'/'";
  return code < 32 || code === 127 || (code >= 0x80 && code < 0xa0) ? `the control character ${hex}` : `'${char}' (${hex})`;
}

/**
 * The rule `name` breaks, as the end of a sentence ("is longer than ..."), or undefined for a
 * valid name. Checked in the order a person fixes a name in.
 */
export function chunkNameProblem(name: string): string | undefined {
  if (name.length === 0) return "is empty; give 1-100 characters";
  if (name.length > CHUNK_NAME_MAX_LENGTH) {
    return `is ${name.length} characters long; the limit is ${CHUNK_NAME_MAX_LENGTH}`;
  }
  for (const char of name) {
    const code = char.codePointAt(0) ?? 0;
    if (!isAlphanumeric(code) && !CHUNK_NAME_PUNCTUATION.includes(char)) {
      return `contains ${describeCharacter(char)}; only letters, digits, '.', '_' and '-' are allowed`;
    }
  }
  if (!isAlphanumeric(name.charCodeAt(0))) return `starts with '${name[0]}'; it must start with a letter or digit`;
  if (name.includes("..")) return "contains '..'; use single dots";
  if (name.endsWith(".lock")) return "ends in '.lock', which git refuses for a branch";
  if (name.endsWith(".")) return "ends in '.', which git refuses for a branch";
  return undefined;
}

/** A name as a message quotes it: long names shortened, so one bad value cannot flood a terminal. */
export function quoteChunkName(name: string): string {
  const QUOTE_MAX_CHARS = 60;
  const shown = name.length > QUOTE_MAX_CHARS ? `${name.slice(0, QUOTE_MAX_CHARS)}...` : name;
  return `'${shown.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}'`;
}

/** The schema keyword that marks a chunk name (an OpenAPI-style extension, ignored by validators). */
export const CHUNK_NAME_MARK = "x-ve-chunk-name";

/** One sentence for an invalid name: which rule it broke, with the name quoted. */
export function explainChunkName(field: string, name: string): string | undefined {
  const problem = chunkNameProblem(name);
  return problem === undefined ? undefined : `${field} ${quoteChunkName(name)} ${problem}`;
}

/**
 * Names are compared without case when a unit is created: they become directories and branch
 * names, which collide on case-insensitive file systems (`Api` and `api`).
 */
export function sameChunkIgnoringCase(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

// --- the decision of a change ----------------------------------------------------------------
// Pure functions: the store asks them inside its transaction with the facts it read, and the
// scheduler asks the same ones, so both follow one set of rules.

/** What a decision needs to know of the unit as it is now. */
export interface UnitState {
  status: Status;
  phase: Phase;
  updated_at: string;
}

/** What a request asks for (the blockers are already resolved into `waitingOn`). */
export interface ChangeRequest {
  status?: Status;
  phase?: Phase;
  force?: boolean;
  /** Compare-and-set on the token a caller read. */
  expected_updated_at?: string;
  /** Conditional change: refused unless the unit is in this status now. */
  expected_status?: Status;
}

export interface ChangeFacts {
  current: UnitState;
  /** Unfinished blockers before the request. */
  waitedOn: readonly string[];
  /** Unfinished blockers after the request (the same list unless it changes the blockers). */
  waitingOn: readonly string[];
  /** Whether the request changes the unit's declared dependencies. */
  dependenciesChanged: boolean;
}

export type Refusal =
  | { code: "stale_write"; expected_updated_at: string; updated_at: string }
  | { code: "status_mismatch"; expected_status: Status; status: Status }
  | { code: "invalid_transition"; field: "status"; from: Status; to: Status; allowed: readonly Status[] }
  | { code: "invalid_transition"; field: "phase"; from: Phase; to: Phase }
  | { code: "blocked"; status: Status; blocked_by: readonly string[] };

export interface Change {
  status: Status;
  phase: Phase;
  /** Why, as the status log records it. */
  reason: string;
  /** A rule was overridden by `force`. */
  forced: boolean;
  statusChanged: boolean;
  phaseChanged: boolean;
}

export type Decision = { ok: true; change: Change } | { ok: false; refusal: Refusal };

export function quoteList(names: readonly string[]): string {
  return names.map((n) => `'${n}'`).join(", ");
}

function needsFreePath(status: Status): boolean {
  return STATUSES_NEEDING_FREE_PATH.includes(status);
}

/**
 * The decision of an update: compare-and-set first (a stale caller learns that before anything
 * else), then the status table, the blockers, and the phase order.
 */
export function decideUpdate(request: ChangeRequest, facts: ChangeFacts): Decision {
  const { current, waitingOn, waitedOn } = facts;
  const force = request.force === true;
  if (request.expected_updated_at !== undefined && request.expected_updated_at !== current.updated_at) {
    return {
      ok: false,
      refusal: { code: "stale_write", expected_updated_at: request.expected_updated_at, updated_at: current.updated_at },
    };
  }
  if (request.expected_status !== undefined && request.expected_status !== current.status) {
    return { ok: false, refusal: { code: "status_mismatch", expected_status: request.expected_status, status: current.status } };
  }

  let status = current.status;
  let reason = "requested";
  let forced = false;
  if (request.status !== undefined) {
    const wanted = request.status;
    if (wanted !== current.status && !isStatusTransitionAllowed(current.status, wanted)) {
      if (!force) {
        return {
          ok: false,
          refusal: {
            code: "invalid_transition",
            field: "status",
            from: current.status,
            to: wanted,
            allowed: STATUS_TRANSITIONS[current.status],
          },
        };
      }
      forced = true;
    }
    if (waitingOn.length > 0 && needsFreePath(wanted)) {
      // Reopening a finished unit whose blockers were reopened too: it waits again.
      if (current.status === "DONE" && wanted === "READY") {
        status = "BLOCKED";
        reason = `reopened, blocked by ${quoteList(waitingOn)}`;
      } else {
        return { ok: false, refusal: { code: "blocked", status: wanted, blocked_by: waitingOn } };
      }
    } else {
      status = wanted;
    }
  } else if (facts.dependenciesChanged && waitingOn.length > 0 && needsFreePath(current.status)) {
    status = "BLOCKED";
    reason = `blocked by ${quoteList(waitingOn)}`;
  } else if (facts.dependenciesChanged && current.status === "BLOCKED" && waitedOn.length > 0 && waitingOn.length === 0) {
    status = "READY";
    reason = "no unfinished blockers left";
  }

  const phase = request.phase ?? current.phase;
  if (phase !== current.phase && !isPhaseForward(current.phase, phase)) {
    if (!force) return { ok: false, refusal: { code: "invalid_transition", field: "phase", from: current.phase, to: phase } };
    forced = true;
  }
  return {
    ok: true,
    change: { status, phase, reason, forced, statusChanged: status !== current.status, phaseChanged: phase !== current.phase },
  };
}

/** The status of a new unit, or why it is refused. */
export function decideCreate(
  requested: Status | undefined,
  waitingOn: readonly string[],
): { ok: true; status: Status; reason: string } | { ok: false; refusal: Refusal } {
  if (requested !== undefined) {
    if (waitingOn.length > 0 && needsFreePath(requested)) {
      return { ok: false, refusal: { code: "blocked", status: requested, blocked_by: waitingOn } };
    }
    return { ok: true, status: requested, reason: "created" };
  }
  return waitingOn.length > 0
    ? { ok: true, status: "BLOCKED", reason: `created, blocked by ${quoteList(waitingOn)}` }
    : { ok: true, status: "READY", reason: "created" };
}

/**
 * What a unit's own status becomes when one of its blockers finishes or is reopened: a BLOCKED
 * unit with nothing left to wait on is READY; a READY unit (not started yet) that waits again
 * is BLOCKED. A unit already running, waiting on a person, or done keeps its status.
 */
export function followBlockers(status: Status, waitingOn: readonly string[]): Status {
  if (status === "BLOCKED" && waitingOn.length === 0) return "READY";
  if (status === "READY" && waitingOn.length > 0) return "BLOCKED";
  return status;
}

/** The sentence for a refusal; `chunk` is the unit asked about. */
export function explainRefusal(chunk: string, refusal: Refusal): string {
  switch (refusal.code) {
    case "stale_write":
      return `Work unit '${chunk}' changed since you read it (updated_at is now ${refusal.updated_at}); read it again and retry.`;
    case "status_mismatch":
      return `Work unit '${chunk}' is ${refusal.status}, not ${refusal.expected_status}; nothing was changed.`;
    case "invalid_transition":
      return refusal.field === "status"
        ? `Work unit '${chunk}' cannot go from ${refusal.from} to ${refusal.to} (allowed: ${refusal.allowed.join(", ")}); pass force to override.`
        : `Work unit '${chunk}' cannot move back from phase ${refusal.from} to ${refusal.to}; phases only move forward unless you pass force.`;
    case "blocked":
      return `Work unit '${chunk}' cannot be ${refusal.status} while it waits on ${quoteList(refusal.blocked_by)}; finish those first or remove them from blocked_by.`;
  }
}

// --- the order work is taken in ---------------------------------------------------------------

/** What the order needs to know of a unit. */
export interface Schedulable {
  chunk: string;
  status: Status;
  /** Unfinished blockers. */
  blocked_by: readonly string[];
  /** Higher first; units without one count as 0 (no unit has one yet). */
  priority?: number;
  /** Creation time (ISO-8601, so it sorts as text); older first. */
  created_at: string;
}

/**
 * For each unit, how many other units wait on it, directly or through others (each counted
 * once, through `blocked_by`): what its completion eventually releases.
 */
export function releaseCounts(
  units: readonly Schedulable[],
  of: readonly string[] = units.map((u) => u.chunk),
): Map<string, number> {
  const waiters = new Map<string, string[]>();
  for (const unit of units) {
    for (const blocker of unit.blocked_by) {
      const list = waiters.get(blocker);
      if (list) list.push(unit.chunk);
      else waiters.set(blocker, [unit.chunk]);
    }
  }
  const counts = new Map<string, number>();
  for (const chunk of of) {
    const seen = new Set<string>([chunk]);
    const queue = [chunk];
    for (let i = 0; i < queue.length; i++) {
      for (const waiter of waiters.get(queue[i] as string) ?? []) {
        if (!seen.has(waiter)) {
          seen.add(waiter);
          queue.push(waiter);
        }
      }
    }
    counts.set(chunk, seen.size - 1);
  }
  return counts;
}

/**
 * The READY units in the order work is taken: first those whose completion releases the most
 * other units, then by priority, then the oldest. Ties keep the input order (creation order).
 */
export function claimOrder(units: readonly Schedulable[]): Schedulable[] {
  const ready = units.map((unit, index) => ({ unit, index })).filter(({ unit }) => unit.status === "READY");
  const released = releaseCounts(
    units,
    ready.map(({ unit }) => unit.chunk),
  );
  ready.sort(
    (a, b) =>
      (released.get(b.unit.chunk) ?? 0) - (released.get(a.unit.chunk) ?? 0) ||
      (b.unit.priority ?? 0) - (a.unit.priority ?? 0) ||
      (a.unit.created_at < b.unit.created_at ? -1 : a.unit.created_at > b.unit.created_at ? 1 : 0) ||
      a.index - b.index,
  );
  return ready.map(({ unit }) => unit);
}

/** What a unit in NEEDS_ATTENTION waits on a person for. */
export const ATTENTION_KINDS = ["question", "permission", "error", "conflict", "merge", "limit", "gate"] as const;
export type AttentionKind = (typeof ATTENTION_KINDS)[number];

// --- the order of the attention queue ---------------------------------------------------------

/** A unit waiting on a person, as the queue's order needs it. */
export interface Waiting {
  chunk: string;
  /** When it started waiting (ISO-8601, so it sorts as text); older first. */
  since: string;
}

/**
 * The attention queue in the order a person should work it: first the waits whose resolution
 * releases the most other units (counted transitively through `blocked_by` over `units`, each
 * once), then the oldest, then by name so the order is stable. Each entry carries its count.
 */
export function attentionOrder<T extends Waiting>(
  waiting: readonly T[],
  units: readonly Schedulable[],
): (T & { releases: number })[] {
  const released = releaseCounts(
    units,
    waiting.map((w) => w.chunk),
  );
  return waiting
    .map((w) => ({ ...w, releases: released.get(w.chunk) ?? 0 }))
    .sort(
      (a, b) =>
        b.releases - a.releases ||
        (a.since < b.since ? -1 : a.since > b.since ? 1 : 0) ||
        (a.chunk < b.chunk ? -1 : a.chunk > b.chunk ? 1 : 0),
    );
}

/** What an agent may send about its run (ask_operator, report_done, `ve agent`), in characters. */
export const AGENT_LIMITS = {
  question: 20_000,
  option: 1_000,
  options: 20,
  summary: 20_000,
} as const;

/** A setting's value as stored and read (engine/config.ts has the keys; the state layer stores them). */
export type ConfigValue = number | string | string[] | null;
