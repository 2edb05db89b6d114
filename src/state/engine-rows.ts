// The units group, scheduled units: each one's engine row (unit_engine), what the engine must
// remember across restarts (its goal, backend, branch base, session, stage, retry counters and
// why its next run happens).
import type { StateContext } from "./context.ts";

/** `fixing`: the agent fixes what the landing gate found red on its candidate. */
export type Stage = "phase" | "landing" | "resolving" | "fixing";

/** Why a unit's next run happens, for its prompt; kept as JSON in unit_engine.next_reason. */
export type NextReason =
  | { kind: "interrupted" }
  | { kind: "retry"; error: string }
  | { kind: "retry_after_attention"; reason: string; code?: string }
  | { kind: "answer"; question: string; answer: string; run_id: string | null }
  /** The landing gate found the candidate red: what the fix run is told (prompts.ts `gate`; the attempt is gate_runs). */
  | { kind: "gate"; base: string; candidate: string; verify: string; failed_tests: string[]; log_tail: string[]; log: string };

export interface EngineRow {
  chunk: string;
  goal: string | null;
  backend: string;
  /** The base commit the unit's branch was made from, once its first run made it. */
  branch_base_commit: string | null;
  session_id: string | null;
  stage: Stage;
  retry_kind: string | null;
  /** Backoff: not started again before this time. */
  retry_at: string | null;
  retries: Record<string, number>;
  conflict_runs: number;
  conflict_files: string[] | null;
  /** Why the next run happens, for its prompt (answer, retry, interruption). */
  next_reason: NextReason | null;
  /** `inject --verify`: this unit's own gate command, over the `verify` setting. */
  verify: string | null;
  /** Fix runs a red gate has cost since the last person's retry. */
  gate_runs: number;
}

export type EnginePatch = Partial<Omit<EngineRow, "chunk">>;

interface RawEngineRow extends Omit<EngineRow, "retries" | "conflict_files" | "next_reason"> {
  retries: string;
  conflict_files: string | null;
  next_reason: string | null;
}

const text = (value: unknown): value is string => typeof value === "string";
const texts = (value: unknown): string[] => (Array.isArray(value) ? value.filter(text) : []);

/**
 * The stored reason as its type; null for one this ve does not know (written by another
 * version): the run then starts as a first run would, which loses nothing but the hint.
 */
export function decodeNextReason(json: string | null): NextReason | null {
  if (json === null) return null;
  let raw: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed !== "object" || parsed === null) return null;
    raw = parsed as Record<string, unknown>;
  } catch {
    return null;
  }
  switch (raw.kind) {
    case "interrupted":
      return { kind: "interrupted" };
    case "retry":
      return { kind: "retry", error: text(raw.error) ? raw.error : "" };
    case "retry_after_attention":
      return { kind: "retry_after_attention", reason: text(raw.reason) ? raw.reason : "", ...(text(raw.code) ? { code: raw.code } : {}) };
    case "answer":
      return {
        kind: "answer",
        question: text(raw.question) ? raw.question : "",
        answer: text(raw.answer) ? raw.answer : "",
        run_id: text(raw.run_id) ? raw.run_id : null,
      };
    case "gate":
      return {
        kind: "gate",
        base: text(raw.base) ? raw.base : "",
        candidate: text(raw.candidate) ? raw.candidate : "",
        verify: text(raw.verify) ? raw.verify : "",
        failed_tests: texts(raw.failed_tests),
        log_tail: texts(raw.log_tail),
        log: text(raw.log) ? raw.log : "",
      };
    default:
      return null;
  }
}

function toEngineRow(raw: RawEngineRow): EngineRow {
  return {
    ...raw,
    retries: JSON.parse(raw.retries) as Record<string, number>,
    conflict_files: raw.conflict_files === null ? null : (JSON.parse(raw.conflict_files) as string[]),
    next_reason: decodeNextReason(raw.next_reason),
  };
}

function columnValue(key: string, value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  if (key === "retries" || key === "conflict_files" || key === "next_reason") return JSON.stringify(value);
  return value as string | number;
}

/**
 * A run started for an operator's answer and interrupted (the daemon stopped or died) keeps the
 * answer as the reason of the run after: a backend without a session would otherwise lose it,
 * and one with a session is only told again what it may not have read.
 */
export function keepAnswer(current: EngineRow | undefined, patch: EnginePatch): EnginePatch {
  if (patch.next_reason?.kind !== "interrupted" || current?.next_reason?.kind !== "answer") return patch;
  const { next_reason: _dropped, ...rest } = patch;
  return rest;
}

export class EngineRows {
  constructor(private readonly ctx: StateContext) {}

  insert(chunk: string, goal: string | null, backend: string, verify: string | null): void {
    this.ctx.db.query("INSERT INTO unit_engine (chunk, goal, backend, verify) VALUES (?, ?, ?, ?)").run(chunk, goal, backend, verify);
  }

  get(chunk: string): EngineRow | undefined {
    const raw = this.ctx.db.query("SELECT * FROM unit_engine WHERE chunk = ?").get(chunk) as RawEngineRow | null;
    return raw ? toEngineRow(raw) : undefined;
  }

  patch(chunk: string, patch: EnginePatch): void {
    const entries = Object.entries(patch);
    if (entries.length === 0) return;
    const sets = entries.map(([key]) => `${key} = ?`).join(", ");
    this.ctx.db.query(`UPDATE unit_engine SET ${sets} WHERE chunk = ?`).run(...entries.map(([key, value]) => columnValue(key, value)), chunk);
  }

  /** The scheduled units that are not DONE, in creation order. */
  inFlight(): string[] {
    return (
      this.ctx.db
        .query("SELECT w.chunk FROM work_units AS w JOIN unit_engine AS e ON e.chunk = w.chunk WHERE w.scheduled = 1 AND w.status <> 'DONE' ORDER BY w.rowid")
        .all() as { chunk: string }[]
    ).map((r) => r.chunk);
  }
}
