// The engine's view of the state: the transactions a scheduled unit goes through (inject,
// advance, retry, answer, a run's claim and finish) and the reads the engine makes, over the
// state's table groups. It owns nothing: the database, the transaction and the change feed are
// the Store's, and a run's opening and closing are runs.ts's (the RUNNING rule).
import type { Phase, Status } from "../domain.ts";
import { VeError } from "../errors.ts";
import type { ConfigValue } from "../domain.ts";
import type { AgentCall, Attention, WorkUnit } from "../models/index.ts";
import type { PhaseAnswer } from "./attention.ts";
import type { EngineRow, Stage } from "./engine-rows.ts";
import type { NewAgentCall, NewRun, NextStep, RunResult, RunRow } from "./runs.ts";
import type { BaseTip } from "./settings.ts";
import type { Schedule, Store } from "./store.ts";

export type { NewAttention, PhaseAnswer } from "./attention.ts";
export type { EnginePatch, EngineRow, NextReason, Stage } from "./engine-rows.ts";
export type { NewAgentCall, NewRun, NextStep, RunPurpose, RunResult, RunRow } from "./runs.ts";
export type { BaseTip } from "./settings.ts";

/**
 * Where a unit goes when a person resolves its wait: READY, or BLOCKED while blockers added
 * meanwhile are unfinished (they release it when they finish, as for any blocked unit).
 */
function releasedStatus(unit: WorkUnit): Status {
  return unit.blocked_by.length > 0 ? "BLOCKED" : "READY";
}

export class EngineStore {
  constructor(readonly store: Store) {}

  // --- units ---------------------------------------------------------------------------------

  /** Creates scheduled units, all or none, in the order given (dependencies first). */
  inject(
    units: readonly { chunk: string; phase: Phase; blocked_by: string[]; goal: string | null }[],
    schedule: Schedule & { backend: string; verify?: string | null },
  ): WorkUnit[] {
    return this.store.atomically(() =>
      units.map((unit) => {
        const created = this.store.create({ chunk: unit.chunk, phase: unit.phase, blocked_by: unit.blocked_by }, schedule);
        this.store.engineRows.insert(unit.chunk, unit.goal, schedule.backend, schedule.verify ?? null);
        return created;
      }),
    );
  }

  engineRow(chunk: string): EngineRow | undefined {
    return this.store.engineRows.get(chunk);
  }

  /** Every scheduled unit that is not DONE, with its engine row, in creation order. */
  unitsInFlight(): { unit: WorkUnit; engine: EngineRow }[] {
    const result: { unit: WorkUnit; engine: EngineRow }[] = [];
    for (const chunk of this.store.engineRows.inFlight()) {
      const engine = this.store.engineRows.get(chunk);
      if (engine) result.push({ unit: this.store.get(chunk), engine });
    }
    return result;
  }

  /** Moves a unit on outside a run (landing, a refused start): status, engine row and attention at once. */
  advance(chunk: string, step: NextStep, runId: string | null = null): WorkUnit {
    return this.store.atomically(() => {
      if (step.base_tip) this.store.settings.publishBaseTip(step.base_tip.base, step.base_tip.tip, chunk);
      this.store.engineRows.patch(chunk, step.engine ?? {});
      this.store.attention.set(chunk, step.attention, runId);
      this.store.engineChange(chunk, { status: step.status, ...(step.phase ? { phase: step.phase } : {}) }, step.reason);
      return this.store.get(chunk);
    });
  }

  /**
   * Where a run made the unit's worktree, and (when it made the branch too) the base commit
   * the branch was made from: the unit's `worktree` and `branch_base_commit`, in one change.
   */
  worktreeMade(chunk: string, worktree: { path: string; branch: string; createdFrom: string | null }): void {
    this.store.atomically(() => {
      const made = worktree.createdFrom === null ? "" : `; branch ${worktree.branch} made from ${worktree.createdFrom}`;
      if (worktree.createdFrom !== null) this.store.engineRows.patch(chunk, { branch_base_commit: worktree.createdFrom });
      this.store.engineChange(chunk, { worktree: worktree.path }, `worktree ${worktree.path}${made}`);
    });
  }

  /** The tip of `base` the engine last published, if it has landed there (or a person accepted one). */
  baseTip(base: string): BaseTip | undefined {
    return this.store.settings.baseTip(base);
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
      if (acceptBase) this.store.settings.forgetBaseTip(unit.base_branch ?? "main");
      const engine = this.store.engineRows.get(chunk);
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
      this.store.engineRows.patch(chunk, {
        retries: {},
        retry_at: null,
        retry_kind: null,
        stage,
        ...(attention?.kind === "conflict" ? { conflict_runs: 0 } : {}),
        ...(attention?.kind === "gate" ? { gate_runs: 0 } : {}),
        ...(fresh ? { session_id: null } : {}),
        next_reason: attention
          ? { kind: "retry_after_attention", reason: attention.reason, ...(attention.code ? { code: attention.code } : {}) }
          : null,
      });
      this.store.attention.set(chunk, undefined, null);
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
      this.store.engineRows.patch(chunk, { next_reason: { kind: "answer", question, answer, run_id: runId } });
      this.store.attention.recordAnswer(chunk, unit.phase, runId, question, answer);
      this.store.attention.set(chunk, undefined, null);
      const line = answer.split("\n")[0] ?? "";
      const shown = line.length > 80 ? `${line.slice(0, 79)}…` : line;
      const why = `answered by a person: ${shown}`;
      this.store.engineChange(chunk, { status: releasedStatus(unit) }, unit.blocked_by.length > 0 ? `${why}; waits on its blockers` : why);
      return this.store.get(chunk);
    });
  }

  /** The operator's answers given in the unit's `phase` and not settled by its completion, oldest first. */
  phaseAnswers(chunk: string, phase: Phase): PhaseAnswer[] {
    return this.store.attention.phaseAnswers(chunk, phase);
  }

  /** The operator's answers by the run whose question each answers (every run, or one unit's). */
  answersByRun(chunk?: string): Map<string, { answer: string; answered_at: string }> {
    return this.store.attention.answersByRun(chunk);
  }

  // --- runs (runs.ts) ------------------------------------------------------------------------

  /** READY -> RUNNING with its open run; undefined when the unit moved meanwhile. */
  claim(chunk: string, expectedUpdatedAt: string, run: NewRun): RunRow | undefined {
    return this.store.runs.claim(chunk, expectedUpdatedAt, run);
  }

  recordProcess(runId: string, process: { pid: number; processStart: string; sessionId: string | null; version: string | null }): void {
    this.store.runs.recordProcess(runId, process);
  }

  recordVersion(runId: string, version: string): void {
    this.store.runs.recordVersion(runId, version);
  }

  recordSession(runId: string, sessionId: string): void {
    this.store.runs.recordSession(runId, sessionId);
  }

  /** Closes a run and moves its unit on; false when it was closed already (a person's forced change). */
  finishRun(runId: string, result: RunResult, next: NextStep): boolean {
    return this.store.runs.finish(runId, result, next);
  }

  run(id: string): RunRow | undefined {
    return this.store.runs.get(id);
  }

  runs(chunk?: string): RunRow[] {
    return this.store.runs.list(chunk);
  }

  openRun(chunk: string): RunRow | undefined {
    return this.store.runs.openOf(chunk);
  }

  openRuns(): RunRow[] {
    return this.store.runs.allOpen();
  }

  runByTokenHash(tokenHash: string): RunRow | undefined {
    return this.store.runs.byTokenHash(tokenHash);
  }

  runByTokenHashAny(tokenHash: string): RunRow | undefined {
    return this.store.runs.byTokenHashAny(tokenHash);
  }

  recordAgentCall(runId: string, call: NewAgentCall): AgentCall {
    return this.store.runs.recordAgentCall(runId, call);
  }

  agentCalls(runId: string): AgentCall[] {
    return this.store.runs.agentCalls(runId);
  }

  agentCallsByRun(chunk?: string): Map<string, AgentCall[]> {
    return this.store.runs.agentCallsByRun(chunk);
  }

  // --- settings (settings.ts) ----------------------------------------------------------------

  config(): Map<string, ConfigValue> {
    return this.store.settings.config();
  }

  setConfig(key: string, value: ConfigValue | undefined): void {
    this.store.settings.setConfig(key, value);
  }
}
