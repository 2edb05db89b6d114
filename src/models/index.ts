// The one description of every shape that crosses a boundary: the API validates requests and
// responses with these schemas, the store validates its input with them, and the client and
// CLI use their Static<> types. One module per resource; import them through this index.
export { PHASES, STATUSES } from "../domain.ts";
export type { Phase, Status } from "../domain.ts";
export * from "./common.ts";
export * from "./work-units.ts";
export * from "./daemon.ts";
export * from "./cli.ts";
export * from "./openapi.ts";
export * from "./engine.ts";
export * from "./events.ts";
export * from "./attention.ts";
export * from "./backends.ts";
export * from "./agent.ts";
