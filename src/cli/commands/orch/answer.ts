import { defineCommand } from "citty";
import { chunkArg, commonArgs, integerOption, usageError } from "../../args.ts";
import { commandContext, emit } from "../../context.ts";
import { unitSummary } from "../../render.ts";

/** The most options a question can offer (the daemon's bound). */
const OPTION_MAX = 1000;

/** The answer piped in: everything on stdin, without the line ending(s) a shell adds at the end. */
async function answerFromStdin(): Promise<string> {
  const text = (await Bun.stdin.text()).replace(/[\r\n]+$/, "");
  if (text.trim() === "") throw usageError("The answer read from stdin is empty; give it as TEXT, on stdin, or pick one with --option N");
  return text;
}

export default defineCommand({
  meta: {
    name: "answer",
    description: "Answer the question a unit waits on: it is READY again, and its agent continues with the answer",
  },
  args: {
    ...chunkArg,
    text: {
      type: "positional",
      required: false,
      valueHint: "text",
      description: "The answer; `-` or none (with stdin not a terminal) reads it from stdin",
    },
    option: { type: "string", valueHint: "n", description: "Pick the question's option N (1-based, as `ve orch attention` numbers them)" },
    ...commonArgs,
  },
  async run({ args }) {
    const option = integerOption("option", args.option, 1, OPTION_MAX);
    const given = typeof args.text === "string" ? args.text : undefined;
    if (option !== undefined && given !== undefined) throw usageError("Give either TEXT or --option N, not both");
    let answer: string | undefined;
    if (option === undefined) {
      if (given === "-" || (given === undefined && !process.stdin.isTTY)) answer = await answerFromStdin();
      else if (given === undefined) throw usageError("Give the answer as TEXT, pick one with --option N, or pipe it on stdin");
      else answer = given;
    }
    const ctx = await commandContext(args);
    const reply = await ctx.client.answer(args.chunk, option === undefined ? { answer } : { option });
    await emit(ctx, reply, (unit) => `Answered ${unitSummary(unit)}`);
  },
});
