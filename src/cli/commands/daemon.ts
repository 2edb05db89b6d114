import { defineCommand } from "citty";
import { DAEMON_COMMAND } from "../../project/protocol.ts";
import { integerOption } from "../args.ts";
import { commandContext } from "../context.ts";

/** What `ve orch start` re-executes this binary as: the detached daemon itself. */
export default defineCommand({
  meta: { name: DAEMON_COMMAND, description: "Run as the detached daemon (used by `ve orch start`)", hidden: true },
  args: {
    "project-dir": { type: "string", required: true, description: "Project directory" },
    tcp: { type: "boolean", description: "Listen on TCP" },
    port: { type: "string", description: "TCP port" },
  },
  async run({ args }) {
    const ctx = await commandContext(args);
    const { runDaemon } = await import("../../daemon/main.ts");
    // Signal handlers and the server's handle may keep the event loop alive after an orderly
    // stop: the entry point's exit ends the daemon's life once this returns.
    return await runDaemon({
      root: ctx.paths.root,
      foreground: false,
      tcp: args.tcp === true,
      port: integerOption("port", args.port, 1, 65535),
    });
  },
});
