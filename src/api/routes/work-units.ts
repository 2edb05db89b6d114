// /work-units: the units, one by one and as a list, and each unit's status history.
import { Elysia } from "elysia";
import {
  ChunkParams,
  CreateWorkUnit,
  DeleteQuery,
  Deleted,
  History,
  NoQuery,
  UpdateWorkUnit,
  WorkUnit,
  WorkUnitChanged,
  WorkUnitFilter,
  WorkUnitList,
} from "../../models/index.ts";
import { readJsonBody } from "../body.ts";
import { type RouteContext, operation } from "./kit.ts";

const jsonBody = ({ request }: { request: Request }) => readJsonBody(request);

const list = operation("GET /work-units", {
  summary: "Every work unit, in creation order, optionally filtered by status and phase",
  status: 200,
  response: WorkUnitList,
  errors: ["validation_failed"],
  examples: [{ title: "Every unit" }, { title: "The units ready to plan", query: "status=READY&phase=PLAN" }],
});
const create = operation("POST /work-units", {
  summary: "Create a work unit",
  status: 201,
  response: WorkUnit,
  errors: ["already_exists", "blocked", "dependency_cycle"],
  body: true,
  write: true,
  examples: [
    { title: "A unit with the defaults (GOAL, READY)", body: { chunk: "parser" } },
    { title: "A unit waiting for another", body: { chunk: "docs", phase: "PLAN", blocked_by: ["parser"] } },
  ],
});
const show = operation("GET /work-units/:chunk", {
  summary: "One work unit",
  status: 200,
  response: WorkUnit,
  errors: ["validation_failed", "not_found"],
  examples: [{ title: "One unit", params: { chunk: "parser" } }],
});
const update = operation("PATCH /work-units/:chunk", {
  summary: "Change a work unit's status, phase, blockers or worktree",
  description:
    "The answer is the unit as this write left it, with `previous` (its status, phase and updated_at before the " +
    "write) and `changed` (the fields the write changed; empty for a no-op), both read in the write's transaction. " +
    "`expected_status` makes the change conditional: refused with status_mismatch unless the unit is in that status.",
  status: 200,
  response: WorkUnitChanged,
  errors: ["not_found", "invalid_transition", "blocked", "dependency_cycle", "stale_write", "status_mismatch"],
  body: true,
  write: true,
  examples: [
    { title: "Start it", params: { chunk: "parser" }, body: { status: "RUNNING", worktree: "/work/trees/parser" } },
    {
      title: "Finish it, only if nobody changed it since it was read",
      params: { chunk: "parser" },
      body: { status: "DONE", expected_updated_at: "2026-01-31T12:00:00.000Z" },
    },
  ],
});
const remove = operation("DELETE /work-units/:chunk", {
  summary: "Delete a work unit (force: even when other units wait for it)",
  status: 200,
  response: Deleted,
  errors: ["validation_failed", "not_found", "has_dependents"],
  write: true,
  examples: [
    { title: "Delete it", params: { chunk: "docs" } },
    { title: "Delete it although other units wait for it", params: { chunk: "parser" }, query: "force=true" },
  ],
});
const history = operation("GET /work-units/:chunk/history", {
  summary: "A work unit's status log, oldest first",
  status: 200,
  response: History,
  errors: ["validation_failed", "not_found"],
  examples: [{ title: "Its history", params: { chunk: "parser" } }],
});

export const workUnitRoutes = ({ store, cache, reply, commit }: RouteContext) =>
  new Elysia({ normalize: false })
    .get(
      "/work-units",
      ({ query }) => {
        const key = `list ${query.status ?? "*"} ${query.phase ?? "*"}`;
        return reply(
          cache.read(key, () => {
            const work_units = store.list(query);
            return list.serialize({ work_units, count: work_units.length });
          }),
        );
      },
      { query: WorkUnitFilter, detail: list.detail },
    )
    .post("/work-units", ({ body }) => reply(commit(() => create.serialize(store.create(body))), create.status), {
      parse: jsonBody,
      query: NoQuery,
      body: CreateWorkUnit,
      detail: create.detail,
    })
    .get(
      "/work-units/:chunk",
      ({ params }) =>
        reply(cache.read(`unit ${params.chunk}`, () => show.serialize(store.get(params.chunk)))),
      { params: ChunkParams, query: NoQuery, detail: show.detail },
    )
    .patch(
      "/work-units/:chunk",
      ({ params, body }) => reply(commit(() => update.serialize(store.update(params.chunk, body)))),
      { params: ChunkParams, query: NoQuery, parse: jsonBody, body: UpdateWorkUnit, detail: update.detail },
    )
    .delete(
      "/work-units/:chunk",
      ({ params, query }) =>
        reply(
          commit(() => {
            store.delete(params.chunk, { force: query.force === true });
            return remove.serialize({ deleted: true, chunk: params.chunk });
          }),
        ),
      { params: ChunkParams, query: DeleteQuery, detail: remove.detail },
    )
    .get(
      "/work-units/:chunk/history",
      ({ params }) =>
        reply(
          cache.read(`history ${params.chunk}`, () =>
            history.serialize({ chunk: params.chunk, history: store.history(params.chunk) }),
          ),
        ),
      { params: ChunkParams, query: NoQuery, detail: history.detail },
    );
