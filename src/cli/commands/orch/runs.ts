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

export function runTable(runs: readonly Run[], now = Date.now()): string {
  if (runs.length === 0) return "No runs.";
  return table(
    ["RUN", "CHUNK", "PHASE", "TRY", "BACKEND", "VERSION", "OUTCOME", "TIME", "TURNS", "COST"],
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
    ]),
  );
}

export default defineCommand({
  meta: { name: "runs", description: "List agent runs (oldest first): backend and its CLI version, outcome, duration, turns, cost or tokens; * marks a conflict resolution" },
  args: {
    chunk: { type: "positional", required: false, valueHint: "chunk", description: "Only this unit's runs" },
    ...commonArgs,
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    await emit(ctx, await ctx.client.runs(typeof args.chunk === "string" ? args.chunk : undefined), (doc) => runTable(doc.runs));
  },
});
