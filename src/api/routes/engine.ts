// The engine's routes: injecting units the scheduler runs, their runs, retrying a unit that
// waits on a person, the engine's settings, and its worktrees.
import { Elysia } from "elysia";
import {
  ChunkParams,
  ConfigEntry,
  ConfigList,
  ConfigParams,
  InjectRequest,
  Injected,
  NoQuery,
  PruneRequest,
  PruneResult,
  RetryRequest,
  Run,
  RunFilter,
  RunList,
  RunParams,
  SetConfig,
  ShutdownRequest,
  ShutdownResult,
  WorkUnit,
  WorktreeList,
} from "../../models/index.ts";
import { readJsonBody } from "../body.ts";
import { type RouteContext, operation } from "./kit.ts";

const jsonBody = ({ request }: { request: Request }) => readJsonBody(request);

const injectOp = operation("POST /inject", {
  summary: "Create work units the scheduler runs, in dependency order, all or none",
  description:
    "The phase of each is read from its documents on the base branch unless given (no GOAL.md: GOAL; no PLAN.md " +
    "with content: PLAN; else IMPLEMENT); GOAL.md's `depends_on` frontmatter and `blocked_by` become its dependencies. " +
    "Needs a git repository with at least one commit.",
  status: 201,
  response: Injected,
  errors: ["already_exists", "blocked", "dependency_cycle", "git_required", "git_missing", "git_failed"],
  body: true,
  write: true,
  examples: [
    { title: "Run a chunk from its documents on the checked-out branch", body: { chunks: ["parser"] } },
    { title: "Two chunks after another, with a goal, landing on main", body: { chunks: ["cli", "docs"], goal: "A CLI for the parser", blocked_by: ["parser"], base: "main" } },
  ],
});
const runsOp = operation("GET /runs", {
  summary: "Agent runs, oldest first, optionally of one unit",
  status: 200,
  response: RunList,
  errors: ["validation_failed", "not_found"],
  examples: [{ title: "Every run" }, { title: "The runs of one unit", query: "chunk=parser" }],
});
const runOp = operation("GET /runs/:id", {
  summary: "One agent run",
  status: 200,
  response: Run,
  errors: ["validation_failed", "not_found"],
  examples: [{ title: "One run", params: { id: "20261201-120000-a1b2c3" } }],
});
const retryOp = operation("POST /work-units/:chunk/retry", {
  summary: "Make a unit that waits on a person READY again, with fresh retry counters (fresh: also a new agent session; accept_base: keep its base as moved backwards)",
  status: 200,
  response: WorkUnit,
  errors: ["not_found", "not_waiting"],
  body: true,
  write: true,
  examples: [{ title: "Retry, resuming the agent's session", params: { chunk: "parser" }, body: {} }, { title: "Retry with a new session", params: { chunk: "parser" }, body: { fresh: true } }, { title: "Keep a base moved backwards, then land", params: { chunk: "parser" }, body: { accept_base: true } }],
});
const configOp = operation("GET /config", {
  summary: "Every engine setting with its value, default and source",
  status: 200,
  response: ConfigList,
  errors: ["validation_failed"],
  examples: [{ title: "Every setting" }],
});
const setConfigOp = operation("PUT /config/:key", {
  summary: "Set an engine setting; effective at once",
  status: 200,
  response: ConfigEntry,
  errors: [],
  body: true,
  write: true,
  examples: [{ title: "Four agents at once", params: { key: "max_agents" }, body: { value: 4 } }],
});
const unsetConfigOp = operation("DELETE /config/:key", {
  summary: "Reset an engine setting to its default",
  status: 200,
  response: ConfigEntry,
  errors: ["validation_failed"],
  write: true,
  examples: [{ title: "Back to the default", params: { key: "max_agents" } }],
});
const worktreesOp = operation("GET /worktrees", {
  summary: "The engine's worktrees: each unit's, and those no unit owns, with their size on disk",
  status: 200,
  response: WorktreeList,
  errors: ["validation_failed", "git_missing", "git_failed"],
  examples: [{ title: "Every engine worktree" }],
});
const pruneOp = operation("POST /worktrees/prune", {
  summary: "Remove worktrees no unit in flight owns (a dry run unless apply is true); branches are kept",
  status: 200,
  response: PruneResult,
  errors: ["git_missing", "git_failed"],
  body: true,
  write: true,
  examples: [{ title: "What would be removed", body: {} }, { title: "Remove them", body: { apply: true } }],
});

const shutdownOp = operation("POST /shutdown", {
  summary: "End the daemon; with drain_ms, running phases first get that long to finish",
  description:
    "While it drains no run starts; running phases finish and are committed and moved on as usual, but their next phase " +
    "does not start. The answer comes once they have finished or drain_ms has passed, with how many finished and how many " +
    "still run; the daemon then ends as on SIGTERM, closing those `interrupted` with their units READY.",
  status: 200,
  response: ShutdownResult,
  errors: ["validation_failed", "daemon_stopping"],
  body: true,
  write: true,
  examples: [{ title: "Let running phases finish for up to a minute, then stop", body: { drain_ms: 60000 } }],
});

export const engineRoutes = ({ engine, reply, commit }: RouteContext) =>
  new Elysia({ normalize: false })
    .post(
      "/inject",
      async ({ body }) => {
        const create = await engine.planInject(body);
        return reply(
          commit(() => {
            const units = create();
            return injectOp.serialize({ work_units: units, count: units.length });
          }),
          injectOp.status,
        );
      },
      { parse: jsonBody, query: NoQuery, body: InjectRequest, detail: injectOp.detail },
    )
    .get("/runs", ({ query }) => {
      const runs = engine.runs(query.chunk);
      return reply(runsOp.serialize({ runs, count: runs.length }));
    }, { query: RunFilter, detail: runsOp.detail })
    .get("/runs/:id", ({ params }) => reply(runOp.serialize(engine.run(params.id))), { params: RunParams, query: NoQuery, detail: runOp.detail })
    .post(
      "/work-units/:chunk/retry",
      ({ params, body }) => reply(commit(() => retryOp.serialize(engine.retry(params.chunk, body.fresh === true, body.accept_base === true)))),
      { params: ChunkParams, query: NoQuery, parse: jsonBody, body: RetryRequest, detail: retryOp.detail },
    )
    .get("/config", () => reply(configOp.serialize({ settings: engine.config() })), { query: NoQuery, detail: configOp.detail })
    .put(
      "/config/:key",
      ({ params, body }) => reply(commit(() => setConfigOp.serialize(engine.setConfig(params.key, body.value)))),
      { params: ConfigParams, query: NoQuery, parse: jsonBody, body: SetConfig, detail: setConfigOp.detail },
    )
    .delete("/config/:key", ({ params }) => reply(commit(() => unsetConfigOp.serialize(engine.unsetConfig(params.key)))), {
      params: ConfigParams,
      query: NoQuery,
      detail: unsetConfigOp.detail,
    })
    .get("/worktrees", async () => reply(worktreesOp.serialize({ worktrees: await engine.worktrees() })), { query: NoQuery, detail: worktreesOp.detail })
    .post(
      "/worktrees/prune",
      async ({ body }) => reply(pruneOp.serialize(await engine.prune(body.apply === true))),
      { parse: jsonBody, query: NoQuery, body: PruneRequest, detail: pruneOp.detail },
    )
    .post(
      "/shutdown",
      async ({ body }) => reply(shutdownOp.serialize(await engine.shutdown(body.drain_ms ?? 0))),
      { parse: jsonBody, query: NoQuery, body: ShutdownRequest, detail: shutdownOp.detail },
    );
