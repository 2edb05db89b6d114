import { defineCommand } from "citty";
import { chunkArg, commonArgs, forceOption } from "../../args.ts";
import { commandContext, emit } from "../../context.ts";

export default defineCommand({
  meta: { name: "delete", description: "Delete a work unit and its history" },
  args: {
    ...chunkArg,
    ...forceOption("Delete even if other units wait on it (they are released as if it were DONE)"),
    ...commonArgs,
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    await emit(ctx, await ctx.client.deleteWorkUnit(args.chunk, args.force === true), (d) => `Deleted ${d.chunk}`);
  },
});
