// The runs group: each agent run of a scheduled unit (runs) and what its agent said about it
// (agent_calls). The rule that ties a unit's status to its runs lives here and nowhere else: a
// scheduled unit is RUNNING only with exactly one open run. A run is opened only by `claim`,
// with READY -> RUNNING, and closed only by `finish` (with the unit moved on) or by
// `endForPerson` (a person's forced change or delete, which moves the unit itself), each in the
// transaction of the unit's change. SQLite holds the "at most one" half too (runs_one_open_per_unit).
import type { ChangeRequest, Phase, Status } from "../domain.ts";
import { VeError } from "../errors.ts";
import type { AgentCall, OUTCOME_VALUES, WorkUnit, WorkUnitChanged } from "../models/index.ts";
import type { NewAttention } from "./attention.ts";
import type { StateContext } from "./context.ts";
import { type EnginePatch, type EngineRow, keepAnswer } from "./engine-rows.ts";

export type RunPurpose = "phase" | "resolve" | "fix";
/** How a run ended (the agents' Outcome, named from the models, below the state). */
export type Outcome = (typeof OUTCOME_VALUES)[number];

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

/** What the unit becomes once its run is closed (or, outside a run, its landing is decided). */
export interface NextStep {
  status: Status;
  phase?: Phase;
  reason: string;
  engine?: EnginePatch;
  attention?: NewAttention;
  /**
   * The run completed its phase (or its conflict resolution): the operator's answers given in
   * it are settled, and the runs that follow start without them.
   */
  phase_done?: boolean;
  /** The base's tip this step published (a landing), kept in the same transaction as DONE. */
  base_tip?: { base: string; tip: string };
}

/** What a run is opened with. */
export interface NewRun {
  id: string;
  purpose: RunPurpose;
  backend: string;
  tokenHash: string;
  sessionId: string | null;
}

/** What an agent tells about its own run, before it is recorded. */
export type NewAgentCall =
  | { kind: "ask"; via: AgentCall["via"]; question: string; options?: readonly string[] }
  | { kind: "done"; via: AgentCall["via"]; summary?: string };

/** The other table groups a run's opening and closing change with it (the state object itself). */
export interface RunHost {
  units: {
    get(chunk: string): WorkUnit;
    engineChange(chunk: string, patch: ChangeRequest, reason: string): WorkUnitChanged;
  };
  engineRows: { get(chunk: string): EngineRow | undefined; patch(chunk: string, patch: EnginePatch): void };
  attention: { set(chunk: string, attention: NewAttention | undefined, runId: string | null): void; settleAnswers(chunk: string, phase: Phase): void };
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

const toRunRows = (rows: unknown[]): RunRow[] => rows.map((raw) => toRunRow(raw) as RunRow);

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

/** The refusals of a claim that mean the unit moved meanwhile: the scheduler looks again. */
const MOVED_CODES = new Set(["stale_write", "status_mismatch", "blocked", "not_found"]);

export class Runs {
  constructor(
    private readonly ctx: StateContext,
    private readonly host: () => RunHost,
  ) {}

  private get db() {
    return this.ctx.db;
  }

  // --- the rule ------------------------------------------------------------------------------

  /**
   * Claims a READY unit for a run: READY -> RUNNING, compare-and-set on the updated_at the
   * scheduler read, and the open run row, in one transaction. Undefined when the unit moved
   * meanwhile (someone else changed it; the scheduler looks again).
   */
  claim(chunk: string, expectedUpdatedAt: string, run: NewRun): RunRow | undefined {
    const { units } = this.host();
    try {
      return this.ctx.write(() => {
        const unit = units.get(chunk);
        const attempt = ((this.db.query("SELECT count(*) AS n FROM runs WHERE chunk = ? AND phase = ?").get(chunk, unit.phase) as { n: number }).n ?? 0) + 1;
        units.engineChange(
          chunk,
          { status: "RUNNING", expected_status: "READY", expected_updated_at: expectedUpdatedAt },
          `run ${run.id} started (${run.purpose === "resolve" ? "merge conflict resolution" : run.purpose === "fix" ? "fix of a red gate" : `phase ${unit.phase}`}, attempt ${attempt})`,
        );
        this.db
          .query("INSERT INTO runs (id, chunk, phase, attempt, purpose, backend, session_id, started_at, token_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
          .run(run.id, chunk, unit.phase, attempt, run.purpose, run.backend, run.sessionId, this.ctx.timestamp(), run.tokenHash);
        return this.get(run.id) as RunRow;
      });
    } catch (error) {
      if (error instanceof VeError && MOVED_CODES.has(error.code)) return undefined;
      throw error;
    }
  }

  /**
   * Closes a run and moves its unit on, in one transaction. Returns false when the run was
   * closed already (a forced change by a person ended it): then nothing else changes.
   */
  finish(runId: string, result: RunResult, next: NextStep): boolean {
    const { units, engineRows, attention } = this.host();
    return this.ctx.write(() => {
      const run = this.get(runId);
      if (!run || run.ended_at !== null) return false;
      this.db
        .query("UPDATE runs SET ended_at = ?, outcome = ?, reason = ?, exit_code = ?, cost_usd = ?, session_cost_usd = ?, models = ?, billing = ?, turns = ?, input_tokens = ?, output_tokens = ? WHERE id = ?")
        .run(
          this.ctx.timestamp(),
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
      engineRows.patch(run.chunk, keepAnswer(engineRows.get(run.chunk), next.engine ?? {}));
      // Only the run's own phase: the answers of a phase a person moved the unit out of stay
      // with that phase, for when the unit is moved back to it.
      if (next.phase_done) attention.settleAnswers(run.chunk, run.phase);
      attention.set(run.chunk, next.attention, runId);
      units.engineChange(run.chunk, { status: next.status, ...(next.phase ? { phase: next.phase } : {}) }, next.reason);
      return true;
    });
  }

  /**
   * A person's change of status or phase, or delete, of a scheduled unit, inside its
   * transaction: refused while a run is open, or (forced) the run is closed `interrupted` first;
   * the engine, hearing of the change, stops the agent.
   */
  endForPerson(chunk: string, force: boolean, why: string): void {
    const open = this.db.query("SELECT id FROM runs WHERE chunk = ? AND ended_at IS NULL").get(chunk) as { id: string } | null;
    if (!open) return;
    if (!force) {
      throw new VeError(
        "unit_running",
        `Work unit '${chunk}' has an agent running (run ${open.id}); wait for it, or force the change to stop the agent first.`,
        { chunk, run_id: open.id },
      );
    }
    this.db.query("UPDATE runs SET ended_at = ?, outcome = 'interrupted', reason = ? WHERE id = ?").run(this.ctx.timestamp(), `ended by ${why}`, open.id);
  }

  // --- what a run turned out to be -----------------------------------------------------------

  /** What the process turned out to be, recorded as soon as it runs. */
  recordProcess(runId: string, process: { pid: number; processStart: string; sessionId: string | null; version: string | null }): void {
    this.ctx.write(() => {
      this.db
        .query("UPDATE runs SET pid = ?, process_start = ?, session_id = coalesce(?, session_id), backend_version = ? WHERE id = ?")
        .run(process.pid, process.processStart, process.sessionId, process.version, runId);
      if (process.sessionId !== null) this.keepSession(runId, process.sessionId);
    });
  }

  /** The CLI version a backend read before refusing to start (too old): kept on the run. */
  recordVersion(runId: string, version: string): void {
    this.db.query("UPDATE runs SET backend_version = ? WHERE id = ?").run(version, runId);
  }

  /** A session id the agent reported (its init event), to resume from the next run. */
  recordSession(runId: string, sessionId: string): void {
    this.ctx.write(() => {
      this.db.query("UPDATE runs SET session_id = ? WHERE id = ?").run(sessionId, runId);
      this.keepSession(runId, sessionId);
    });
  }

  private keepSession(runId: string, sessionId: string): void {
    const run = this.get(runId);
    if (run) this.host().engineRows.patch(run.chunk, { session_id: sessionId });
  }

  /**
   * Records what an agent said about its open run; in one transaction with the check that the
   * run is still open, so a call never lands on a run the engine has closed meanwhile.
   */
  recordAgentCall(runId: string, call: NewAgentCall): AgentCall {
    return this.ctx.write(() => {
      const run = this.get(runId);
      if (!run) throw new VeError("not_found", `No run with id '${runId}'.`, { run_id: runId });
      if (run.ended_at !== null) {
        throw new VeError("run_not_open", `Run ${runId} of '${run.chunk}' has ended (${run.outcome}); an agent can speak only for its own open run.`, {
          run_id: runId,
        });
      }
      const at = this.ctx.timestamp();
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

  // --- reads ---------------------------------------------------------------------------------

  get(id: string): RunRow | undefined {
    return toRunRow(this.db.query(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`).get(id));
  }

  list(chunk?: string): RunRow[] {
    return toRunRows(
      chunk === undefined
        ? this.db.query(`SELECT ${RUN_COLUMNS} FROM runs ORDER BY started_at, rowid`).all()
        : this.db.query(`SELECT ${RUN_COLUMNS} FROM runs WHERE chunk = ? ORDER BY started_at, rowid`).all(chunk),
    );
  }

  /** The unit's open run, if it has one (at most one: the rule above). */
  openOf(chunk: string): RunRow | undefined {
    return toRunRow(this.db.query(`SELECT ${RUN_COLUMNS} FROM runs WHERE chunk = ? AND ended_at IS NULL`).get(chunk));
  }

  allOpen(): RunRow[] {
    return toRunRows(this.db.query(`SELECT ${RUN_COLUMNS} FROM runs WHERE ended_at IS NULL ORDER BY started_at`).all());
  }

  /** The run a token belongs to, if it is open (an agent speaks only for its own open run). */
  byTokenHash(tokenHash: string): RunRow | undefined {
    return toRunRow(this.db.query(`SELECT ${RUN_COLUMNS} FROM runs WHERE token_hash = ? AND ended_at IS NULL`).get(tokenHash));
  }

  /** The run a token belongs to, open or ended (to tell an ended run's agent why it is refused). */
  byTokenHashAny(tokenHash: string): RunRow | undefined {
    return toRunRow(this.db.query(`SELECT ${RUN_COLUMNS} FROM runs WHERE token_hash = ?`).get(tokenHash));
  }

  /** What the agent of a run told the daemon, in order. */
  agentCalls(runId: string): AgentCall[] {
    const rows = this.db.query("SELECT run_id, kind, via, question, options, summary, at FROM agent_calls WHERE run_id = ? ORDER BY id").all(runId) as RawAgentCall[];
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
}
