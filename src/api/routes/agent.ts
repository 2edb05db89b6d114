// The routes an agent calls about its own run (`ve mcp`'s tools, `ve agent ask|done`). Each
// carries the run's secret in the RUN_TOKEN_HEADER header; the call is recorded against that
// run and answered at once, so no agent CLI's tool timeout runs while a person thinks. What
// the calls mean for the unit is decided when the run ends (engine/signals.ts).
import { Elysia } from "elysia";
import { AgentAskRequest, AgentCallRecorded, AgentDoneRequest, NoQuery, RUN_TOKEN_HEADER } from "../../models/index.ts";
import { readJsonBody } from "../body.ts";
import { type RouteContext, operation } from "./kit.ts";

const jsonBody = ({ request }: { request: Request }) => readJsonBody(request);

const TOKEN_ERRORS = ["run_token_missing", "run_token_invalid", "run_not_open"] as const;

const askOp = operation("POST /agent/ask", {
  summary: "An agent asks the operator a question about its own run; when the run ends, its unit waits on a person",
  description:
    `Send the run's secret (VE_RUN_TOKEN) in the \`${RUN_TOKEN_HEADER}\` header and the run's id (VE_RUN_ID) as run_id. ` +
    "Answered at once: the agent should end its turn; when its run ends (whatever its exit code or the CLI's own verdict) " +
    "the unit becomes NEEDS_ATTENTION with a `question` attention record carrying the question and options.",
  status: 201,
  response: AgentCallRecorded,
  errors: ["validation_failed", ...TOKEN_ERRORS],
  body: true,
  write: true,
  examples: [
    { title: "A question with two choices", headers: { [RUN_TOKEN_HEADER]: "<VE_RUN_TOKEN>" }, body: { run_id: "20261201-120000-a1b2c3", question: "Keep the old API?", options: ["keep it", "remove it"] } },
  ],
});

const doneOp = operation("POST /agent/done", {
  summary: "An agent reports its phase done, with a summary kept on its run",
  description:
    `Send the run's secret (VE_RUN_TOKEN) in the \`${RUN_TOKEN_HEADER}\` header and the run's id (VE_RUN_ID) as run_id. ` +
    "The summary is shown with the run; the run's outcome is still decided by its backend when it ends (the command " +
    "backend: its exit code).",
  status: 201,
  response: AgentCallRecorded,
  errors: ["validation_failed", ...TOKEN_ERRORS],
  body: true,
  write: true,
  examples: [{ title: "Done, with a summary", headers: { [RUN_TOKEN_HEADER]: "<VE_RUN_TOKEN>" }, body: { run_id: "20261201-120000-a1b2c3", summary: "Parser written, tests pass." } }],
});

export const agentRoutes = ({ engine, reply, commit }: RouteContext) =>
  new Elysia({ normalize: false })
    .post(
      "/agent/ask",
      ({ body, request }) =>
        reply(commit(() => askOp.serialize(engine.agentCall(request.headers.get(RUN_TOKEN_HEADER), body, "ask"))), askOp.status),
      { parse: jsonBody, query: NoQuery, body: AgentAskRequest, detail: askOp.detail },
    )
    .post(
      "/agent/done",
      ({ body, request }) =>
        reply(commit(() => doneOp.serialize(engine.agentCall(request.headers.get(RUN_TOKEN_HEADER), body, "done"))), doneOp.status),
      { parse: jsonBody, query: NoQuery, body: AgentDoneRequest, detail: doneOp.detail },
    );
