import { defineCommand } from "citty";
import { ATTENTION_KINDS, type AttentionKind } from "../../../domain.ts";
import { commonArgs, usageError } from "../../args.ts";
import { commandContext, emit } from "../../context.ts";
import { unitSummary } from "../../render.ts";

export default defineCommand({
  meta: {
    name: "retry",
    description: "Make a unit that waits on a person READY again (or every such unit with --all), with fresh retry counters",
  },
  args: {
    chunk: { type: "positional", required: false, valueHint: "chunk", description: "Name of the work unit (its chunk); or --all" },
    all: { type: "boolean", description: "Retry every scheduled unit in NEEDS_ATTENTION, in the attention queue's order" },
    kind: { type: "enum", options: [...ATTENTION_KINDS], description: "With --all: only the units waiting for this kind of reason" },
    fresh: { type: "boolean", description: "Also start a new agent session instead of resuming the last one" },
    "accept-base": { type: "boolean", description: "With CHUNK: keep its base branch as it is now, though it was moved backwards since ve last landed on it" },
    ...commonArgs,
  },
  async run({ args }) {
    const chunk = typeof args.chunk === "string" ? args.chunk : undefined;
    const kind = typeof args.kind === "string" ? (args.kind as AttentionKind) : undefined;
    if (args.all === true && chunk !== undefined) throw usageError("Give either CHUNK or --all, not both");
    if (args.all !== true && chunk === undefined) throw usageError("Missing CHUNK (or --all to retry every unit waiting on a person)");
    if (kind !== undefined && args.all !== true) throw usageError("--kind selects units for --all; with CHUNK leave it out");
    if (args["accept-base"] === true && chunk === undefined) throw usageError("--accept-base keeps one unit's base as it is; give its CHUNK");
    const ctx = await commandContext(args);
    if (chunk !== undefined) {
      await emit(ctx, await ctx.client.retry(chunk, args.fresh === true, args["accept-base"] === true), (unit) => `Retrying ${unitSummary(unit)}`);
      return;
    }
    await emit(ctx, await ctx.client.retryAll(kind, args.fresh === true), (doc) =>
      doc.count === 0
        ? `Nothing to retry: no scheduled unit waits on a person${kind === undefined ? "" : ` for a reason of kind '${kind}'`}.`
        : [`Retrying ${doc.count} ${doc.count === 1 ? "unit" : "units"}:`, ...doc.retried.map((u) => `  ${unitSummary(u)}`)].join("\n"),
    );
  },
});
