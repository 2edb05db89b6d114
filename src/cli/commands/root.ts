import { defineCommand } from "citty";
import { DAEMON_COMMAND } from "../../daemon/control.ts";
import { VERSION } from "../../version.ts";
import daemon from "./daemon.ts";
import orch from "./orch/index.ts";

export default defineCommand({
  meta: { name: "ve", version: VERSION, description: "Orchestrate parallel AI coding agents on one repository" },
  subCommands: { orch, [DAEMON_COMMAND]: daemon },
});
