// How `ve orch attention` shows the queue to a person: numbered options (multi-line ones
// aligned), the command to run, and an agent's text unable to send escape sequences.
import { describe, expect, test } from "bun:test";
import { attentionText } from "../../src/cli/commands/orch/attention.ts";
import type { AttentionEntry } from "../../src/models/index.ts";

process.env.NO_COLOR = "1";
const NOW = Date.parse("2026-12-02T02:00:00.000Z");

function entry(more: Partial<AttentionEntry>): AttentionEntry {
  return {
    chunk: "cache",
    phase: "IMPLEMENT",
    scheduled: true,
    kind: "question",
    reason: "the agent asked a question",
    question: "Which database?",
    options: [],
    since: "2026-12-02T01:56:00.000Z",
    waiting_s: 240,
    run_id: "r1",
    releases: 0,
    command: 've orch answer cache "ANSWER"',
    ...more,
  };
}

describe("ve orch attention, for a person", () => {
  test("nothing waits", () => {
    expect(attentionText([], NOW)).toBe("Nothing waits on a person.");
  });

  test("a question with options: numbered, continuation lines aligned, both ways to answer", () => {
    const text = attentionText([entry({ options: ["sqlite", "postgres\n(a server)"], releases: 2, command: "ve orch answer cache --option N" })], NOW);
    expect(text).toBe(
      [
        "1 unit waits on a person (first what releases the most units, then the oldest):",
        "",
        "cache  question  waiting 4m  releases 2  phase IMPLEMENT  run r1",
        "  Which database?",
        "    1. sqlite",
        "    2. postgres",
        "       (a server)",
        "  (the agent asked a question)",
        '  -> ve orch answer cache --option N   or: ve orch answer cache "ANSWER"',
      ].join("\n"),
    );
  });

  test("an agent's escape sequences are shown, not sent to the terminal", () => {
    const text = attentionText([entry({ question: "\u001b]0;pwned\u0007Which?\r\n\tnext", reason: "x" })], NOW);
    expect(text).toContain("\\u001b]0;pwned\\u0007Which?");
    expect(text).toContain("\n  \tnext");
    expect(text).not.toContain("\u001b");
  });

  test("a wait without a question shows its reason and the retry", () => {
    const text = attentionText([entry({ kind: "merge", question: null, reason: "main is dirty", command: "ve orch retry cache" })], NOW);
    expect(text).toContain("cache  merge  waiting 4m  phase IMPLEMENT  run r1\n  main is dirty\n  -> ve orch retry cache");
  });
});
