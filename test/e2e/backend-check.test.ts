// `ve orch backend check NAME` and `ve orch backend list` through the compiled dist/ve: the
// check runs in the daemon (its environment, its settings), says step by step what works, and
// exits non-zero when the backend does not work.
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { BackendCheck, BackendList } from "../../src/models/index.ts";
import { expectOk, useEngineProjects } from "./engine-harness.ts";
import { processInfo } from "../../src/platform/process.ts";
import { useTempDirs } from "../helpers/temp.ts";
import { json, jsonOf, waitFor } from "./harness.ts";

const e = useEngineProjects("ve-backend-check-e2e");
const TEST_MS = 60_000;

/** A program outside the project, beside the harness's script file. */
function agent(script: string, body: string): string {
  const path = join(dirname(script), `agent-${Math.random().toString(16).slice(2)}.sh`);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Each daemon's own TMPDIR: other suites on the machine make scratch directories in /tmp too. */
const daemonTmpDirs = useTempDirs("ve-check-tmp");

/** The scratch directories the daemon made in its TMPDIR `tmp` and left there. */
function scratchDirs(tmp: string): string[] {
  return readdirSync(tmp).filter((name) => name.startsWith("ve-backend-check-"));
}

/** Starts the project's daemon with its own TMPDIR, returned. */
async function daemon(dir: string, env: Record<string, string> = {}): Promise<string> {
  const tmp = daemonTmpDirs();
  expectOk(await e.ve(dir, ["orch", "start"], { TMPDIR: tmp, ...env }));
  return tmp;
}

describe("ve orch backend check", () => {
  test("a command that answers: every step ok, exit 0; it ran with the daemon's environment, not the CLI's", async () => {
    const { dir, script } = e.repo();
    const tmp = await daemon(dir, { CHECK_MARK: "from-the-daemon" });
    const path = agent(script, 'read line; echo "mark=$CHECK_MARK"; echo "$line"');
    expectOk(await e.ve(dir, ["orch", "config", "backends.command.path", path]));
    const result = await e.ve(dir, ["orch", "backend", "check", "command"], { CHECK_MARK: "from-the-cli" });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("Checking the command backend:");
    expect(result.stdout).toMatch(/ok\s+executable\s+found /);
    expect(result.stdout).toMatch(/ok\s+outcome\s+completed: the command exited with status 0/);
    expect(result.stdout).toContain("reply: mark=from-the-daemon");
    expect(result.stdout.trim().endsWith("The command backend works.")).toBe(true);
    // The scratch repository is gone once the answer came.
    expect(scratchDirs(tmp)).toEqual([]);
  }, TEST_MS);

  test("a command that fails: exit 1, --json is the report with the outcome, its output and a hint", async () => {
    const { dir, script } = e.repo();
    await daemon(dir);
    const path = agent(script, 'echo "cannot log in" >&2; exit 4');
    expectOk(await e.ve(dir, ["orch", "config", "backends.command.path", path]));
    const result = await e.ve(dir, ["orch", "backend", "check", "command", "--json"]);
    expect(result.code).toBe(1);
    const report = jsonOf(BackendCheck, result);
    expect(report.ok).toBe(false);
    expect(report.outcome).toBe("failed");
    expect(report.exit_code).toBe(4);
    expect(report.output).toEqual(["stderr: cannot log in"]);
    expect(report.steps.map((s) => [s.step, s.ok])).toEqual([["executable", true], ["version", null], ["start", true], ["outcome", false]]);
    expect(report.steps[3]?.hint).toContain("`ve orch config backends.command.args`");
    const human = await e.ve(dir, ["orch", "backend", "check", "command"]);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain("stderr: cannot log in");
    expect(human.stdout).toContain("The command backend does not work yet");
  }, TEST_MS);

  test("a missing program: exit 1 and the step says how to configure it", async () => {
    const { dir } = e.repo();
    await daemon(dir);
    expectOk(await e.ve(dir, ["orch", "config", "backends.command.path", join(dir, "nowhere")]));
    const result = await e.ve(dir, ["orch", "backend", "check", "command"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAILED\s+executable\s+The command backend's program .*nowhere does not exist or is not executable\./);
    expect(result.stdout).toContain("-> set it with `ve orch config backends.command.path /path/to/program`");
    expect(result.stdout).toMatch(/-\s+start\s+skipped/);
  }, TEST_MS);

  test("an unknown backend is refused naming the known ones; --json gives the error document", async () => {
    const { dir } = e.repo();
    await daemon(dir);
    const result = await e.ve(dir, ["orch", "backend", "check", "clade"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("There is no backend named 'clade'; the backends are command");
    const asJson = await e.ve(dir, ["orch", "backend", "check", "../status", "--json"]);
    expect(asJson.code).toBe(1);
    expect(json<{ error: { code: string; message: string } }>(asJson).error.code).toBe("validation_failed");
  }, TEST_MS);

  test("--timeout bounds the run: an agent that hangs is ended and the outcome says timeout", async () => {
    const { dir, script } = e.repo();
    await daemon(dir);
    const path = agent(script, "echo thinking; sleep 120");
    expectOk(await e.ve(dir, ["orch", "config", "backends.command.path", path]));
    const result = await e.ve(dir, ["orch", "backend", "check", "command", "--timeout", "1", "--json"]);
    expect(result.code).toBe(1);
    const report = jsonOf(BackendCheck, result);
    expect(report.outcome).toBe("timeout");
    expect(report.reason).toBe("it did not finish within 1 s");
    const bad = await e.ve(dir, ["orch", "backend", "check", "command", "--timeout", "0"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--timeout must be a whole number from 1 to 600");
  }, TEST_MS);

  test("a daemon that stops during a check ends its agent and removes its scratch repository", async () => {
    const { dir, script } = e.repo();
    const tmp = await daemon(dir);
    const pidFile = join(dirname(script), "agent.pid");
    const path = agent(script, `echo $$ > ${pidFile}; sleep 300`);
    expectOk(await e.ve(dir, ["orch", "config", "backends.command.path", path]));
    const checking = e.ve(dir, ["orch", "backend", "check", "command", "--timeout", "300"]);
    expect(await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() !== "", 20_000)).toBe(true);
    const pid = Number(readFileSync(pidFile, "utf8"));
    // It is there while the agent runs: the check below is not vacuous.
    expect(scratchDirs(tmp)).toHaveLength(1);
    expectOk(await e.ve(dir, ["orch", "stop"]));
    const result = await checking;
    // The answer or the stop, never a hang until the check's own bound.
    expect([1, 3]).toContain(result.code);
    expect(processInfo(pid)).toBeUndefined();
    expect(scratchDirs(tmp)).toEqual([]);
  }, TEST_MS);

  test("without a daemon it says to start one (exit 3)", async () => {
    const { dir } = e.repo();
    const result = await e.ve(dir, ["orch", "backend", "check", "command"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("ve orch start");
  }, TEST_MS);
});

describe("ve orch backend list", () => {
  test("each backend with its program as the daemon finds it and what is wrong", async () => {
    const { dir, script } = e.repo();
    await daemon(dir);
    const unset = jsonOf(BackendList, await e.ve(dir, ["orch", "backend", "list", "--json"]));
    const command = unset.backends.find((b) => b.name === "command");
    expect(command).toMatchObject({ default: true, configured_path: null, executable: null, version: null });
    expect(command?.problem).toContain("ve orch config backends.command.path");
    const path = agent(script, "exit 0");
    expectOk(await e.ve(dir, ["orch", "config", "backends.command.path", path]));
    expectOk(await e.ve(dir, ["orch", "config", "backends.command.args", '["--model","x"]']));
    const set = jsonOf(BackendList, await e.ve(dir, ["orch", "backend", "list", "--json"]));
    expect(set.backends.find((b) => b.name === "command")).toMatchObject({ configured_path: path, executable: path, args: ["--model", "x"], problem: null });
    const human = expectOk(await e.ve(dir, ["orch", "backend", "list"]));
    expect(human.stdout).toMatch(/^BACKEND\s+DEFAULT\s+EXECUTABLE/);
    expect(human.stdout).toContain(path);
  }, TEST_MS);
});
