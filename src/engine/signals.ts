// The one place that decides how what an agent told the daemon during its run (`ve mcp`'s
// ask_operator / report_done, `ve agent ask|done`, a question read from its own stream such as
// Claude's AskUserQuestion) combines with its backend's verdict when the run ends. Pure: the
// engine passes the verdict and the run's recorded calls, and gets the verdict that counts.
import type { RunVerdict } from "../agents/backend.ts";
import type { AgentCall } from "../models/index.ts";

/** How the run ended from the engine's side, beside the backend's own verdict. */
export type RunEnding = "ended" | "daemon_stopped";

const VIA_WORDS: Record<AgentCall["via"], string> = {
  mcp: "ask_operator",
  cli: "`ve agent ask`",
  stream: "its own question tool",
};

/**
 * A question wins over everything the backend said: the agent asked, so a person must answer
 * before the work can go on, whatever its exit code, the CLI's verdict or a limit that ended it
 * afterwards (it may not have ended its turn as told). When the daemon stops after the question
 * was asked, it still waits on the person rather than rerunning the agent without an answer.
 * The last question counts; its options with it. A report_done never overrides the verdict (the
 * command backend: exit 0 decides done; the others: their final event); its summary is kept on
 * the run by the store. Without an ask the backend's verdict stands, and a daemon stop is
 * `interrupted`.
 */
export function decideVerdict(verdict: RunVerdict, calls: readonly AgentCall[], ending: RunEnding = "ended"): RunVerdict {
  const asks = calls.filter((c) => c.kind === "ask" && c.question !== null);
  const ask = asks.at(-1);
  if (ask) {
    const earlier = asks.length > 1 ? ` (its last of ${asks.length} questions)` : "";
    const after =
      ending === "daemon_stopped"
        ? "; the daemon stopped before the run ended"
        : verdict.outcome === "question"
          ? ""
          : `; the run then ended ${verdict.outcome}: ${firstLine(verdict.reason)}`;
    return {
      ...keepUsage(verdict),
      outcome: "question",
      reason: `the agent asked the operator through ${VIA_WORDS[ask.via]}${earlier}${after}`,
      question: ask.question as string,
      ...(ask.options && ask.options.length > 0 ? { options: ask.options } : {}),
    };
  }
  if (ending === "daemon_stopped") return { ...keepUsage(verdict), outcome: "interrupted", reason: "the daemon stopped" };
  return verdict;
}

function keepUsage(verdict: RunVerdict): Partial<RunVerdict> {
  const usage: Partial<RunVerdict> = {};
  for (const key of ["cost_usd", "session_cost_usd", "turns", "input_tokens", "output_tokens", "billing"] as const) {
    if (verdict[key] !== undefined) (usage as Record<string, unknown>)[key] = verdict[key];
  }
  if (verdict.models !== undefined) usage.models = verdict.models;
  return usage;
}

function firstLine(text: string): string {
  const line = text.split("\n")[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
