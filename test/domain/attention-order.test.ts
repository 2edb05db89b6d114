// The order of the attention queue as a pure function (src/domain.ts): what releases the most
// units first (transitively), then the oldest wait, then the name.
import { describe, expect, test } from "bun:test";
import { type Schedulable, type Status, attentionOrder } from "../../src/domain.ts";

const T = (day: number) => `2030-01-${String(day).padStart(2, "0")}T00:00:00.000Z`;

function unit(chunk: string, status: Status, blocked_by: string[] = []): Schedulable {
  return { chunk, status, blocked_by, created_at: T(1) };
}

interface Case {
  name: string;
  units: Schedulable[];
  waiting: { chunk: string; since: string }[];
  expected: [string, number][];
}

const cases: Case[] = [
  {
    name: "nothing waits: an empty queue",
    units: [unit("a", "READY")],
    waiting: [],
    expected: [],
  },
  {
    name: "no dependents anywhere: the oldest first",
    units: [unit("a", "NEEDS_ATTENTION"), unit("b", "NEEDS_ATTENTION"), unit("c", "NEEDS_ATTENTION")],
    waiting: [
      { chunk: "a", since: T(3) },
      { chunk: "b", since: T(1) },
      { chunk: "c", since: T(2) },
    ],
    expected: [["b", 0], ["c", 0], ["a", 0]],
  },
  {
    name: "a young wait that releases a chain goes before an old one that releases nothing",
    units: [
      unit("old", "NEEDS_ATTENTION"),
      unit("hub", "NEEDS_ATTENTION"),
      unit("w1", "BLOCKED", ["hub"]),
      unit("w2", "BLOCKED", ["w1"]),
    ],
    waiting: [
      { chunk: "old", since: T(1) },
      { chunk: "hub", since: T(9) },
    ],
    expected: [["hub", 2], ["old", 0]],
  },
  {
    name: "transitive releases count each unit once (a diamond)",
    units: [
      unit("top", "NEEDS_ATTENTION"),
      unit("l", "BLOCKED", ["top"]),
      unit("r", "BLOCKED", ["top"]),
      unit("bottom", "BLOCKED", ["l", "r"]),
      unit("side", "NEEDS_ATTENTION"),
      unit("s1", "BLOCKED", ["side"]),
      unit("s2", "BLOCKED", ["side"]),
    ],
    waiting: [
      { chunk: "side", since: T(1) },
      { chunk: "top", since: T(5) },
    ],
    expected: [["top", 3], ["side", 2]],
  },
  {
    name: "a wait behind another wait: the one further up releases more",
    units: [unit("up", "NEEDS_ATTENTION"), unit("down", "NEEDS_ATTENTION"), unit("leaf", "BLOCKED", ["down"])],
    waiting: [
      { chunk: "down", since: T(1) },
      { chunk: "up", since: T(2) },
    ],
    // up releases nothing (down does not wait on up); down releases leaf.
    expected: [["down", 1], ["up", 0]],
  },
  {
    name: "equal releases and equal age: by name, whatever the input order",
    units: [unit("b", "NEEDS_ATTENTION"), unit("a", "NEEDS_ATTENTION")],
    waiting: [
      { chunk: "b", since: T(1) },
      { chunk: "a", since: T(1) },
    ],
    expected: [["a", 0], ["b", 0]],
  },
  {
    name: "a dependency cycle (refused by the store, but the order must still end)",
    units: [unit("x", "NEEDS_ATTENTION", ["y"]), unit("y", "BLOCKED", ["x"])],
    waiting: [{ chunk: "x", since: T(1) }],
    expected: [["x", 1]],
  },
];

describe("the attention queue's order", () => {
  for (const c of cases) {
    test(c.name, () => {
      const ordered = attentionOrder(c.waiting, c.units);
      expect(ordered.map((w) => [w.chunk, w.releases])).toEqual(c.expected);
    });
  }

  test("every field of an entry is kept", () => {
    const [entry] = attentionOrder([{ chunk: "a", since: T(1), kind: "question" }], [unit("a", "NEEDS_ATTENTION")]);
    expect(entry).toEqual({ chunk: "a", since: T(1), kind: "question", releases: 0 });
  });
});
