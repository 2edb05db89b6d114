// The status transition table and the phase order of DESIGN.md ("Work unit"), cell by cell.
import { describe, expect, test } from "bun:test";
import type { Phase, Status } from "../../src/domain.ts";
import type { WorkUnit, WorkUnitChanged } from "../../src/models/index.ts";
import { ISO_MS_UTC, count, expectVeError, logRows, snapshot, useStores } from "./support.ts";

const { open } = useStores("ve-transitions");

// DESIGN.md "Status rules", written out here on purpose (not imported from src/domain.ts), so
// a change of the code's table cannot silently change what the test expects.
const ALLOWED: Record<Status, Status[]> = {
  READY: ["RUNNING", "BLOCKED", "NEEDS_ATTENTION", "DONE"],
  RUNNING: ["READY", "BLOCKED", "NEEDS_ATTENTION", "DONE"],
  BLOCKED: ["READY", "NEEDS_ATTENTION", "DONE"],
  NEEDS_ATTENTION: ["READY", "BLOCKED", "DONE"],
  DONE: ["READY"],
};
const STATUSES: Status[] = ["READY", "RUNNING", "BLOCKED", "NEEDS_ATTENTION", "DONE"];
const PHASES: Phase[] = ["GOAL", "PLAN", "IMPLEMENT", "COMPLETE"];

/** The answer of an update that changed nothing. */
function unchanged(unit: WorkUnit): WorkUnitChanged {
  return { ...unit, previous: { status: unit.status, phase: unit.phase, updated_at: unit.updated_at }, changed: [] };
}

const cells = STATUSES.flatMap((from) => STATUSES.filter((to) => to !== from).map((to) => ({ from, to })));
const allowedCells = cells.filter(({ from, to }) => ALLOWED[from].includes(to));
const refusedCells = cells.filter(({ from, to }) => !ALLOWED[from].includes(to));

test("the table has 20 cells: 15 allowed, 5 refused", () => {
  expect(allowedCells.length).toBe(15);
  expect(refusedCells.map(({ from, to }) => `${from}->${to}`).sort()).toEqual(
    ["BLOCKED->RUNNING", "DONE->BLOCKED", "DONE->NEEDS_ATTENTION", "DONE->RUNNING", "NEEDS_ATTENTION->RUNNING"].sort(),
  );
});

describe("allowed status transitions", () => {
  for (const { from, to } of allowedCells) {
    test(`${from} -> ${to} succeeds and logs one unforced row`, () => {
      const store = open();
      const created = store.create({ chunk: "u", status: from });
      expect(created.status).toBe(from);
      const updated = store.update("u", { status: to });
      expect(updated.status).toBe(to);
      expect(store.get("u").status).toBe(to);
      expect(updated.updated_at > created.updated_at).toBe(true);
      const log = logRows(store, "u");
      expect(log.length).toBe(2);
      expect(log[1]).toMatchObject({
        old_status: from,
        new_status: to,
        old_phase: "GOAL",
        new_phase: "GOAL",
        forced: 0,
        timestamp: updated.updated_at,
      });
      const history = store.history("u");
      expect(history.at(-1)?.forced).toBe(false);
    });
  }
});

describe("refused status transitions", () => {
  for (const { from, to } of refusedCells) {
    test(`${from} -> ${to} is refused with invalid_transition and writes nothing`, () => {
      const store = open();
      store.create({ chunk: "u", status: from });
      const before = snapshot(store);
      const error = expectVeError(() => store.update("u", { status: to }), "invalid_transition");
      expect(error.details).toMatchObject({ chunk: "u", from, to });
      expect(snapshot(store)).toEqual(before);
      expect(logRows(store, "u").length).toBe(1);
    });

    test(`${from} -> ${to} with force succeeds and logs forced=true`, () => {
      const store = open();
      const created = store.create({ chunk: "u", status: from });
      const updated = store.update("u", { status: to, force: true });
      expect(updated.status).toBe(to);
      expect(store.get("u").status).toBe(to);
      expect(updated.updated_at > created.updated_at).toBe(true);
      const log = logRows(store, "u");
      expect(log.length).toBe(2);
      expect(log[1]).toMatchObject({ old_status: from, new_status: to, forced: 1 });
      expect(store.history("u").at(-1)?.forced).toBe(true);
    });
  }
});

describe("same-status updates are no-ops", () => {
  for (const status of STATUSES) {
    test(`${status} -> ${status} logs nothing and keeps updated_at`, () => {
      const store = open();
      const created = store.create({ chunk: "u", status });
      const before = snapshot(store);
      const same = store.update("u", { status });
      expect(same).toEqual(unchanged(created));
      const forced = store.update("u", { status, force: true });
      expect(forced).toEqual(unchanged(created));
      expect(store.get("u").updated_at).toBe(created.updated_at);
      expect(snapshot(store)).toEqual(before);
    });
  }

  test("an empty update and a same-phase update change nothing", () => {
    const store = open();
    const created = store.create({ chunk: "u", phase: "PLAN" });
    const before = snapshot(store);
    expect(store.update("u", {})).toEqual(unchanged(created));
    expect(store.update("u", { phase: "PLAN" })).toEqual(unchanged(created));
    expect(store.update("u", { phase: "PLAN", status: "READY", worktree: null, blocked_by: [] })).toEqual(unchanged(created));
    expect(snapshot(store)).toEqual(before);
  });
});

describe("phases", () => {
  const pairs = PHASES.flatMap((from, i) => PHASES.map((to, j) => ({ from, to, forward: j > i, same: i === j })));

  for (const { from, to } of pairs.filter((p) => p.forward)) {
    test(`${from} -> ${to} (forward) succeeds and logs one row`, () => {
      const store = open();
      store.create({ chunk: "u", phase: from });
      const updated = store.update("u", { phase: to });
      expect(updated.phase).toBe(to);
      expect(updated.status).toBe("READY");
      const log = logRows(store, "u");
      expect(log.length).toBe(2);
      expect(log[1]).toMatchObject({
        old_phase: from,
        new_phase: to,
        old_status: "READY",
        new_status: "READY",
        forced: 0,
      });
    });
  }

  for (const { from, to } of pairs.filter((p) => !p.forward && !p.same)) {
    test(`${from} -> ${to} (backward) is refused, and allowed with force`, () => {
      const store = open();
      store.create({ chunk: "u", phase: from });
      const before = snapshot(store);
      const error = expectVeError(() => store.update("u", { phase: to }), "invalid_transition");
      expect(error.details).toMatchObject({ from, to });
      expect(snapshot(store)).toEqual(before);

      const updated = store.update("u", { phase: to, force: true });
      expect(updated.phase).toBe(to);
      const log = logRows(store, "u");
      expect(log.length).toBe(2);
      expect(log[1]).toMatchObject({ old_phase: from, new_phase: to, forced: 1 });
    });
  }

  test("a backward phase refuses the whole update, status change included", () => {
    const store = open();
    store.create({ chunk: "u", phase: "IMPLEMENT" });
    const before = snapshot(store);
    expectVeError(() => store.update("u", { phase: "GOAL", status: "RUNNING", worktree: "/w" }), "invalid_transition");
    expect(snapshot(store)).toEqual(before);
  });

  test("a refused status refuses the whole update, phase change included", () => {
    const store = open();
    store.create({ chunk: "u", status: "DONE" });
    const before = snapshot(store);
    expectVeError(() => store.update("u", { phase: "PLAN", status: "RUNNING", worktree: "/w" }), "invalid_transition");
    expect(snapshot(store)).toEqual(before);
  });
});

describe("timestamps and defaults", () => {
  test("a new unit is READY in GOAL, no worktree, with ISO-8601 UTC millisecond timestamps", () => {
    const store = open();
    const unit = store.create({ chunk: "u" });
    expect(unit).toEqual({
      chunk: "u",
      phase: "GOAL",
      status: "READY",
      depends_on: [],
      blocked_by: [],
      unknown_blockers: [],
      dependents: [],
      worktree: null,
      created_at: unit.created_at,
      updated_at: unit.created_at,
      status_changed_at: unit.created_at,
      scheduled: false,
      priority: 0,
      base_branch: null,
      branch_base_commit: null,
      attention: null,
    });
    expect(unit.created_at).toMatch(ISO_MS_UTC);
    expect(store.get("u")).toEqual(unit);
    expect(count(store, "work_units")).toBe(1);
  });

  test("created_at never changes; updated_at moves on every real change", () => {
    let ms = Date.parse("2030-01-01T00:00:00.000Z");
    const store = open({ now: () => ms });
    const created = store.create({ chunk: "u" });
    expect(created.created_at).toBe("2030-01-01T00:00:00.000Z");
    ms += 5000;
    const updated = store.update("u", { worktree: "/tmp/w" });
    expect(updated.created_at).toBe(created.created_at);
    expect(updated.updated_at).toBe("2030-01-01T00:00:05.000Z");
    expect(updated.worktree).toBe("/tmp/w");
    // A worktree change is not a status or phase change: no log row.
    expect(logRows(store, "u").length).toBe(1);
  });
});
