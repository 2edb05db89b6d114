import { defineCommand } from "citty";
import { PHASES } from "../../../domain.ts";
import { BACKEND_NAMES } from "../../../agents/registry.ts";
import { blockedByOption, commonArgs, listOption, phaseOption, usageError } from "../../args.ts";
import { commandContext, emit } from "../../context.ts";
import { unitSummary } from "../../render.ts";

async function readGoal(goal: unknown, goalFile: unknown): Promise<string | undefined> {
  if (goal !== undefined && goalFile !== undefined) throw usageError("Give --goal or --goal-file, not both");
  if (typeof goal === "string") return goal;
  if (typeof goalFile !== "string") return undefined;
  if (goalFile === "-") return await new Response(Bun.stdin.stream()).text();
  const file = Bun.file(goalFile);
  if (!(await file.exists())) throw usageError(`--goal-file ${goalFile} does not exist`);
  return await file.text();
}

export default defineCommand({
  meta: {
    name: "inject",
    description: "Hand chunks to the scheduler: each gets an agent in its own worktree, phase after phase, and lands on its base",
  },
  args: {
    chunks: { type: "positional", required: true, repeatable: true, valueHint: "chunk", description: "The chunks to run (created in dependency order, all or none)" },
    goal: { type: "string", valueHint: "text", description: "What the chunk is for (seeds docs/chunks/<chunk>/GOAL.md in the GOAL phase)" },
    "goal-file": { type: "string", valueHint: "file", description: "Read the goal from a file, or from standard input with -" },
    ...phaseOption(`Starting phase (default: from the chunk's documents on the base branch: ${PHASES.join(", ")})`),
    priority: { type: "string", valueHint: "n", description: "Higher goes first among units that release as many others (default: 0)" },
    ...blockedByOption("A chunk these wait on, besides GOAL.md's depends_on; repeat or separate with commas"),
    base: { type: "string", valueHint: "branch", description: "The branch the units land on (default: the branch checked out at the project root)" },
    backend: { type: "enum", options: [...BACKEND_NAMES], description: "The agent backend (default: `ve orch config backend`)" },
    verify: { type: "string", description: "This unit's landing gate command, run with /bin/sh -c on its merge commit (default: `ve orch config verify`)" },
    ...commonArgs,
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    const goal = await readGoal(args.goal, args["goal-file"]);
    const priority = args.priority === undefined ? undefined : Number.parseInt(String(args.priority), 10);
    if (args.priority !== undefined && (!/^-?\d+$/.test(String(args.priority)) || Math.abs(priority as number) > 1000)) {
      throw usageError(`--priority must be a whole number from -1000 to 1000, not '${args.priority}'`);
    }
    const reply = await ctx.client.inject({
      chunks: listOption(args.chunks) ?? [],
      ...(goal !== undefined ? { goal } : {}),
      ...(args.phase ? { phase: args.phase } : {}),
      ...(priority !== undefined ? { priority } : {}),
      ...(args["blocked-by"] !== undefined ? { blocked_by: listOption(args["blocked-by"]) } : {}),
      ...(args.base !== undefined ? { base: String(args.base) } : {}),
      ...(args.backend !== undefined ? { backend: args.backend as "command" } : {}),
      ...(args.verify !== undefined ? { verify: args.verify } : {}),
    });
    await emit(ctx, reply, (doc) => doc.work_units.map((u) => `Injected ${unitSummary(u)}`).join("\n"));
  },
});
