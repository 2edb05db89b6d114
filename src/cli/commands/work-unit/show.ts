import { defineCommand } from "citty";
import type { WorkUnitDetail } from "../../../models/index.ts";
import { chunkArg, commonArgs } from "../../args.ts";
import { commandContext, emitValue } from "../../context.ts";
import { unitDetail } from "../../render.ts";

export default defineCommand({
  meta: { name: "show", description: "Show a work unit with its history of status and phase changes" },
  args: { ...chunkArg, ...commonArgs },
  async run({ args }) {
    const ctx = await commandContext(args);
    const unit = await ctx.client.getWorkUnit(args.chunk);
    const history = await ctx.client.history(args.chunk);
    const doc: WorkUnitDetail = { work_unit: unit.data, history: history.data.history };
    emitValue(ctx, doc, (d) => unitDetail(d.work_unit, d.history));
  },
});
