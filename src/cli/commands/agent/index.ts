import { defineCommand } from "citty";

// For agents with a shell: the same calls `ve mcp` offers as tools.
export default defineCommand({
  meta: { name: "agent", description: "For an agent inside a ve run: ask the operator, or report the phase done" },
  subCommands: {
    ask: () => import("./ask.ts").then((m) => m.default),
    done: () => import("./done.ts").then((m) => m.default),
  },
});
