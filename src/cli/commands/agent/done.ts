import { defineCommand } from "citty";
import { jsonArg } from "../../args.ts";
import { agentClient, agentRun } from "../../agent-run.ts";
import { logger, print, printBytes } from "../../output.ts";

export default defineCommand({
  meta: {
    name: "done",
    description: "Report this run's phase done, with a summary kept on the run (inside a ve run only); the command backend still needs exit status 0",
  },
  args: {
    summary: { type: "positional", required: false, valueHint: "summary", description: "What was done, in a few sentences (quote it)" },
    ...jsonArg,
  },
  async run({ args }) {
    const run = agentRun("`ve agent done`");
    const summary = typeof args.summary === "string" ? args.summary : undefined;
    const reply = await agentClient(run, (m) => logger().warn(m)).agentDone(run.token, {
      run_id: run.runId,
      ...(summary === undefined ? {} : { summary }),
      via: "cli",
    });
    if (args.json === true) await printBytes(reply.bytes);
    else print(reply.data.message);
  },
});
