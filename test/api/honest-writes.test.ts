// A write whose answer cannot be sent is not committed (issue 9 item 7): the answer is
// checked against its schema inside the write's transaction, so a 500 never hides a change.
// A row the response schema refuses stands in for any such bug: here a creation time in
// another format, written behind the store's back.
import { describe, expect, test } from "bun:test";
import { WorkUnit, WorkUnitChanged } from "../../src/models/index.ts";
import { expectError, expectOk, logCount, send, snapshot, useApi } from "./helpers.ts";

const setup = useApi("ve-api-honest-writes");
const FOREIGN_TIME = "2026-01-11T16:31:05.123456+00:00";

describe("an answer that fails its schema rolls the write back", () => {
  test("PATCH: 500, and the unit, its history and the list are as before", async () => {
    const { app, store, logged } = setup();
    expectOk(await send(app, "POST", "/work-units", { json: { chunk: "odd" } }), 201, WorkUnit);
    store.db.query("UPDATE work_units SET created_at = ? WHERE chunk = 'odd'").run(FOREIGN_TIME);
    const before = { row: store.db.query("SELECT * FROM work_units").all(), log: logCount(store) };

    const reply = await send(app, "PATCH", "/work-units/odd", { json: { status: "RUNNING" } });
    expectError(reply, 500, "internal");
    expect(logged.join("\n")).toContain("does not match its schema");
    expect(store.db.query("SELECT * FROM work_units").all()).toEqual(before.row);
    expect(logCount(store)).toBe(before.log);
  });

  test("the rolled-back write leaves no stale cached answer behind", async () => {
    const { app, store } = setup();
    expectOk(await send(app, "POST", "/work-units", { json: { chunk: "ok" } }), 201, WorkUnit);
    expectOk(await send(app, "POST", "/work-units", { json: { chunk: "odd" } }), 201, WorkUnit);
    store.db.query("UPDATE work_units SET created_at = ? WHERE chunk = 'odd'").run(FOREIGN_TIME);
    expectError(await send(app, "PATCH", "/work-units/odd", { json: { status: "DONE" } }), 500, "internal");
    store.db.query("UPDATE work_units SET created_at = updated_at WHERE chunk = 'odd'").run();
    const odd = expectOk<WorkUnit>(await send(app, "GET", "/work-units/odd"), 200, WorkUnit);
    expect(odd.status).toBe("READY");
  });

  test("a write whose answer is fine still commits", async () => {
    const { app, store } = setup();
    expectOk(await send(app, "POST", "/work-units", { json: { chunk: "fine" } }), 201, WorkUnit);
    const before = snapshot(store);
    expectOk(await send(app, "PATCH", "/work-units/fine", { json: { status: "RUNNING" } }), 200, WorkUnitChanged);
    expect(store.get("fine").status).toBe("RUNNING");
    expect(logCount(store)).toBe(before.log + 1);
  });
});
