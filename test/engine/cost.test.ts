import { describe, expect, test } from "bun:test";
import { ownRunCost, type PriorRun } from "../../src/engine/cost.ts";

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
