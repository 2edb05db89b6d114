// `ve orch runs` as a person reads it: each run's backend, the CLI version it ran, outcome,
// duration, turns, and what it spent (Claude Code's cost; Codex's tokens).
import { describe, expect, test } from "bun:test";
import { runTable } from "../../src/cli/commands/orch/runs.ts";
import type { Run } from "../../src/models/index.ts";

function run(overrides: Partial<Run>): Run {
  return {
    id: "20261202-010000-abcdef",
    chunk: "parser",
    phase: "IMPLEMENT",
    attempt: 1,
    purpose: "phase",
    backend: "claude",
    backend_version: "2.1.328",
    session_id: null,
    pid: null,
    process_start: null,
    started_at: "2026-12-02T01:00:00.000Z",
    ended_at: "2026-12-02T01:01:05.000Z",
    outcome: "completed",
    reason: "done",
    exit_code: 0,
    cost_usd: 0.0123,
    session_cost_usd: 0.0123,
    models: ["claude-opus-5-5"],
    billing: "api_key",
    turns: 4,
    input_tokens: 1200,
    output_tokens: 80,
    summary: null,
    agent_calls: [],
    answer: null,
    answered_at: null,
    log: "/p/.ve/runs/parser/x.jsonl",
    ...overrides,
  };
}

describe("ve orch runs table", () => {
  test("claude: backend, version, outcome, duration, turns and cost", () => {
    const lines = runTable([run({})]).split("\n");
    expect(lines[0]).toMatch(/^RUN\s+CHUNK\s+PHASE\s+TRY\s+BACKEND\s+VERSION\s+OUTCOME\s+TIME\s+TURNS\s+COST\s+SUMMARY$/);
    expect(lines[1]).toMatch(/parser\s+IMPLEMENT\s+1\s+claude\s+2\.1\.328\s+completed\s+1m ?5s\s+4\s+\$0\.0123\s+-$/);
  });

  test("codex (no cost): tokens instead; a running run says running; no version read shows -", () => {
    const table = runTable(
      [
        run({ backend: "codex", backend_version: "0.169.0", cost_usd: null, turns: null, input_tokens: 5000, output_tokens: 300 }),
        run({ backend: "command", backend_version: null, outcome: null, ended_at: null, cost_usd: null, turns: null, input_tokens: null, output_tokens: null }),
      ],
      Date.parse("2026-12-02T01:00:02.000Z"),
    );
    const [, codex, command] = table.split("\n");
    expect(codex).toMatch(/codex\s+0\.169\.0\s+completed\s+1m 5s\s+-\s+5000\+300 tok\s+-$/);
    expect(command).toMatch(/command\s+-\s+running\s+2s\s+-\s+-\s+-$/);
  });

  test("the summary the agent reported, else the question it asked, on one short line", () => {
    const at = "2026-12-02T01:00:30.000Z";
    const table = runTable([
      run({ summary: "Parser written.\nTests pass." }),
      run({ outcome: "question", agent_calls: [{ kind: "ask", via: "mcp", question: "Which grammar?", options: ["a", "b"], summary: null, at }] }),
      run({ summary: "x".repeat(200) }),
    ]);
    const [, done, asked, long] = table.split("\n");
    expect(done).toMatch(/\s+Parser written\.$/);
    expect(asked).toMatch(/\s+asked: Which grammar\?$/);
    expect(long).toMatch(/\s+x{59}…$/);
  });
});
