import { defineCommand } from "citty";
import { blockedByOption, chunkArg, commonArgs, listOption, phaseOption, statusOption } from "../../args.ts";
import { commandContext, emit } from "../../context.ts";
import { unitSummary } from "../../render.ts";

export default defineCommand({
  meta: { name: "create", description: "Create a work unit (BLOCKED while a blocker is unfinished, else READY)" },
  args: {
    ...chunkArg,
    ...phaseOption("Starting phase (default: GOAL)"),
    ...statusOption("Starting status (default: BLOCKED with an unfinished blocker, else READY)"),
    ...blockedByOption("A chunk this one waits on; repeat or separate with commas"),
    worktree: { type: "string", valueHint: "path", description: "Path of the unit's git worktree" },
    ...commonArgs,
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    const reply = await ctx.client.createWorkUnit({
      chunk: args.chunk,
      ...(args.phase ? { phase: args.phase } : {}),
      ...(args.status ? { status: args.status } : {}),
      ...(args["blocked-by"] !== undefined ? { blocked_by: listOption(args["blocked-by"]) } : {}),
      ...(args.worktree !== undefined ? { worktree: args.worktree } : {}),
    });
    await emit(ctx, reply, (unit) => `Created ${unitSummary(unit)}`);
  },
});
