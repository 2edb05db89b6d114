// The attention routes over a real store (no daemon, no agents): the queue's order and
// shape, answers and their refusals, retrying all or one kind. The engine's side of an answer
// (the next run's reason) is read back from the engine row.
import { describe, expect, test } from "bun:test";
import { AttentionQueue, RetriedUnits, WorkUnit } from "../../src/models/index.ts";
import { EngineStore } from "../../src/state/engine.ts";
import { expectError, expectOk, send, useApi } from "./helpers.ts";

const setup = useApi("ve-api-attention");

function world() {
  const api = setup();
  const state = new EngineStore(api.store);
  state.inject(
    [
      { chunk: "asks", phase: "IMPLEMENT", blocked_by: [], goal: null },
      { chunk: "fails", phase: "PLAN", blocked_by: [], goal: null },
      { chunk: "after", phase: "GOAL", blocked_by: ["asks"], goal: null },
      { chunk: "idle", phase: "GOAL", blocked_by: [], goal: null },
    ],
    { priority: 0, base_branch: "main", backend: "command" },
  );
  state.advance("fails", { status: "NEEDS_ATTENTION", reason: "failed", attention: { kind: "error", reason: "Run r1 failed: boom" } }, "r1");
  state.advance(
    "asks",
    { status: "NEEDS_ATTENTION", reason: "asked", attention: { kind: "question", reason: "the agent asked", question: "Which one?", options: ["left", "right"] } },
    "r2",
  );
  return { ...api, state };
}

describe("GET /attention", () => {
  test("the queue: what releases more first, each with its record, options and command", async () => {
    const { app } = world();
    const queue = expectOk<AttentionQueue>(await send(app, "GET", "/attention"), 200, AttentionQueue);
    expect(queue.count).toBe(2);
    expect(queue.attention.map((a) => [a.chunk, a.kind, a.releases, a.run_id, a.command])).toEqual([
      ["asks", "question", 1, "r2", "ve orch answer asks --option N"],
      ["fails", "error", 0, "r1", "ve orch retry fails"],
    ]);
    expect(queue.attention[0]).toMatchObject({ question: "Which one?", options: ["left", "right"], phase: "IMPLEMENT", scheduled: true });
    const only = expectOk<AttentionQueue>(await send(app, "GET", "/attention?kind=error"), 200, AttentionQueue);
    expect(only.attention.map((a) => a.chunk)).toEqual(["fails"]);
    expectError(await send(app, "GET", "/attention?kind=panic"), 400, "validation_failed");
  });

  test("a tracked unit set NEEDS_ATTENTION by hand is in the queue without a record", async () => {
    const { app, store } = setup();
    store.create({ chunk: "manual" });
    store.update("manual", { status: "NEEDS_ATTENTION", actor: "me" });
    const queue = expectOk<AttentionQueue>(await send(app, "GET", "/attention"), 200, AttentionQueue);
    expect(queue.attention).toHaveLength(1);
    expect(queue.attention[0]).toMatchObject({ chunk: "manual", kind: null, scheduled: false, question: null, options: [], command: "ve orch work-unit status manual READY" });
    expect(queue.attention[0]?.reason).toBe("requested");
  });

  test("nothing waiting: an empty queue", async () => {
    const { app } = setup();
    expect(expectOk<AttentionQueue>(await send(app, "GET", "/attention"), 200, AttentionQueue)).toEqual({ attention: [], count: 0 });
  });
});

describe("POST /work-units/:chunk/answer", () => {
  test("an option by its number: READY, the record gone, the question and answer the next run's reason", async () => {
    const { app, state } = world();
    const unit = expectOk<WorkUnit>(await send(app, "POST", "/work-units/asks/answer", { json: { option: 2 } }), 200, WorkUnit);
    expect(unit.status).toBe("READY");
    expect(unit.attention).toBeNull();
    expect(state.engineRow("asks")?.next_reason ?? null).toEqual({ kind: "answer", question: "Which one?", answer: "right", run_id: "r2" });
  });

  test("text, kept as written", async () => {
    const { app, state } = world();
    expectOk(await send(app, "POST", "/work-units/asks/answer", { json: { answer: "Neither:\n  go up." } }), 200, WorkUnit);
    expect((state.engineRow("asks")?.next_reason as { answer?: string } | null)?.answer).toBe("Neither:\n  go up.");
  });

  test("a unit whose blockers are unfinished goes to BLOCKED, and its blockers release it", async () => {
    const { app, store, state } = world();
    store.update("asks", { blocked_by: ["idle"] });
    expect(expectOk<WorkUnit>(await send(app, "POST", "/work-units/asks/answer", { json: { answer: "ok" } }), 200, WorkUnit).status).toBe("BLOCKED");
    state.advance("idle", { status: "DONE", reason: "landed" });
    expect(store.get("asks").status).toBe("READY");
  });

  test("refusals: not waiting, not a question, bad options; nothing changes", async () => {
    const { app, store, state } = world();
    const before = store.list();
    const rows = ["asks", "fails", "after", "idle"].map((c) => state.engineRow(c));
    expectError(await send(app, "POST", "/work-units/nope/answer", { json: { answer: "x" } }), 404, "not_found");
    const idle = expectError(await send(app, "POST", "/work-units/idle/answer", { json: { answer: "x" } }), 409, "not_waiting");
    expect(idle.message).toBe("Work unit 'idle' is READY, not waiting on a person; only a unit waiting on its question can be answered.");
    expect(idle.details).toEqual({ chunk: "idle", status: "READY" });
    const after = expectError(await send(app, "POST", "/work-units/after/answer", { json: { answer: "x" } }), 409, "not_waiting");
    expect(after.details).toEqual({ chunk: "after", status: "BLOCKED" });
    const fails = expectError(await send(app, "POST", "/work-units/fails/answer", { json: { answer: "x" } }), 409, "not_a_question");
    expect(fails.message).toContain("`ve orch retry fails` runs it again");
    expect(fails.details).toEqual({ chunk: "fails", status: "NEEDS_ATTENTION", kind: "error" });
    for (const body of [{}, { answer: "x", option: 1 }, { option: 3 }, { option: 0 }, { answer: "" }, { answer: "   " }, { answer: 5 }, { option: 1.5 }, { extra: 1 }]) {
      expectError(await send(app, "POST", "/work-units/asks/answer", { json: body }), 400, "validation_failed");
    }
    expect(store.list()).toEqual(before);
    expect(["asks", "fails", "after", "idle"].map((c) => state.engineRow(c))).toEqual(rows);
    expect(store.db.query("SELECT count(*) AS n FROM operator_answers").get()).toEqual({ n: 0 });
  });

  test("two answers at once: one is taken and kept, the other is not_waiting and kept nowhere", async () => {
    const { app, store, state } = world();
    const replies = await Promise.all(["left", "right"].map((answer) => send(app, "POST", "/work-units/asks/answer", { json: { answer } })));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 409]);
    const taken = replies[0]?.status === 200 ? "left" : "right";
    const refused = replies.find((r) => r.status === 409);
    if (refused) expectError(refused, 409, "not_waiting");
    expect(state.phaseAnswers("asks", "IMPLEMENT").map((a) => [a.question, a.answer, a.run_id])).toEqual([["Which one?", taken, "r2"]]);
    expect((state.engineRow("asks")?.next_reason as { answer?: string } | null)?.answer).toBe(taken);
    expect(store.history("asks").filter((h) => h.reason?.startsWith("answered by a person"))).toHaveLength(1);
  });
});

describe("POST /attention/retry", () => {
  test("every wait, or only one kind: READY with fresh counters; fresh drops the sessions", async () => {
    const { app, store, state } = world();
    store.db.query("UPDATE unit_engine SET retries = '{\"failed\":2}', session_id = 's1' WHERE chunk = 'fails'").run();
    const errors = expectOk<RetriedUnits>(await send(app, "POST", "/attention/retry", { json: { kind: "error", fresh: true } }), 200, RetriedUnits);
    expect(errors.retried.map((u) => [u.chunk, u.status])).toEqual([["fails", "READY"]]);
    expect(state.engineRow("fails")).toMatchObject({ retries: {}, session_id: null, retry_at: null });
    expect(store.get("asks").status).toBe("NEEDS_ATTENTION");
    const rest = expectOk<RetriedUnits>(await send(app, "POST", "/attention/retry", { json: {} }), 200, RetriedUnits);
    expect(rest.retried.map((u) => u.chunk)).toEqual(["asks"]);
    expect(expectOk<RetriedUnits>(await send(app, "POST", "/attention/retry", { json: {} }), 200, RetriedUnits)).toEqual({ retried: [], count: 0 });
    expectError(await send(app, "POST", "/attention/retry", { json: { kind: "nope" } }), 400, "validation_failed");
  });
});
