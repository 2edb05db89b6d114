import { defineCommand } from "citty";
import { chunkArg, commonArgs } from "../../args.ts";
import { commandContext, emit } from "../../context.ts";
import { unitSummary } from "../../render.ts";

export default defineCommand({
  meta: { name: "retry", description: "Make a unit that waits on a person READY again, with fresh retry counters" },
  args: {
    ...chunkArg,
    fresh: { type: "boolean", description: "Also start a new agent session instead of resuming the last one" },
    ...commonArgs,
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    await emit(ctx, await ctx.client.retry(args.chunk, args.fresh === true), (unit) => `Retrying ${unitSummary(unit)}`);
  },
});
