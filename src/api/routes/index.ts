// Every route of the daemon, by group. A group is a path prefix with its own access rule
// (access.ts); its plugins are one per resource.
//
// To add a route: put it in its resource's plugin (or a new file `routes/<resource>.ts`
// exporting `(ctx: RouteContext) => new Elysia({ normalize: false })...`, listed below), give
// it its schemas (`params`, `query`, `body` with `parse: jsonBody`) and
// `detail: operation(...).detail`, and answer with that operation's `serialize` (writes inside
// `ctx.commit`). The 405/Allow table, GET /openapi.json and docs/api.md (`npm run docs:api`)
// follow from that; test/api/openapi.test.ts fails for a route without an operation.
import { type AccessRule, jsonApiAccess } from "../access.ts";
import type { RoutePlugin } from "./kit.ts";
import { openApiRoutes } from "./openapi.ts";
import { agentRoutes } from "./agent.ts";
import { attentionRoutes } from "./attention.ts";
import { backendRoutes } from "./backends.ts";
import { claimRoutes } from "./claims.ts";
import { engineRoutes } from "./engine.ts";
import { eventRoutes } from "./events.ts";
import { statusRoutes } from "./status.ts";
import { workUnitRoutes } from "./work-units.ts";

export interface RouteGroup {
  name: string;
  /** Every route of the group starts with it; the longest prefix that fits a path decides its access. */
  prefix: string;
  access: AccessRule;
  plugins: readonly RoutePlugin[];
}

export const ROUTE_GROUPS: readonly RouteGroup[] = [
  {
    name: "JSON API",
    prefix: "/",
    access: jsonApiAccess,
    plugins: [statusRoutes, workUnitRoutes, claimRoutes, engineRoutes, eventRoutes, attentionRoutes, backendRoutes, agentRoutes, openApiRoutes],
  },
];
