// What an agent is told for one run: assembled from the operator's answer (when there is
// one), a preamble that sets the rules of the worktree, the phase's questions and answers (but
// for a resumed session's reply to an answer), why this run exists, and the phase's prompt.
// Pure functions over data: the scheduler reads the override files and the goal, this module
// only puts the text together, so every piece is testable without git or a daemon.
import type { Phase } from "../domain.ts";
import COMPLETE from "./prompts/COMPLETE.md" with { type: "text" };
import GOAL from "./prompts/GOAL.md" with { type: "text" };
import IMPLEMENT from "./prompts/IMPLEMENT.md" with { type: "text" };
import PLAN from "./prompts/PLAN.md" with { type: "text" };

/** The prompts built into the binary; a project replaces one by committing PROMPT_OVERRIDE_DIR/<PHASE>.md. */
export const DEFAULT_PHASE_PROMPTS: Readonly<Record<Phase, string>> = { GOAL, PLAN, IMPLEMENT, COMPLETE };

/**
 * Where a project keeps its own phase prompts, read from the base branch (committed, so every
 * agent of a project gets the same text and a change to it is reviewed like code).
 */
export const PROMPT_OVERRIDE_DIR = "docs/prompts";

export function promptOverridePath(phase: Phase): string {
  return `${PROMPT_OVERRIDE_DIR}/${phase}.md`;
}

/** Where the chunk's documents live in the repository. */
export function chunkDocPath(chunk: string, doc: "GOAL.md" | "PLAN.md"): string {
  return `docs/chunks/${chunk}/${doc}`;
}

export type RunReason =
  | { kind: "first" }
  /** The operator answered a question. */
  | { kind: "answer"; question: string; answer: string }
  /** An earlier run of this phase failed. */
  | { kind: "retry"; attempt: number; error: string }
  /** The daemon stopped (or crashed) while this phase ran; the session continues. */
  | { kind: "interrupted" }
  /** Landing found conflicts with the base: merge it in and resolve them. */
  | { kind: "conflict"; base: string; files: readonly string[]; attempt: number }
  /** The landing gate ran `verify` on the merge of the branch into the base and it failed. */
  | { kind: "gate"; base: string; candidate: string; verify: string; failed_tests: readonly string[]; log_tail: readonly string[]; log: string; attempt: number };

export interface PromptInput {
  chunk: string;
  phase: Phase;
  /** The chunk's goal text (GOAL.md, or what inject was given), if any. */
  goal: string | null;
  worktree: string;
  branch: string;
  reason: RunReason;
  /** The agent's own session continues: it has read everything said earlier in the phase. */
  resumed: boolean;
  /**
   * Every question the operator answered in this phase, oldest first (an `answer` reason is the
   * last of them): told in every run of the phase but a resumed session's reply to an answer
   * (its conversation holds the earlier ones).
   */
  answers: readonly { question: string; answer: string }[];
  /** The phase prompt: the project's override, else the default. */
  phaseTemplate: string;
  /** How this backend's agent asks the operator (a tool name, or a command). */
  askHow: string;
  /** How this backend's agent reports the phase done. */
  doneHow: string;
}

/** `{{name}}` replaced by `values[name]`; unknown names are left as written. */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (whole, name: string) => values[name] ?? whole);
}

function preamble(input: PromptInput): string {
  return [
    "You are one of several coding agents working on this repository at the same time, each in its own git worktree.",
    `- Your working directory is ${input.worktree}, a worktree on branch ${input.branch}. Work only inside it: never read or change files outside it, never change another branch, never create worktrees of your own.`,
    "- You do not need to commit; whatever you leave in the worktree is committed for you when the phase is done.",
    `- If you need a decision from the person running you, ask instead of guessing: ${input.askHow} Then end your turn; the answer comes back to you.`,
    `- When this phase's work is done, ${input.doneHow}`,
  ].join("\n");
}

function quote(text: string): string {
  return `> ${text.split("\n").join("\n> ")}`;
}

/**
 * The phase's questions and answers so far. A new session knows none of them. A resumed one is
 * told them again on a retry or after an interruption too: the run that failed may have died
 * before its session recorded the answer it carried. Only a resumed session's reply to an
 * answer goes without: each earlier answer led to a later turn, so the conversation holds it.
 */
function exchange(input: PromptInput): string | undefined {
  if (input.resumed && input.reason.kind === "answer") return undefined;
  const { answers } = input;
  if (answers.length === 0) return undefined;
  const one = answers.length === 1;
  return [
    `Earlier in this phase you asked the operator ${one ? "a question" : `${answers.length} questions`}; ${one ? "the answer holds" : "the answers hold"} for the rest of the phase:`,
    ...answers.map((a) => `You asked:\n${quote(a.question)}\nThe operator answered:\n${quote(a.answer)}`),
  ].join("\n\n");
}

function why(reason: RunReason, resumed: boolean): string | undefined {
  switch (reason.kind) {
    case "first":
      return undefined;
    case "answer":
      return resumed
        ? "The operator has answered your question (above). Continue the phase with that answer."
        : "The operator's answer to your last question is at the top. Continue the phase with what the operator told you.";
    case "retry":
      return `This is attempt ${reason.attempt} of this phase; the previous run failed:\n\n${reason.error}\n\nCheck what is already in the worktree before you redo anything.`;
    case "interrupted":
      return "Your previous run of this phase was interrupted (the orchestrator stopped). Check what is already in the worktree, then finish the phase.";
    case "conflict":
      return [
        `Your branch could not be merged into ${reason.base}: both changed the same lines (resolution attempt ${reason.attempt}).`,
        `Merge ${reason.base} into your branch in this worktree (\`git merge ${reason.base}\`), resolve the conflicts in:`,
        ...reason.files.map((file) => `- ${file}`),
        "keeping the intent of both sides, make sure the tests pass, and commit the merge. Then report the phase done.",
      ].join("\n");
    case "gate":
      return [
        `Your branch merges cleanly into ${reason.base}, but the landing gate found the merge red (fix attempt ${reason.attempt}): \`${reason.verify}\` failed on candidate ${reason.candidate.slice(0, 12)} (${reason.candidate}), the exact commit that would have landed (your branch merged into ${reason.base} as it is now).`,
        ...(reason.failed_tests.length > 0 ? ["Failing tests:", ...reason.failed_tests.map((t) => `- ${t}`)] : []),
        `The end of the gate's log (${reason.log}):`,
        "```",
        ...reason.log_tail,
        "```",
        `Fix it on your branch in this worktree: merge ${reason.base} in (\`git merge ${reason.base}\`) to see what it changed, make \`${reason.verify}\` pass on the result, and leave the fix here (it is committed on your branch for you). Then report the phase done; the gate runs again on the new merge.`,
      ].join("\n");
  }
}

/** The whole prompt of one run. */
export function assemblePrompt(input: PromptInput): string {
  const parts: string[] = [];
  if (input.reason.kind === "answer") parts.push(`The operator's answer:\n\n${input.reason.answer}`);
  parts.push(preamble(input));
  const told = exchange(input);
  if (told) parts.push(told);
  const reason = why(input.reason, input.resumed);
  if (reason) parts.push(reason);
  parts.push(
    renderTemplate(input.phaseTemplate, {
      chunk: input.chunk,
      phase: input.phase,
      goal: input.goal?.trim() || "(no goal text was given; ask the operator if the chunk's name does not say enough)",
      goal_path: chunkDocPath(input.chunk, "GOAL.md"),
      plan_path: chunkDocPath(input.chunk, "PLAN.md"),
    }),
  );
  return `${parts.join("\n\n").trim()}\n`;
}
