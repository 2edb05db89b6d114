import { defineCommand } from "citty";
import type { UpdateWorkUnit } from "../../../models/index.ts";
import { blockedByOption, chunkArg, commonArgs, forceOption, listOption, phaseOption, statusOption, usageError } from "../../args.ts";
import { commandContext, emit } from "../../context.ts";
import { unitSummary } from "../../render.ts";

export default defineCommand({
  meta: { name: "update", description: "Change a work unit's phase, status, blockers or worktree in one step" },
  args: {
    ...chunkArg,
    ...phaseOption("New phase, forward only unless --force"),
    ...statusOption("New status"),
    ...blockedByOption("Replace the blockers with these chunks; repeat or separate with commas"),
    "clear-blocked-by": { type: "boolean", description: "Remove every blocker" },
    worktree: { type: "string", valueHint: "path", description: "Set the worktree path" },
    "clear-worktree": { type: "boolean", description: "Unset the worktree path" },
    "expected-updated-at": {
      type: "string",
      valueHint: "timestamp",
      description: "Only update if the unit last changed at this time (its updated_at, as `show --json` prints it)",
    },
    ...forceOption("Allow a transition the rules refuse (status table, backward phase)"),
    ...commonArgs,
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    if (args["blocked-by"] !== undefined && args["clear-blocked-by"]) {
      throw usageError("--blocked-by and --clear-blocked-by contradict each other");
    }
    if (args.worktree !== undefined && args["clear-worktree"]) {
      throw usageError("--worktree and --clear-worktree contradict each other");
    }
    const patch: UpdateWorkUnit = {
      ...(args.phase ? { phase: args.phase } : {}),
      ...(args.status ? { status: args.status } : {}),
      ...(args["blocked-by"] !== undefined ? { blocked_by: listOption(args["blocked-by"]) } : {}),
      ...(args["clear-blocked-by"] ? { blocked_by: [] } : {}),
      ...(args.worktree !== undefined ? { worktree: args.worktree } : {}),
      ...(args["clear-worktree"] ? { worktree: null } : {}),
      ...(args["expected-updated-at"] !== undefined ? { expected_updated_at: args["expected-updated-at"] } : {}),
      ...(args.force ? { force: true } : {}),
    };
    if (Object.keys(patch).filter((k) => k !== "force" && k !== "expected_updated_at").length === 0) {
      throw usageError("Nothing to change: give --phase, --status, --blocked-by, --clear-blocked-by, --worktree or --clear-worktree");
    }
    await emit(ctx, await ctx.client.updateWorkUnit(args.chunk, patch), (unit) => `Updated ${unitSummary(unit)}`);
  },
});
