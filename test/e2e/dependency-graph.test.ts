// The dependency graph survives its units finishing (issue 10 item 3), and claims are atomic
// (item 2): driven through the compiled dist/ve on real daemons in temporary projects.
import { describe, expect, test } from "bun:test";
import { ErrorBody, WorkUnit, WorkUnitChanged, WorkUnitDetail, WorkUnitList } from "../../src/models/index.ts";
import { jsonOf, useProjects } from "./harness.ts";

const { project, ve } = useProjects("ve-graph");

async function started(): Promise<string> {
  const dir = project();
  const start = await ve(dir, ["orch", "start"]);
  expect({ code: start.code, stderr: start.stderr }).toEqual({ code: 0, stderr: "" });
  return dir;
}

describe("the dependency graph is kept (issue 10 item 3)", () => {
  test("a diamond finishes, the graph is still shown, and reopening its root re-blocks", async () => {
    const dir = await started();
    const wu = (...args: string[]) => ve(dir, ["orch", "work-unit", ...args]);
    for (const args of [["a"], ["b", "--blocked-by", "a"], ["c", "--blocked-by", "a"], ["d", "--blocked-by", "b,c"]]) {
      expect((await wu("create", ...args)).code).toBe(0);
    }
    for (const chunk of ["a", "b", "c", "d"]) {
      const done = await wu("status", chunk, "DONE");
      expect({ chunk, code: done.code, stderr: done.stderr }).toEqual({ chunk, code: 0, stderr: "" });
    }

    const units = new Map(jsonOf(WorkUnitList, await ve(dir, ["orch", "ps", "--json"])).work_units.map((u) => [u.chunk, u]));
    const graph = [...units.values()].map((u) => [u.chunk, u.status, u.depends_on, u.blocked_by, u.dependents]);
    expect(graph).toEqual([
      ["a", "DONE", [], [], ["b", "c"]],
      ["b", "DONE", ["a"], [], ["d"]],
      ["c", "DONE", ["a"], [], ["d"]],
      ["d", "DONE", ["b", "c"], [], []],
    ]);

    // `show` says both directions, in text and in --json, and the history has the releases.
    const shown = await wu("show", "b");
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/depends on\s+a\n/);
    expect(shown.stdout).toMatch(/dependents\s+d\n/);
    const detail = jsonOf(WorkUnitDetail, await wu("show", "d", "--json"));
    expect(detail.work_unit).toMatchObject({ depends_on: ["b", "c"], blocked_by: [] });
    expect(detail.history.map((h) => h.reason)).toEqual([
      "created, blocked by 'b', 'c'",
      "'b' is DONE; waits on 'c'",
      "unblocked: 'c' is DONE",
      "requested",
    ]);

    // Reopening the root: b and c are DONE (they keep their status) and wait on it again in
    // their lists; reopening b too puts d, not yet started, back to BLOCKED.
    const reopened = jsonOf(WorkUnitChanged, await wu("status", "a", "READY", "--json"));
    expect(reopened).toMatchObject({ status: "READY", previous: { status: "DONE" }, changed: ["status"] });
    const b = jsonOf(WorkUnitChanged, await wu("status", "b", "READY", "--json"));
    expect(b).toMatchObject({ status: "BLOCKED", blocked_by: ["a"], previous: { status: "DONE" } });
    // d stayed DONE, and says it waits on b again; reopening it makes it wait, not READY.
    expect(jsonOf(WorkUnit, await wu("status", "d", "--json"))).toMatchObject({ status: "DONE", blocked_by: ["b"] });
    const d = await wu("status", "d", "READY");
    expect({ code: d.code, out: d.stdout.trim() }).toEqual({ code: 0, out: "d: DONE -> BLOCKED" });

    // A unit not started yet goes back to BLOCKED when its finished blocker is reopened.
    expect((await wu("create", "e", "--blocked-by", "c")).code).toBe(0);
    expect(jsonOf(WorkUnit, await wu("status", "e", "--json")).status).toBe("READY");
    const text = await wu("status", "c", "READY");
    expect(text.stdout.trim()).toBe("c: DONE -> BLOCKED"); // it waits on the reopened a
    const e = jsonOf(WorkUnit, await wu("status", "e", "--json"));
    expect(e).toMatchObject({ status: "BLOCKED", depends_on: ["c"], blocked_by: ["c"] });
    const eDetail = jsonOf(WorkUnitDetail, await wu("show", "e", "--json"));
    expect(eDetail.history.at(-1)).toMatchObject({ old_status: "READY", new_status: "BLOCKED", reason: "blocked again: 'c' was reopened; waits on 'c'" });
  });

  test("a mistyped blocker is accepted but said to be unknown in the answer, ps and show (item 4)", async () => {
    const dir = await started();
    const created = await ve(dir, ["orch", "work-unit", "create", "x", "--blocked-by", "typo"]);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain("'typo' is not a known work unit");
    const json = jsonOf(WorkUnitDetail, await ve(dir, ["orch", "work-unit", "show", "x", "--json"])).work_unit;
    expect(json).toMatchObject({ status: "BLOCKED", blocked_by: ["typo"], unknown_blockers: ["typo"] });
    const ps = await ve(dir, ["orch", "ps"]);
    expect(ps.stdout).toContain("typo?");
    expect(ps.stdout).toContain("? not a known work unit: typo");
    const show = await ve(dir, ["orch", "work-unit", "show", "x"]);
    expect(show.stdout).toContain("'typo' is not a known work unit");
    expect(show.stdout).toContain("'typo' is not a known unit"); // the history's creation row
  });
});

describe("atomic claims (issue 10 item 2)", () => {
  test("eight concurrent claimers: exactly one wins, the others exit 1 and say who won", async () => {
    const dir = await started();
    expect((await ve(dir, ["orch", "work-unit", "create", "only"])).code).toBe(0);
    const runs = await Promise.all(
      Array.from({ length: 8 }, (_, i) => ve(dir, ["orch", "work-unit", "claim", "--by", `claimer-${i}`])),
    );
    const winners = runs.filter((r) => r.code === 0);
    expect(winners).toHaveLength(1);
    const winner = runs.indexOf(winners[0] as (typeof runs)[number]);
    expect(winners[0]?.stdout.trim()).toBe("Claimed only: READY -> RUNNING (phase GOAL)");
    for (const loser of runs.filter((r) => r.code !== 0)) {
      expect(loser.code).toBe(1);
      expect(loser.stderr).toContain(`the last unit taken was 'only' by claimer-${winner}`);
    }
    const history = jsonOf(WorkUnitDetail, await ve(dir, ["orch", "work-unit", "show", "only", "--json"])).history;
    expect(history.filter((h) => h.new_status === "RUNNING")).toHaveLength(1);
  });

  test("four parallel `status X RUNNING --from READY`: one prints READY -> RUNNING, the others are refused", async () => {
    const dir = await started();
    expect((await ve(dir, ["orch", "work-unit", "create", "x"])).code).toBe(0);
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => ve(dir, ["orch", "work-unit", "status", "x", "RUNNING", "--from", "READY", "--json"])),
    );
    const codes = runs.map((r) => r.code).sort();
    expect(codes).toEqual([0, 1, 1, 1]);
    for (const r of runs) {
      if (r.code === 0) expect(jsonOf(WorkUnitChanged, r).previous.status).toBe("READY");
      else expect(jsonOf(ErrorBody, r).error.code).toBe("status_mismatch");
    }
    // Without --from the answer still says what this request changed, never a stale read.
    const again = await ve(dir, ["orch", "work-unit", "status", "x", "RUNNING"]);
    expect({ code: again.code, out: again.stdout.trim() }).toEqual({ code: 0, out: "x is already RUNNING" });
  });

  test("claim takes the unit that releases the most first, and exits 1 when none is READY", async () => {
    const dir = await started();
    const wu = (...args: string[]) => ve(dir, ["orch", "work-unit", ...args]);
    for (const args of [["lone"], ["root"], ["mid", "--blocked-by", "root"], ["leaf", "--blocked-by", "mid"]]) {
      expect((await wu("create", ...args)).code).toBe(0);
    }
    expect(jsonOf(WorkUnitChanged, await wu("claim", "--json")).chunk).toBe("root");
    expect(jsonOf(WorkUnitChanged, await wu("claim", "--json")).chunk).toBe("lone");
    const none = await wu("claim", "--json");
    expect(none.code).toBe(1);
    expect(jsonOf(ErrorBody, none).error.code).toBe("nothing_to_claim");
  });
});
