import { defineCommand } from "citty";
import { jsonArg, usageError } from "../../args.ts";
import { agentClient, agentRun } from "../../agent-run.ts";
import { logger, print, printBytes } from "../../output.ts";
import type { VeArgDef } from "../../runner.ts";

export default defineCommand({
  meta: {
    name: "ask",
    description:
      "Ask the operator a question about this run (inside a ve run only); then end your turn: the unit waits for the answer, which comes with the next run",
  },
  args: {
    question: { type: "positional", required: true, valueHint: "question", description: "The question, as one argument (quote it)" },
    option: {
      type: "string",
      repeatable: true,
      wholeValues: true,
      valueHint: "text",
      description: "A choice to offer the operator; give it once per choice (commas stay in the text)",
    },
    ...jsonArg,
  } satisfies Record<string, VeArgDef>,
  async run({ args }) {
    // Refused here, in the command's own terms: the daemon would name its API fields (options[2]).
    if (String(args.question).trim() === "") throw usageError("The question is empty: give it as one quoted argument");
    const options = Array.isArray(args.option) ? (args.option as string[]) : [];
    const empty = options.findIndex((o) => o.trim() === "");
    if (empty !== -1) throw usageError(`--option number ${empty + 1} is empty: give each choice its text`);
    const run = agentRun("`ve agent ask`");
    const reply = await agentClient(run, (m) => logger().warn(m)).agentAsk(run.token, {
      run_id: run.runId,
      question: String(args.question),
      ...(options.length > 0 ? { options } : {}),
      via: "cli",
    });
    if (args.json === true) await printBytes(reply.bytes);
    else print(reply.data.message);
  },
});
