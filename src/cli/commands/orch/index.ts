import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "orch", description: "Drive this project's orchestrator daemon and its work units" },
  subCommands: {
    start: () => import("./start.ts").then((m) => m.default),
    stop: () => import("./stop.ts").then((m) => m.default),
    status: () => import("./status.ts").then((m) => m.default),
    ps: () => import("./ps.ts").then((m) => m.default),
    logs: () => import("./logs.ts").then((m) => m.default),
    "work-unit": () => import("../work-unit/index.ts").then((m) => m.default),
  },
});
