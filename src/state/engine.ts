// The engine's state beside the work units: each scheduled unit's engine row (its session,
// its stage, its retry counters and backoff), its runs, its attention record, and the engine's
// settings. Every change to a unit goes through the Store (its rules, its status log, its
// change feed) inside one transaction with the engine rows it belongs with: claiming a READY
// unit and opening its run are one transaction, and so are closing a run and moving its unit on.
import type { Phase, Status } from "../domain.ts";
import type { Outcome } from "../agents/backend.ts";
import { VeError } from "../errors.ts";
import type { ConfigValue } from "../domain.ts";
import type { AgentCall, Attention, AttentionKind, WorkUnit } from "../models/index.ts";
import type { Schedule, Store } from "./store.ts";

/** `fixing`: the agent fixes what the landing gate found red on its candidate. */
export type Stage = "phase" | "landing" | "resolving" | "fixing";
export type RunPurpose = "phase" | "resolve" | "fix";

export interface EngineRow {
  chunk: string;
  goal: string | null;
  backend: string;
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
  next_reason: string | null;
  /** `inject --verify`: this unit's own gate command, over the `verify` setting. */
  verify: string | null;
  /** Fix runs a red gate has cost since the last person's retry. */
  gate_runs: number;
}

export interface RunRow {
  id: string;
  chunk: string;
  phase: Phase;
  attempt: number;
  purpose: RunPurpose;
  backend: string;
  backend_version: string | null;
  session_id: string | null;
  pid: number | null;
  process_start: string | null;
  started_at: string;
  ended_at: string | null;
  outcome: Outcome | null;
  reason: string | null;
  exit_code: number | null;
  cost_usd: number | null;
  /** The CLI's running total over the session when the run ended (Claude across `--resume`). */
  session_cost_usd: number | null;
  models: string[];
  billing: "api_key" | "login" | null;
  turns: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  /** The last summary the agent reported (report_done, `ve agent done`). */
  summary: string | null;
}

export interface RunResult {
  outcome: Outcome;
  reason: string;
  exit_code: number | null;
  cost_usd?: number | null;
  session_cost_usd?: number | null;
  models?: string[];
  billing?: "api_key" | "login" | null;
  turns?: number | null;
  input_tokens?: number | null;
  output_tokens?: number | null;
}

/** What the unit becomes once its run is closed. */
export interface NextStep {
  status: Status;
  phase?: Phase;
  reason: string;
  engine?: Partial<Omit<EngineRow, "chunk">>;
  attention?: { kind: AttentionKind; reason: string; question?: string; options?: string[]; code?: string };
  /**
   * The run completed its phase (or its conflict resolution): the operator's answers given in
   * it are settled, and the runs that follow start without them.
   */
  phase_done?: boolean;
  /** The base's tip this step published (a landing), kept in the same transaction as DONE. */
  base_tip?: { base: string; tip: string };
}

/** The tip of a base as the engine last published it. */
export interface BaseTip {
  base: string;
  tip: string;
  /** The unit whose landing published it; null when a person accepted a moved base. */
  chunk: string | null;
  at: string;
}

/** An operator's answer to a question of the unit's current phase, not yet settled. */
export interface PhaseAnswer {
  question: string;
  answer: string;
  /** The run whose question it answers. */
  run_id: string | null;
  answered_at: string;
}

interface RawEngineRow extends Omit<EngineRow, "retries" | "conflict_files"> {
  retries: string;
  conflict_files: string | null;
}

const RUN_COLUMNS =
  "id, chunk, phase, attempt, purpose, backend, backend_version, session_id, pid, process_start, started_at, ended_at, " +
  "outcome, reason, exit_code, cost_usd, session_cost_usd, models, billing, turns, input_tokens, output_tokens, summary";

/** A runs row as read: `models` is stored as a JSON array. */
function toRunRow(raw: unknown): RunRow | undefined {
  if (raw === null || raw === undefined) return undefined;
  const row = raw as Omit<RunRow, "models"> & { models: string | null };
  return { ...row, models: row.models === null ? [] : (JSON.parse(row.models) as string[]) };
}

interface RawAgentCall {
  run_id: string;
  kind: AgentCall["kind"];
  via: AgentCall["via"];
  question: string | null;
  options: string | null;
  summary: string | null;
  at: string;
}

function toAgentCall(raw: RawAgentCall): AgentCall {
  return {
    kind: raw.kind,
    via: raw.via,
    question: raw.question,
    options: raw.options === null ? null : (JSON.parse(raw.options) as string[]),
    summary: raw.summary,
    at: raw.at,
  };
}

/** What an agent tells about its own run, before it is recorded. */
export type NewAgentCall =
  | { kind: "ask"; via: AgentCall["via"]; question: string; options?: readonly string[] }
  | { kind: "done"; via: AgentCall["via"]; summary?: string };

function toEngineRow(raw: RawEngineRow): EngineRow {
  return {
    ...raw,
    retries: JSON.parse(raw.retries) as Record<string, number>,
    conflict_files: raw.conflict_files === null ? null : (JSON.parse(raw.conflict_files) as string[]),
  };
}

/**
 * Where a unit goes when a person resolves its wait: READY, or BLOCKED while blockers added
 * meanwhile are unfinished (they release it when they finish, as for any blocked unit).
 */
function releasedStatus(unit: WorkUnit): Status {
  return unit.blocked_by.length > 0 ? "BLOCKED" : "READY";
}

function reasonKind(reason: string | null | undefined): string | undefined {
  if (!reason) return undefined;
  try {
    return (JSON.parse(reason) as { kind?: string }).kind;
  } catch {
    return undefined;
  }
}

/**
 * A run started for an operator's answer and interrupted (the daemon stopped or died) keeps the
 * answer as the reason of the run after: a backend without a session would otherwise lose it,
 * and one with a session is only told again what it may not have read.
 */
function keepAnswer(current: EngineRow | undefined, patch: Partial<Omit<EngineRow, "chunk">>): Partial<Omit<EngineRow, "chunk">> {
  if (reasonKind(patch.next_reason) !== "interrupted" || reasonKind(current?.next_reason) !== "answer") return patch;
  const { next_reason: _dropped, ...rest } = patch;
  return rest;
}

export class EngineStore {
  constructor(
    readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  private get db() {
    return this.store.db;
  }

  private timestamp(): string {
    return new Date(this.now()).toISOString();
  }

  // --- units ---------------------------------------------------------------------------------

  /** Creates scheduled units, all or none, in the order given (dependencies first). */
  inject(
    units: readonly { chunk: string; phase: Phase; blocked_by: string[]; goal: string | null }[],
    schedule: Schedule & { backend: string; verify?: string | null },
  ): WorkUnit[] {
    return this.store.atomically(() =>
      units.map((unit) => {
        const created = this.store.create({ chunk: unit.chunk, phase: unit.phase, blocked_by: unit.blocked_by }, schedule);
        this.db
          .query("INSERT INTO unit_engine (chunk, goal, backend, verify) VALUES (?, ?, ?, ?)")
          .run(unit.chunk, unit.goal, schedule.backend, schedule.verify ?? null);
        return created;
      }),
    );
  }

  engineRow(chunk: string): EngineRow | undefined {
    const raw = this.db.query("SELECT * FROM unit_engine WHERE chunk = ?").get(chunk) as RawEngineRow | null;
    return raw ? toEngineRow(raw) : undefined;
  }

  /** Every scheduled unit that is not DONE, with its engine row, in creation order. */
  unitsInFlight(): { unit: WorkUnit; engine: EngineRow }[] {
    const names = this.db
      .query("SELECT w.chunk FROM work_units AS w WHERE w.scheduled = 1 AND w.status <> 'DONE' ORDER BY w.rowid")
      .all() as { chunk: string }[];
    const result: { unit: WorkUnit; engine: EngineRow }[] = [];
    for (const { chunk } of names) {
      const engine = this.engineRow(chunk);
      if (engine) result.push({ unit: this.store.get(chunk), engine });
    }
    return result;
  }

  private patchEngine(chunk: string, patch: Partial<Omit<EngineRow, "chunk">>): void {
    const entries = Object.entries(patch);
    if (entries.length === 0) return;
    const sets = entries.map(([key]) => `${key} = ?`).join(", ");
    const values = entries.map(([key, value]) =>
      key === "retries" || key === "conflict_files" ? (value === null ? null : JSON.stringify(value)) : (value as string | number | null),
    );
    this.db.query(`UPDATE unit_engine SET ${sets} WHERE chunk = ?`).run(...values, chunk);
  }

  private setAttention(chunk: string, attention: NextStep["attention"], runId: string | null): void {
    this.db.query("DELETE FROM attention WHERE chunk = ?").run(chunk);
    if (!attention) return;
    this.db
      .query("INSERT INTO attention (chunk, kind, reason, question, options, since, run_id, code) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .run(
        chunk,
        attention.kind,
        attention.reason,
        attention.question ?? null,
        attention.options ? JSON.stringify(attention.options) : null,
        this.timestamp(),
        runId,
        attention.code ?? null,
      );
  }

  /** Moves a unit on outside a run (landing, a refused start): status, engine row and attention at once. */
  advance(chunk: string, step: NextStep, runId: string | null = null): WorkUnit {
    return this.store.atomically(() => {
      if (step.base_tip) this.publishBaseTip(step.base_tip.base, step.base_tip.tip, chunk);
      this.patchEngine(chunk, step.engine ?? {});
      this.setAttention(chunk, step.attention, runId);
      this.store.engineChange(chunk, { status: step.status, ...(step.phase ? { phase: step.phase } : {}) }, step.reason);
      return this.store.get(chunk);
    });
  }

  /** The tip of `base` the engine last published, if it has landed there (or a person accepted one). */
  baseTip(base: string): BaseTip | undefined {
    return (this.db.query("SELECT base, tip, chunk, at FROM base_tips WHERE base = ?").get(base) ?? undefined) as BaseTip | undefined;
  }

  private publishBaseTip(base: string, tip: string, chunk: string | null): void {
    this.db
      .query("INSERT INTO base_tips (base, tip, chunk, at) VALUES (?, ?, ?, ?) ON CONFLICT (base) DO UPDATE SET tip = excluded.tip, chunk = excluded.chunk, at = excluded.at")
      .run(base, tip, chunk, this.timestamp());
  }

  attention(chunk: string): Attention | null {
    return this.store.get(chunk).attention;
  }

  /**
   * `ve orch retry`: a unit waiting on a person is READY again with fresh retry counters.
   * `fresh` also forgets the agent session, so the next run starts a new conversation.
   */
  retry(chunk: string, fresh: boolean, acceptBase = false): WorkUnit {
    return this.store.atomically(() => {
      const unit = this.store.get(chunk);
      // A person keeps a base someone moved backwards: the engine forgets the tip it published
      // there, and the next landing publishes the base as it is then.
      if (acceptBase) this.db.query("DELETE FROM base_tips WHERE base = ?").run(unit.base_branch ?? "main");
      const engine = this.engineRow(chunk);
      if (!engine || !unit.scheduled) {
        throw new VeError(
          "validation_failed",
          `Work unit '${chunk}' is only tracked, not run by the scheduler; \`ve orch work-unit status ${chunk} READY\` changes it.`,
          { chunk },
        );
      }
      const attention = unit.attention;
      // A red gate is gated again after the retry (never landed as it was), with its fix runs anew.
      const stage: Stage = attention?.kind === "merge" || attention?.kind === "gate" ? "landing" : attention?.kind === "conflict" ? "resolving" : engine.stage;
      this.patchEngine(chunk, {
        retries: {},
        retry_at: null,
        retry_kind: null,
        stage,
        ...(attention?.kind === "conflict" ? { conflict_runs: 0 } : {}),
        ...(attention?.kind === "gate" ? { gate_runs: 0 } : {}),
        ...(fresh ? { session_id: null } : {}),
        next_reason: attention ? JSON.stringify({ kind: "retry_after_attention", reason: attention.reason, ...(attention.code ? { code: attention.code } : {}) }) : null,
      });
      this.setAttention(chunk, undefined, null);
      const why = fresh ? "retried by a person (fresh session)" : "retried by a person";
      this.store.engineChange(chunk, { status: releasedStatus(unit) }, unit.blocked_by.length > 0 ? `${why}; waits on its blockers` : why);
      return this.store.get(chunk);
    });
  }

  /**
   * `ve orch answer`: a unit waiting on its question is READY again, with the question and
   * the answer as the reason of its next run (which resumes the session when there is one),
   * and the answer is kept with the phase's others until the phase is completed.
   * The caller checks, in the same transaction, that the unit waits on a question.
   */
  answer(chunk: string, answer: string): WorkUnit {
    return this.store.atomically(() => {
      const unit = this.store.get(chunk);
      const attention = unit.attention;
      const question = attention?.question ?? attention?.reason ?? "";
      const runId = attention?.run_id ?? null;
      this.patchEngine(chunk, { next_reason: JSON.stringify({ kind: "answer", question, answer, run_id: runId }) });
      this.db
        .query("INSERT INTO operator_answers (chunk, phase, run_id, question, answer, answered_at) VALUES (?, ?, ?, ?, ?, ?)")
        .run(chunk, unit.phase, runId, question, answer, this.timestamp());
      this.setAttention(chunk, undefined, null);
      const line = answer.split("\n")[0] ?? "";
      const shown = line.length > 80 ? `${line.slice(0, 79)}…` : line;
      const why = `answered by a person: ${shown}`;
      this.store.engineChange(chunk, { status: releasedStatus(unit) }, unit.blocked_by.length > 0 ? `${why}; waits on its blockers` : why);
      return this.store.get(chunk);
    });
  }

  /** The operator's answers given in the unit's `phase` and not settled by its completion, oldest first. */
  phaseAnswers(chunk: string, phase: Phase): PhaseAnswer[] {
    return this.db
      .query("SELECT question, answer, run_id, answered_at FROM operator_answers WHERE chunk = ? AND phase = ? AND settled_at IS NULL ORDER BY id")
      .all(chunk, phase) as PhaseAnswer[];
  }

  /** The operator's answers by the run whose question each answers (every run, or one unit's). */
  answersByRun(chunk?: string): Map<string, { answer: string; answered_at: string }> {
    const rows = (
      chunk === undefined
        ? this.db.query("SELECT run_id, answer, answered_at FROM operator_answers WHERE run_id IS NOT NULL ORDER BY id").all()
        : this.db.query("SELECT run_id, answer, answered_at FROM operator_answers WHERE run_id IS NOT NULL AND chunk = ? ORDER BY id").all(chunk)
    ) as { run_id: string; answer: string; answered_at: string }[];
    return new Map(rows.map(({ run_id, ...answer }) => [run_id, answer]));
  }

  // --- runs ----------------------------------------------------------------------------------

  /**
   * Claims a READY unit for a run: READY -> RUNNING, compare-and-set on the updated_at the
   * scheduler read, and the open run row, in one transaction. Undefined when the unit moved
   * meanwhile (someone else changed it; the scheduler looks again).
   */
  claim(
    chunk: string,
    expectedUpdatedAt: string,
    run: { id: string; purpose: RunPurpose; backend: string; tokenHash: string; sessionId: string | null },
  ): RunRow | undefined {
    try {
      return this.store.atomically(() => {
        const unit = this.store.get(chunk);
        const attempt =
          ((this.db.query("SELECT count(*) AS n FROM runs WHERE chunk = ? AND phase = ?").get(chunk, unit.phase) as { n: number }).n ?? 0) + 1;
        this.store.engineChange(
          chunk,
          { status: "RUNNING", expected_status: "READY", expected_updated_at: expectedUpdatedAt },
          `run ${run.id} started (${run.purpose === "resolve" ? "merge conflict resolution" : run.purpose === "fix" ? "fix of a red gate" : `phase ${unit.phase}`}, attempt ${attempt})`,
        );
        this.db
          .query(
            "INSERT INTO runs (id, chunk, phase, attempt, purpose, backend, session_id, started_at, token_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
          )
          .run(run.id, chunk, unit.phase, attempt, run.purpose, run.backend, run.sessionId, this.timestamp(), run.tokenHash);
        return this.run(run.id) as RunRow;
      });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "stale_write" || code === "status_mismatch" || code === "blocked" || code === "not_found") return undefined;
      throw error;
    }
  }

  /** What the process turned out to be, recorded as soon as it runs. */
  recordProcess(runId: string, process: { pid: number; processStart: string; sessionId: string | null; version: string | null }): void {
    this.db
      .query("UPDATE runs SET pid = ?, process_start = ?, session_id = coalesce(?, session_id), backend_version = ? WHERE id = ?")
      .run(process.pid, process.processStart, process.sessionId, process.version, runId);
    if (process.sessionId !== null) {
      this.db
        .query("UPDATE unit_engine SET session_id = ? WHERE chunk = (SELECT chunk FROM runs WHERE id = ?)")
        .run(process.sessionId, runId);
    }
  }

  /** The CLI version a backend read before refusing to start (too old): kept on the run. */
  recordVersion(runId: string, version: string): void {
    this.db.query("UPDATE runs SET backend_version = ? WHERE id = ?").run(version, runId);
  }

  /** A session id the agent reported (its init event), to resume from the next run. */
  recordSession(runId: string, sessionId: string): void {
    this.db.query("UPDATE runs SET session_id = ? WHERE id = ?").run(sessionId, runId);
    this.db.query("UPDATE unit_engine SET session_id = ? WHERE chunk = (SELECT chunk FROM runs WHERE id = ?)").run(sessionId, runId);
  }

  /**
   * Closes a run and moves its unit on, in one transaction. Returns false when the run was
   * closed already (a forced change by a person ended it): then nothing else changes.
   */
  finishRun(runId: string, result: RunResult, next: NextStep): boolean {
    return this.store.atomically(() => {
      const run = this.run(runId);
      if (!run || run.ended_at !== null) return false;
      this.db
        .query(
          "UPDATE runs SET ended_at = ?, outcome = ?, reason = ?, exit_code = ?, cost_usd = ?, session_cost_usd = ?, models = ?, billing = ?, turns = ?, input_tokens = ?, output_tokens = ? WHERE id = ?",
        )
        .run(
          this.timestamp(),
          result.outcome,
          result.reason,
          result.exit_code,
          result.cost_usd ?? null,
          result.session_cost_usd ?? null,
          result.models && result.models.length > 0 ? JSON.stringify(result.models) : null,
          result.billing ?? null,
          result.turns ?? null,
          result.input_tokens ?? null,
          result.output_tokens ?? null,
          runId,
        );
      this.patchEngine(run.chunk, keepAnswer(this.engineRow(run.chunk), next.engine ?? {}));
      if (next.phase_done) {
        // Only the run's own phase: the answers of a phase a person moved the unit out of stay
        // with that phase, for when the unit is moved back to it.
        this.db
          .query("UPDATE operator_answers SET settled_at = ? WHERE chunk = ? AND phase = ? AND settled_at IS NULL")
          .run(this.timestamp(), run.chunk, run.phase);
      }
      this.setAttention(run.chunk, next.attention, runId);
      this.store.engineChange(run.chunk, { status: next.status, ...(next.phase ? { phase: next.phase } : {}) }, next.reason);
      return true;
    });
  }

  run(id: string): RunRow | undefined {
    return toRunRow(this.db.query(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`).get(id));
  }

  runs(chunk?: string): RunRow[] {
    return (
      chunk === undefined
        ? this.db.query(`SELECT ${RUN_COLUMNS} FROM runs ORDER BY started_at, rowid`).all()
        : this.db.query(`SELECT ${RUN_COLUMNS} FROM runs WHERE chunk = ? ORDER BY started_at, rowid`).all(chunk)
    ).map((raw) => toRunRow(raw) as RunRow);
  }

  /** The unit's open run, if it has one (at most one: the store's invariant). */
  openRun(chunk: string): RunRow | undefined {
    return toRunRow(this.db.query(`SELECT ${RUN_COLUMNS} FROM runs WHERE chunk = ? AND ended_at IS NULL`).get(chunk));
  }

  openRuns(): RunRow[] {
    return this.db.query(`SELECT ${RUN_COLUMNS} FROM runs WHERE ended_at IS NULL ORDER BY started_at`).all().map((raw) => toRunRow(raw) as RunRow);
  }

  /** The run a token belongs to, if it is open (an agent speaks only for its own open run). */
  runByTokenHash(tokenHash: string): RunRow | undefined {
    return toRunRow(this.db.query(`SELECT ${RUN_COLUMNS} FROM runs WHERE token_hash = ? AND ended_at IS NULL`).get(tokenHash));
  }

  /** The run a token belongs to, open or ended (to tell an ended run's agent why it is refused). */
  runByTokenHashAny(tokenHash: string): RunRow | undefined {
    return toRunRow(this.db.query(`SELECT ${RUN_COLUMNS} FROM runs WHERE token_hash = ?`).get(tokenHash));
  }

  /**
   * Records what an agent said about its open run; in one transaction with the check that the
   * run is still open, so a call never lands on a run the engine has closed meanwhile.
   */
  recordAgentCall(runId: string, call: NewAgentCall): AgentCall {
    return this.store.atomically(() => {
      const run = this.run(runId);
      if (!run) throw new VeError("not_found", `No run with id '${runId}'.`, { run_id: runId });
      if (run.ended_at !== null) {
        throw new VeError("run_not_open", `Run ${runId} of '${run.chunk}' has ended (${run.outcome}); an agent can speak only for its own open run.`, {
          run_id: runId,
        });
      }
      const at = this.timestamp();
      const question = call.kind === "ask" ? call.question : null;
      const options = call.kind === "ask" && call.options && call.options.length > 0 ? JSON.stringify(call.options) : null;
      const summary = call.kind === "done" ? (call.summary ?? null) : null;
      this.db
        .query("INSERT INTO agent_calls (run_id, kind, via, question, options, summary, at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .run(runId, call.kind, call.via, question, options, summary, at);
      if (call.kind === "done" && summary !== null) this.db.query("UPDATE runs SET summary = ? WHERE id = ?").run(summary, runId);
      return toAgentCall({ run_id: runId, kind: call.kind, via: call.via, question, options, summary, at });
    });
  }

  /** What the agent of a run told the daemon, in order. */
  agentCalls(runId: string): AgentCall[] {
    const rows = this.db
      .query("SELECT run_id, kind, via, question, options, summary, at FROM agent_calls WHERE run_id = ? ORDER BY id")
      .all(runId) as RawAgentCall[];
    return rows.map(toAgentCall);
  }

  /** The calls of every run (or one unit's runs), by run id, in order. */
  agentCallsByRun(chunk?: string): Map<string, AgentCall[]> {
    const rows = (
      chunk === undefined
        ? this.db.query("SELECT run_id, kind, via, question, options, summary, at FROM agent_calls ORDER BY id").all()
        : this.db
            .query(
              "SELECT c.run_id, c.kind, c.via, c.question, c.options, c.summary, c.at FROM agent_calls AS c JOIN runs AS r ON r.id = c.run_id WHERE r.chunk = ? ORDER BY c.id",
            )
            .all(chunk)
    ) as RawAgentCall[];
    const byRun = new Map<string, AgentCall[]>();
    for (const row of rows) {
      const list = byRun.get(row.run_id) ?? [];
      list.push(toAgentCall(row));
      byRun.set(row.run_id, list);
    }
    return byRun;
  }

  // --- settings ------------------------------------------------------------------------------

  config(): Map<string, ConfigValue> {
    const rows = this.db.query("SELECT key, value FROM config").all() as { key: string; value: string }[];
    return new Map(rows.map((r) => [r.key, JSON.parse(r.value) as ConfigValue]));
  }

  setConfig(key: string, value: ConfigValue | undefined): void {
    this.store.atomically(() => {
      if (value === undefined) this.db.query("DELETE FROM config WHERE key = ?").run(key);
      else
        this.db
          .query("INSERT INTO config (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at")
          .run(key, JSON.stringify(value), this.timestamp());
    });
  }
}
