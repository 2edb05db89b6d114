import { describe, expect, test } from "bun:test";
import { PHASES } from "../../src/domain.ts";
import { DEFAULT_PHASE_PROMPTS, type PromptInput, assemblePrompt, renderTemplate } from "../../src/engine/prompts.ts";

const base: PromptInput = {
  chunk: "parser",
  phase: "IMPLEMENT",
  goal: "Parse the config file.",
  worktree: "/repo/.ve/worktrees/parser",
  branch: "ve/parser",
  reason: { kind: "first" },
  resumed: false,
  answers: [],
  phaseTemplate: DEFAULT_PHASE_PROMPTS.IMPLEMENT,
  askHow: "run `ve agent ask \"your question\"`.",
  doneHow: "exit with status 0.",
};

describe("phase prompts", () => {
  test("every phase has a default that names the chunk and carries the goal", () => {
    for (const phase of PHASES) {
      const text = assemblePrompt({ ...base, phase, phaseTemplate: DEFAULT_PHASE_PROMPTS[phase] });
      expect(text).toContain("parser");
      expect(text).toContain("Parse the config file.");
      expect(text).not.toContain("{{");
    }
  });

  test("the preamble pins the agent to its worktree and says how to ask and how to finish", () => {
    const text = assemblePrompt(base);
    expect(text).toContain("/repo/.ve/worktrees/parser");
    expect(text).toContain("never create worktrees of your own");
    expect(text).toContain('ve agent ask "your question"');
    expect(text).toContain("exit with status 0.");
  });

  test("an answer comes first; a fresh session also gets the question it answers", () => {
    const answer = { kind: "answer", question: "Which format?", answer: "TOML" } as const;
    const answers = [{ question: "Which format?", answer: "TOML" }];
    const resumed = assemblePrompt({ ...base, reason: answer, resumed: true, answers });
    expect(resumed.startsWith("The operator's answer:\n\nTOML")).toBe(true);
    expect(resumed).not.toContain("Which format?");
    const fresh = assemblePrompt({ ...base, reason: answer, answers });
    expect(fresh.startsWith("The operator's answer:\n\nTOML")).toBe(true);
    expect(fresh).toContain("You asked:\n> Which format?\nThe operator answered:\n> TOML");
    // The question is told once: the phase's list holds the answer that is the run's reason.
    expect(fresh.split("> Which format?")).toHaveLength(2);
  });

  test("every answered question of the phase, oldest first, whatever the reason of the run; a resumed session's reply to an answer only that answer", () => {
    const answers = [
      { question: "Which store?", answer: "SQLite,\nwith WAL" },
      { question: "How long may an entry live?", answer: "One hour" },
    ];
    const retry = { kind: "retry", attempt: 3, error: "exit code 1" } as const;
    const fresh = assemblePrompt({ ...base, reason: retry, answers });
    expect(fresh).toContain("you asked the operator 2 questions");
    const order = ["> Which store?", "> SQLite,\n> with WAL", "> How long may an entry live?", "> One hour", "exit code 1"].map((part) => fresh.indexOf(part));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    for (const reason of [{ kind: "interrupted" } as const, { kind: "first" } as const]) expect(assemblePrompt({ ...base, reason, answers })).toContain("> One hour");
    // A resumed retry too: the run that failed may have died before its session kept the answer.
    const resumed = assemblePrompt({ ...base, reason: retry, resumed: true, answers });
    expect(resumed).toContain("> Which store?");
    expect(resumed).toContain("exit code 1");
    const reply = assemblePrompt({ ...base, reason: { kind: "answer", question: "How long may an entry live?", answer: "One hour" }, resumed: true, answers });
    expect(reply).not.toContain("Which store?");
    expect(assemblePrompt({ ...base, reason: retry })).not.toContain("asked the operator");
  });

  test("a conflict run lists every conflicted file and the base to merge", () => {
    const text = assemblePrompt({ ...base, reason: { kind: "conflict", base: "main", files: ["a.txt", "src/b.ts"], attempt: 2 } });
    expect(text).toContain("git merge main");
    expect(text).toContain("- a.txt\n- src/b.ts");
    expect(text).toContain("attempt 2");
  });

  test("a retry says what failed", () => {
    expect(assemblePrompt({ ...base, reason: { kind: "retry", attempt: 2, error: "exit code 3" } })).toContain("exit code 3");
  });

  test("an override template uses the same placeholders; unknown ones stay as written", () => {
    expect(renderTemplate("Do {{chunk}} in {{ phase }} ({{nope}})", { chunk: "c", phase: "PLAN" })).toBe("Do c in PLAN ({{nope}})");
  });
});
