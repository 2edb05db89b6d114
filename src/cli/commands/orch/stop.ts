import { defineCommand } from "citty";
import { DRAIN_TIMEOUT_MS, STOP_TIMEOUT_MS, drainDaemon, stopDaemon } from "../../../control/daemon.ts";
import type { StopResult } from "../../../models/index.ts";
import { commonArgs, integerOption } from "../../args.ts";
import { commandContext, emitValue } from "../../context.ts";

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export default defineCommand({
  meta: {
    name: "stop",
    description: "Stop this project's daemon: its runs end at once (closed interrupted, resumed by the next start); --drain lets running phases finish first",
  },
  args: {
    ...commonArgs,
    drain: {
      type: "boolean",
      description: "Start no new run and let running phases finish (bounded by --timeout), then stop; what still runs is interrupted",
    },
    timeout: {
      type: "string",
      valueHint: "seconds",
      description: `Seconds to wait for an orderly stop before SIGKILL (default: ${STOP_TIMEOUT_MS / 1000}); with --drain, how long running phases may take to finish (default: ${DRAIN_TIMEOUT_MS / 1000})`,
    },
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    const seconds = integerOption("timeout", args.timeout, 1, 3600);
    if (args.drain) {
      const result = await drainDaemon(ctx.paths, seconds === undefined ? DRAIN_TIMEOUT_MS : seconds * 1000);
      const doc: StopResult = {
        stopped: result.stopped,
        pid: result.pid,
        killed: result.killed,
        removed_stale_files: result.removedStaleFiles,
        drained: result.finished === null || result.interrupted === null ? null : { finished: result.finished, interrupted: result.interrupted },
      };
      emitValue(ctx, doc, (d) => {
        const lines: string[] = [];
        if (!d.stopped) lines.push("ve daemon was not running");
        else if (!d.drained) lines.push(`ve daemon stopped (pid ${d.pid}) while it was asked to drain`);
        else {
          lines.push(
            `ve daemon stopped after draining (pid ${d.pid}${d.killed ? ", killed after ignoring SIGTERM" : ""}): ` +
              `${plural(d.drained.finished, "run", "runs")} finished, ${plural(d.drained.interrupted, "run", "runs")} interrupted` +
              (d.drained.interrupted > 0 ? " (the next start resumes them)" : ""),
          );
        }
        for (const file of d.removed_stale_files) lines.push(`  removed stale ${file}`);
        return lines.join("\n");
      });
      return;
    }
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
