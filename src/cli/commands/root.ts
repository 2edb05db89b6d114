import { type SubCommandsDef, defineCommand } from "citty";
import { DAEMON_COMMAND } from "../../project/protocol.ts";
import { VERSION } from "../../version.ts";
import orch from "./orch/index.ts";

const subCommands: SubCommandsDef = {
  orch,
  agent: () => import("./agent/index.ts").then((m) => m.default),
  mcp: () => import("./mcp.ts").then((m) => m.default),
  // Given the root rather than importing it: completion.ts importing root.ts would be a circle.
  completion: () => import("./completion.ts").then((m) => m.completionCommand(root)),
  // The daemon is a separate chunk: the CLI never loads Elysia or the store.
  [DAEMON_COMMAND]: () => import("./daemon.ts").then((m) => m.default),
};

const root = defineCommand({
  meta: { name: "ve", version: VERSION, description: "Orchestrate parallel AI coding agents on one repository" },
  subCommands,
});

export default root;
