import { defineCommand } from "citty";
import { DAEMON_COMMAND } from "../../project/protocol.ts";
import { VERSION } from "../../version.ts";
import orch from "./orch/index.ts";

export default defineCommand({
  meta: { name: "ve", version: VERSION, description: "Orchestrate parallel AI coding agents on one repository" },
  subCommands: {
    orch,
    agent: () => import("./agent/index.ts").then((m) => m.default),
    mcp: () => import("./mcp.ts").then((m) => m.default),
    completion: () => import("./completion.ts").then((m) => m.default),
    // The daemon is a separate chunk: the CLI never loads Elysia or the store.
    [DAEMON_COMMAND]: () => import("./daemon.ts").then((m) => m.default),
  },
});
