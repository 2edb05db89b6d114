// The rules of a change as pure functions (src/domain.ts), table-driven and without SQLite:
// the store and the scheduler ask these same functions.
import { describe, expect, test } from "bun:test";
import {
  type ChangeFacts,
  type ChangeRequest,
  type Decision,
  type Phase,
  type Schedulable,
  type Status,
  claimOrder,
  decideCreate,
  decideUpdate,
  followBlockers,
  releaseCounts,
} from "../../src/domain.ts";

const T0 = "2030-01-01T00:00:00.000Z";

function facts(status: Status, more: Partial<ChangeFacts> & { phase?: Phase } = {}): ChangeFacts {
  return {
    current: { status, phase: more.phase ?? "GOAL", updated_at: T0 },
    waitedOn: more.waitedOn ?? [],
    waitingOn: more.waitingOn ?? more.waitedOn ?? [],
    dependenciesChanged: more.dependenciesChanged ?? false,
  };
}

interface Row {
  name: string;
  request: ChangeRequest;
  facts: ChangeFacts;
  /** The status and phase decided, or the code of the refusal. */
  expected: { status: Status; phase?: Phase; forced?: boolean; reason?: string } | { refused: string; field?: string };
}

const ROWS: Row[] = [
  { name: "an allowed status change", request: { status: "RUNNING" }, facts: facts("READY"), expected: { status: "RUNNING" } },
  {
    name: "a refused status change",
    request: { status: "RUNNING" },
    facts: facts("DONE"),
    expected: { refused: "invalid_transition", field: "status" },
  },
  {
    name: "a refused status change with force",
    request: { status: "RUNNING", force: true },
    facts: facts("DONE"),
    expected: { status: "RUNNING", forced: true },
  },
  { name: "the same status is no change", request: { status: "BLOCKED" }, facts: facts("BLOCKED"), expected: { status: "BLOCKED" } },
  {
    name: "READY while waiting is refused",
    request: { status: "READY" },
    facts: facts("BLOCKED", { waitedOn: ["a"] }),
    expected: { refused: "blocked" },
  },
  {
    name: "force does not lift the blockers",
    request: { status: "RUNNING", force: true },
    facts: facts("BLOCKED", { waitedOn: ["a"] }),
    expected: { refused: "blocked" },
  },
  {
    name: "reopening a DONE unit whose blocker is unfinished makes it BLOCKED",
    request: { status: "READY" },
    facts: facts("DONE", { waitedOn: ["a"] }),
    expected: { status: "BLOCKED", reason: "reopened, blocked by 'a'" },
  },
  {
    name: "a new unfinished blocker blocks a READY unit",
    request: {},
    facts: facts("READY", { waitingOn: ["a"], dependenciesChanged: true }),
    expected: { status: "BLOCKED", reason: "blocked by 'a'" },
  },
  {
    name: "a new unfinished blocker blocks a RUNNING unit",
    request: {},
    facts: facts("RUNNING", { waitingOn: ["a"], dependenciesChanged: true }),
    expected: { status: "BLOCKED" },
  },
  {
    name: "a phase change alone leaves a running unit alone even if a blocker was reopened",
    request: { phase: "PLAN" },
    facts: facts("RUNNING", { waitedOn: ["a"] }),
    expected: { status: "RUNNING", phase: "PLAN" },
  },
  {
    name: "removing the last unfinished blocker releases a BLOCKED unit",
    request: {},
    facts: facts("BLOCKED", { waitedOn: ["a"], waitingOn: [], dependenciesChanged: true }),
    expected: { status: "READY", reason: "no unfinished blockers left" },
  },
  {
    name: "a BLOCKED unit that waited on nothing stays BLOCKED when dependencies change",
    request: {},
    facts: facts("BLOCKED", { waitedOn: [], waitingOn: [], dependenciesChanged: true }),
    expected: { status: "BLOCKED" },
  },
  { name: "a phase forward", request: { phase: "IMPLEMENT" }, facts: facts("READY"), expected: { status: "READY", phase: "IMPLEMENT" } },
  {
    name: "a phase backward",
    request: { phase: "GOAL" },
    facts: facts("READY", { phase: "PLAN" }),
    expected: { refused: "invalid_transition", field: "phase" },
  },
  {
    name: "a phase backward with force",
    request: { phase: "GOAL", force: true },
    facts: facts("READY", { phase: "PLAN" }),
    expected: { status: "READY", phase: "GOAL", forced: true },
  },
  {
    name: "compare-and-set on a stale token",
    request: { status: "RUNNING", expected_updated_at: "2029-01-01T00:00:00.000Z" },
    facts: facts("READY"),
    expected: { refused: "stale_write" },
  },
  {
    name: "compare-and-set on the current token",
    request: { status: "RUNNING", expected_updated_at: T0 },
    facts: facts("READY"),
    expected: { status: "RUNNING" },
  },
  {
    name: "a stale token is reported before a refused transition",
    request: { status: "RUNNING", expected_updated_at: "2029-01-01T00:00:00.000Z" },
    facts: facts("DONE"),
    expected: { refused: "stale_write" },
  },
  {
    name: "a conditional change from the status the unit is in",
    request: { status: "RUNNING", expected_status: "READY" },
    facts: facts("READY"),
    expected: { status: "RUNNING" },
  },
  {
    name: "a conditional change that lost the race",
    request: { status: "RUNNING", expected_status: "READY" },
    facts: facts("RUNNING"),
    expected: { refused: "status_mismatch" },
  },
  {
    name: "force does not lift a condition",
    request: { status: "DONE", expected_status: "READY", force: true },
    facts: facts("BLOCKED"),
    expected: { refused: "status_mismatch" },
  },
];

function outcome(decision: Decision): Row["expected"] {
  if (!decision.ok) {
    const r = decision.refusal;
    return r.code === "invalid_transition" ? { refused: r.code, field: r.field } : { refused: r.code };
  }
  return {
    status: decision.change.status,
    phase: decision.change.phase,
    forced: decision.change.forced,
    reason: decision.change.reason,
  };
}

describe("decideUpdate", () => {
  for (const row of ROWS) {
    test(row.name, () => {
      expect(outcome(decideUpdate(row.request, row.facts))).toMatchObject(row.expected);
    });
  }

  test("statusChanged and phaseChanged say what the decision changes", () => {
    const decision = decideUpdate({ status: "RUNNING" }, facts("READY"));
    expect(decision).toMatchObject({ ok: true, change: { statusChanged: true, phaseChanged: false, forced: false } });
    const same = decideUpdate({ status: "READY", phase: "GOAL" }, facts("READY"));
    expect(same).toMatchObject({ ok: true, change: { statusChanged: false, phaseChanged: false } });
  });
});

describe("decideCreate", () => {
  const cases: [Status | undefined, string[], Status | string][] = [
    [undefined, [], "READY"],
    [undefined, ["a"], "BLOCKED"],
    ["NEEDS_ATTENTION", ["a"], "NEEDS_ATTENTION"],
    ["DONE", ["a"], "DONE"],
    ["READY", ["a"], "blocked"],
    ["RUNNING", ["a"], "blocked"],
    ["RUNNING", [], "RUNNING"],
  ];
  for (const [requested, waiting, expected] of cases) {
    test(`${requested ?? "default"} with ${waiting.length} unfinished blockers -> ${expected}`, () => {
      const decided = decideCreate(requested, waiting);
      expect<string>(decided.ok ? decided.status : decided.refusal.code).toBe(expected);
    });
  }
});

describe("followBlockers: what a dependent becomes when a blocker finishes or is reopened", () => {
  const cases: [Status, number, Status][] = [
    ["BLOCKED", 0, "READY"],
    ["BLOCKED", 1, "BLOCKED"],
    ["READY", 1, "BLOCKED"],
    ["READY", 0, "READY"],
    ["RUNNING", 1, "RUNNING"],
    ["NEEDS_ATTENTION", 1, "NEEDS_ATTENTION"],
    ["NEEDS_ATTENTION", 0, "NEEDS_ATTENTION"],
    ["DONE", 1, "DONE"],
  ];
  for (const [status, waiting, expected] of cases) {
    test(`${status} waiting on ${waiting} -> ${expected}`, () => {
      expect(followBlockers(status, Array.from({ length: waiting }, (_, i) => `b${i}`))).toBe(expected);
    });
  }
});

function unit(chunk: string, status: Status, blocked_by: string[] = [], created_at = T0, priority?: number): Schedulable {
  return { chunk, status, blocked_by, created_at, ...(priority === undefined ? {} : { priority }) };
}

describe("the order work is taken in", () => {
  test("release counts are transitive and count each unit once (a diamond)", () => {
    const units = [unit("a", "READY"), unit("b", "BLOCKED", ["a"]), unit("c", "BLOCKED", ["a"]), unit("d", "BLOCKED", ["b", "c"])];
    expect(Object.fromEntries(releaseCounts(units))).toEqual({ a: 3, b: 1, c: 1, d: 0 });
  });

  test("first what releases the most, then priority, then age, then creation order", () => {
    const units = [
      unit("old-lone", "READY", [], "2030-01-01T00:00:00.000Z"),
      unit("young-lone", "READY", [], "2030-01-03T00:00:00.000Z"),
      unit("urgent", "READY", [], "2030-01-04T00:00:00.000Z", 5),
      unit("hub", "READY", [], "2030-01-05T00:00:00.000Z"),
      unit("w1", "BLOCKED", ["hub"]),
      unit("w2", "BLOCKED", ["w1"]),
      unit("small-hub", "READY", [], "2030-01-06T00:00:00.000Z"),
      unit("w3", "BLOCKED", ["small-hub"]),
      unit("twin-a", "READY", [], "2030-01-02T00:00:00.000Z"),
      unit("twin-b", "READY", [], "2030-01-02T00:00:00.000Z"),
      unit("busy", "RUNNING"),
      unit("done", "DONE"),
    ];
    expect(claimOrder(units).map((u) => u.chunk)).toEqual([
      "hub",
      "small-hub",
      "urgent",
      "old-lone",
      "twin-a",
      "twin-b",
      "young-lone",
    ]);
  });

  test("only READY units are offered", () => {
    const statuses: Status[] = ["RUNNING", "BLOCKED", "NEEDS_ATTENTION", "DONE"];
    expect(claimOrder(statuses.map((s, i) => unit(`u${i}`, s)))).toEqual([]);
  });
});
