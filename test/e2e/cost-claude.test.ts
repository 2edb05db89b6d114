// What a run cost, end to end: dist/ve runs the REAL claude (node_modules/.bin/claude) against
// the scripted mock Anthropic API. Claude Code reports `total_cost_usd` as the session's running
// total across `--resume`; each run must carry its own share, so a unit's runs add up to what
// the mock billed.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join, resolve } from "node:path";
import { CLAUDE_REAL_ACCOUNT, type MockAnthropic, type RecordedRequest, claudeEnv, startMockAnthropic } from "../helpers/mock-anthropic.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { type AgentDaemon, GIT_ENV, type UnitJson, expectOk, initRepo, startAgentDaemon } from "./engine-harness.ts";
import { json } from "./harness.ts";

const CLAUDE = resolve(import.meta.dir, "../../node_modules/.bin/claude");
const scratch = useTempDirs("ve-cost-claude");
setDefaultTimeout(180_000);
const SETTLE_MS = 150_000;
// What Claude Code 2.1.328 charges per million tokens for the mock's model (list prices).
const INPUT_USD_PER_MTOK = 4;
const OUTPUT_USD_PER_MTOK = 20;

interface RunJson {
  id: string;
  phase: string;
  outcome: string | null;
  session_id: string | null;
  cost_usd: number | null;
  session_cost_usd: number | null;
  models: string[];
  billing: string | null;
}

const forChunk = (chunk: string) => `on branch ve/${chunk}. `;

/** What the mock billed for the requests it answered: the tokens it reported at the test's prices. */
function billed(requests: RecordedRequest[]): number {
  return requests.reduce((sum, r) => sum + (r.served ? (r.served.input_tokens * INPUT_USD_PER_MTOK + r.served.output_tokens * OUTPUT_USD_PER_MTOK) / 1e6 : 0), 0);
}

describe("cost per run, real claude against the mock API", () => {
  let d: AgentDaemon<RunJson>;
  let mock: MockAnthropic;

  beforeAll(async () => {
    const dir = join(scratch(), "repo");
    initRepo(dir);
    const wt = join(dir, ".ve", "worktrees", "resumed");
    mock = await startMockAnthropic([
      {
        match: forChunk("resumed"),
        turns: [
          { tool: { name: "mcp__ve__ask_operator", input: { question: "Which greeting?", options: ["hello", "hi"] } }, usage: { input_tokens: 300, output_tokens: 30 } },
          { text: "Asked; ending my turn.", usage: { input_tokens: 400, output_tokens: 10 } },
          // Resumed with the answer.
          () => ({ tool: { name: "Write", input: { file_path: join(wt, "greeting.txt"), content: "hi\n" } }, usage: { input_tokens: 700, output_tokens: 50 } }),
          { text: "Wrote greeting.txt.", usage: { input_tokens: 900, output_tokens: 15 } },
          // COMPLETE, resumed again.
          { text: "Checked against the goal.", usage: { input_tokens: 1200, output_tokens: 25 } },
        ],
      },
    ]);
    const { env: base } = claudeEnv(mock, scratch());
    const env = { ...CLAUDE_REAL_ACCOUNT, ...GIT_ENV, ...base };
    d = await startAgentDaemon<RunJson>(dir, env, {
      backend: "claude",
      "backends.claude.path": CLAUDE,
      max_agents: "1",
      silence_timeout_s: "120",
      backoff_base_s: "1",
      backoff_max_s: "2",
    }, SETTLE_MS, () => mock.stop());
    expectOk(await d.ve(["orch", "inject", "resumed", "--phase", "IMPLEMENT"]));
  });

  afterAll(async () => {
    await d?.close();
  });

  test("a session resumed across three runs: each run's cost is its own, and they add up to what the mock billed", async () => {
    await d.unit("resumed", (u: UnitJson) => u.status === "NEEDS_ATTENTION");
    expectOk(await d.ve(["orch", "answer", "resumed", "--option", "2"]));
    const { unit, runs } = await d.unit("resumed", (u: UnitJson) => u.status === "DONE" || (u.status === "NEEDS_ATTENTION" && u.attention?.kind !== "question"));
    expect(unit.status).toBe("DONE");
    expect(runs.map((r) => [r.phase, r.outcome])).toEqual([
      ["IMPLEMENT", "question"],
      ["IMPLEMENT", "completed"],
      ["COMPLETE", "completed"],
    ]);
    // One session throughout: the later runs resumed it, and Claude's total kept growing.
    expect(new Set(runs.map((r) => r.session_id)).size).toBe(1);
    const totals = runs.map((r) => r.session_cost_usd as number);
    expect(totals[0]).toBeLessThan(totals[1]!);
    expect(totals[1]).toBeLessThan(totals[2]!);
    // Each run's own cost is what its own requests were billed, not the running total.
    const sum = runs.reduce((s, r) => s + (r.cost_usd as number), 0);
    expect(sum).toBeCloseTo(totals[2]!, 9);
    expect(sum).toBeCloseTo(billed(mock.messages()), 9);
    expect(runs[1]!.cost_usd).toBeCloseTo(totals[1]! - totals[0]!, 9);
    for (const r of runs) {
      expect(r.cost_usd).toBeGreaterThan(0);
      expect(r.models.length).toBeGreaterThan(0);
      expect(r.billing).toBe("api_key");
    }
  });

  test("`ve orch cost --by day --json` over runs spread across days sums each day's runs", async () => {
    const { runs } = await d.unit("resumed", (u: UnitJson) => u.status === "DONE");
    const days = ["2026-11-30T23:59:59.000Z", "2026-12-01T00:00:00.000Z", "2026-12-01T12:00:00.000Z"];
    // The daemon holds the database while it runs: the times are set while it is stopped.
    expectOk(await d.ve(["orch", "stop"]));
    const db = new Database(join(d.dir, ".ve", "orchestrator.db"));
    try {
      runs.forEach((r, i) => db.query("UPDATE runs SET started_at = ? WHERE id = ?").run(days[i]!, r.id));
    } finally {
      db.close();
    }
    expectOk(await d.ve(["orch", "start"]));
    const cost = (r: RunJson) => r.cost_usd as number;
    const doc = json<{ by: string; sums: { key: string; runs: number; usd: number | null }[] }>(expectOk(await d.ve(["orch", "cost", "--by", "day", "--json"])));
    expect(doc.by).toBe("day");
    expect(doc.sums.map((s) => [s.key, s.runs])).toEqual([["2026-11-30", 1], ["2026-12-01", 2], ["total", 3]]);
    expect(doc.sums[0]!.usd).toBeCloseTo(cost(runs[0]!), 9);
    expect(doc.sums[1]!.usd).toBeCloseTo(cost(runs[1]!) + cost(runs[2]!), 9);
    expect(doc.sums[2]!.usd).toBeCloseTo(billed(mock.messages()), 9);
    const since = json<{ sums: { key: string; runs: number }[] }>(expectOk(await d.ve(["orch", "cost", "--since", "2026-12-01", "--json"])));
    expect(since.sums).toEqual([expect.objectContaining({ key: "total", runs: 2 })]);
    const bad = await d.ve(["orch", "cost", "--by", "week"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("--by must be one of unit, phase, backend, model, day, not 'week'");
  });
});
