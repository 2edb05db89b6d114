// updated_at is the compare-and-set token (DESIGN.md: "an update may carry the updated_at it
// read; a mismatch is 409"). A token read from one incarnation of a unit must never match a
// later unit of the same name: not when it is created again in the same millisecond, not after
// the old one was updated many times within it, not across a restart, not when the clock went back.
import { describe, expect, test } from "bun:test";
import type { Store } from "../../src/state/store.ts";
import { Store as StoreClass } from "../../src/state/store.ts";
import { expectVeError, useStores } from "./support.ts";

const { open, newPath } = useStores("ve-incarnations");

/** Every token a write carrying any of `tokens` could use on the current unit is refused. */
function expectAllStale(store: Store, chunk: string, tokens: readonly string[]): void {
  for (const token of tokens) {
    expectVeError(() => store.update(chunk, { status: "RUNNING", expected_updated_at: token }), "stale_write");
  }
}

describe("compare-and-set never matches another incarnation of a unit", () => {
  test("delete and create again in the same millisecond", () => {
    const store = open({ now: () => 1_000_000 });
    const old = store.create({ chunk: "a" });
    store.delete("a");
    const fresh = store.create({ chunk: "a" });
    expect(fresh.updated_at).not.toBe(old.updated_at);
    expectAllStale(store, "a", [old.updated_at]);
    expect(store.get("a").status).toBe("READY");
  });

  test("the old unit was updated many times within the millisecond (tokens ran ahead of the clock)", () => {
    const store = open({ now: () => 2_000_000 });
    const tokens = [store.create({ chunk: "a" }).updated_at];
    for (const status of ["RUNNING", "READY", "RUNNING", "READY", "NEEDS_ATTENTION"] as const) {
      tokens.push(store.update("a", { status }).updated_at);
    }
    store.delete("a");
    store.create({ chunk: "a" });
    // The new unit's own later tokens must not walk into the old ones either.
    for (let i = 0; i < tokens.length + 2; i++) {
      expectAllStale(store, "a", tokens);
      store.update("a", { worktree: `/w/${i}` });
    }
  });

  test("across a restart of the store", () => {
    const path = newPath();
    const first = StoreClass.open(path, { now: () => 3_000_000 });
    const old = first.create({ chunk: "a" });
    first.update("a", { status: "RUNNING" });
    const last = first.get("a").updated_at;
    first.delete("a");
    first.close();
    const second = StoreClass.open(path, { now: () => 3_000_000 });
    try {
      second.create({ chunk: "a" });
      expectAllStale(second, "a", [old.updated_at, last]);
    } finally {
      second.close();
    }
  });

  test("when the clock went back between the two", () => {
    let now = 9_000_000;
    const store = open({ now: () => now });
    const old = store.create({ chunk: "a" });
    store.delete("a");
    now = 1_000;
    const fresh = store.create({ chunk: "a" });
    expect(Date.parse(fresh.updated_at)).toBeGreaterThan(Date.parse(old.updated_at));
    expectAllStale(store, "a", [old.updated_at]);
  });

  test("a forced delete that released dependents, then the same name again", () => {
    const store = open({ now: () => 4_000_000 });
    const old = store.create({ chunk: "a" });
    store.create({ chunk: "b", blocked_by: ["a"] });
    store.delete("a", { force: true });
    store.create({ chunk: "a" });
    expectAllStale(store, "a", [old.updated_at]);
  });

  test("the right token still works on the new unit", () => {
    const store = open({ now: () => 5_000_000 });
    store.create({ chunk: "a" });
    store.delete("a");
    const fresh = store.create({ chunk: "a" });
    expect(store.update("a", { status: "RUNNING", expected_updated_at: fresh.updated_at }).status).toBe("RUNNING");
  });
});
