import { describe, expect, test } from "bun:test";
import { type CostGroup, type CostRun, type PriorRun, costSums, ownRunCost } from "../../src/engine/cost.ts";

const ended = "2026-12-01T00:00:00.000Z";
const run = (session_id: string | null, session_cost_usd: number | null, ended_at: string | null = ended): PriorRun => ({ session_id, session_cost_usd, ended_at });

describe("ownRunCost", () => {
  const cases: Array<[string, number | null, string | null, PriorRun[], number | null]> = [
    ["no cost reported", null, "s1", [run("s1", 0.01)], null],
    ["first run of a session", 0.01, "s1", [], 0.01],
    ["no session: the total is the run's", 0.02, null, [run(null, 0.01)], 0.02],
    ["resumed: the difference to the last total", 0.0205, "s1", [run("s1", 0.003), run("s1", 0.0076)], 0.0129],
    ["another session's totals do not count", 0.01, "s2", [run("s1", 0.005)], 0.01],
    ["a run without a total is skipped", 0.01, "s1", [run("s1", 0.004), run("s1", null)], 0.006],
    ["an open run does not count", 0.01, "s1", [run("s1", 0.004, null)], 0.01],
    ["a total below the last one restarted the count", 0.002, "s1", [run("s1", 0.004)], 0.002],
  ];
  for (const [name, total, session, prior, expected] of cases) {
    test(name, () => expect(ownRunCost(total, session, prior)).toBe(expected));
  }
});

describe("costSums", () => {
  const r = (chunk: string, started_at: string, cost_usd: number | null, tokens: [number, number], over: Partial<CostRun> = {}): CostRun => ({
    chunk, phase: "IMPLEMENT", backend: cost_usd === null ? "codex" : "claude", models: cost_usd === null ? ["gpt-5"] : ["claude-opus-5-5"], started_at, cost_usd, input_tokens: tokens[0], output_tokens: tokens[1], ...over,
  });
  const runs = [
    r("a", "2026-12-01T23:59:59.000Z", 0.01, [100, 10]),
    r("a", "2026-12-02T00:00:00.000Z", 0.02, [200, 20], { phase: "COMPLETE" }),
    r("b", "2026-12-02T10:00:00.000Z", null, [1000, 50]),
    r("b", "2026-12-03T10:00:00.000Z", 0.005, [10, 1]),
  ];
  const total = (usd: number | null, n: number, without: number, tin: number, tout: number) => ({ key: "total", runs: n, usd, runs_without_cost: without, tokens_in: tin, tokens_out: tout });
  const cases: Array<[string, CostGroup | null, string | null, ReturnType<typeof costSums>]> = [
    ["the total alone", null, null, [total(0.035, 4, 1, 1310, 81)]],
    ["by day, UTC", "day", null, [
      { key: "2026-12-01", runs: 1, usd: 0.01, runs_without_cost: 0, tokens_in: 100, tokens_out: 10 },
      { key: "2026-12-02", runs: 2, usd: 0.02, runs_without_cost: 1, tokens_in: 1200, tokens_out: 70 },
      { key: "2026-12-03", runs: 1, usd: 0.005, runs_without_cost: 0, tokens_in: 10, tokens_out: 1 },
      total(0.035, 4, 1, 1310, 81),
    ]],
    ["by unit since a time", "unit", "2026-12-02T00:00:00.000Z", [
      { key: "a", runs: 1, usd: 0.02, runs_without_cost: 0, tokens_in: 200, tokens_out: 20 },
      { key: "b", runs: 2, usd: 0.005, runs_without_cost: 1, tokens_in: 1010, tokens_out: 51 },
      total(0.025, 3, 1, 1210, 71),
    ]],
    ["by backend: codex without prices has no cost, only tokens", "backend", null, [
      { key: "claude", runs: 3, usd: 0.035, runs_without_cost: 0, tokens_in: 310, tokens_out: 31 },
      { key: "codex", runs: 1, usd: null, runs_without_cost: 1, tokens_in: 1000, tokens_out: 50 },
      total(0.035, 4, 1, 1310, 81),
    ]],
    ["by phase", "phase", null, [
      { key: "COMPLETE", runs: 1, usd: 0.02, runs_without_cost: 0, tokens_in: 200, tokens_out: 20 },
      { key: "IMPLEMENT", runs: 3, usd: 0.015, runs_without_cost: 1, tokens_in: 1110, tokens_out: 61 },
      total(0.035, 4, 1, 1310, 81),
    ]],
    ["nothing in the window", "model", "2027-01-01T00:00:00.000Z", [total(null, 0, 0, 0, 0)]],
  ];
  for (const [name, by, since, expected] of cases) {
    test(name, () => expect(costSums(runs, by, since)).toEqual(expected));
  }
});
