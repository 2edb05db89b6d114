// Input the store must refuse with validation_failed, naming the field, writing nothing; and
// the edge cases of a chunk name it must accept.
import { describe, expect, test } from "bun:test";
import type { WorkUnit } from "../../src/models/index.ts";
import type { Store } from "../../src/state/store.ts";
import { count, expectVeError, snapshot, useStores } from "./support.ts";

const { open } = useStores("ve-bad-input");

const BAD_NAMES: [string, unknown][] = [
  ["empty", ""],
  ["101 characters", "a".repeat(101)],
  ["../x", "../x"],
  ["a/b", "a/b"],
  ["..", ".."],
  ["a..b", "a..b"],
  [".hidden", ".hidden"],
  ["-x", "-x"],
  ["_x", "_x"],
  ["x.", "x."],
  ["x.lock", "x.lock"],
  ["café", "café"],
  ["emoji", "rocket-🚀"],
  ["leading space", " a"],
  ["inner space", "a b"],
  ["trailing newline", "a\n"],
  ["tab", "a\tb"],
  ["backslash", "a\\b"],
  ["NUL", "a\u0000b"],
  ["number", 5],
  ["null", null],
  ["boolean", true],
  ["array", ["a"]],
];

const GOOD_NAMES = ["a".repeat(100), "a.b-c_d", "9x", "X", "v1.2.3", "a-", "a_", "a.lock-file", "lock"];

/** Runs a call that must fail validation on `field`, then checks nothing was written. */
function expectInvalid(store: Store, call: () => unknown, field: string | RegExp): void {
  const before = snapshot(store);
  const units = count(store, "work_units");
  const logs = count(store, "status_log");
  const error = expectVeError(call, "validation_failed");
  const named = (error.details as { field?: unknown } | undefined)?.field;
  if (typeof field === "string") expect(named).toBe(field);
  else expect(String(named)).toMatch(field);
  expect(error.message.length).toBeGreaterThan(0);
  expect(count(store, "work_units")).toBe(units);
  expect(count(store, "status_log")).toBe(logs);
  expect(snapshot(store)).toEqual(before);
}

/** The store as code without types calls it: it must refuse what the types would. */
type Unchecked = Store & {
  create(input: unknown): WorkUnit;
  update(chunk: unknown, input: unknown): unknown;
  get(chunk: unknown): unknown;
  history(chunk: unknown): unknown;
  delete(chunk: unknown, options?: unknown): void;
  claim(input?: unknown): unknown;
  list(filter?: unknown): unknown;
};

/** A store holding one unit "base", so "nothing written" is checked against real content. */
function seeded(): Unchecked {
  const store = open();
  store.create({ chunk: "base" });
  return store;
}

describe("chunk names", () => {
  for (const [label, name] of BAD_NAMES) {
    test(`refused: ${label}`, () => {
      const store = seeded();
      expectInvalid(store, () => store.create({ chunk: name }), "chunk");
      expectInvalid(store, () => store.create({ chunk: "ok", blocked_by: [name] }), "blocked_by[0]");
      expectInvalid(store, () => store.update("base", { blocked_by: ["ok", name] }), "blocked_by[1]");
      expectInvalid(store, () => store.update(name, { status: "RUNNING" }), "chunk");
      expectInvalid(store, () => store.get(name), "chunk");
      expectInvalid(store, () => store.history(name), "chunk");
      expectInvalid(store, () => store.delete(name, { force: true }), "chunk");
    });
  }

  for (const name of GOOD_NAMES) {
    test(`accepted: ${name.length > 20 ? `${name.length} characters` : name}`, () => {
      const store = open();
      expect(store.create({ chunk: name }).chunk).toBe(name);
      expect(store.get(name).chunk).toBe(name);
      expect(store.create({ chunk: "dep", blocked_by: [name] }).blocked_by).toEqual([name]);
      store.delete("dep");
      store.delete(name);
      expect(count(store, "work_units")).toBe(0);
    });
  }
});

describe("enums", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["unknown phase", { phase: "DESIGN" }, "phase"],
    ["lower-case phase", { phase: "plan" }, "phase"],
    ["unknown status", { status: "PAUSED" }, "status"],
    ["lower-case status", { status: "ready" }, "status"],
    ["numeric status", { status: 1 }, "status"],
    ["null status", { status: null }, "status"],
  ];
  for (const [label, fields, field] of cases) {
    test(`refused on create and update: ${label}`, () => {
      const store = seeded();
      expectInvalid(store, () => store.create({ chunk: "new", ...fields }), field);
      expectInvalid(store, () => store.update("base", fields), field);
      expectInvalid(store, () => store.update("base", { ...fields, force: true }), field);
    });
  }
});

describe("blocked_by", () => {
  const notArrays: [string, unknown][] = [
    ["a string", "a"],
    ["an object", {}],
    ["a number", 5],
    ["null", null],
  ];
  for (const [label, value] of notArrays) {
    test(`refused when it is ${label}`, () => {
      const store = seeded();
      expectInvalid(store, () => store.create({ chunk: "new", blocked_by: value }), "blocked_by");
      expectInvalid(store, () => store.update("base", { blocked_by: value }), "blocked_by");
    });
  }

  test("at most 1000 blockers: 1000 accepted, 1001 refused", () => {
    const store = seeded();
    const names = Array.from({ length: 1001 }, (_, i) => `b${i}`);
    expectInvalid(store, () => store.create({ chunk: "many", blocked_by: names }), "blocked_by");
    expectInvalid(store, () => store.update("base", { blocked_by: names }), "blocked_by");
    expect(store.create({ chunk: "many", blocked_by: names.slice(0, 1000) }).blocked_by.length).toBe(1000);
  });

  test("refused when it contains an invalid name or a non-string", () => {
    const store = seeded();
    expectInvalid(store, () => store.create({ chunk: "new", blocked_by: ["ok", "../etc"] }), "blocked_by[1]");
    expectInvalid(store, () => store.create({ chunk: "new", blocked_by: [7] }), "blocked_by[0]");
    expectInvalid(store, () => store.update("base", { blocked_by: [null] }), "blocked_by[0]");
  });
});

describe("other fields", () => {
  test("unknown fields are refused, naming the field", () => {
    const store = seeded();
    expectInvalid(store, () => store.create({ chunk: "new", colour: "red" }), "colour");
    expectInvalid(store, () => store.create({ chunk: "new", created_at: "2020-01-01T00:00:00.000Z" }), "created_at");
    expectInvalid(store, () => store.update("base", { chunk: "renamed" }), "chunk");
    expectInvalid(store, () => store.update("base", { status: "RUNNING", Force: true }), "Force");
    expectInvalid(store, () => store.create({ chunk: "new", force: true }), "force");
  });

  test("a missing chunk is refused", () => {
    const store = seeded();
    expectInvalid(store, () => store.create({ phase: "PLAN" }), "chunk");
  });

  test("bad worktree, force and expected_updated_at values are refused", () => {
    const store = seeded();
    expectInvalid(store, () => store.create({ chunk: "new", worktree: "" }), "worktree");
    expectInvalid(store, () => store.create({ chunk: "new", worktree: 5 }), "worktree");
    expectInvalid(store, () => store.update("base", { worktree: "x".repeat(4097) }), "worktree");
    expectInvalid(store, () => store.update("base", { status: "DONE", force: "yes" }), "force");
    expectInvalid(store, () => store.update("base", { status: "DONE", expected_updated_at: "yesterday" }), "expected_updated_at");
    expectInvalid(
      store,
      () => store.update("base", { status: "DONE", expected_updated_at: "2026-01-31T12:00:00Z" }),
      "expected_updated_at",
    );
  });

  for (const [label, body] of [
    ["null", null],
    ["an array", []],
    ["a string", "x"],
    ["a number", 5],
    ["undefined", undefined],
  ] as [string, unknown][]) {
    test(`a body that is ${label} is refused`, () => {
      const store = seeded();
      expectInvalid(store, () => store.create(body), "body");
      expectInvalid(store, () => store.update("base", body), "body");
    });
  }

  test("list filters are validated", () => {
    const store = seeded();
    expectInvalid(store, () => store.list({ status: "ready" }), "status");
    expectInvalid(store, () => store.list({ phase: "LATER" }), "phase");
    expectInvalid(store, () => store.list({ owner: "me" }), "owner");
    expect(store.list({ status: "READY", phase: "GOAL" }).map((u) => u.chunk)).toEqual(["base"]);
    expect(store.list({ status: "DONE" })).toEqual([]);
  });
});

describe("names that only look alike", () => {
  test("names differing only in case are refused as duplicates: they collide as directories and branches", () => {
    const store = open();
    store.create({ chunk: "Task" });
    const before = snapshot(store);
    const error = expectVeError(() => store.create({ chunk: "task" }), "already_exists");
    expect(error.message).toContain("'task'");
    expect(error.message).toContain("'Task'");
    expect(error.details).toEqual({ chunk: "task", existing: "Task" });
    expect(snapshot(store)).toEqual(before);
    // Lookups stay exact, and a near miss names the unit that exists.
    const missing = expectVeError(() => store.get("TASK"), "not_found");
    expect(missing.message).toContain("did you mean 'Task'");
  });

  test("names with quotes cannot reach the database: SQL-looking input is refused", () => {
    const store = seeded();
    expectInvalid(store, () => store.create({ chunk: "x'); DROP TABLE work_units;--" }), "chunk");
    expectInvalid(store, () => store.create({ chunk: "ok", blocked_by: ["a'b"] }), "blocked_by[0]");
  });
});
