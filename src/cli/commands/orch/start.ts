import { defineCommand } from "citty";
import { startDaemon } from "../../../control/daemon.ts";
import { ensureStateDir } from "../../../project/state-dir.ts";
import type { StartResult } from "../../../models/index.ts";
import { commonArgs, integerOption, usageError } from "../../args.ts";
import { commandContext, emitValue } from "../../context.ts";
import { logger } from "../../output.ts";
import { daemonSummary } from "../../render.ts";

export default defineCommand({
  meta: { name: "start", description: "Start this project's daemon (does nothing if it already runs)" },
  args: {
    ...commonArgs,
    foreground: { type: "boolean", description: "Run the daemon attached to this terminal (for systemd, containers, debugging)" },
    tcp: { type: "boolean", description: "Listen on 127.0.0.1 with a bearer token instead of a Unix socket" },
    port: { type: "string", valueHint: "n", description: "TCP port with --tcp (default: any free port)" },
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    const port = integerOption("port", args.port, 1, 65535);
    if (port !== undefined && !args.tcp) throw usageError("--port only applies with --tcp");
    if (args.foreground) {
      ensureStateDir(ctx.paths);
      const { runDaemon } = await import("../../../daemon/main.ts");
      process.exit(await runDaemon({ root: ctx.paths.root, foreground: true, tcp: args.tcp === true, port }));
    }
    const result = await startDaemon(ctx.paths, { tcp: args.tcp === true, port });
    const wanted = args.tcp ? "tcp" : "unix";
    if (result.alreadyRunning && result.status.transport !== wanted && !ctx.json) {
      logger().warn(`it listens on ${result.status.transport}, not ${wanted}; stop it first to switch.`);
    }
    const doc: StartResult = { already_running: result.alreadyRunning, daemon: result.status };
    emitValue(ctx, doc, (d) =>
      `${d.already_running ? "ve daemon already running" : "ve daemon started"} (pid ${d.daemon.pid})\n${daemonSummary(d.daemon).split("\n").slice(1).join("\n")}`,
    );
  },
});
