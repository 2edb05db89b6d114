// What an agent leaves running when its run ends: a background child in its group, a child
// that ignores SIGTERM, a `setsid` fork that left the group and the worktree. None of them
// outlives the run, however it ends; a process that only looks like one of the run's (a
// similar VE_RUN_ID) is never touched.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { processInfo } from "../../src/platform/process.ts";
import { AGENT, type Script, expectOk, useEngineProjects } from "./engine-harness.ts";
import { waitFor } from "./harness.ts";

const e = useEngineProjects("ve-leftovers");
const TEST_MS = 120_000;
const linuxOnly = process.platform === "linux" ? test : test.skip;
/** The daemon's SIGTERM-to-SIGKILL grace, short: the stubborn children wait it out. */
const DAEMON_ENV = { VE_TERM_GRACE_MS: "300" };
const LEFTOVERS = ["group", "stubborn", "setsid"] as const;

/** A `run` step: starts the three leftovers, writes their pids and the run's id into `pids`. */
function spawnLeftovers(pids: string): Record<string, unknown> {
  const script = [
    `D='${pids}'`,
    `sleep 1000 </dev/null >/dev/null 2>&1 & echo $! > "$D/group.pid"`,
    `sh -c 'trap "" TERM; exec sleep 1000' </dev/null >/dev/null 2>&1 & echo $! > "$D/stubborn.pid"`,
    // Leaves the session, the group and the worktree, and ignores SIGTERM: a daemonised server.
    `setsid sh -c 'cd /; trap "" TERM; echo $$ > "$0/setsid.tmp"; mv "$0/setsid.tmp" "$0/setsid.pid"; exec sleep 1000' "$D" </dev/null >/dev/null 2>&1 &`,
    `while [ ! -f "$D/setsid.pid" ]; do sleep 0.01; done`,
    `echo "$VE_RUN_ID" > "$D/run.tmp"; mv "$D/run.tmp" "$D/run-id"`,
  ].join("\n");
  return { run: ["sh", "-c", script] };
}

function pidOf(pids: string, name: string): number {
  return Number.parseInt(readFileSync(join(pids, `${name}.pid`), "utf8"), 10);
}

function alive(pid: number): boolean {
  return processInfo(pid) !== undefined;
}

function killAll(pidList: number[]): void {
  for (const pid of pidList) {
    try {
      if (pid > 1) process.kill(pid, "SIGKILL");
    } catch {}
  }
}

/** The harness's start, with the daemon's environment: the grace is an environment setting. */
async function start(dir: string, scriptPath: string, script: Script, config: Record<string, string> = {}): Promise<void> {
  writeFileSync(scriptPath, JSON.stringify(script));
  expectOk(await e.ve(dir, ["orch", "start"], DAEMON_ENV));
  const settings: Record<string, string> = {
    "backends.command.path": process.execPath,
    "backends.command.args": JSON.stringify([AGENT, scriptPath]),
    silence_timeout_s: "60",
    ...config,
  };
  for (const [key, value] of Object.entries(settings)) expectOk(await e.ve(dir, ["orch", "config", key, value]));
}

describe("processes an agent leaves", () => {
  linuxOnly("none outlives a run that ends with exit 0: gone once the unit is DONE; look-alikes of the run's VE_RUN_ID are not touched", async () => {
    const { dir, script } = e.repo();
    const pids = `${script}.pids`;
    mkdirSync(pids);
    const gate = `${script}.gate`;
    await start(dir, script, { a: { IMPLEMENT: [spawnLeftovers(pids), { wait_for_file: gate }, { write: { "a.txt": "a\n" } }], "*": [] } });
    const started: number[] = [];
    try {
      expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
      expect(await waitFor(() => existsSync(join(pids, "run-id")), 60_000)).toBe(true);
      for (const name of LEFTOVERS) started.push(pidOf(pids, name));
      const runId = readFileSync(join(pids, "run-id"), "utf8").trim();
      expect(runId).not.toBe("");
      // Processes of no run that carry something close to the marker, working in the worktree.
      const worktree = join(dir, ".ve", "worktrees", "a");
      const lookAlikes = [
        { VE_RUN_ID: `${runId}0` },
        { VE_RUN_ID: runId.slice(0, -1) },
        { OTHER: `VE_RUN_ID=${runId}` },
      ].map((extra) => Bun.spawn(["sleep", "1000"], { cwd: worktree, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...extra }, stdio: ["ignore", "ignore", "ignore"] }));
      for (const p of lookAlikes) started.push(p.pid);
      writeFileSync(gate, "");
      const [unit] = await e.waitUnits(dir, (us) => us[0]?.status === "DONE" || us[0]?.status === "NEEDS_ATTENTION");
      expect(unit?.status).toBe("DONE");
      const left = LEFTOVERS.filter((name) => alive(pidOf(pids, name)));
      expect(left).toEqual([]);
      expect(lookAlikes.map((p) => alive(p.pid))).toEqual([true, true, true]);
    } finally {
      killAll(started);
    }
  }, TEST_MS);

  linuxOnly("none outlives ve orch stop of the run they came from", async () => {
    const { dir, script } = e.repo();
    const pids = `${script}.pids`;
    mkdirSync(pids);
    await start(dir, script, { a: { IMPLEMENT: [spawnLeftovers(pids), { hang: true }], "*": [] } });
    const started: number[] = [];
    try {
      expectOk(await e.ve(dir, ["orch", "inject", "a", "--phase", "IMPLEMENT"]));
      expect(await waitFor(() => existsSync(join(pids, "run-id")), 60_000)).toBe(true);
      for (const name of LEFTOVERS) started.push(pidOf(pids, name));
      expectOk(await e.ve(dir, ["orch", "stop"]));
      const left = LEFTOVERS.filter((name) => alive(pidOf(pids, name)));
      expect(left).toEqual([]);
    } finally {
      killAll(started);
    }
  }, TEST_MS);

  linuxOnly("none outlives a run that failed, asked a question or hit its time limit", async () => {
    const { dir, script } = e.repo();
    const chunks = ["fails", "asks", "slow"] as const;
    const pidsOf = (chunk: string) => `${script}.${chunk}.pids`;
    for (const chunk of chunks) mkdirSync(pidsOf(chunk));
    await start(
      dir,
      script,
      {
        fails: { IMPLEMENT: [spawnLeftovers(pidsOf("fails")), { exit: 1 }], "*": [] },
        asks: { IMPLEMENT: [spawnLeftovers(pidsOf("asks")), { run: ["sh", "-c", "ve agent ask 'Which one?'"] }], "*": [] },
        slow: { IMPLEMENT: [spawnLeftovers(pidsOf("slow")), { hang: true }], "*": [] },
      },
      { run_timeout_s: "3", "retries.failed": "0", "retries.timeout": "0" },
    );
    const started: number[] = [];
    try {
      expectOk(await e.ve(dir, ["orch", "inject", ...chunks, "--phase", "IMPLEMENT"]));
      expect(await waitFor(() => chunks.every((c) => existsSync(join(pidsOf(c), "run-id"))), 60_000)).toBe(true);
      for (const chunk of chunks) for (const name of LEFTOVERS) started.push(pidOf(pidsOf(chunk), name));
      const units = await e.waitUnits(dir, (us) => us.length === 3 && us.every((u) => u.status === "NEEDS_ATTENTION"));
      expect(Object.fromEntries(units.map((u) => [u.chunk, u.attention?.kind]))).toEqual({ fails: "error", asks: "question", slow: "error" });
      const left = chunks.flatMap((chunk) => LEFTOVERS.filter((name) => alive(pidOf(pidsOf(chunk), name))).map((name) => `${chunk}:${name}`));
      expect(left).toEqual([]);
    } finally {
      killAll(started);
    }
  }, TEST_MS);
});
