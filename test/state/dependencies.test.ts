// Dependencies (`blocked_by`) and compare-and-set, as DESIGN.md "Work unit" states them.
import { describe, expect, test } from "bun:test";
import { count, expectVeError, logRows, snapshot, useStores } from "./support.ts";

const { open } = useStores("ve-deps");

describe("release when a blocker is DONE", () => {
  test("chain A <- B <- C: A DONE makes B READY and leaves C BLOCKED on B", () => {
    const store = open();
    store.create({ chunk: "A" });
    expect(store.create({ chunk: "B", blocked_by: ["A"] }).status).toBe("BLOCKED");
    expect(store.create({ chunk: "C", blocked_by: ["B"] }).status).toBe("BLOCKED");
    const bBefore = store.get("B");

    store.update("A", { status: "DONE" });

    const b = store.get("B");
    expect(b.status).toBe("READY");
    expect(b.blocked_by).toEqual([]);
    expect(b.updated_at > bBefore.updated_at).toBe(true);
    const c = store.get("C");
    expect(c.status).toBe("BLOCKED");
    expect(c.blocked_by).toEqual(["B"]);

    const history = store.history("B");
    expect(history.length).toBe(2);
    const release = history[1];
    expect(release).toMatchObject({ old_status: "BLOCKED", new_status: "READY", forced: false });
    expect(release?.reason ?? "").toContain("A");
    expect(store.history("C").length).toBe(1);
  });

  test("a unit with two blockers stays BLOCKED until both are DONE", () => {
    const store = open();
    store.create({ chunk: "A" });
    store.create({ chunk: "B" });
    store.create({ chunk: "C", blocked_by: ["A", "B"] });
    store.update("A", { status: "DONE" });
    expect(store.get("C")).toMatchObject({ status: "BLOCKED", blocked_by: ["B"], depends_on: ["A", "B"] });
    // The release is in C's history although its status did not change (issue 10 item 3).
    const partial = logRows(store, "C");
    expect(partial.length).toBe(2);
    expect(partial[1]).toMatchObject({ old_status: "BLOCKED", new_status: "BLOCKED", reason: "'A' is DONE; waits on 'B'" });
    store.update("B", { status: "DONE" });
    expect(store.get("C")).toMatchObject({ status: "READY", blocked_by: [], depends_on: ["A", "B"] });
    expect(logRows(store, "C").length).toBe(3);
  });

  test("a released NEEDS_ATTENTION unit leaves the list but keeps its status", () => {
    const store = open();
    store.create({ chunk: "A" });
    store.create({ chunk: "B", blocked_by: ["A"] });
    store.update("B", { status: "NEEDS_ATTENTION" });
    store.update("A", { status: "DONE" });
    expect(store.get("B")).toMatchObject({ status: "NEEDS_ATTENTION", blocked_by: [] });
  });

  test("a forced DONE releases dependents too", () => {
    const store = open();
    store.create({ chunk: "A" });
    store.create({ chunk: "B", blocked_by: ["A"] });
    store.update("A", { status: "DONE" });
    store.update("A", { status: "READY" }); // reopen
    store.create({ chunk: "C", blocked_by: ["A"] });
    store.update("A", { status: "NEEDS_ATTENTION" });
    store.update("A", { status: "DONE" });
    expect(store.get("C")).toMatchObject({ status: "READY", blocked_by: [] });
  });

  test("creating a unit directly as DONE releases units that already named it", () => {
    const store = open();
    store.create({ chunk: "B", blocked_by: ["X"] });
    expect(store.get("B").status).toBe("BLOCKED");
    store.create({ chunk: "X", status: "DONE" });
    expect(store.get("B")).toMatchObject({ status: "READY", blocked_by: [] });
    const history = store.history("B");
    expect(history.length).toBe(2);
    expect(history[1]?.reason ?? "").toContain("X");
  });

  test("creating a named blocker as not DONE keeps its dependents BLOCKED", () => {
    const store = open();
    store.create({ chunk: "B", blocked_by: ["X"] });
    store.create({ chunk: "X" });
    expect(store.get("B")).toMatchObject({ status: "BLOCKED", blocked_by: ["X"] });
  });
});

describe("cycles", () => {
  test("self-reference is refused on create and on update", () => {
    const store = open();
    expectVeError(() => store.create({ chunk: "A", blocked_by: ["A"] }), "dependency_cycle");
    expect(count(store, "work_units")).toBe(0);
    expect(count(store, "status_log")).toBe(0);
    store.create({ chunk: "A" });
    const before = snapshot(store);
    expectVeError(() => store.update("A", { blocked_by: ["A"] }), "dependency_cycle");
    expect(snapshot(store)).toEqual(before);
  });

  test("a two-unit cycle is refused", () => {
    const store = open();
    store.create({ chunk: "A" });
    store.create({ chunk: "B", blocked_by: ["A"] });
    const before = snapshot(store);
    expectVeError(() => store.update("A", { blocked_by: ["B"] }), "dependency_cycle");
    expect(snapshot(store)).toEqual(before);
  });

  test("a longer cycle A <- B <- C <- A is refused", () => {
    const store = open();
    store.create({ chunk: "A" });
    store.create({ chunk: "B", blocked_by: ["A"] });
    store.create({ chunk: "C", blocked_by: ["B"] });
    const before = snapshot(store);
    const error = expectVeError(() => store.update("A", { blocked_by: ["Z", "C"] }), "dependency_cycle");
    expect(error.details).toMatchObject({ chunk: "A" });
    expect(snapshot(store)).toEqual(before);
  });

  test("a cycle through a not-yet-existing name is refused when the name is created", () => {
    const store = open();
    store.create({ chunk: "B", blocked_by: ["X"] });
    const before = snapshot(store);
    expectVeError(() => store.create({ chunk: "X", blocked_by: ["B"] }), "dependency_cycle");
    expect(snapshot(store)).toEqual(before);
    expectVeError(() => store.get("X"), "not_found");
  });

  test("a diamond is not a cycle", () => {
    const store = open();
    store.create({ chunk: "A" });
    store.create({ chunk: "B", blocked_by: ["A"] });
    store.create({ chunk: "C", blocked_by: ["A"] });
    expect(store.create({ chunk: "D", blocked_by: ["B", "C"] }).blocked_by).toEqual(["B", "C"]);
  });
});

describe("deleting a blocker", () => {
  test("unforced delete of a unit others wait on is refused with has_dependents", () => {
    const store = open();
    store.create({ chunk: "A" });
    store.create({ chunk: "B", blocked_by: ["A"] });
    const before = snapshot(store);
    const error = expectVeError(() => store.delete("A"), "has_dependents");
    expect(error.details).toMatchObject({ chunk: "A", dependents: ["B"] });
    expect(snapshot(store)).toEqual(before);
  });

  test("forced delete releases dependents (BLOCKED -> READY, logged)", () => {
    const store = open();
    store.create({ chunk: "A" });
    store.create({ chunk: "B", blocked_by: ["A"] });
    store.create({ chunk: "C", blocked_by: ["A", "Q"] });
    store.delete("A", { force: true });
    expectVeError(() => store.get("A"), "not_found");
    expect(store.get("B")).toMatchObject({ status: "READY", blocked_by: [] });
    expect(store.get("C")).toMatchObject({ status: "BLOCKED", blocked_by: ["Q"] });
    const history = store.history("B");
    expect(history.length).toBe(2);
    expect(history[1]).toMatchObject({ old_status: "BLOCKED", new_status: "READY", forced: false });
    expect(history[1]?.reason ?? "").toContain("A");
    expect(count(store, "work_units")).toBe(2);
  });

  test("a unit nobody waits on is deleted without force", () => {
    const store = open();
    store.create({ chunk: "A" });
    store.create({ chunk: "B", blocked_by: ["A"] });
    store.delete("B");
    expectVeError(() => store.get("B"), "not_found");
    store.delete("A");
    expect(count(store, "work_units")).toBe(0);
    expect(count(store, "work_unit_blockers")).toBe(0);
  });

  test("deleting a missing unit is not_found", () => {
    const store = open();
    expectVeError(() => store.delete("nope"), "not_found");
  });
});

describe("blockers already DONE are dropped", () => {
  test("on create", () => {
    const store = open();
    store.create({ chunk: "A", status: "DONE" });
    store.create({ chunk: "P" });
    const unit = store.create({ chunk: "B", blocked_by: ["A", "P"] });
    expect(unit).toMatchObject({ status: "BLOCKED", blocked_by: ["P"] });
    const only = store.create({ chunk: "C", blocked_by: ["A"] });
    expect(only).toMatchObject({ status: "READY", blocked_by: [] });
    expect(store.get("C").blocked_by).toEqual([]);
  });

  test("on update", () => {
    const store = open();
    store.create({ chunk: "A", status: "DONE" });
    store.create({ chunk: "P" });
    store.create({ chunk: "B" });
    expect(store.update("B", { blocked_by: ["A"] })).toMatchObject({ status: "READY", blocked_by: [] });
    expect(store.update("B", { blocked_by: ["A", "P"] })).toMatchObject({ status: "BLOCKED", blocked_by: ["P"] });
    expect(store.get("B").blocked_by).toEqual(["P"]);
  });

  test("duplicates collapse and the given order is kept", () => {
    const store = open();
    const unit = store.create({ chunk: "B", blocked_by: ["z", "a", "z", "m"] });
    expect(unit.blocked_by).toEqual(["z", "a", "m"]);
    expect(store.list()[0]?.blocked_by).toEqual(["z", "a", "m"]);
  });
});

describe("default and explicit status with blockers", () => {
  test("default status is BLOCKED with an unfinished blocker (existing or not), else READY", () => {
    const store = open();
    store.create({ chunk: "A" });
    expect(store.create({ chunk: "B", blocked_by: ["A"] }).status).toBe("BLOCKED");
    expect(store.create({ chunk: "C", blocked_by: ["not-yet"] }).status).toBe("BLOCKED");
    expect(store.create({ chunk: "D", blocked_by: [] }).status).toBe("READY");
    expect(store.create({ chunk: "E" }).status).toBe("READY");
    expect(logRows(store, "B")[0]).toMatchObject({ old_status: null, new_status: "BLOCKED" });
  });

  for (const status of ["READY", "RUNNING"] as const) {
    test(`explicit ${status} with an unfinished blocker is refused with blocked`, () => {
      const store = open();
      store.create({ chunk: "A" });
      const before = snapshot(store);
      const error = expectVeError(() => store.create({ chunk: "B", status, blocked_by: ["A"] }), "blocked");
      expect(error.details).toMatchObject({ blocked_by: ["A"] });
      expect(snapshot(store)).toEqual(before);
    });

    test(`update to ${status} while blocked is refused with blocked, even with force`, () => {
      const store = open();
      store.create({ chunk: "A" });
      store.create({ chunk: "B", blocked_by: ["A"] });
      store.update("B", { status: "NEEDS_ATTENTION" });
      const before = snapshot(store);
      // NEEDS_ATTENTION -> RUNNING is refused by the table before the blockers are looked at.
      expectVeError(() => store.update("B", { status }), status === "READY" ? "blocked" : "invalid_transition");
      expectVeError(() => store.update("B", { status, force: true }), "blocked");
      expect(snapshot(store)).toEqual(before);
    });
  }

  test("explicit BLOCKED, NEEDS_ATTENTION or DONE with an unfinished blocker is accepted", () => {
    const store = open();
    store.create({ chunk: "A" });
    expect(store.create({ chunk: "B", status: "NEEDS_ATTENTION", blocked_by: ["A"] }).status).toBe("NEEDS_ATTENTION");
    expect(store.create({ chunk: "C", status: "BLOCKED", blocked_by: ["A"] }).status).toBe("BLOCKED");
    expect(store.create({ chunk: "D", status: "DONE", blocked_by: ["A"] }).status).toBe("DONE");
  });

  test("adding an unfinished blocker to a READY or RUNNING unit makes it BLOCKED, logged", () => {
    const store = open();
    store.create({ chunk: "A" });
    store.create({ chunk: "R" });
    store.create({ chunk: "S", status: "RUNNING" });
    expect(store.update("R", { blocked_by: ["A"] }).status).toBe("BLOCKED");
    expect(store.update("S", { blocked_by: ["A"] }).status).toBe("BLOCKED");
    for (const [chunk, from] of [["R", "READY"], ["S", "RUNNING"]] as const) {
      const log = logRows(store, chunk);
      expect(log.length).toBe(2);
      expect(log[1]).toMatchObject({ old_status: from, new_status: "BLOCKED" });
      expect(log[1]?.reason ?? "").toContain("A");
    }
  });

  test("clearing the blockers of a BLOCKED unit makes it READY, logged", () => {
    const store = open();
    store.create({ chunk: "A" });
    store.create({ chunk: "B", blocked_by: ["A"] });
    expect(store.update("B", { blocked_by: [] })).toMatchObject({ status: "READY", blocked_by: [] });
    expect(logRows(store, "B").map((r) => r.new_status)).toEqual(["BLOCKED", "READY"]);
  });

  test("reopening a DONE unit blocks its not-yet-started dependents again (issue 10 item 3)", () => {
    const store = open();
    store.create({ chunk: "A" });
    store.create({ chunk: "B", blocked_by: ["A"] });
    store.create({ chunk: "R", blocked_by: ["A"] });
    store.update("A", { status: "DONE" });
    expect(store.get("B")).toMatchObject({ status: "READY", blocked_by: [], depends_on: ["A"] });
    store.update("R", { status: "RUNNING" });
    store.update("A", { status: "READY" });
    expect(store.get("B")).toMatchObject({ status: "BLOCKED", blocked_by: ["A"], depends_on: ["A"] });
    expect(logRows(store, "B").at(-1)).toMatchObject({
      old_status: "READY",
      new_status: "BLOCKED",
      reason: "blocked again: 'A' was reopened; waits on 'A'",
    });
    // Started work is not taken back: R keeps running, and says what it waits on again.
    expect(store.get("R")).toMatchObject({ status: "RUNNING", blocked_by: ["A"] });
  });
});

describe("compare-and-set", () => {
  test("a mismatched expected_updated_at is refused with stale_write and writes nothing", () => {
    const store = open();
    const read = store.create({ chunk: "u" });
    store.update("u", { status: "RUNNING" });
    const before = snapshot(store);
    const error = expectVeError(
      () => store.update("u", { status: "NEEDS_ATTENTION", expected_updated_at: read.updated_at }),
      "stale_write",
    );
    expect(error.details).toMatchObject({ chunk: "u", expected_updated_at: read.updated_at });
    expect(snapshot(store)).toEqual(before);
  });

  test("a matching expected_updated_at succeeds", () => {
    const store = open();
    store.create({ chunk: "u" });
    const read = store.get("u");
    const updated = store.update("u", { status: "RUNNING", expected_updated_at: read.updated_at });
    expect(updated.status).toBe("RUNNING");
    expect(updated.updated_at).not.toBe(read.updated_at);
  });

  test("two updates in the same millisecond still give distinct, increasing updated_at values", () => {
    const frozen = Date.parse("2031-05-05T05:05:05.005Z");
    const store = open({ now: () => frozen });
    const created = store.create({ chunk: "u" });
    const first = store.update("u", { status: "RUNNING", expected_updated_at: created.updated_at });
    const second = store.update("u", { status: "READY", expected_updated_at: first.updated_at });
    const third = store.update("u", { worktree: "/w", expected_updated_at: second.updated_at });
    const stamps = [created.updated_at, first.updated_at, second.updated_at, third.updated_at];
    expect(new Set(stamps).size).toBe(4);
    expect([...stamps].sort()).toEqual(stamps);
    // The first read is now stale even though the clock never moved.
    expectVeError(() => store.update("u", { status: "DONE", expected_updated_at: first.updated_at }), "stale_write");
  });

  test("a release by a blocker makes an older read of the dependent stale", () => {
    const frozen = Date.parse("2031-05-05T05:05:05.005Z");
    const store = open({ now: () => frozen });
    store.create({ chunk: "A" });
    store.create({ chunk: "B", blocked_by: ["A"] });
    const read = store.get("B");
    store.update("A", { status: "DONE" });
    expectVeError(() => store.update("B", { status: "NEEDS_ATTENTION", expected_updated_at: read.updated_at }), "stale_write");
    expect(store.get("B").status).toBe("READY");
  });

  test("updating or reading a missing unit is not_found", () => {
    const store = open();
    expectVeError(() => store.update("ghost", { status: "RUNNING" }), "not_found");
    expectVeError(() => store.history("ghost"), "not_found");
    expect(count(store, "status_log")).toBe(0);
  });

  test("creating an existing unit is already_exists and changes nothing", () => {
    const store = open();
    store.create({ chunk: "u", phase: "PLAN" });
    const before = snapshot(store);
    expectVeError(() => store.create({ chunk: "u" }), "already_exists");
    expect(snapshot(store)).toEqual(before);
  });
});
