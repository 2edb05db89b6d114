import { defineCommand } from "citty";
import ps from "../orch/ps.ts";
import claim from "./claim.ts";
import create from "./create.ts";
import remove from "./delete.ts";
import show from "./show.ts";
import status from "./status.ts";
import update from "./update.ts";

export default defineCommand({
  meta: { name: "work-unit", description: "Create, inspect, change and delete work units" },
  subCommands: {
    create,
    claim,
    status,
    show,
    update,
    list: { ...ps, meta: { name: "list", description: "List work units (same as `ve orch ps`)" } },
    delete: remove,
  },
});
