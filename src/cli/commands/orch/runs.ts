import { defineCommand } from "citty";
import type { Run } from "../../../models/index.ts";
import { commonArgs } from "../../args.ts";
import { commandContext, emit } from "../../context.ts";
import { duration, table } from "../../output.ts";

/** What a run spent: Claude Code reports a cost, Codex only tokens (input+output). */
function spent(run: Run): string {
  if (run.cost_usd !== null) return `$${run.cost_usd.toFixed(4)}`;
  if (run.input_tokens !== null || run.output_tokens !== null) return `${run.input_tokens ?? 0}+${run.output_tokens ?? 0} tok`;
  return "-";
}

/** The length of the summary shown in the table; `--json` and `GET /runs/ID` have all of it. */
const SUMMARY_CELL_CHARS = 60;

/** What the agent reported (report_done), else the question it asked: its first line, cut short. */
function summaryCell(run: Run): string {
  const asked = run.agent_calls.findLast((c) => c.kind === "ask")?.question;
  const text = run.summary ?? (asked ? `asked: ${asked}` : "");
  const line = (text.split("\n")[0] ?? "").trim();
  if (line === "") return "-";
  return line.length > SUMMARY_CELL_CHARS ? `${line.slice(0, SUMMARY_CELL_CHARS - 1)}…` : line;
}

export function runTable(runs: readonly Run[], now = Date.now()): string {
  if (runs.length === 0) return "No runs.";
  return table(
    ["RUN", "CHUNK", "PHASE", "TRY", "BACKEND", "VERSION", "OUTCOME", "TIME", "TURNS", "COST", "SUMMARY"],
    runs.map((run) => [
      run.id,
      run.chunk,
      run.purpose === "resolve" ? `${run.phase}*` : run.phase,
      String(run.attempt),
      run.backend,
      run.backend_version ?? "-",
      run.outcome ?? "running",
      duration(((run.ended_at ? Date.parse(run.ended_at) : now) - Date.parse(run.started_at)) / 1000),
      run.turns === null ? "-" : String(run.turns),
      spent(run),
      summaryCell(run),
    ]),
  );
}

export default defineCommand({
  meta: { name: "runs", description: "List agent runs (oldest first): backend and its CLI version, outcome, duration, turns, cost or tokens, and what the agent reported or asked; * marks a conflict resolution" },
  args: {
    chunk: { type: "positional", required: false, valueHint: "chunk", description: "Only this unit's runs" },
    ...commonArgs,
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    await emit(ctx, await ctx.client.runs(typeof args.chunk === "string" ? args.chunk : undefined), (doc) => runTable(doc.runs));
  },
});
