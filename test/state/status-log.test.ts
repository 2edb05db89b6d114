// The status log: one row per status or phase change, written in the same transaction as the
// change it records.
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { Store } from "../../src/state/store.ts";
import { ISO_MS_UTC, count, logRows, snapshot, useStores } from "./support.ts";

const { open, newPath } = useStores("ve-log");

describe("one row per change", () => {
  test("create writes one row with old_status and old_phase null", () => {
    const store = open();
    const unit = store.create({ chunk: "u", phase: "PLAN", status: "NEEDS_ATTENTION" });
    const history = store.history("u");
    expect(history).toEqual([
      {
        id: history[0]?.id ?? -1,
        chunk: "u",
        old_status: null,
        new_status: "NEEDS_ATTENTION",
        old_phase: null,
        new_phase: "PLAN",
        reason: history[0]?.reason ?? null,
        forced: false,
        actor: null,
        timestamp: unit.created_at,
      },
    ]);
    expect(history[0]?.timestamp).toMatch(ISO_MS_UTC);
  });

  test("a status change and a phase change in one update are one row", () => {
    const store = open();
    store.create({ chunk: "u" });
    const updated = store.update("u", { status: "RUNNING", phase: "IMPLEMENT", worktree: "/w" });
    const log = logRows(store, "u");
    expect(log.length).toBe(2);
    expect(log[1]).toMatchObject({
      old_status: "READY",
      new_status: "RUNNING",
      old_phase: "GOAL",
      new_phase: "IMPLEMENT",
      forced: 0,
      timestamp: updated.updated_at,
    });
  });

  test("a sequence of changes writes exactly one row each, in order", () => {
    const store = open();
    store.create({ chunk: "u" });
    store.update("u", { status: "RUNNING" });
    store.update("u", { phase: "PLAN" });
    store.update("u", { worktree: "/w" }); // neither status nor phase: no row
    store.update("u", { status: "RUNNING" }); // same status: no row
    store.update("u", { status: "DONE", phase: "COMPLETE" });
    store.update("u", { status: "READY" });
    store.update("u", { status: "RUNNING", force: true }); // allowed anyway
    const history = store.history("u");
    expect(history.map((h) => [h.old_status, h.new_status, h.old_phase, h.new_phase])).toEqual([
      [null, "READY", null, "GOAL"],
      ["READY", "RUNNING", "GOAL", "GOAL"],
      ["RUNNING", "RUNNING", "GOAL", "PLAN"],
      ["RUNNING", "DONE", "PLAN", "COMPLETE"],
      ["DONE", "READY", "COMPLETE", "COMPLETE"],
      ["READY", "RUNNING", "COMPLETE", "COMPLETE"],
    ]);
    const ids = history.map((h) => h.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    const stamps = history.map((h) => h.timestamp);
    expect([...stamps].sort()).toEqual(stamps);
    expect(store.get("u").updated_at).toBe(stamps.at(-1) ?? "");
  });

  test("history holds only the asked unit's rows", () => {
    const store = open();
    store.create({ chunk: "a" });
    store.create({ chunk: "b" });
    store.update("a", { status: "RUNNING" });
    store.update("b", { status: "DONE" });
    expect(store.history("a").every((h) => h.chunk === "a")).toBe(true);
    expect(store.history("a").length).toBe(2);
    expect(store.history("b").length).toBe(2);
    expect(count(store, "status_log")).toBe(4);
  });
});

/** A second connection installs a trigger that makes every (matching) log insert fail. */
function withFailingLog(path: string, fn: () => void, when = ""): void {
  const other = new Database(path);
  try {
    other.run("PRAGMA busy_timeout = 5000");
    other.run(
      `CREATE TRIGGER fail_log BEFORE INSERT ON status_log ${when} BEGIN SELECT RAISE(ABORT, 'boom'); END;`,
    );
    try {
      fn();
    } finally {
      other.run("DROP TRIGGER fail_log");
    }
  } finally {
    other.close();
  }
}

describe("atomicity: a failing log insert leaves neither the change nor its row", () => {
  test("update: the unit row is unchanged and no log row exists", () => {
    const path = newPath();
    const store = Store.open(path);
    try {
      store.create({ chunk: "u" });
      const before = snapshot(store);
      withFailingLog(path, () => {
        expect(() => store.update("u", { status: "RUNNING", phase: "PLAN", worktree: "/w" })).toThrow("boom");
      });
      expect(snapshot(store)).toEqual(before);
      // With the trigger gone, the same update goes through: the store is still usable.
      expect(store.update("u", { status: "RUNNING" }).status).toBe("RUNNING");
      expect(logRows(store, "u").length).toBe(2);
    } finally {
      store.close();
    }
  });

  test("create: the unit and its blockers are absent and no log row exists", () => {
    const path = newPath();
    const store = Store.open(path);
    try {
      const before = snapshot(store);
      withFailingLog(path, () => {
        expect(() => store.create({ chunk: "u", blocked_by: ["x"], worktree: "/w" })).toThrow("boom");
      });
      expect(snapshot(store)).toEqual(before);
      expect(count(store, "work_units")).toBe(0);
      expect(count(store, "work_unit_blockers")).toBe(0);
    } finally {
      store.close();
    }
  });

  test("a failing release row rolls back the blocker's DONE as well", () => {
    const path = newPath();
    const store = Store.open(path);
    try {
      store.create({ chunk: "A" });
      store.create({ chunk: "B", blocked_by: ["A"] });
      const before = snapshot(store);
      // Only the dependent's release row fails; A's own row would have been written first.
      withFailingLog(
        path,
        () => {
          expect(() => store.update("A", { status: "DONE" })).toThrow("boom");
        },
        "WHEN NEW.chunk = 'B'",
      );
      expect(snapshot(store)).toEqual(before);
      expect(store.get("A").status).toBe("READY");
      expect(store.get("B")).toMatchObject({ status: "BLOCKED", blocked_by: ["A"] });
    } finally {
      store.close();
    }
  });

  test("a failing release row rolls back a forced delete", () => {
    const path = newPath();
    const store = Store.open(path);
    try {
      store.create({ chunk: "A" });
      store.create({ chunk: "B", blocked_by: ["A"] });
      const before = snapshot(store);
      withFailingLog(path, () => {
        expect(() => store.delete("A", { force: true })).toThrow("boom");
      });
      expect(snapshot(store)).toEqual(before);
    } finally {
      store.close();
    }
  });

  test("another connection never sees a change without its log row", () => {
    const path = newPath();
    const store = Store.open(path);
    const reader = new Database(path, { readonly: true });
    try {
      store.create({ chunk: "u" });
      const statuses = ["RUNNING", "READY"] as const;
      for (let i = 0; i < 50; i++) {
        store.update("u", { status: statuses[i % 2] });
        const unit = reader.query("SELECT status, updated_at FROM work_units WHERE chunk = 'u'").get() as {
          status: string;
          updated_at: string;
        };
        const last = reader
          .query("SELECT new_status, timestamp FROM status_log WHERE chunk = 'u' ORDER BY id DESC LIMIT 1")
          .get() as { new_status: string; timestamp: string };
        expect(last).toEqual({ new_status: unit.status, timestamp: unit.updated_at });
      }
    } finally {
      reader.close();
      store.close();
    }
  });
});
