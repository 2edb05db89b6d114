// The whole life of a daemon as a person sees it, in human output: start, status, work units
// through create / ps / show / status / delete, stop; and the idempotence of start and stop.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { StartResult } from "../../src/models/index.ts";
import { VE, daemonPids, isRunning, isVeDaemon, jsonOf, killQuietly, stateFiles, useProjects, waitFor } from "./harness.ts";

const { project, ve } = useProjects("ve-life");

/** Rows of the `ps` table below its header, split into cells. */
function tableRows(stdout: string): string[][] {
  return stdout
    .trimEnd()
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s{2,}/));
}

describe("lifecycle in human output", () => {
  test("start -> status -> create/ps/show/status/delete -> stop", async () => {
    const dir = project();

    const start = await ve(dir, ["orch", "start"]);
    expect(start.code).toBe(0);
    const pid = Number(/ve daemon started \(pid (\d+)\)/.exec(start.stdout)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(isVeDaemon(pid)).toBe(true);
    expect(start.stdout).toContain(dir);
    expect(start.stdout).toContain(stateFiles(dir).socket);

    const status = await ve(dir, ["orch", "status"]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`ve daemon running (pid ${pid}`);
    expect(status.stdout).toContain(dir);
    expect(status.stdout).toMatch(/READY 0, RUNNING 0, BLOCKED 0, NEEDS_ATTENTION 0, DONE 0/);

    const empty = await ve(dir, ["orch", "ps"]);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain("No work units.");

    const parser = await ve(dir, ["orch", "work-unit", "create", "parser"]);
    expect(parser.code).toBe(0);
    expect(parser.stdout).toContain("parser");
    expect(parser.stdout).toContain("READY");
    const cli = await ve(dir, ["orch", "work-unit", "create", "cli", "--blocked-by", "parser", "--phase", "PLAN"]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain("BLOCKED");
    expect(cli.stdout).toContain("parser");

    const ps = await ve(dir, ["orch", "ps"]);
    expect(ps.code).toBe(0);
    expect(ps.stdout.split("\n")[0]?.trim().split(/\s{2,}/)).toEqual(["CHUNK", "PHASE", "STATUS", "BLOCKED BY", "FOR"]);
    const rows = tableRows(ps.stdout);
    expect(rows.map((r) => r.slice(0, 4))).toEqual([
      ["parser", "GOAL", "READY", "-"],
      ["cli", "PLAN", "BLOCKED", "parser"],
    ]);
    for (const row of rows) expect(row[4]).toMatch(/^\d+[smhd]$/);
    // `work-unit list` is the same table.
    const list = await ve(dir, ["orch", "work-unit", "list"]);
    expect(list.code).toBe(0);
    expect(tableRows(list.stdout).map((r) => r.slice(0, 4))).toEqual(rows.map((r) => r.slice(0, 4)));

    const filtered = await ve(dir, ["orch", "ps", "--status", "BLOCKED"]);
    expect(filtered.code).toBe(0);
    expect(tableRows(filtered.stdout).map((r) => r[0])).toEqual(["cli"]);

    const current = await ve(dir, ["orch", "work-unit", "status", "parser"]);
    expect(current.code).toBe(0);
    expect(current.stdout).toContain("parser: READY");
    const running = await ve(dir, ["orch", "work-unit", "status", "parser", "RUNNING"]);
    expect(running.code).toBe(0);
    expect(running.stdout).toContain("READY -> RUNNING");
    const done = await ve(dir, ["orch", "work-unit", "status", "parser", "DONE"]);
    expect(done.code).toBe(0);
    expect(done.stdout).toContain("RUNNING -> DONE");

    // cli was released when parser became DONE, and its history says why.
    const show = await ve(dir, ["orch", "work-unit", "show", "cli"]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^chunk\s+cli$/m);
    expect(show.stdout).toMatch(/^phase\s+PLAN$/m);
    expect(show.stdout).toMatch(/^status\s+READY$/m);
    expect(show.stdout).toMatch(/^blocked by\s+-$/m);
    expect(show.stdout).toMatch(/^WHEN\s+STATUS\s+PHASE\s+WHY$/m);
    expect(show.stdout).toMatch(/BLOCKED -> READY.*parser/);

    const after = await ve(dir, ["orch", "status"]);
    expect(after.stdout).toMatch(/READY 1, RUNNING 0, BLOCKED 0, NEEDS_ATTENTION 0, DONE 1/);

    const deleted = await ve(dir, ["orch", "work-unit", "delete", "parser"]);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toContain("Deleted parser");
    expect(tableRows((await ve(dir, ["orch", "ps"])).stdout).map((r) => r[0])).toEqual(["cli"]);
    expect((await ve(dir, ["orch", "work-unit", "show", "parser"])).code).toBe(1);

    const stop = await ve(dir, ["orch", "stop"]);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain(`ve daemon stopped (pid ${pid})`);
    // An orderly stop leaves no socket behind; the pid file (the lock) stays.
    expect(existsSync(stateFiles(dir).socket)).toBe(false);
    expect(existsSync(stateFiles(dir).pid)).toBe(true);

    const gone = await ve(dir, ["orch", "status"]);
    expect(gone.code).toBe(3);
    expect(gone.stdout + gone.stderr).toContain("ve orch start");
  });

  test("start is idempotent: a second start reports the running daemon and exits 0", async () => {
    const dir = project();
    const first = await ve(dir, ["orch", "start"]);
    expect(first.code).toBe(0);
    const pid = Number(/\(pid (\d+)\)/.exec(first.stdout)?.[1]);
    const second = await ve(dir, ["orch", "start"]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`ve daemon already running (pid ${pid})`);
    expect(isRunning(pid)).toBe(true);
  });

  test("stop is idempotent: stopping a stopped daemon exits 0 and says it was not running", async () => {
    const dir = project();
    expect((await ve(dir, ["orch", "start"])).code).toBe(0);
    expect((await ve(dir, ["orch", "stop"])).code).toBe(0);
    const again = await ve(dir, ["orch", "stop"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("was not running");
    // And on a project that never had a daemon.
    const never = await ve(project(), ["orch", "stop"]);
    expect(never.code).toBe(0);
    expect(never.stdout).toContain("was not running");
  });

  test("stop ends the daemon process itself, not only its lock", async () => {
    const dir = project();
    const first = await ve(dir, ["orch", "start"]);
    const pid = Number(/\(pid (\d+)\)/.exec(first.stdout)?.[1]);
    expect(isRunning(pid)).toBe(true);
    const stop = await ve(dir, ["orch", "stop"]);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain(`ve daemon stopped (pid ${pid})`);
    // Once `stop` says "stopped", the process is gone (or at most a moment from exiting):
    // scripts replace the binary or check `pgrep` right after.
    expect(await waitFor(() => !isRunning(pid), 1000)).toBe(true);
  });

  test("a stopped daemon starts again at once, with a new pid", async () => {
    const dir = project();
    const first = await ve(dir, ["orch", "start"]);
    const pid = Number(/\(pid (\d+)\)/.exec(first.stdout)?.[1]);
    expect((await ve(dir, ["orch", "stop"])).code).toBe(0);
    const second = await ve(dir, ["orch", "start"]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("ve daemon started");
    expect(second.stdout).not.toContain(`(pid ${pid})`);
  });

  test("a start whose daemon does not answer in time fails and leaves no daemon behind to come up later", async () => {
    const dir = project();
    // 1 ms: no daemon can answer that fast, so this start always gives up on the one it launched.
    const start = await ve(dir, ["orch", "start"], { env: { VE_START_TIMEOUT_MS: "1" } });
    expect(start.code).toBe(1);
    expect(start.stderr).toMatch(/did not answer within 0\.001 s, and was (stopped|ended) \(on a machine this slow, set VE_START_TIMEOUT_MS higher/);
    expect(start.stderr).not.toContain("    at ");
    expect(await waitFor(() => daemonPids(dir).length === 0)).toBe(true);
    // Nothing came up afterwards either: the project is free for the next start.
    expect((await ve(dir, ["orch", "status"])).code).toBe(3);
    expect((await ve(dir, ["orch", "start"])).code).toBe(0);
  });

  test("start --foreground runs the daemon attached: same process, log on stderr, SIGTERM ends it", async () => {
    const dir = project();
    const daemon = Bun.spawn([VE, "orch", "start", "--foreground", "--project-dir", dir], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
    const stderr = new Response(daemon.stderr).text();
    try {
      expect(await waitFor(async () => (await ve(dir, ["orch", "status"])).code === 0)).toBe(true);
      const status = await ve(dir, ["orch", "start", "--json"]);
      const doc = jsonOf(StartResult, status);
      expect(doc).toMatchObject({ already_running: true, daemon: { pid: daemon.pid } });

      // A second foreground daemon refuses to run beside it.
      const second = await ve(dir, ["orch", "start", "--foreground"]);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`another ve daemon (pid ${daemon.pid}) already runs`);

      daemon.kill("SIGTERM");
      expect(await daemon.exited).toBe(0);
      expect(await stderr).toContain("listening on");
      expect(existsSync(stateFiles(dir).socket)).toBe(false);
      expect((await ve(dir, ["orch", "status"])).code).toBe(3);
    } finally {
      killQuietly(daemon.pid);
    }
  });
});
