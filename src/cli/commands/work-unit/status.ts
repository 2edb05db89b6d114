import { defineCommand } from "citty";
import { STATUSES, type Status } from "../../../domain.ts";
import { chunkArg, commonArgs, forceOption, usageError } from "../../args.ts";
import { commandContext, emit } from "../../context.ts";
import { status as paintStatus, unitSummary } from "../../render.ts";

export default defineCommand({
  meta: { name: "status", description: "Show a work unit's status, or set it" },
  args: {
    ...chunkArg,
    new_status: {
      type: "positional",
      required: false,
      valueHint: "status",
      description: `New status: ${STATUSES.join(", ")} (omit to show the current one)`,
    },
    from: {
      type: "enum",
      options: [...STATUSES],
      description: "Only change it if it is in this status now (atomic; refused, exit 1, otherwise)",
    },
    ...forceOption("Allow a transition the rules refuse (e.g. DONE -> RUNNING)"),
    ...commonArgs,
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    if (args.new_status === undefined) {
      if (args.force) throw usageError("--force only applies when setting a status");
      if (args.from) throw usageError("--from only applies when setting a status");
      return emit(ctx, await ctx.client.getWorkUnit(args.chunk), unitSummary);
    }
    const wanted = STATUSES.find((s) => s === String(args.new_status).toUpperCase());
    if (!wanted) throw usageError(`NEW_STATUS must be one of ${STATUSES.join(", ")}, not '${args.new_status}'`);
    const reply = await ctx.client.updateWorkUnit(args.chunk, {
      status: wanted as Status,
      // A conditional change names its claimer, so the ones that lose can be told who won.
      ...(args.from ? { expected_status: args.from, actor: `pid ${process.pid}` } : {}),
      ...(args.force ? { force: true } : {}),
    });
    // What the daemon says this request changed, never a value read by an earlier request.
    await emit(ctx, reply, (unit) =>
      unit.changed.includes("status")
        ? `${unit.chunk}: ${paintStatus(unit.previous.status)} -> ${paintStatus(unit.status)}`
        : `${unit.chunk} is already ${paintStatus(unit.status)}`,
    );
  },
});
