// How what an agent told the daemon combines with its backend's verdict: one table.
import { describe, expect, test } from "bun:test";
import type { RunVerdict } from "../../src/agents/backend.ts";
import { type RunEnding, decideVerdict } from "../../src/engine/signals.ts";
import type { AgentCall } from "../../src/models/index.ts";

const at = "2026-12-01T12:00:00.000Z";
const ask = (question: string, options: string[] | null = null, via: AgentCall["via"] = "mcp"): AgentCall => ({ kind: "ask", via, question, options, summary: null, at });
const done = (summary: string): AgentCall => ({ kind: "done", via: "mcp", question: null, options: null, summary, at });

const completed: RunVerdict = { outcome: "completed", reason: "the command exited with status 0", cost_usd: 0.5, turns: 3 };
const failed: RunVerdict = { outcome: "failed", reason: "the command exited with status 3; its last lines:\nboom" };
const timeout: RunVerdict = { outcome: "timeout", reason: "it ran longer than run_timeout_s (5 s)" };
const limit: RunVerdict = { outcome: "limit", reason: "usage limit", reset_at: "2026-12-01T13:00:00.000Z" };
const nativeQuestion: RunVerdict = { outcome: "question", reason: "Claude asked", question: "Which one?", options: ["a", "b"] };
const interrupted: RunVerdict = { outcome: "interrupted", reason: "the daemon stopped" };

type Row = [string, RunVerdict, AgentCall[], RunEnding, Partial<RunVerdict> & { reasonHas?: string }];

const TABLE: Row[] = [
  ["no calls: the backend's verdict stands", completed, [], "ended", { outcome: "completed", reason: completed.reason, cost_usd: 0.5 }],
  ["no calls, failed: stands", failed, [], "ended", { outcome: "failed" }],
  ["ask, exit 0: a question", completed, [ask("Keep it?", ["yes", "no"])], "ended", { outcome: "question", question: "Keep it?", options: ["yes", "no"], cost_usd: 0.5, turns: 3, reasonHas: "ask_operator" }],
  ["ask, non-zero exit: still a question", failed, [ask("Keep it?", null, "cli")], "ended", { outcome: "question", question: "Keep it?", options: undefined, reasonHas: "ended failed: the command exited with status 3" }],
  ["ask, then a time limit: a question", timeout, [ask("Keep it?")], "ended", { outcome: "question", reasonHas: "timeout" }],
  ["ask, then a usage limit: a question", limit, [ask("Keep it?")], "ended", { outcome: "question" }],
  ["ask, the daemon stopped: a question, not a rerun", interrupted, [ask("Keep it?")], "daemon_stopped", { outcome: "question", reasonHas: "daemon stopped" }],
  ["no ask, the daemon stopped: interrupted", completed, [], "daemon_stopped", { outcome: "interrupted", reason: "the daemon stopped", cost_usd: 0.5 }],
  ["two asks: the last counts, with its options", completed, [ask("First?", ["x"]), ask("Second?", ["y", "z"])], "ended", { outcome: "question", question: "Second?", options: ["y", "z"], reasonHas: "last of 2" }],
  ["done only, exit 0: completed (the summary is the store's)", completed, [done("All written.")], "ended", { outcome: "completed", reason: completed.reason }],
  ["done only, non-zero exit: exit code decides, failed", failed, [done("All written.")], "ended", { outcome: "failed" }],
  ["done, then ask: the question wins", completed, [done("x"), ask("Wait, which?")], "ended", { outcome: "question", question: "Wait, which?" }],
  ["ask, then done: the question still wins", completed, [ask("Which?"), done("x")], "ended", { outcome: "question", question: "Which?" }],
  ["a backend-native question alone stands", nativeQuestion, [], "ended", { outcome: "question", question: "Which one?", options: ["a", "b"] }],
  ["a stream question recorded as a call", completed, [ask("From the stream?", ["1"], "stream")], "ended", { outcome: "question", question: "From the stream?", reasonHas: "its own question tool" }],
  ["an ask over a native question: the ask (the last recorded) counts", nativeQuestion, [ask("Mine?")], "ended", { outcome: "question", question: "Mine?" }],
];

describe("decideVerdict", () => {
  for (const [name, verdict, calls, ending, expected] of TABLE) {
    test(name, () => {
      const decided = decideVerdict(verdict, calls, ending);
      const { reasonHas, ...fields } = expected;
      for (const [key, value] of Object.entries(fields)) expect({ key, value: decided[key as keyof RunVerdict] }).toEqual({ key, value });
      if (reasonHas) expect(decided.reason).toContain(reasonHas);
      if (decided.outcome === "question") expect(decided.transient).toBeUndefined();
    });
  }
});
