import { defineCommand } from "citty";
import { existsSync } from "node:fs";
import { followLog, lastLines } from "../../../control/log-files.ts";
import type { LogLines } from "../../../models/index.ts";
import { commonArgs, integerOption, usageError } from "../../args.ts";
import { commandContext, emitValue } from "../../context.ts";
import { logger, print } from "../../output.ts";

const DEFAULT_LINES = 50;

export default defineCommand({
  meta: { name: "logs", description: "Show the daemon log (works whether or not the daemon runs)" },
  args: {
    ...commonArgs,
    lines: { type: "string", alias: "n", valueHint: "n", description: `Number of lines to show (default: ${DEFAULT_LINES})` },
    follow: { type: "boolean", alias: "f", description: "Keep printing new lines until interrupted" },
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    const count = integerOption("lines", args.lines, 0, 1_000_000) ?? DEFAULT_LINES;
    if (args.follow && ctx.json) throw usageError("--follow cannot be combined with --json (one document only)");
    const log = ctx.paths.log;
    if (!existsSync(log) && !args.follow) {
      if (!ctx.json) logger().info(`No daemon log yet at ${log}; \`ve orch start\` creates it.`);
    }
    const doc: LogLines = { log, lines: existsSync(log) || existsSync(`${log}.1`) ? lastLines(log, count) : [] };
    if (ctx.json) return emitValue(ctx, doc, () => "");
    if (doc.lines.length) print(doc.lines.join("\n"));
    if (!args.follow) return;
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    await followLog(log, (line) => print(line), stop.signal);
  },
});
