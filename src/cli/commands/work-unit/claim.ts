import { defineCommand } from "citty";
import { commonArgs, phaseOption } from "../../args.ts";
import { commandContext, emit } from "../../context.ts";
import { status as paintStatus } from "../../render.ts";

export default defineCommand({
  meta: {
    name: "claim",
    description:
      "Take the next READY work unit (the one whose completion releases the most others, then the oldest), " +
      "mark it RUNNING and print it; exit 1 when there is none",
  },
  args: {
    ...phaseOption("Only take a unit in this phase"),
    by: {
      type: "string",
      valueHint: "name",
      description: "Who claims, as the history records it (default: pid <this process>)",
    },
    ...commonArgs,
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    const actor = typeof args.by === "string" && args.by !== "" ? args.by : `pid ${process.pid}`;
    const reply = await ctx.client.claimWorkUnit({ ...(args.phase ? { phase: args.phase } : {}), actor });
    await emit(
      ctx,
      reply,
      (unit) =>
        `Claimed ${unit.chunk}: ${paintStatus(unit.previous.status)} -> ${paintStatus(unit.status)} (phase ${unit.phase})`,
    );
  },
});
