// --json: every command prints exactly one JSON document on stdout that fits its schema in
// src/models/index.ts, errors included (ErrorBody, nothing else on stdout).
import { describe, expect, test } from "bun:test";
import type { TSchema } from "@sinclair/typebox";
import {
  DaemonNotRunning,
  DaemonStatus,
  Deleted,
  ErrorBody,
  LogLines,
  StartResult,
  StopResult,
  WorkUnit,
  WorkUnitChanged,
  WorkUnitDetail,
  WorkUnitList,
} from "../../src/models/index.ts";
import { type Run, jsonOf, stateFiles, useProjects } from "./harness.ts";

const { project, ve } = useProjects("ve-json");

function ok<T extends TSchema>(schema: T, result: Run) {
  expect(result.code).toBe(0);
  return jsonOf(schema, result);
}

/** A failed request: exit `code`, one ErrorBody on stdout with `errorCode`. */
function failed(result: Run, code: number, errorCode: string) {
  expect({ code: result.code, stdout: result.stdout }).toMatchObject({ code });
  const body = jsonOf(ErrorBody, result);
  expect(body.error.code).toBe(errorCode);
  expect(result.stdout.trim().split("\n")).toHaveLength(1);
  return body;
}

describe("--json documents", () => {
  test("start -> status -> create/ps/show/status/update/delete -> logs -> stop, each schema-checked", async () => {
    const dir = project();

    const start = ok(StartResult, await ve(dir, ["orch", "start", "--json"]));
    expect(start.already_running).toBe(false);
    expect(start.daemon.project_dir).toBe(dir);
    expect(start.daemon.transport).toBe("unix");
    expect(start.daemon.socket).toBe(stateFiles(dir).socket);
    const pid = start.daemon.pid;

    const again = ok(StartResult, await ve(dir, ["orch", "start", "--json"]));
    expect(again.already_running).toBe(true);
    expect(again.daemon.pid).toBe(pid);

    const status = ok(DaemonStatus, await ve(dir, ["orch", "status", "--json"]));
    expect(status.pid).toBe(pid);
    expect(status.running).toBe(true);
    expect(status.work_unit_counts).toEqual({ READY: 0, RUNNING: 0, BLOCKED: 0, NEEDS_ATTENTION: 0, DONE: 0 });

    const a = ok(WorkUnit, await ve(dir, ["orch", "work-unit", "create", "alpha", "--json"]));
    expect(a).toMatchObject({ chunk: "alpha", phase: "GOAL", status: "READY", blocked_by: [], worktree: null });
    const b = ok(WorkUnit, await ve(dir, ["orch", "work-unit", "create", "beta", "--blocked-by", "alpha", "--json"]));
    expect(b).toMatchObject({ chunk: "beta", status: "BLOCKED", blocked_by: ["alpha"] });

    const ps = ok(WorkUnitList, await ve(dir, ["orch", "ps", "--json"]));
    expect(ps.count).toBe(2);
    expect(ps.work_units.map((u) => u.chunk)).toEqual(["alpha", "beta"]);
    const list = ok(WorkUnitList, await ve(dir, ["orch", "work-unit", "list", "--json"]));
    expect(list).toEqual(ps);
    const blocked = ok(WorkUnitList, await ve(dir, ["orch", "ps", "--status", "BLOCKED", "--json"]));
    expect(blocked.work_units.map((u) => u.chunk)).toEqual(["beta"]);

    const shownStatus = ok(WorkUnit, await ve(dir, ["orch", "work-unit", "status", "alpha", "--json"]));
    expect(shownStatus.status).toBe("READY");
    const running = ok(WorkUnitChanged, await ve(dir, ["orch", "work-unit", "status", "alpha", "RUNNING", "--json"]));
    expect(running.status).toBe("RUNNING");
    const updated = ok(WorkUnitChanged, await ve(dir, ["orch", "work-unit", "update", "alpha", "--phase", "IMPLEMENT", "--json"]));
    expect(updated.phase).toBe("IMPLEMENT");
    const done = ok(WorkUnitChanged, await ve(dir, ["orch", "work-unit", "status", "alpha", "DONE", "--json"]));
    expect(done.status).toBe("DONE");

    const detail = ok(WorkUnitDetail, await ve(dir, ["orch", "work-unit", "show", "beta", "--json"]));
    expect(detail.work_unit).toMatchObject({ chunk: "beta", status: "READY", blocked_by: [] });
    expect(detail.history.map((h) => [h.old_status, h.new_status])).toEqual([
      [null, "BLOCKED"],
      ["BLOCKED", "READY"],
    ]);
    const alpha = ok(WorkUnitDetail, await ve(dir, ["orch", "work-unit", "show", "alpha", "--json"]));
    expect(alpha.history.map((h) => h.new_status)).toEqual(["READY", "RUNNING", "RUNNING", "DONE"]);
    expect(alpha.history.map((h) => h.new_phase)).toEqual(["GOAL", "GOAL", "IMPLEMENT", "IMPLEMENT"]);

    const counts = ok(DaemonStatus, await ve(dir, ["orch", "status", "--json"])).work_unit_counts;
    expect(counts).toEqual({ READY: 1, RUNNING: 0, BLOCKED: 0, NEEDS_ATTENTION: 0, DONE: 1 });

    const deleted = ok(Deleted, await ve(dir, ["orch", "work-unit", "delete", "alpha", "--json"]));
    expect(deleted).toEqual({ deleted: true, chunk: "alpha" });

    const logs = ok(LogLines, await ve(dir, ["orch", "logs", "--json"]));
    expect(logs.log).toBe(stateFiles(dir).log);
    expect(logs.lines.some((line) => line.includes("listening"))).toBe(true);

    const stop = ok(StopResult, await ve(dir, ["orch", "stop", "--json"]));
    expect(stop).toEqual({ stopped: true, pid, killed: false, removed_stale_files: [] });
    const stopAgain = ok(StopResult, await ve(dir, ["orch", "stop", "--json"]));
    expect(stopAgain).toEqual({ stopped: false, pid: null, killed: false, removed_stale_files: [] });

    const notRunning = await ve(dir, ["orch", "status", "--json"]);
    expect(notRunning.code).toBe(3);
    const answer = jsonOf(DaemonNotRunning, notRunning);
    expect(answer).toMatchObject({ running: false, project_dir: dir, stale_files: [], stale_pid: null, lock_holder: null });
    expect(answer.message).toContain("ve orch start");
  });

  test("failed requests: ErrorBody on stdout, exit 1, nothing else on stdout", async () => {
    const dir = project();
    expect((await ve(dir, ["orch", "start"])).code).toBe(0);
    expect((await ve(dir, ["orch", "work-unit", "create", "a"])).code).toBe(0);
    expect((await ve(dir, ["orch", "work-unit", "status", "a", "DONE"])).code).toBe(0);

    failed(await ve(dir, ["orch", "work-unit", "create", "a", "--json"]), 1, "already_exists");
    failed(await ve(dir, ["orch", "work-unit", "show", "nope", "--json"]), 1, "not_found");
    failed(await ve(dir, ["orch", "work-unit", "status", "nope", "--json"]), 1, "not_found");
    failed(await ve(dir, ["orch", "work-unit", "delete", "nope", "--json"]), 1, "not_found");
    // DONE -> RUNNING is refused without --force.
    const transition = failed(await ve(dir, ["orch", "work-unit", "status", "a", "RUNNING", "--json"]), 1, "invalid_transition");
    expect(transition.error.message.length).toBeGreaterThan(10);
    for (const name of ["bad..name", "a/b", "x".repeat(101), "trailing.", "x.lock"]) {
      const invalid = failed(await ve(dir, ["orch", "work-unit", "create", name, "--json"]), 1, "validation_failed");
      // The rule, and the name that broke it, quoted.
      expect(invalid.error.message).toStartWith(`Chunk name '${name.slice(0, 60)}`);
    }
    // Blocking a unit on itself is a cycle.
    failed(await ve(dir, ["orch", "work-unit", "create", "self", "--blocked-by", "self", "--json"]), 1, "dependency_cycle");

    // Nothing of the failures changed the state.
    const ps = ok(WorkUnitList, await ve(dir, ["orch", "ps", "--json"]));
    expect(ps.work_units.map((u) => [u.chunk, u.status])).toEqual([["a", "DONE"]]);
  });

  test("'.' and '..' as CHUNK are refused as invalid names, never reach another route", async () => {
    const dir = project();
    expect((await ve(dir, ["orch", "start"])).code).toBe(0);
    expect((await ve(dir, ["orch", "work-unit", "create", "a"])).code).toBe(0);
    for (const name of [".", ".."]) {
      for (const args of [
        ["status", name],
        ["show", name],
        ["status", name, "DONE"],
        ["update", name, "--phase", "PLAN"],
        ["delete", name],
      ]) {
        const label = `ve orch work-unit ${args.join(" ")}`;
        const r = await ve(dir, ["orch", "work-unit", ...args, "--json"]);
        // Exit 1 with the chunk-name rule; not another route's answer, not a list as a unit.
        expect({ label, code: r.code }).toEqual({ label, code: 1 });
        const body = jsonOf(ErrorBody, r);
        expect({ label, code: body.error.code }).toEqual({ label, code: "validation_failed" });
        expect(body.error.message).toStartWith(`Chunk name '${name}' `);
        const human = await ve(dir, ["orch", "work-unit", ...args]);
        expect({ label, code: human.code }).toEqual({ label, code: 1 });
        expect(human.stderr).not.toContain("unexpectedly");
      }
    }
    // Nothing was changed by any of them.
    const ps = ok(WorkUnitList, await ve(dir, ["orch", "ps", "--json"]));
    expect(ps.work_units.map((u) => [u.chunk, u.status, u.phase])).toEqual([["a", "READY", "GOAL"]]);
  });

  test("conflicts: blocked, stale compare-and-set, deleting a unit others wait on (exit 1; --force works)", async () => {
    const dir = project();
    expect((await ve(dir, ["orch", "start"])).code).toBe(0);
    const base = ok(WorkUnit, await ve(dir, ["orch", "work-unit", "create", "base", "--json"]));
    ok(WorkUnit, await ve(dir, ["orch", "work-unit", "create", "top", "--blocked-by", "base", "--json"]));

    // A unit waiting on an unfinished chunk cannot become READY (and BLOCKED -> RUNNING is no
    // transition at all).
    failed(await ve(dir, ["orch", "work-unit", "status", "top", "READY", "--json"]), 1, "blocked");
    failed(await ve(dir, ["orch", "work-unit", "status", "top", "RUNNING", "--json"]), 1, "invalid_transition");

    // Compare-and-set: the first writer with the timestamp it read wins, the second is stale.
    const first = await ve(dir, ["orch", "work-unit", "update", "base", "--status", "RUNNING", "--expected-updated-at", base.updated_at, "--json"]);
    expect(ok(WorkUnitChanged, first).status).toBe("RUNNING");
    failed(
      await ve(dir, ["orch", "work-unit", "update", "base", "--status", "NEEDS_ATTENTION", "--expected-updated-at", base.updated_at, "--json"]),
      1,
      "stale_write",
    );

    failed(await ve(dir, ["orch", "work-unit", "delete", "base", "--json"]), 1, "has_dependents");
    const human = await ve(dir, ["orch", "work-unit", "delete", "base"]);
    expect(human.code).toBe(1);
    expect(human.stdout).toBe("");
    expect(human.stderr).toContain("top");
    ok(Deleted, await ve(dir, ["orch", "work-unit", "delete", "base", "--force", "--json"]));
    // A forced delete releases the waiting unit as if base were DONE.
    const top = ok(WorkUnitDetail, await ve(dir, ["orch", "work-unit", "show", "top", "--json"]));
    expect(top.work_unit).toMatchObject({ status: "READY", blocked_by: [] });
  });

  test("usage errors with --json: ErrorBody with code usage on stdout, exit 2", async () => {
    const dir = project();
    failed(await ve(dir, ["orch", "ps", "--bogus", "--json"]), 2, "usage");
    failed(await ve(dir, ["orch", "ps", "--status", "SLEEPING", "--json"]), 2, "usage");
    failed(await ve(dir, ["orch", "work-unit", "create", "--json"]), 2, "usage");
    failed(await ve(dir, ["orch", "start", "--port", "4000", "--json"]), 2, "usage");
    failed(await ve(dir, ["orch", "logs", "-f", "--json"]), 2, "usage");
  });

  test("status --json without a daemon: {running: false, ...} and exit 3, not an error object", async () => {
    const dir = project();
    const result = await ve(dir, ["orch", "status", "--json"]);
    expect(result.code).toBe(3);
    expect(result.stdout.trim().split("\n")).toHaveLength(1);
    const answer = jsonOf(DaemonNotRunning, result);
    expect(answer).toEqual({
      running: false,
      project_dir: dir,
      message: answer.message,
      stale_files: [],
      stale_pid: null,
      lock_holder: null,
    });
    expect(answer.message).toContain("ve orch start");
    expect(result.stderr).toBe("");
  });

  test("daemon not running with --json: ErrorBody with exit 3 for every other client command", async () => {
    const dir = project();
    for (const args of [
      ["orch", "ps"],
      ["orch", "work-unit", "create", "a"],
      ["orch", "work-unit", "show", "a"],
      ["orch", "work-unit", "delete", "a"],
    ]) {
      const result = await ve(dir, [...args, "--json"]);
      const body = failed(result, 3, "daemon_not_running");
      expect(body.error.message).toContain("ve orch start");
    }
  });
});
