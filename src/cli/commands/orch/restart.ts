import { defineCommand } from "citty";
import { logger } from "../../output.ts";
import { STOP_TIMEOUT_MS, restartDaemon } from "../../../control/daemon.ts";
import type { RestartResult } from "../../../models/index.ts";
import { commonArgs, integerOption, usageError } from "../../args.ts";
import { commandContext, emitValue } from "../../context.ts";
import { daemonSummary } from "../../render.ts";

export default defineCommand({
  meta: {
    name: "restart",
    description: "Stop this project's daemon and start one with this ve binary (after an upgrade); the state is kept",
  },
  args: {
    ...commonArgs,
    tcp: { type: "boolean", description: "Listen on TCP (default: the transport the stopped daemon used)" },
    port: { type: "string", valueHint: "n", description: "TCP port with --tcp (default: the stopped daemon's port, else any)" },
    timeout: {
      type: "string",
      valueHint: "seconds",
      description: `Seconds to wait for an orderly stop before SIGKILL (default: ${STOP_TIMEOUT_MS / 1000})`,
    },
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    const port = integerOption("port", args.port, 1, 65535);
    if (port !== undefined && args.tcp === false) throw usageError("--port only applies with --tcp");
    const seconds = integerOption("timeout", args.timeout, 1, 3600);
    const result = await restartDaemon(ctx.paths, {
      tcp: port !== undefined ? true : args.tcp,
      port,
      stopTimeoutMs: seconds === undefined ? STOP_TIMEOUT_MS : seconds * 1000,
    });
    const { stopped, started } = result;
    // A restart onto a new binary is where a migration runs: what it changed goes to stderr.
    for (const warning of started.warnings) logger().warn(warning);
    const doc: RestartResult = {
      stop: { stopped: stopped.stopped, pid: stopped.pid, killed: stopped.killed, removed_stale_files: stopped.removedStaleFiles },
      start: { already_running: started.alreadyRunning, daemon: started.status },
      previous_version: result.previousVersion,
    };
    emitValue(ctx, doc, (d) => {
      const before = d.stop.stopped
        ? `stopped ve${d.previous_version ? ` ${d.previous_version}` : ""} (pid ${d.stop.pid}${d.stop.killed ? ", killed after ignoring SIGTERM" : ""})`
        : "was not running";
      const after = d.start.already_running
        ? `another start's daemon answered (pid ${d.start.daemon.pid})`
        : `started ve ${d.start.daemon.version} (pid ${d.start.daemon.pid})`;
      return `ve daemon ${before}; ${after}\n${daemonSummary(d.start.daemon).split("\n").slice(1).join("\n")}`;
    });
  },
});
