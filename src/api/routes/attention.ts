// The attention queue: what waits on a person (in the order to work it), answering a unit's
// question, and retrying every wait (of one kind). Retrying one unit is an engine route.
import { Elysia } from "elysia";
import { AnswerRequest, AttentionFilter, AttentionQueue, ChunkParams, NoQuery, RetriedUnits, RetryAllRequest, WorkUnit } from "../../models/index.ts";
import { readJsonBody } from "../body.ts";
import { type RouteContext, operation } from "./kit.ts";

const jsonBody = ({ request }: { request: Request }) => readJsonBody(request);

const queueOp = operation("GET /attention", {
  summary: "Every unit waiting on a person: first what releases the most units (transitively), then the oldest",
  description:
    "Each entry has the unit's record (kind, reason, question and its options, the run it came from), how long it has " +
    "waited, how many units wait on it, and the command that resolves it. A tracked unit set NEEDS_ATTENTION by hand has " +
    "kind null.",
  status: 200,
  response: AttentionQueue,
  errors: ["validation_failed"],
  examples: [{ title: "The whole queue" }, { title: "Only the questions", query: "kind=question" }],
});
const answerOp = operation("POST /work-units/:chunk/answer", {
  summary: "Answer the question a unit waits on: it is READY again and its next run gets the answer",
  description:
    "Give `answer` (text) or `option` (the number of one of the question's options, from 1). The next run resumes the " +
    "agent's session with the answer as the operator's reply; a backend without a session to resume starts a new one " +
    "with the question and the answer in its prompt. Refused with not_waiting unless the unit is NEEDS_ATTENTION, and " +
    "with not_a_question when it waits for another reason (retry it instead).",
  status: 200,
  response: WorkUnit,
  errors: ["not_found", "not_waiting", "not_a_question"],
  body: true,
  write: true,
  examples: [
    { title: "Answer in words", params: { chunk: "parser" }, body: { answer: "Use SQLite; keep the schema in sql/." } },
    { title: "Pick the second option", params: { chunk: "parser" }, body: { option: 2 } },
  ],
});
const retryAllOp = operation("POST /attention/retry", {
  summary: "Retry every scheduled unit waiting on a person (optionally of one kind), all or none",
  description: "Each is READY again with fresh retry counters, as by POST /work-units/{chunk}/retry; none waiting is an empty list.",
  status: 200,
  response: RetriedUnits,
  errors: [],
  body: true,
  write: true,
  examples: [
    { title: "Every unit waiting on a person", body: {} },
    { title: "Only those that failed, with new sessions", body: { kind: "error", fresh: true } },
  ],
});

export const attentionRoutes = ({ engine, reply, commit }: RouteContext) =>
  new Elysia({ normalize: false })
    .get(
      "/attention",
      ({ query }) => {
        const entries = engine.attention(query.kind);
        return reply(queueOp.serialize({ attention: entries, count: entries.length }));
      },
      { query: AttentionFilter, detail: queueOp.detail },
    )
    .post(
      "/attention/retry",
      ({ body }) =>
        reply(
          commit(() => {
            const retried = engine.retryAll(body.kind, body.fresh === true);
            return retryAllOp.serialize({ retried, count: retried.length });
          }),
        ),
      { query: NoQuery, parse: jsonBody, body: RetryAllRequest, detail: retryAllOp.detail },
    )
    .post(
      "/work-units/:chunk/answer",
      ({ params, body }) => reply(commit(() => answerOp.serialize(engine.answer(params.chunk, body)))),
      { params: ChunkParams, query: NoQuery, parse: jsonBody, body: AnswerRequest, detail: answerOp.detail },
    );
