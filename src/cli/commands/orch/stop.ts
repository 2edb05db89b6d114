import { defineCommand } from "citty";
import { STOP_TIMEOUT_MS, stopDaemon } from "../../../control/daemon.ts";
import type { StopResult } from "../../../models/index.ts";
import { commonArgs, integerOption } from "../../args.ts";
import { commandContext, emitValue } from "../../context.ts";

export default defineCommand({
  meta: { name: "stop", description: "Stop this project's daemon: SIGTERM, then SIGKILL only if it ignores that" },
  args: {
    ...commonArgs,
    timeout: {
      type: "string",
      valueHint: "seconds",
      description: `Seconds to wait for an orderly stop before SIGKILL (default: ${STOP_TIMEOUT_MS / 1000})`,
    },
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    const seconds = integerOption("timeout", args.timeout, 1, 3600);
    const result = await stopDaemon(ctx.paths, seconds === undefined ? STOP_TIMEOUT_MS : seconds * 1000);
    const doc: StopResult = {
      stopped: result.stopped,
      pid: result.pid,
      killed: result.killed,
      removed_stale_files: result.removedStaleFiles,
    };
    emitValue(ctx, doc, (d) => {
      const lines = [
        d.stopped
          ? `ve daemon stopped (pid ${d.pid}${d.killed ? ", killed after ignoring SIGTERM" : ""})`
          : "ve daemon was not running",
      ];
      for (const file of d.removed_stale_files) lines.push(`  removed stale ${file}`);
      return lines.join("\n");
    });
  },
});
