import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "work-unit", description: "Create, inspect, change and delete work units" },
  subCommands: {
    create: () => import("./create.ts").then((m) => m.default),
    status: () => import("./status.ts").then((m) => m.default),
    show: () => import("./show.ts").then((m) => m.default),
    update: () => import("./update.ts").then((m) => m.default),
    list: () =>
      import("../orch/ps.ts").then((m) => ({
        ...m.default,
        meta: { name: "list", description: "List work units (same as `ve orch ps`)" },
      })),
    delete: () => import("./delete.ts").then((m) => m.default),
  },
});
