import { defineCommand } from "citty";
import workUnit from "../work-unit/index.ts";
import ps from "./ps.ts";
import status from "./status.ts";

// The commands scripts run in loops are loaded with the CLI (a dynamic import costs about
// 0.1 ms, more than evaluating them); those that need node:fs or bun:ffi, which cost far more
// to load, come in on demand.
export default defineCommand({
  meta: { name: "orch", description: "Drive this project's orchestrator daemon and its work units" },
  subCommands: {
    start: () => import("./start.ts").then((m) => m.default),
    stop: () => import("./stop.ts").then((m) => m.default),
    restart: () => import("./restart.ts").then((m) => m.default),
    status,
    ps,
    logs: () => import("./logs.ts").then((m) => m.default),
    "work-unit": workUnit,
    inject: () => import("./inject.ts").then((m) => m.default),
    runs: () => import("./runs.ts").then((m) => m.default),
    cost: () => import("./cost.ts").then((m) => m.default),
    tail: () => import("./tail.ts").then((m) => m.default),
    retry: () => import("./retry.ts").then((m) => m.default),
    attention: () => import("./attention.ts").then((m) => m.default),
    answer: () => import("./answer.ts").then((m) => m.default),
    config: () => import("./config.ts").then((m) => m.default),
    backend: () => import("./backend.ts").then((m) => m.default),
    events: () => import("./events.ts").then((m) => m.default),
    watch: () => import("./watch.ts").then((m) => m.default),
    worktree: () => import("../worktree/index.ts").then((m) => m.default),
  },
});
