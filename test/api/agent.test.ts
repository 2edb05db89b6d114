// POST /agent/ask and /agent/done: an agent speaks only for its own open run. The run's secret
// travels in the x-ve-run-token header; a missing one, one of no run or of another run, and one
// of a run that has ended are refused with their own codes, and nothing changes.
import { describe, expect, test } from "bun:test";
import { hashRunToken, newRunToken } from "../../src/engine/run-token.ts";
import { AgentCallRecorded, RUN_TOKEN_HEADER, Run } from "../../src/models/index.ts";
import { EngineStore } from "../../src/state/engine.ts";
import { expectOk, send, useApi } from "./helpers.ts";

const setup = useApi("ve-api-agent");

function withRuns() {
  const api = setup();
  const state = new EngineStore(api.store);
  state.inject(
    [
      { chunk: "alpha", phase: "PLAN", blocked_by: [], goal: null },
      { chunk: "beta", phase: "PLAN", blocked_by: [], goal: null },
    ],
    { priority: 0, base_branch: "main", backend: "command" },
  );
  const open = (chunk: string, id: string) => {
    const token = newRunToken();
    const unit = api.store.get(chunk);
    const run = state.claim(chunk, unit.updated_at, { id, purpose: "phase", backend: "command", tokenHash: hashRunToken(token), sessionId: null });
    if (!run) throw new Error(`could not claim ${chunk}`);
    return { id, token };
  };
  return { ...api, state, alpha: open("alpha", "20261201-120000-aaaaaa"), beta: open("beta", "20261201-120000-bbbbbb") };
}

/** Everything a refused call could have changed. */
function snapshot(api: ReturnType<typeof withRuns>) {
  return JSON.stringify({
    units: api.store.list(),
    runs: api.state.runs(),
    calls: [...api.state.agentCallsByRun()],
    history: ["alpha", "beta"].map((c) => api.store.history(c)),
  });
}

const ask = (token: string | undefined, body: unknown): { json: unknown; headers: Record<string, string> } => ({
  json: body,
  headers: token === undefined ? {} : { [RUN_TOKEN_HEADER]: token },
});

describe("an agent's calls about its own run", () => {
  test("ask with the run's own secret is recorded against that run and answered at once", async () => {
    const api = withRuns();
    const reply = expectOk<AgentCallRecorded>(
      await send(api.app, "POST", "/agent/ask", ask(api.alpha.token, { run_id: api.alpha.id, question: "Keep the old API?", options: ["keep it", "remove it, with a shim"], via: "mcp" })),
      201,
      AgentCallRecorded,
    );
    expect(reply).toMatchObject({ run_id: api.alpha.id, chunk: "alpha", call: { kind: "ask", via: "mcp", question: "Keep the old API?", options: ["keep it", "remove it, with a shim"] } });
    expect(reply.message).toContain("End your turn now");
    const run = expectOk<Run>(await send(api.app, "GET", `/runs/${api.alpha.id}`), 200, Run);
    expect(run.agent_calls).toEqual([reply.call]);
    // The other run heard nothing, and the unit stays RUNNING until the run ends.
    expect(api.state.agentCalls(api.beta.id)).toEqual([]);
    expect(api.store.get("alpha").status).toBe("RUNNING");
  });

  test("done records its summary on the run, shown by GET /runs and GET /runs/:id", async () => {
    const api = withRuns();
    expectOk(await send(api.app, "POST", "/agent/done", ask(api.beta.token, { run_id: api.beta.id, summary: "Plan written." })), 201, AgentCallRecorded);
    const run = expectOk<Run>(await send(api.app, "GET", `/runs/${api.beta.id}`), 200, Run);
    expect(run.summary).toBe("Plan written.");
    expect(run.agent_calls).toMatchObject([{ kind: "done", via: "cli", summary: "Plan written.", question: null }]);
    const list = (await send(api.app, "GET", "/runs")).body as { runs: Run[] };
    expect(list.runs.find((r) => r.id === api.beta.id)?.summary).toBe("Plan written.");
    expect(list.runs.find((r) => r.id === api.alpha.id)).toMatchObject({ summary: null, agent_calls: [] });
  });

  const refusals: [string, (api: ReturnType<typeof withRuns>) => { path: string; token: string | undefined; body: unknown }, number, string][] = [
    ["no secret at all", (api) => ({ path: "/agent/ask", token: undefined, body: { run_id: api.alpha.id, question: "q?" } }), 401, "run_token_missing"],
    ["an empty secret", (api) => ({ path: "/agent/done", token: "", body: { run_id: api.alpha.id, summary: "s" } }), 401, "run_token_missing"],
    ["a secret of no run", (api) => ({ path: "/agent/ask", token: newRunToken(), body: { run_id: api.alpha.id, question: "q?" } }), 401, "run_token_invalid"],
    ["another run's id with this run's secret", (api) => ({ path: "/agent/ask", token: api.alpha.token, body: { run_id: api.beta.id, question: "q?" } }), 401, "run_token_invalid"],
    ["this run's id with another run's secret", (api) => ({ path: "/agent/done", token: api.beta.token, body: { run_id: api.alpha.id, summary: "s" } }), 401, "run_token_invalid"],
    ["a run id that does not exist", (api) => ({ path: "/agent/ask", token: api.alpha.token, body: { run_id: "20990101-000000-ffffff", question: "q?" } }), 401, "run_token_invalid"],
  ];
  for (const [what, make, status, code] of refusals) {
    test(`refused: ${what} (${status} ${code}), and nothing changes`, async () => {
      const api = withRuns();
      const before = snapshot(api);
      const { path, token, body } = make(api);
      const reply = await send(api.app, "POST", path, ask(token, body));
      expect(reply.status).toBe(status);
      expect((reply.body as { error: { code: string } }).error.code).toBe(code);
      expect(snapshot(api)).toBe(before);
    });
  }

  test("refused: the secret of a run that has ended (403 run_not_open), and nothing changes", async () => {
    const api = withRuns();
    api.state.finishRun(api.alpha.id, { outcome: "completed", reason: "done", exit_code: 0 }, { status: "READY", reason: "phase PLAN done" });
    const before = snapshot(api);
    for (const [path, body] of [
      ["/agent/ask", { run_id: api.alpha.id, question: "late?" }],
      ["/agent/done", { run_id: api.alpha.id, summary: "late" }],
    ] as const) {
      const reply = await send(api.app, "POST", path, ask(api.alpha.token, body));
      expect(reply.status).toBe(403);
      expect((reply.body as { error: { code: string; message: string } }).error).toMatchObject({ code: "run_not_open" });
      expect((reply.body as { error: { message: string } }).error.message).toContain("has ended");
    }
    expect(snapshot(api)).toBe(before);
  });

  test("a question must have words; options are a short list of non-empty strings", async () => {
    const api = withRuns();
    const before = snapshot(api);
    for (const body of [
      { run_id: api.alpha.id, question: "" },
      { run_id: api.alpha.id, question: "   " },
      { run_id: api.alpha.id },
      { run_id: api.alpha.id, question: "q?", options: [""] },
      { run_id: api.alpha.id, question: "q?", options: Array.from({ length: 21 }, (_, i) => `o${i}`) },
      { run_id: api.alpha.id, question: "q?", extra: 1 },
      { question: "q?" },
    ]) {
      const reply = await send(api.app, "POST", "/agent/ask", ask(api.alpha.token, body));
      expect({ body, status: reply.status }).toEqual({ body, status: 400 });
    }
    expect(snapshot(api)).toBe(before);
  });
});
