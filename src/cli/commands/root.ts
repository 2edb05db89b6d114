import { defineCommand } from "citty";
import { DAEMON_COMMAND } from "../../daemon/protocol.ts";
import { VERSION } from "../../version.ts";

// Subcommands load on demand: a run evaluates only the modules of the command it runs.
export default defineCommand({
  meta: { name: "ve", version: VERSION, description: "Orchestrate parallel AI coding agents on one repository" },
  subCommands: {
    orch: () => import("./orch/index.ts").then((m) => m.default),
    [DAEMON_COMMAND]: () => import("./daemon.ts").then((m) => m.default),
  },
});
