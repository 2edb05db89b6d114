// The attention group: what a unit waits on a person for (attention), and the operator's
// answers to its questions (operator_answers), kept until the phase they belong to is done.
import type { Phase } from "../domain.ts";
import type { AttentionKind } from "../models/index.ts";
import type { StateContext } from "./context.ts";

/** An attention record as the engine writes it; `since` and the run are added here. */
export interface NewAttention {
  kind: AttentionKind;
  reason: string;
  question?: string;
  options?: string[];
  code?: string;
}

/** An operator's answer to a question of the unit's current phase, not yet settled. */
export interface PhaseAnswer {
  question: string;
  answer: string;
  /** The run whose question it answers. */
  run_id: string | null;
  answered_at: string;
}

export class AttentionRecords {
  constructor(private readonly ctx: StateContext) {}

  /** Replaces the unit's record (none: it waits on nobody). */
  set(chunk: string, attention: NewAttention | undefined, runId: string | null): void {
    const { db } = this.ctx;
    db.query("DELETE FROM attention WHERE chunk = ?").run(chunk);
    if (!attention) return;
    db.query("INSERT INTO attention (chunk, kind, reason, question, options, since, run_id, code) VALUES (?, ?, ?, ?, ?, ?, ?, ?)").run(
      chunk,
      attention.kind,
      attention.reason,
      attention.question ?? null,
      attention.options ? JSON.stringify(attention.options) : null,
      this.ctx.timestamp(),
      runId,
      attention.code ?? null,
    );
  }

  recordAnswer(chunk: string, phase: Phase, runId: string | null, question: string, answer: string): void {
    this.ctx.db
      .query("INSERT INTO operator_answers (chunk, phase, run_id, question, answer, answered_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(chunk, phase, runId, question, answer, this.ctx.timestamp());
  }

  /** The phase was completed: its answers are settled, and the runs that follow start without them. */
  settleAnswers(chunk: string, phase: Phase): void {
    this.ctx.db
      .query("UPDATE operator_answers SET settled_at = ? WHERE chunk = ? AND phase = ? AND settled_at IS NULL")
      .run(this.ctx.timestamp(), chunk, phase);
  }

  /** The operator's answers given in the unit's `phase` and not settled by its completion, oldest first. */
  phaseAnswers(chunk: string, phase: Phase): PhaseAnswer[] {
    return this.ctx.db
      .query("SELECT question, answer, run_id, answered_at FROM operator_answers WHERE chunk = ? AND phase = ? AND settled_at IS NULL ORDER BY id")
      .all(chunk, phase) as PhaseAnswer[];
  }

  /** The operator's answers by the run whose question each answers (every run, or one unit's). */
  answersByRun(chunk?: string): Map<string, { answer: string; answered_at: string }> {
    const { db } = this.ctx;
    const rows = (
      chunk === undefined
        ? db.query("SELECT run_id, answer, answered_at FROM operator_answers WHERE run_id IS NOT NULL ORDER BY id").all()
        : db.query("SELECT run_id, answer, answered_at FROM operator_answers WHERE run_id IS NOT NULL AND chunk = ? ORDER BY id").all(chunk)
    ) as { run_id: string; answer: string; answered_at: string }[];
    return new Map(rows.map(({ run_id, ...answer }) => [run_id, answer]));
  }
}
