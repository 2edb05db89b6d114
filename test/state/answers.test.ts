// An answer in the engine's state: it is the reason of the unit's next run, and a run that is
// interrupted (the daemon stopped or died) before it finished keeps it for the run after, so a
// backend without a session to carry the answer does not lose it.
import { describe, expect, test } from "bun:test";
import { EngineStore } from "../../src/state/engine.ts";
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

const ANSWER = { kind: "answer", question: "Which?", answer: "this one", run_id: "r0" };

describe("an answer as the next run's reason", () => {
  test("an interrupted run keeps the answer for the next one", () => {
    const state = asked();
    claim(state, "r1");
    state.finishRun("r1", { outcome: "interrupted", reason: "the daemon stopped", exit_code: null }, {
      status: "READY",
      reason: "the daemon stopped",
      engine: { next_reason: JSON.stringify({ kind: "interrupted" }) },
    });
    expect(JSON.parse(state.engineRow("q")?.next_reason ?? "null")).toEqual(ANSWER);
    expect(state.store.get("q").status).toBe("READY");
  });

  test("a run that ends otherwise replaces it with its own reason", () => {
    const state = asked();
    claim(state, "r1");
    state.finishRun("r1", { outcome: "failed", reason: "boom", exit_code: 1 }, {
      status: "READY",
      reason: "retry",
      engine: { next_reason: JSON.stringify({ kind: "retry", error: "boom" }) },
    });
    expect(JSON.parse(state.engineRow("q")?.next_reason ?? "null")).toEqual({ kind: "retry", error: "boom" });
  });
});
