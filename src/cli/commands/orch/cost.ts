import { defineCommand } from "citty";
import { COST_GROUPS, type CostGroup, type CostSum, costSums } from "../../../engine/cost.ts";
import { commonArgs, usageError } from "../../args.ts";
import { commandContext, emitValue } from "../../context.ts";
import { table } from "../../output.ts";

const HOUR_MS = 3_600_000;

/** `--since`: an ISO date or time (UTC), or a span back from now (`12h`, `7d`). */
export function sinceOption(value: unknown, now = Date.now()): string | null {
  if (value === undefined) return null;
  const text = String(value);
  const span = /^(\d+)([hd])$/.exec(text);
  if (span) return new Date(now - Number(span[1]) * (span[2] === "d" ? 24 : 1) * HOUR_MS).toISOString();
  const at = Date.parse(text.length === 10 ? `${text}T00:00:00.000Z` : text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(at)) {
    throw usageError(`--since must be a date (2026-12-01), a time (2026-12-01T10:00:00Z) or a span back from now (12h, 7d), not '${text}'`);
  }
  return new Date(at).toISOString();
}

function groupOption(value: unknown): CostGroup | null {
  if (value === undefined) return null;
  const text = String(value);
  if (!(COST_GROUPS as readonly string[]).includes(text)) throw usageError(`--by must be one of ${COST_GROUPS.join(", ")}, not '${text}'`);
  return text as CostGroup;
}

function usd(sum: CostSum): string {
  if (sum.usd === null) return "-";
  return `$${sum.usd.toFixed(4)}${sum.runs_without_cost > 0 ? ` (+${sum.runs_without_cost} unpriced)` : ""}`;
}

export function costTable(sums: readonly CostSum[], by: CostGroup | null): string {
  return table(
    [by === null ? "" : by.toUpperCase(), "RUNS", "COST", "TOKENS IN", "TOKENS OUT"],
    sums.map((s) => [s.key, String(s.runs), usd(s), String(s.tokens_in), String(s.tokens_out)]),
  );
}

export default defineCommand({
  meta: { name: "cost", description: "What the agent runs cost: each run's own cost and tokens summed, in total or per unit, phase, backend, model or UTC day" },
  args: {
    since: { type: "string", valueHint: "when", description: "Only runs started since then: a date, a time, or a span back from now (12h, 7d)" },
    by: { type: "string", valueHint: COST_GROUPS.join("|"), description: "Sum per unit, phase, backend, model or day" },
    ...commonArgs,
  },
  async run({ args }) {
    const since = sinceOption(args.since);
    const by = groupOption(args.by);
    const ctx = await commandContext(args);
    const { runs } = (await ctx.client.runs(undefined)).data;
    const sums = costSums(runs, by, since);
    emitValue(ctx, { by, since, sums }, (doc) => costTable(doc.sums, doc.by));
  },
});
