// POST /claims: take the next READY unit, atomically. Several scripts claiming at once each
// get a different unit, or nothing_to_claim; never the same one twice.
import { Elysia } from "elysia";
import { ClaimWorkUnit, NoQuery, WorkUnitChanged } from "../../models/index.ts";
import { readJsonBody } from "../body.ts";
import { type RouteContext, operation } from "./kit.ts";

const jsonBody = ({ request }: { request: Request }) => readJsonBody(request);

const claim = operation("POST /claims", {
  summary: "Take the next READY work unit and make it RUNNING, in one transaction",
  description:
    "The order is the scheduler's: first the unit whose completion releases the most other units (counted " +
    "transitively through blocked_by), then priority, then age. `phase` takes only units in that phase; " +
    "`actor` names the claimer in the history, and in the answer of a claimer that finds nothing left. " +
    "The answer is the unit with `previous` and `changed`, like PATCH /work-units/:chunk.",
  status: 200,
  response: WorkUnitChanged,
  errors: ["validation_failed", "nothing_to_claim"],
  body: true,
  write: true,
});

export const claimRoutes = ({ store, reply, commit }: RouteContext) =>
  new Elysia({ normalize: false }).post("/claims", ({ body }) => reply(commit(() => claim.serialize(store.claim(body)))), {
    parse: jsonBody,
    query: NoQuery,
    body: ClaimWorkUnit,
    detail: claim.detail,
  });
