// When no daemon answers: none at all, a stale socket after kill -9, and a suspended
// (SIGSTOPped) daemon. Every command answers within its timeout with exit 3 and says what to do.
import { describe, expect, test } from "bun:test";
import { existsSync, rmSync, statSync } from "node:fs";
import { DaemonNotRunning, ErrorBody, StartResult, StopResult } from "../../src/models/index.ts";
import { isRunning, jsonOf, killQuietly, stateFiles, useProjects, waitFor } from "./harness.ts";

const { project, ve } = useProjects("ve-unreach");

/** A short request timeout, so waiting on a daemon that cannot answer costs one second. */
const env = { VE_REQUEST_TIMEOUT_MS: "1000" };
/** Generous for one CLI run plus the 1 s request timeout on a loaded 2-core machine. */
const ANSWER_BOUND_MS = 4000;

async function started(dir: string): Promise<number> {
  const r = await ve(dir, ["orch", "start", "--json"]);
  expect(r.code).toBe(0);
  return jsonOf(StartResult, r).daemon.pid;
}

async function crashed(dir: string): Promise<number> {
  const pid = await started(dir);
  process.kill(pid, "SIGKILL");
  expect(await waitFor(() => !isRunning(pid))).toBe(true);
  expect(statSync(stateFiles(dir).socket).isSocket()).toBe(true);
  return pid;
}

describe("no daemon", () => {
  test("status and ps exit 3 and say how to start one", async () => {
    const dir = project();
    const status = await ve(dir, ["orch", "status"], { env });
    expect(status.code).toBe(3);
    expect(status.stdout).toContain("No ve daemon is running");
    expect(status.stdout).toContain("ve orch start");

    const ps = await ve(dir, ["orch", "ps"], { env });
    expect(ps.code).toBe(3);
    expect(ps.stdout).toBe("");
    expect(ps.stderr).toContain("No ve daemon is running");
    expect(ps.stderr).toContain("ve orch start");
  });
});

describe("stale socket after kill -9", () => {
  test("status and ps exit 3 at once; status reports the stale socket", async () => {
    const dir = project();
    const pid = await crashed(dir);
    const socket = stateFiles(dir).socket;

    const status = await ve(dir, ["orch", "status"], { env });
    expect(status.code).toBe(3);
    expect(status.ms).toBeLessThan(ANSWER_BOUND_MS);
    expect(status.stdout).toContain("ve orch start");
    expect(status.stdout).toContain(`stale ${socket}`);
    expect(status.stdout).toContain(`${pid}`);

    const json = await ve(dir, ["orch", "status", "--json"], { env });
    expect(json.code).toBe(3);
    const answer = jsonOf(DaemonNotRunning, json);
    expect(answer.running).toBe(false);
    expect(answer.stale_files).toEqual([socket]);

    const ps = await ve(dir, ["orch", "ps"], { env });
    expect(ps.code).toBe(3);
    expect(ps.ms).toBeLessThan(ANSWER_BOUND_MS);
    expect(ps.stderr).toContain("ve orch start");

    // Reporting is not cleaning: the stale file is left for start/stop to remove.
    expect(existsSync(socket)).toBe(true);
  });

  test("stop removes the stale socket and reports it; a second stop has nothing left", async () => {
    const dir = project();
    await crashed(dir);
    const socket = stateFiles(dir).socket;

    const stop = await ve(dir, ["orch", "stop", "--json"], { env });
    expect({ code: stop.code, stdout: stop.stdout }).toMatchObject({ code: 0 });
    expect(jsonOf(StopResult, stop)).toEqual({ stopped: false, pid: null, killed: false, removed_stale_files: [socket] });
    expect(existsSync(socket)).toBe(false);

    const again = await ve(dir, ["orch", "stop"], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("was not running");
    expect(again.stdout).not.toContain("removed stale");

    const status = await ve(dir, ["orch", "status"], { env });
    expect(status.code).toBe(3);
    expect(status.stdout).not.toContain("stale");
  });

  test("stop in human output names the stale file it removed", async () => {
    const dir = project();
    await crashed(dir);
    const stop = await ve(dir, ["orch", "stop"], { env });
    expect({ code: stop.code, stderr: stop.stderr }).toEqual({ code: 0, stderr: "" });
    expect(stop.stdout).toContain("was not running");
    expect(stop.stdout).toContain(`removed stale ${stateFiles(dir).socket}`);
  });
});

describe("daemon without its socket", () => {
  test("status names the process holding the lock (exit 3); stop ends it by its pid", async () => {
    const dir = project();
    const pid = await started(dir);
    rmSync(stateFiles(dir).socket);

    const status = await ve(dir, ["orch", "status"], { env });
    expect(status.code).toBe(3);
    expect(status.stdout).toContain(`process ${pid} holds the daemon lock`);
    expect(status.stdout).toContain("ve orch stop");

    const stop = await ve(dir, ["orch", "stop", "--json"], { env });
    expect(stop.code).toBe(0);
    expect(jsonOf(StopResult, stop)).toMatchObject({ stopped: true, pid });
    expect(await waitFor(() => !isRunning(pid))).toBe(true);

    // And the project starts normally again.
    const restarted = await started(dir);
    expect(restarted).not.toBe(pid);
  });
});

describe("suspended daemon (SIGSTOP)", () => {
  test("status and ps answer within their timeout: exit 3, 'did not answer'", async () => {
    const dir = project();
    const pid = await started(dir);
    process.kill(pid, "SIGSTOP");
    try {
      const status = await ve(dir, ["orch", "status"], { env });
      expect(status.code).toBe(3);
      expect(status.ms).toBeLessThan(ANSWER_BOUND_MS);
      expect(status.stderr).toContain("did not answer");
      expect(status.stderr).toContain("ve orch stop");

      const ps = await ve(dir, ["orch", "ps"], { env });
      expect(ps.code).toBe(3);
      expect(ps.ms).toBeLessThan(ANSWER_BOUND_MS);
      expect(ps.stdout).toBe("");
      expect(ps.stderr).toContain("did not answer");

      const json = await ve(dir, ["orch", "ps", "--json"], { env });
      expect(json.code).toBe(3);
      expect(jsonOf(ErrorBody, json).error.code).toBe("daemon_unresponsive");
      expect(isRunning(pid)).toBe(true);

    } finally {
      killQuietly(pid, "SIGCONT");
    }
    // Once resumed, it answers again.
    expect((await ve(dir, ["orch", "status"], { env })).code).toBe(0);
  });

  test("start reports a suspended daemon at once (exit 3) instead of waiting to start another", async () => {
    const dir = project();
    const pid = await started(dir);
    process.kill(pid, "SIGSTOP");
    try {
      const start = await ve(dir, ["orch", "start", "--json"], { env });
      expect(start.code).toBe(3);
      expect(start.ms).toBeLessThan(ANSWER_BOUND_MS);
      expect(jsonOf(ErrorBody, start).error.code).toBe("daemon_unresponsive");
      expect(isRunning(pid)).toBe(true);
    } finally {
      killQuietly(pid, "SIGCONT");
    }
    const again = await ve(dir, ["orch", "start", "--json"], { env });
    expect(jsonOf(StartResult, again)).toMatchObject({ already_running: true, daemon: { pid } });
  });

  test("stop ends a suspended daemon", async () => {
    const dir = project();
    const pid = await started(dir);
    process.kill(pid, "SIGSTOP");
    try {
      const stop = await ve(dir, ["orch", "stop", "--json"], { env });
      expect(stop.code).toBe(0);
      const doc = jsonOf(StopResult, stop);
      expect(doc.stopped).toBe(true);
      expect(doc.pid).toBe(pid);
      expect(await waitFor(() => !isRunning(pid))).toBe(true);
      expect((await ve(dir, ["orch", "status"], { env })).code).toBe(3);
      expect(existsSync(stateFiles(dir).socket)).toBe(false);
    } finally {
      killQuietly(pid, "SIGCONT");
    }
  });
});
