import { defineCommand } from "citty";
import ps from "./ps.ts";
import logs from "./logs.ts";
import start from "./start.ts";
import status from "./status.ts";
import stop from "./stop.ts";
import workUnit from "../work-unit/index.ts";

export default defineCommand({
  meta: { name: "orch", description: "Drive this project's orchestrator daemon and its work units" },
  subCommands: { start, stop, status, ps, logs, "work-unit": workUnit },
});
