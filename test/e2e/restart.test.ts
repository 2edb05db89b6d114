// Upgrading (issue 10 item 10): `start` against a daemon of an older version says so on stderr
// and points to `ve orch restart`, which stops it and starts this binary's daemon with the state
// kept, and keeps the transport of the one it stopped.
import { beforeAll, describe, expect, test } from "bun:test";
import { cpSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { RestartResult, StartResult } from "../../src/models/index.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { VE, isRunning, jsonOf, run, useProjects } from "./harness.ts";

const { project, trackPid, ve } = useProjects("ve-restart");
const buildDirs = useTempDirs("ve-restart-build");
const REPO = resolve(import.meta.dir, "../..");
const OLD_VERSION = "0.0.1-old";
let oldVe = "";

// The same sources built with an older version in package.json: the only difference is the
// version each side reports.
beforeAll(async () => {
  const dir = buildDirs();
  for (const entry of ["src", "sql", "build.ts", "tsconfig.json"]) cpSync(join(REPO, entry), join(dir, entry), { recursive: true });
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
  const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ ...pkg, version: OLD_VERSION }));
  const build = await run([process.execPath, "run", "build.ts"], { cwd: dir, timeoutMs: 120_000 });
  expect(build.code).toBe(0);
  oldVe = join(dir, "dist", "ve");
}, 120_000);

describe("restart", () => {
  test("start against an older daemon says so; restart replaces it with this binary, state kept", async () => {
    const dir = project();
    const oldStart = await run([oldVe, "orch", "start", "--json", "--project-dir", dir]);
    expect(oldStart.code).toBe(0);
    const oldPid = jsonOf(StartResult, oldStart).daemon.pid;
    trackPid(oldPid);
    expect((await ve(dir, ["orch", "work-unit", "create", "survives"])).code).toBe(0);
    const ours = (await run([VE, "--version"])).stdout.trim();

    const start = await ve(dir, ["orch", "start"]);
    expect(start.code).toBe(0);
    expect(start.stdout).toContain("already running");
    expect(start.stderr).toContain(`the running daemon is ve ${OLD_VERSION}, older than this ve ${ours}`);
    expect(start.stderr).toContain("ve orch restart");

    const restart = await ve(dir, ["orch", "restart", "--json"]);
    expect({ code: restart.code, stderr: restart.stderr }).toEqual({ code: 0, stderr: "" });
    const doc = jsonOf(RestartResult, restart);
    trackPid(doc.start.daemon.pid);
    expect(doc.previous_version).toBe(OLD_VERSION);
    expect(doc.stop).toMatchObject({ stopped: true, pid: oldPid, killed: false });
    expect(doc.start.already_running).toBe(false);
    expect(doc.start.daemon.version).toBe(ours);
    expect(isRunning(oldPid)).toBe(false);
    expect((await ve(dir, ["orch", "work-unit", "show", "survives"])).code).toBe(0);
    // Same version now: start is silent.
    const again = await ve(dir, ["orch", "start"]);
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: "" });
  });

  test("restart keeps the TCP transport and port of the daemon it stopped; with none running it starts one", async () => {
    const dir = project();
    const none = await ve(dir, ["orch", "restart", "--json"]);
    expect(none.code).toBe(0);
    const first = jsonOf(RestartResult, none);
    trackPid(first.start.daemon.pid);
    expect(first.stop.stopped).toBe(false);
    expect(first.start.daemon.transport).toBe("unix");
    expect((await ve(dir, ["orch", "stop"])).code).toBe(0);

    const tcp = jsonOf(StartResult, await ve(dir, ["orch", "start", "--tcp", "--json"]));
    trackPid(tcp.daemon.pid);
    const restarted = jsonOf(RestartResult, await ve(dir, ["orch", "restart", "--json"]));
    trackPid(restarted.start.daemon.pid);
    expect(restarted.start.daemon.transport).toBe("tcp");
    expect(restarted.start.daemon.port).toBe(tcp.daemon.port);
    expect(restarted.start.daemon.pid).not.toBe(tcp.daemon.pid);
  });
});
