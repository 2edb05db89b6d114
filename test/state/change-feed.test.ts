// The change feed (issue 10): every committed write publishes what changed, after the commit;
// a transaction that rolls back publishes nothing.
import { describe, expect, test } from "bun:test";
import type { WorkUnitChange } from "../../src/models/index.ts";
import type { Store } from "../../src/state/store.ts";
import { expectVeError, useStores } from "./support.ts";

const { open } = useStores("ve-feed");

function listen(store: Store): { batches: WorkUnitChange[][]; committedAtPublish: boolean[] } {
  const batches: WorkUnitChange[][] = [];
  const committedAtPublish: boolean[] = [];
  store.onChange((changes) => {
    batches.push([...changes]);
    // Published after the commit: no transaction is open, and a new one sees the change.
    committedAtPublish.push(!store.db.inTransaction);
  });
  return { batches, committedAtPublish };
}

const brief = (c: WorkUnitChange) => [c.kind, c.chunk, c.old_status, c.new_status];

describe("the change feed", () => {
  test("create, update with releases, delete: one batch per transaction, in order, after commit", () => {
    const store = open();
    const feed = listen(store);
    store.create({ chunk: "a" });
    store.create({ chunk: "b", blocked_by: ["a"] });
    store.update("a", { status: "DONE", phase: "PLAN" });
    store.delete("b");
    expect(feed.batches.map((batch) => batch.map(brief))).toEqual([
      [["created", "a", null, "READY"]],
      [["created", "b", null, "BLOCKED"]],
      [
        ["changed", "a", "READY", "DONE"],
        ["changed", "b", "BLOCKED", "READY"],
      ],
      [["deleted", "b", "READY", null]],
    ]);
    expect(feed.committedAtPublish.every(Boolean)).toBe(true);
    const done = feed.batches[2]?.[0];
    expect(done).toMatchObject({ old_phase: "GOAL", new_phase: "PLAN", reason: "requested" });
    expect(feed.batches[2]?.[1]?.reason).toBe("unblocked: 'a' is DONE");
  });

  test("a refused write and a no-op publish nothing", () => {
    const store = open();
    store.create({ chunk: "a", status: "DONE" });
    const feed = listen(store);
    expectVeError(() => store.update("a", { status: "RUNNING" }), "invalid_transition");
    expectVeError(() => store.create({ chunk: "a" }), "already_exists");
    store.update("a", { status: "DONE" });
    expect(feed.batches).toEqual([]);
  });

  test("a transaction that rolls back after its writes publishes nothing", () => {
    const store = open();
    const feed = listen(store);
    expect(() =>
      store.atomically(() => {
        store.create({ chunk: "x" });
        store.update("x", { status: "RUNNING" });
        throw new Error("the answer could not be built");
      }),
    ).toThrow("the answer could not be built");
    expect(feed.batches).toEqual([]);
    expect(store.list()).toEqual([]);
    // The next committed write is published alone, without the rolled-back ones.
    store.create({ chunk: "y" });
    expect(feed.batches.map((batch) => batch.map(brief))).toEqual([[["created", "y", null, "READY"]]]);
  });

  test("a write rolled back inside a committed transaction is not published; the rest is, once", () => {
    const store = open();
    const feed = listen(store);
    store.atomically(() => {
      store.create({ chunk: "kept" });
      expectVeError(() => store.create({ chunk: "bad", status: "RUNNING", blocked_by: ["kept"] }), "blocked");
    });
    expect(feed.batches.map((batch) => batch.map(brief))).toEqual([[["created", "kept", null, "READY"]]]);
  });

  test("a failing listener neither undoes the write nor silences the other listeners", () => {
    const errors: unknown[] = [];
    const store = open({ onListenerError: (error) => errors.push(error) });
    const heard: string[] = [];
    store.onChange(() => {
      throw new Error("listener bug");
    });
    const stop = store.onChange((changes) => heard.push(...changes.map((c) => c.chunk)));
    store.create({ chunk: "a" });
    expect(store.get("a").status).toBe("READY");
    expect(heard).toEqual(["a"]);
    expect(String(errors[0])).toContain("listener bug");
    stop();
    store.create({ chunk: "b" });
    expect(heard).toEqual(["a"]);
  });
});
