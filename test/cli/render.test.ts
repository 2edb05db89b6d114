// The `ps` table as people see it: fitted to the width it is given (long names cut with an
// ellipsis, the short columns intact), and how long each unit has been in its status.
import { describe, expect, test } from "bun:test";
import { statusSince, unitTable } from "../../src/cli/render.ts";
import type { WorkUnit } from "../../src/models/index.ts";

const NOW = Date.parse("2026-06-01T12:00:00.000Z");

function unit(chunk: string, fields: Partial<WorkUnit> & { status_changed_at?: string } = {}): WorkUnit {
  return {
    chunk,
    phase: "GOAL",
    status: "READY",
    blocked_by: [],
    worktree: null,
    created_at: "2026-05-01T12:00:00.000Z",
    updated_at: "2026-06-01T11:55:00.000Z",
    ...fields,
  } as WorkUnit;
}

const LONG = `feature-${"x".repeat(110)}`.slice(0, 100);
const units = [
  unit(LONG, { status: "NEEDS_ATTENTION", phase: "IMPLEMENT", blocked_by: ["alpha", "beta", `gamma-${"y".repeat(60)}`] }),
  unit("short"),
];

describe("unitTable width", () => {
  test("without a width every value is shown in full", () => {
    const text = unitTable(units, NOW);
    expect(text).toContain(LONG);
    expect(text).toContain(`gamma-${"y".repeat(60)}`);
    expect(text).not.toContain("\u2026");
  });

  test("in 60 columns no line is wider, long values end in an ellipsis, short columns stay whole", () => {
    const text = unitTable(units, NOW, 60);
    const lines = text.split("\n");
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(60);
    expect(lines[0]?.split(/\s{2,}/)).toEqual(["CHUNK", "PHASE", "STATUS", "BLOCKED BY", "FOR"]);
    expect(lines[1]).toStartWith("feature-");
    expect(lines[1]).toContain("\u2026");
    expect(lines[1]).toContain("IMPLEMENT");
    expect(lines[1]).toContain("NEEDS_ATTENTION");
    expect(lines[2]).toStartWith("short ");
  });

  test("a table that fits is not changed by a width", () => {
    const small = [unit("a"), unit("b", { blocked_by: ["a"], status: "BLOCKED" })];
    expect(unitTable(small, NOW, 200)).toBe(unitTable(small, NOW));
  });

  test("too narrow for the minimum columns: cut as far as readable, then the line overflows", () => {
    const lines = unitTable(units, NOW, 20).split("\n");
    expect(lines[1]?.split(/\s{2,}/)[0]).toHaveLength(12);
  });
});

describe("time in status", () => {
  test("FOR counts from status_changed_at when the daemon sends it, else from updated_at", () => {
    const fromUpdated = unitTable([unit("a")], NOW).split("\n")[1];
    expect(fromUpdated?.trimEnd()).toEndWith("5m");
    const changed = unit("a", { status_changed_at: "2026-06-01T09:00:00.000Z" });
    expect(statusSince(changed)).toBe("2026-06-01T09:00:00.000Z");
    expect(unitTable([changed], NOW).split("\n")[1]?.trimEnd()).toEndWith("3h");
  });
});

describe("the note under the table", () => {
  test("names every blocker that is no work unit once, in the order the table shows them", () => {
    const list = [
      unit("a", { status: "BLOCKED", blocked_by: ["typo", "b"], unknown_blockers: ["typo"] } as Partial<WorkUnit>),
      unit("b"),
      unit("c", { status: "BLOCKED", blocked_by: ["gone", "typo"], unknown_blockers: ["gone", "typo"] } as Partial<WorkUnit>),
    ];
    const lines = unitTable(list, NOW).split("\n");
    expect(lines.at(-1)).toBe("? not a known work unit: typo, gone");
    expect(lines[1]).toContain("typo?,b");
  });

  test("no note when every blocker is a work unit, or a daemon does not say", () => {
    const list = [unit("a", { status: "BLOCKED", blocked_by: ["b"], unknown_blockers: [] } as Partial<WorkUnit>), unit("b")];
    expect(unitTable(list, NOW)).not.toContain("not a known work unit");
    expect(unitTable([unit("a", { blocked_by: ["b"] })], NOW)).not.toContain("not a known work unit");
  });
});
