// An answer in the engine's state: it is the reason of the unit's next run, and a run that is
// interrupted (the daemon stopped or died) before it finished keeps it for the run after, so a
// backend without a session to carry the answer does not lose it. Every answer is also kept
// with its phase, for every later run of the phase, until a run completes the phase.
import { describe, expect, test } from "bun:test";
import { closeDatabase, openDatabase } from "../../src/state/database.ts";
import { EngineStore } from "../../src/state/engine.ts";
import { MIGRATIONS } from "../../src/state/migrations.ts";
import { Store } from "../../src/state/store.ts";
import { useStores } from "./support.ts";

const stores = useStores("ve-answers");

function asked() {
  const state = new EngineStore(stores.open());
  state.inject([{ chunk: "q", phase: "IMPLEMENT", blocked_by: [], goal: null }], { priority: 0, base_branch: "main", backend: "command" });
  state.advance("q", { status: "NEEDS_ATTENTION", reason: "asked", attention: { kind: "question", reason: "asked", question: "Which?" } }, "r0");
  state.answer("q", "this one");
  return state;
}

function claim(state: EngineStore, id: string) {
  const unit = state.store.get("q");
  const run = state.claim("q", unit.updated_at, { id, purpose: "phase", backend: "command", tokenHash: id, sessionId: null });
  expect(run?.id).toBe(id);
}

const ANSWER = { kind: "answer", question: "Which?", answer: "this one", run_id: "r0" } as const;

describe("an answer as the next run's reason", () => {
  test("an interrupted run keeps the answer for the next one", () => {
    const state = asked();
    claim(state, "r1");
    state.finishRun("r1", { outcome: "interrupted", reason: "the daemon stopped", exit_code: null }, {
      status: "READY",
      reason: "the daemon stopped",
      engine: { next_reason: { kind: "interrupted" } },
    });
    expect(state.engineRow("q")?.next_reason ?? null).toEqual(ANSWER);
    expect(state.store.get("q").status).toBe("READY");
  });

  test("a run that ends otherwise replaces it with its own reason", () => {
    const state = asked();
    claim(state, "r1");
    state.finishRun("r1", { outcome: "failed", reason: "boom", exit_code: 1 }, {
      status: "READY",
      reason: "retry",
      engine: { next_reason: { kind: "retry", error: "boom" } },
    });
    expect(state.engineRow("q")?.next_reason ?? null).toEqual({ kind: "retry", error: "boom" });
  });
});

describe("the answers of a phase", () => {
  const ask = (state: EngineStore, runId: string, question: string) => {
    claim(state, runId);
    state.finishRun(runId, { outcome: "question", reason: "asked", exit_code: 0 }, {
      status: "NEEDS_ATTENTION",
      reason: "asked",
      attention: { kind: "question", reason: "asked", question },
    });
  };
  const texts = (state: EngineStore, phase: "IMPLEMENT" | "COMPLETE" = "IMPLEMENT") => state.phaseAnswers("q", phase).map((a) => [a.question, a.answer, a.run_id]);

  test("are kept in order with the run that asked, through failed runs, until a run completes the phase", () => {
    const state = asked();
    ask(state, "r1", "And then?");
    state.answer("q", "that one");
    expect(texts(state)).toEqual([
      ["Which?", "this one", "r0"],
      ["And then?", "that one", "r1"],
    ]);
    claim(state, "r2");
    state.finishRun("r2", { outcome: "failed", reason: "boom", exit_code: 1 }, { status: "READY", reason: "retry", engine: { next_reason: { kind: "retry", error: "boom" } } });
    // A person's fresh retry forgets the session, not the answers.
    state.advance("q", { status: "NEEDS_ATTENTION", reason: "failed", attention: { kind: "error", reason: "failed" } }, "r2");
    state.retry("q", true);
    expect(texts(state)).toHaveLength(2);
    claim(state, "r3");
    state.finishRun("r3", { outcome: "completed", reason: "done", exit_code: 0 }, { status: "READY", phase: "COMPLETE", reason: "phase done", phase_done: true });
    expect(texts(state)).toEqual([]);
    expect(texts(state, "COMPLETE")).toEqual([]);
  });

  test("belong to their phase: a unit moved to another phase does not get them, and completing that phase does not settle them", () => {
    const state = asked();
    state.store.update("q", { phase: "COMPLETE" });
    expect(texts(state, "COMPLETE")).toEqual([]);
    expect(texts(state)).toEqual([["Which?", "this one", "r0"]]);
    claim(state, "r1");
    state.finishRun("r1", { outcome: "completed", reason: "done", exit_code: 0 }, { status: "READY", reason: "phase done", phase_done: true });
    state.store.update("q", { phase: "IMPLEMENT", force: true });
    expect(texts(state)).toEqual([["Which?", "this one", "r0"]]);
  });

  test("go with their unit when it is deleted", () => {
    const state = asked();
    state.store.delete("q");
    expect(state.store.db.query("SELECT count(*) AS n FROM operator_answers").get()).toEqual({ n: 0 });
  });

  test("an answer given before they were kept (in next_reason only) is carried over by the migration", () => {
    const path = stores.newPath();
    const { db } = openDatabase(path, { migrations: MIGRATIONS.slice(0, 6) });
    const t0 = "2026-12-01T00:00:00.000Z";
    const unit = db.query("INSERT INTO work_units (chunk, phase, status, created_at, updated_at, status_changed_at, scheduled) VALUES (?, 'PLAN', 'READY', ?, ?, ?, 1)");
    const engine = db.query("INSERT INTO unit_engine (chunk, backend, next_reason) VALUES (?, 'command', ?)");
    unit.run("answered", t0, t0, t0);
    engine.run("answered", JSON.stringify(ANSWER));
    unit.run("retried", t0, t0, t0);
    engine.run("retried", JSON.stringify({ kind: "retry", error: "boom" }));
    closeDatabase(db);
    const state = new EngineStore(Store.open(path));
    try {
      expect(state.phaseAnswers("answered", "PLAN")).toEqual([{ question: "Which?", answer: "this one", run_id: "r0", answered_at: t0 }]);
      expect(state.phaseAnswers("retried", "PLAN")).toEqual([]);
    } finally {
      state.store.close();
    }
  });
});
