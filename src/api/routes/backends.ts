// The backends: each one's program as the daemon resolves it, and `ve orch backend check`,
// which runs a one-line prompt through a backend in the daemon, with the daemon's own
// environment and settings, exactly as a unit's run would get them.
import { Elysia } from "elysia";
import { BackendCheck, BackendList, BackendParams, CheckRequest, DEFAULT_CHECK_TIMEOUT_S, NoQuery } from "../../models/index.ts";
import { readJsonBody } from "../body.ts";
import { type RouteContext, operation } from "./kit.ts";

const jsonBody = ({ request }: { request: Request }) => readJsonBody(request);

const listOp = operation("GET /backends", {
  summary: "The backends, each with the program the daemon would run, its version and its settings",
  description:
    "Cheap: no agent starts. `executable` is the program found at `backends.<name>.path` or on the daemon's PATH; " +
    "`problem` says what is wrong with it (missing, older than `min_version`) and what to do.",
  status: 200,
  response: BackendList,
  errors: [],
  examples: [{ title: "Every backend" }],
});

const checkOp = operation("POST /backends/:name/check", {
  summary: "Run a one-line prompt through a backend in a scratch git repository and report, step by step, what works",
  description:
    "The run goes through the backend exactly as a unit's phase does (its launch, output reader, process group and kill " +
    "ladder, the daemon's environment and settings), in a temporary repository removed afterwards, bounded by `timeout_s` " +
    `(default ${DEFAULT_CHECK_TIMEOUT_S}). The answer comes when the run has ended: \`ok\` is true only when it completed; ` +
    "each step that failed carries a hint saying what to do. An unknown backend is 404 not_found, listing the known ones.",
  status: 200,
  response: BackendCheck,
  errors: ["not_found"],
  body: true,
  write: true,
  examples: [
    { title: "Check the command backend", params: { name: "command" }, body: {} },
    { title: "Check claude, allowing it five minutes", params: { name: "claude" }, body: { timeout_s: 300 } },
  ],
});

export const backendRoutes = ({ engine, reply }: RouteContext) =>
  new Elysia({ normalize: false })
    .get("/backends", async () => reply(listOp.serialize({ backends: await engine.backends() })), { query: NoQuery, detail: listOp.detail })
    .post(
      "/backends/:name/check",
      async ({ params, body }) => reply(checkOp.serialize(await engine.checkBackend(params.name, (body.timeout_s ?? DEFAULT_CHECK_TIMEOUT_S) * 1000))),
      { params: BackendParams, query: NoQuery, parse: jsonBody, body: CheckRequest, detail: checkOp.detail },
    );
