import { defineCommand } from "citty";
import { commonArgs, phaseOption, statusOption } from "../../args.ts";
import { commandContext, emit } from "../../context.ts";
import { outputWidth } from "../../output.ts";
import { unitTable } from "../../render.ts";

export default defineCommand({
  meta: { name: "ps", description: "List work units in creation order" },
  args: {
    ...commonArgs,
    ...statusOption("Only units with this status"),
    ...phaseOption("Only units in this phase"),
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    const filter = { ...(args.status ? { status: args.status } : {}), ...(args.phase ? { phase: args.phase } : {}) };
    await emit(ctx, await ctx.client.listWorkUnits(filter), (list) => unitTable(list.work_units, Date.now(), outputWidth("stdout")));
  },
});
