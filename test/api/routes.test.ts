// Every route's success answer (DESIGN.md "HTTP API"), validated against its TypeBox schema,
// and the seed plan's endpoint list: 201 on create, 404 for an unknown unit, 409 on a
// duplicate, history after transitions.
import { describe, expect, test } from "bun:test";
import {
  DaemonStatus,
  Deleted,
  History,
  PHASES,
  STATUSES,
  type StatusLogEntry,
  WorkUnit,
  WorkUnitChanged,
  WorkUnitList,
} from "../../src/models/index.ts";
import { hostTarget } from "../../src/version.ts";
import { PID, VERSION, expectError, expectOk, send, useApi } from "./helpers.ts";

const setup = useApi("ve-api-routes");
const ISO_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe("GET /status", () => {
  test("an empty store: every field as given, all five counts present and zero", async () => {
    const { app, dir, socket } = setup();
    const status = expectOk<DaemonStatus>(await send(app, "GET", "/status"), 200, DaemonStatus);
    expect(status.running).toBe(true);
    expect(status.pid).toBe(PID);
    expect(status.version).toBe(VERSION);
    expect(status.project_dir).toBe(dir);
    expect(status.socket).toBe(socket);
    expect(status.transport).toBe("unix");
    expect(status.port).toBeNull();
    expect(status.started_at).toMatch(ISO_MS_UTC);
    expect(status.uptime_seconds).toBeGreaterThanOrEqual(0);
    expect(status.work_unit_counts).toEqual({ READY: 0, RUNNING: 0, BLOCKED: 0, NEEDS_ATTENTION: 0, DONE: 0 });
    expect(Object.keys(status.work_unit_counts).sort()).toEqual([...STATUSES].sort());
  });

  test("describes the daemon's build like `ve --version --json`; from source: no commit or date, the host's target", async () => {
    const { app } = setup();
    const status = expectOk<DaemonStatus>(await send(app, "GET", "/status"), 200, DaemonStatus);
    expect({ commit: status.commit, built_at: status.built_at, target: status.target }).toEqual({
      commit: null,
      built_at: null,
      target: hostTarget(),
    });
  });

  test("counts follow the store, one key per status, zeros kept", async () => {
    const { app } = setup();
    for (const [chunk, status] of [
      ["r1", "READY"],
      ["r2", "READY"],
      ["run", "RUNNING"],
      ["done", "DONE"],
    ] as const) {
      expectOk(await send(app, "POST", "/work-units", { json: { chunk, status } }), 201, WorkUnit);
    }
    expectOk(await send(app, "POST", "/work-units", { json: { chunk: "wait", blocked_by: ["ghost"] } }), 201, WorkUnit);
    const status = expectOk<DaemonStatus>(await send(app, "GET", "/status"), 200, DaemonStatus);
    expect(status.work_unit_counts).toEqual({ READY: 2, RUNNING: 1, BLOCKED: 1, NEEDS_ATTENTION: 0, DONE: 1 });
  });
});

describe("GET /work-units", () => {
  test("an empty store lists nothing", async () => {
    const { app } = setup();
    const list = expectOk<WorkUnitList>(await send(app, "GET", "/work-units"), 200, WorkUnitList);
    expect(list).toEqual({ work_units: [], count: 0 });
  });

  test("units come in creation order (not name order), count matches", async () => {
    const { app } = setup();
    for (const chunk of ["zeta", "alpha", "mid", "beta"]) {
      expectOk(await send(app, "POST", "/work-units", { json: { chunk } }), 201, WorkUnit);
    }
    const list = expectOk<WorkUnitList>(await send(app, "GET", "/work-units"), 200, WorkUnitList);
    expect(list.work_units.map((u) => u.chunk)).toEqual(["zeta", "alpha", "mid", "beta"]);
    expect(list.count).toBe(4);
  });

  test("?status=, ?phase= and both combined filter, keeping creation order", async () => {
    const { app } = setup();
    const seed = [
      { chunk: "p1", phase: "PLAN", status: "READY" },
      { chunk: "g1", phase: "GOAL", status: "RUNNING" },
      { chunk: "p2", phase: "PLAN", status: "RUNNING" },
      { chunk: "i1", phase: "IMPLEMENT", status: "DONE" },
      { chunk: "p3", phase: "PLAN", status: "READY" },
    ];
    for (const json of seed) expectOk(await send(app, "POST", "/work-units", { json }), 201, WorkUnit);
    const names = async (query: string) =>
      expectOk<WorkUnitList>(await send(app, "GET", `/work-units${query}`), 200, WorkUnitList).work_units.map((u) => u.chunk);

    expect(await names("?status=READY")).toEqual(["p1", "p3"]);
    expect(await names("?status=RUNNING")).toEqual(["g1", "p2"]);
    expect(await names("?status=NEEDS_ATTENTION")).toEqual([]);
    expect(await names("?phase=PLAN")).toEqual(["p1", "p2", "p3"]);
    expect(await names("?phase=COMPLETE")).toEqual([]);
    expect(await names("?status=RUNNING&phase=PLAN")).toEqual(["p2"]);
    expect(await names("?phase=PLAN&status=READY")).toEqual(["p1", "p3"]);
    expect(await names("?status=DONE&phase=GOAL")).toEqual([]);
    const filtered = expectOk<WorkUnitList>(await send(app, "GET", "/work-units?phase=PLAN"), 200, WorkUnitList);
    expect(filtered.count).toBe(3);
  });

  test("every status and phase value is accepted as a filter", async () => {
    const { app } = setup();
    for (const status of STATUSES) expectOk(await send(app, "GET", `/work-units?status=${status}`), 200, WorkUnitList);
    for (const phase of PHASES) expectOk(await send(app, "GET", `/work-units?phase=${phase}`), 200, WorkUnitList);
  });
});

describe("POST /work-units", () => {
  test("201 with the unit and its defaults (GOAL, READY, no blockers, no worktree)", async () => {
    const { app, store } = setup();
    const unit = expectOk<WorkUnit>(await send(app, "POST", "/work-units", { json: { chunk: "feat-1" } }), 201, WorkUnit);
    expect(unit).toMatchObject({ chunk: "feat-1", phase: "GOAL", status: "READY", blocked_by: [], worktree: null });
    expect(unit.created_at).toBe(unit.updated_at);
    expect(store.get("feat-1")).toEqual(unit);
  });

  test("201 with every field given", async () => {
    const { app } = setup();
    const json = { chunk: "full", phase: "IMPLEMENT", status: "NEEDS_ATTENTION", blocked_by: ["later"], worktree: "/tmp/wt" };
    const unit = expectOk<WorkUnit>(await send(app, "POST", "/work-units", { json }), 201, WorkUnit);
    expect(unit).toMatchObject({ chunk: "full", phase: "IMPLEMENT", status: "NEEDS_ATTENTION", blocked_by: ["later"], worktree: "/tmp/wt" });
  });

  test("an unfinished blocker makes the default status BLOCKED; a DONE blocker is dropped", async () => {
    const { app } = setup();
    expectOk(await send(app, "POST", "/work-units", { json: { chunk: "fin", status: "DONE" } }), 201, WorkUnit);
    const blocked = expectOk<WorkUnit>(
      await send(app, "POST", "/work-units", { json: { chunk: "w1", blocked_by: ["fin", "open"] } }),
      201,
      WorkUnit,
    );
    expect(blocked.status).toBe("BLOCKED");
    expect(blocked.blocked_by).toEqual(["open"]);
    const free = expectOk<WorkUnit>(await send(app, "POST", "/work-units", { json: { chunk: "w2", blocked_by: ["fin"] } }), 201, WorkUnit);
    expect(free.status).toBe("READY");
    expect(free.blocked_by).toEqual([]);
  });
});

describe("GET /work-units/:chunk", () => {
  test("200 with the same unit the create returned", async () => {
    const { app } = setup();
    const created = expectOk<WorkUnit>(await send(app, "POST", "/work-units", { json: { chunk: "a.b_c-1" } }), 201, WorkUnit);
    const got = expectOk<WorkUnit>(await send(app, "GET", "/work-units/a.b_c-1"), 200, WorkUnit);
    expect(got).toEqual(created);
  });

  test("a 100-character name is a valid name", async () => {
    const { app } = setup();
    const name = `x${"y".repeat(99)}`;
    expectOk(await send(app, "POST", "/work-units", { json: { chunk: name } }), 201, WorkUnit);
    expect(expectOk<WorkUnit>(await send(app, "GET", `/work-units/${name}`), 200, WorkUnit).chunk).toBe(name);
  });
});

describe("PATCH /work-units/:chunk", () => {
  test("200 with the changed unit; the store agrees; updated_at moves forward", async () => {
    const { app, store } = setup();
    const created = expectOk<WorkUnit>(await send(app, "POST", "/work-units", { json: { chunk: "u" } }), 201, WorkUnit);
    const updated = expectOk<WorkUnitChanged>(
      await send(app, "PATCH", "/work-units/u", { json: { status: "RUNNING", phase: "PLAN", worktree: "/w/u" } }),
      200,
      WorkUnitChanged,
    );
    expect(updated).toMatchObject({ chunk: "u", status: "RUNNING", phase: "PLAN", worktree: "/w/u" });
    expect(updated.created_at).toBe(created.created_at);
    expect(updated.updated_at > created.updated_at).toBe(true);
    // The answer says what this write changed, read in its own transaction.
    const { previous, changed, ...unit } = updated;
    expect(previous).toEqual({ status: "READY", phase: "GOAL", updated_at: created.updated_at });
    expect(changed).toEqual(["status", "phase", "worktree"]);
    expect(store.get("u")).toEqual(unit);
  });

  test("a matching expected_updated_at is accepted", async () => {
    const { app } = setup();
    const created = expectOk<WorkUnit>(await send(app, "POST", "/work-units", { json: { chunk: "u" } }), 201, WorkUnit);
    const updated = expectOk<WorkUnitChanged>(
      await send(app, "PATCH", "/work-units/u", { json: { status: "DONE", expected_updated_at: created.updated_at } }),
      200,
      WorkUnitChanged,
    );
    expect(updated.status).toBe("DONE");
  });

  test("force allows a backward phase and a refused status change", async () => {
    const { app } = setup();
    expectOk(await send(app, "POST", "/work-units", { json: { chunk: "u", phase: "IMPLEMENT", status: "DONE" } }), 201, WorkUnit);
    const updated = expectOk<WorkUnitChanged>(
      await send(app, "PATCH", "/work-units/u", { json: { status: "NEEDS_ATTENTION", phase: "GOAL", force: true } }),
      200,
      WorkUnitChanged,
    );
    expect(updated).toMatchObject({ status: "NEEDS_ATTENTION", phase: "GOAL" });
    const history = expectOk<History>(await send(app, "GET", "/work-units/u/history"), 200, History);
    expect(history.history.at(-1)?.forced).toBe(true);
  });

  test("a unit becoming DONE releases the units waiting on it", async () => {
    const { app } = setup();
    expectOk(await send(app, "POST", "/work-units", { json: { chunk: "base" } }), 201, WorkUnit);
    expectOk(await send(app, "POST", "/work-units", { json: { chunk: "top", blocked_by: ["base"] } }), 201, WorkUnit);
    expectOk(await send(app, "PATCH", "/work-units/base", { json: { status: "DONE" } }), 200, WorkUnitChanged);
    const top = expectOk<WorkUnit>(await send(app, "GET", "/work-units/top"), 200, WorkUnit);
    expect(top).toMatchObject({ status: "READY", blocked_by: [] });
  });
});

describe("DELETE /work-units/:chunk", () => {
  test("200 {deleted: true, chunk}; the unit and its history are gone", async () => {
    const { app, store } = setup();
    expectOk(await send(app, "POST", "/work-units", { json: { chunk: "gone" } }), 201, WorkUnit);
    expectOk(await send(app, "POST", "/work-units", { json: { chunk: "kept" } }), 201, WorkUnit);
    const deleted = expectOk<Deleted>(await send(app, "DELETE", "/work-units/gone"), 200, Deleted);
    expect(deleted).toEqual({ deleted: true, chunk: "gone" });
    expectError(await send(app, "GET", "/work-units/gone"), 404, "not_found");
    expectError(await send(app, "GET", "/work-units/gone/history"), 404, "not_found");
    expect(store.list().map((u) => u.chunk)).toEqual(["kept"]);
  });

  test("?force=true and ?force=false are accepted on a unit nobody waits on", async () => {
    const { app } = setup();
    expectOk(await send(app, "POST", "/work-units", { json: { chunk: "a" } }), 201, WorkUnit);
    expectOk(await send(app, "POST", "/work-units", { json: { chunk: "b" } }), 201, WorkUnit);
    expect(expectOk<Deleted>(await send(app, "DELETE", "/work-units/a?force=true"), 200, Deleted).chunk).toBe("a");
    expect(expectOk<Deleted>(await send(app, "DELETE", "/work-units/b?force=false"), 200, Deleted).chunk).toBe("b");
  });
});

describe("GET /work-units/:chunk/history", () => {
  test("create, READY->RUNNING, RUNNING->DONE give 3 rows in order", async () => {
    const { app } = setup();
    expectOk(await send(app, "POST", "/work-units", { json: { chunk: "h" } }), 201, WorkUnit);
    expectOk(await send(app, "PATCH", "/work-units/h", { json: { status: "RUNNING" } }), 200, WorkUnitChanged);
    expectOk(await send(app, "PATCH", "/work-units/h", { json: { status: "DONE" } }), 200, WorkUnitChanged);
    const body = expectOk<History>(await send(app, "GET", "/work-units/h/history"), 200, History);
    expect(body.chunk).toBe("h");
    const rows = body.history;
    expect(rows.map((r: StatusLogEntry) => [r.old_status, r.new_status])).toEqual([
      [null, "READY"],
      ["READY", "RUNNING"],
      ["RUNNING", "DONE"],
    ]);
    expect(rows.every((r) => r.chunk === "h" && r.forced === false && r.new_phase === "GOAL")).toBe(true);
    expect(rows[0]?.old_phase).toBeNull();
    for (let i = 1; i < rows.length; i++) {
      expect((rows[i] as StatusLogEntry).id).toBeGreaterThan((rows[i - 1] as StatusLogEntry).id);
      expect((rows[i] as StatusLogEntry).timestamp >= (rows[i - 1] as StatusLogEntry).timestamp).toBe(true);
    }
  });

  test("a same-status update logs nothing; a phase change logs a row", async () => {
    const { app } = setup();
    expectOk(await send(app, "POST", "/work-units", { json: { chunk: "h" } }), 201, WorkUnit);
    expectOk(await send(app, "PATCH", "/work-units/h", { json: { status: "READY" } }), 200, WorkUnitChanged);
    expect(expectOk<History>(await send(app, "GET", "/work-units/h/history"), 200, History).history).toHaveLength(1);
    expectOk(await send(app, "PATCH", "/work-units/h", { json: { phase: "PLAN" } }), 200, WorkUnitChanged);
    const rows = expectOk<History>(await send(app, "GET", "/work-units/h/history"), 200, History).history;
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ old_phase: "GOAL", new_phase: "PLAN", old_status: "READY", new_status: "READY" });
  });
});

describe("the seed plan's endpoint list", () => {
  test("create answers 201, a duplicate 409 already_exists and the first unit is untouched", async () => {
    const { app, store } = setup();
    const first = expectOk<WorkUnit>(await send(app, "POST", "/work-units", { json: { chunk: "dup", phase: "PLAN" } }), 201, WorkUnit);
    const error = expectError(await send(app, "POST", "/work-units", { json: { chunk: "dup" } }), 409, "already_exists");
    expect(error.message).toContain("dup");
    expect(store.get("dup")).toEqual(first);
  });

  test("an unknown unit is 404 not_found on GET, PATCH, DELETE and history", async () => {
    const { app } = setup();
    expectError(await send(app, "GET", "/work-units/nobody"), 404, "not_found");
    expectError(await send(app, "PATCH", "/work-units/nobody", { json: { status: "DONE" } }), 404, "not_found");
    expectError(await send(app, "DELETE", "/work-units/nobody"), 404, "not_found");
    expectError(await send(app, "GET", "/work-units/nobody/history"), 404, "not_found");
  });

  test("history after transitions lists each change with its reason", async () => {
    const { app } = setup();
    expectOk(await send(app, "POST", "/work-units", { json: { chunk: "base" } }), 201, WorkUnit);
    expectOk(await send(app, "POST", "/work-units", { json: { chunk: "dep", blocked_by: ["base"] } }), 201, WorkUnit);
    expectOk(await send(app, "PATCH", "/work-units/base", { json: { status: "DONE" } }), 200, WorkUnitChanged);
    const rows = expectOk<History>(await send(app, "GET", "/work-units/dep/history"), 200, History).history;
    expect(rows.map((r) => [r.old_status, r.new_status])).toEqual([
      [null, "BLOCKED"],
      ["BLOCKED", "READY"],
    ]);
    expect(rows[1]?.reason ?? "").toContain("base");
  });
});
