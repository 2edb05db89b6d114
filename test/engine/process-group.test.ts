import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { MAX_LINE_CHARS, endProcessGroup, ownsGroup, startProcess, termGraceMs } from "../../src/engine/process-group.ts";
import { processGroupMembers, processInfo, processesWithCwdInside, processesWithEnvironmentEntry } from "../../src/platform/process.ts";
import { useTempDirs } from "../helpers/temp.ts";

const tempDir = useTempDirs("ve-procs");
const STUBBORN = join(import.meta.dir, "fixtures", "stubborn.sh");
const linuxOnly = process.platform === "linux" ? test : test.skip;
if (process.platform !== "linux") console.log("process sweep tests skipped: they read /proc (Linux only by design)");

const started: number[] = [];
afterEach(() => {
  for (const pgid of started.splice(0)) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {}
  }
});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await Bun.sleep(10);
  }
  return true;
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", ...extra };
}

describe("agent processes", () => {
  test("stdout and stderr arrive as lines, stdin carries the prompt then end of file", async () => {
    const lines: string[] = [];
    const proc = startProcess({
      argv: ["sh", "-c", 'read first; echo "got:$first"; cat >/dev/null; echo done; echo oops >&2'],
      cwd: tempDir(),
      env: env(),
      stdin: "the prompt\nmore\n",
      onLine: (stream, line) => lines.push(`${stream}:${line}`),
    });
    started.push(proc.pid);
    expect(await proc.done).toEqual({ code: 0, signal: null });
    // In order on each stream; how the two pipes interleave is the scheduler's business.
    expect(lines.filter((l) => l.startsWith("stdout:"))).toEqual(["stdout:got:the prompt", "stdout:done"]);
    expect(lines.filter((l) => l.startsWith("stderr:"))).toEqual(["stderr:oops"]);
  });

  test("a line longer than MAX_LINE_CHARS is cut there and the rest of it dropped: the daemon holds no unbounded line", async () => {
    const lines: string[] = [];
    const proc = startProcess({
      argv: ["sh", "-c", `head -c ${MAX_LINE_CHARS * 3} /dev/zero | tr '\\0' x; echo; echo next`],
      cwd: tempDir(),
      env: env(),
      stdin: null,
      onLine: (_, line) => lines.push(line),
    });
    started.push(proc.pid);
    expect(await proc.done).toEqual({ code: 0, signal: null });
    expect(lines).toHaveLength(2);
    expect(lines[0]?.startsWith("x".repeat(MAX_LINE_CHARS))).toBe(true);
    expect(lines[0]?.length).toBeLessThan(MAX_LINE_CHARS + 200);
    expect(lines[0]).toContain("not kept");
    expect(lines[1]).toBe("next");
  });

  test("each agent leads its own process group", async () => {
    const proc = startProcess({ argv: [STUBBORN], cwd: tempDir(), env: env(), stdin: null, onLine: () => {} });
    started.push(proc.pid);
    expect(processInfo(proc.pid)?.pgid).toBe(proc.pid);
    expect(processInfo(process.pid)?.pgid).not.toBe(proc.pid);
  });

  linuxOnly("the ladder ends a tree that ignores SIGTERM, with a grandchild holding the pipes", async () => {
    let ready = false;
    const proc = startProcess({
      argv: [STUBBORN],
      cwd: tempDir(),
      env: env(),
      stdin: null,
      onLine: (_s, line) => (ready ||= line === "READY"),
    });
    started.push(proc.pid);
    expect(await until(() => ready && processGroupMembers(proc.pid).length >= 2)).toBe(true);
    const report = await endProcessGroup(proc, { termGraceMs: 300 });
    expect(report.killed).toBe(true);
    expect(processGroupMembers(proc.pid)).toEqual([]);
    expect((await proc.done).signal).toBe("SIGKILL");
  });

  linuxOnly("a leftover that left the group is swept by its working directory and the run's marker only", async () => {
    const worktree = tempDir();
    let ready = false;
    const proc = startProcess({
      argv: [STUBBORN, "escape"],
      cwd: worktree,
      env: env({ VE_RUN_ID: "run-1" }),
      stdin: null,
      onLine: (_s, line) => (ready ||= line === "READY"),
    });
    started.push(proc.pid);
    // A person's shell in the same directory, without the marker: never touched.
    const bystander = Bun.spawn(["sleep", "600"], { cwd: worktree, env: env() });
    try {
      expect(await until(() => ready && processesWithCwdInside(worktree, "VE_RUN_ID=run-1").length >= 3)).toBe(true);
      const report = await endProcessGroup(proc, { termGraceMs: 200, sweepDir: worktree, sweepMarker: "VE_RUN_ID=run-1" });
      expect(report.swept.length).toBe(1);
      expect(await until(() => processesWithCwdInside(worktree, "VE_RUN_ID=run-1").length === 0)).toBe(true);
      expect(processInfo(bystander.pid)).toBeDefined();
    } finally {
      bystander.kill("SIGKILL");
    }
  });

  test("a recorded identity whose pid now belongs to another process is not ours", async () => {
    const other = Bun.spawn(["sleep", "600"], { detached: true });
    started.push(other.pid);
    const info = processInfo(other.pid);
    expect(info).toBeDefined();
    expect(ownsGroup({ pid: other.pid, startTime: info?.startTime ?? "" })).toBe(true);
    expect(ownsGroup({ pid: other.pid, startTime: "12345" })).toBe(false);
    const report = await endProcessGroup({ pid: other.pid, startTime: "12345" }, { termGraceMs: 100 });
    expect(report.killed).toBe(false);
    expect(processInfo(other.pid)).toBeDefined();
    expect(ownsGroup({ pid: 1, startTime: processInfo(1)?.startTime ?? "" })).toBe(false);
  });

  test("a process that already ended is a no-op", async () => {
    const proc = startProcess({ argv: ["true"], cwd: tempDir(), env: env(), stdin: null, onLine: () => {} });
    await proc.done;
    expect(await endProcessGroup(proc)).toEqual({ killed: false, swept: [], left: [] });
  });

  linuxOnly("the marker sweep ends a SIGTERM-ignoring process that left the group and the directory, and only an exact VE_RUN_ID entry", async () => {
    const spawnWith = (extra: Record<string, string>) => {
      const p = Bun.spawn(["sh", "-c", 'trap "" TERM; exec sleep 600'], { cwd: "/", env: env(extra), detached: true, stdio: ["ignore", "ignore", "ignore"] });
      started.push(p.pid);
      return p;
    };
    const marked = spawnWith({ VE_RUN_ID: "run-7" });
    const lookAlikes = [spawnWith({ VE_RUN_ID: "run-70" }), spawnWith({ VE_RUN_ID: "run-" }), spawnWith({ OTHER: "VE_RUN_ID=run-7" })];
    expect(await until(() => processesWithEnvironmentEntry("VE_RUN_ID=run-7").some((p) => p.pid === marked.pid))).toBe(true);
    expect(processesWithEnvironmentEntry("VE_RUN_ID=run-7").map((p) => p.pid)).toEqual([marked.pid]);
    // No group of its own to end: the sweep alone.
    const report = await endProcessGroup({ pid: 0, startTime: "" }, { termGraceMs: 100, sweepMarker: "VE_RUN_ID=run-7" });
    expect(report).toEqual({ killed: true, swept: [marked.pid], left: [] });
    expect(await until(() => processInfo(marked.pid) === undefined)).toBe(true);
    for (const p of lookAlikes) expect(processInfo(p.pid)).toBeDefined();
  });

  test("VE_TERM_GRACE_MS stands in for every grace; unset, empty or not a number, the default holds", () => {
    const saved = process.env.VE_TERM_GRACE_MS;
    try {
      delete process.env.VE_TERM_GRACE_MS;
      expect(termGraceMs(3000)).toBe(3000);
      for (const [raw, want] of [["250", 250], ["0", 0], ["", 3000], ["soon", 3000], ["-5", 3000]] as const) {
        process.env.VE_TERM_GRACE_MS = raw;
        expect(termGraceMs(3000)).toBe(want);
      }
    } finally {
      if (saved === undefined) delete process.env.VE_TERM_GRACE_MS;
      else process.env.VE_TERM_GRACE_MS = saved;
    }
  });
});
