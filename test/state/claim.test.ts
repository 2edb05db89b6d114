// Atomic claims and conditional changes (issue 10 item 2): a unit goes to exactly one
// claimer, in the scheduler's order, and the answer says what that write changed.
import { describe, expect, test } from "bun:test";
import { expectVeError, logRows, snapshot, useStores } from "./support.ts";

const { open } = useStores("ve-claim");

describe("claim", () => {
  test("takes the unit that releases the most, marks it RUNNING, and says what it was", () => {
    let ms = Date.parse("2030-01-01T00:00:00.000Z");
    const store = open({ now: () => (ms += 1000) });
    store.create({ chunk: "lone" });
    store.create({ chunk: "hub" });
    store.create({ chunk: "w1", blocked_by: ["hub"] });
    store.create({ chunk: "w2", blocked_by: ["w1"] });
    const claimed = store.claim({ actor: "worker-1" });
    expect(claimed).toMatchObject({ chunk: "hub", status: "RUNNING", previous: { status: "READY" }, changed: ["status"] });
    expect(logRows(store, "hub").at(-1)).toMatchObject({ old_status: "READY", new_status: "RUNNING", reason: "claimed by worker-1", actor: "worker-1" });
    expect(store.claim({}).chunk).toBe("lone");
  });

  test("with nothing READY it refuses with nothing_to_claim, naming the last claim, and writes nothing", () => {
    const store = open();
    store.create({ chunk: "a" });
    store.claim({ actor: "first" });
    store.create({ chunk: "b", blocked_by: ["a"] });
    const before = snapshot(store);
    const error = expectVeError(() => store.claim({ actor: "second" }), "nothing_to_claim");
    expect(error.message).toContain("'a' by first");
    expect(snapshot(store)).toEqual(before);
  });

  test("--phase takes only units in that phase, still in the scheduler's order", () => {
    const store = open();
    store.create({ chunk: "g" });
    store.create({ chunk: "p1", phase: "PLAN" });
    store.create({ chunk: "p2", phase: "PLAN" });
    store.create({ chunk: "after-p2", blocked_by: ["p2"] });
    expect(store.claim({ phase: "PLAN" }).chunk).toBe("p2");
    expect(store.claim({ phase: "PLAN" }).chunk).toBe("p1");
    expectVeError(() => store.claim({ phase: "PLAN" }), "nothing_to_claim");
    expectVeError(() => store.claim({ phase: "SOON" } as never), "validation_failed");
  });
});

describe("conditional change (expected_status)", () => {
  test("applies when the unit is in that status; refused with status_mismatch otherwise, writing nothing", () => {
    const store = open();
    store.create({ chunk: "u" });
    const won = store.update("u", { status: "RUNNING", expected_status: "READY", actor: "a" });
    expect(won).toMatchObject({ status: "RUNNING", previous: { status: "READY" }, changed: ["status"] });
    const before = snapshot(store);
    const lost = expectVeError(() => store.update("u", { status: "RUNNING", expected_status: "READY", actor: "b" }), "status_mismatch");
    expect(lost.message).toContain("is RUNNING, not READY");
    expect(lost.message).toContain("(by a)");
    expect(lost.details).toMatchObject({ chunk: "u", expected_status: "READY", status: "RUNNING" });
    expect(snapshot(store)).toEqual(before);
  });

  test("a same-status update answers that nothing changed, with the status it found", () => {
    const store = open();
    store.create({ chunk: "u", status: "RUNNING" });
    expect(store.update("u", { status: "RUNNING" })).toMatchObject({ previous: { status: "RUNNING" }, changed: [] });
  });
});
