// The daemon outlives whatever started it: Ctrl-C and SIGHUP to the starting shell job, a
// Ctrl-C typed on the terminal, and the terminal itself going away.
import { describe, expect, test } from "bun:test";
import { DaemonStatus } from "../../src/models/index.ts";
import { VE, isRunning, jsonOf, killQuietly, procStat, useProjects, waitFor } from "./harness.ts";
import { hasUtilLinuxScript, onPty } from "../helpers/processes.ts";

const { project, ve } = useProjects("ve-session");
const hasScript = hasUtilLinuxScript("session terminal tests");

/** Reads `stream` until `pattern` matches the text so far (or the time is up). */
async function readUntil(stream: ReadableStream<Uint8Array>, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const match = pattern.exec(text);
      if (match) return match;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${pattern} within ${timeoutMs} ms; got:\n${text}`);
      const next = await Promise.race([reader.read(), Bun.sleep(left).then(() => null)]);
      if (next === null) continue;
      if (next.done) throw new Error(`stream ended before ${pattern}; got:\n${text}`);
      text += decoder.decode(next.value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
}

/** The command a person would type: start the daemon, then keep the shell job busy. */
function startJob(dir: string): string {
  return `'${VE}' orch start --project-dir '${dir}' && echo "STARTED $$" && sleep 30`;
}

async function daemonStatus(dir: string) {
  const r = await ve(dir, ["orch", "status", "--json"]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return jsonOf(DaemonStatus, r);
}

describe("the daemon is detached from its starter", () => {
  test("SIGINT and SIGHUP to the starting job's process group do not reach it; own session", async () => {
    const dir = project();
    // A shell job in its own session, like one started from a terminal.
    const job = Bun.spawn(["setsid", "bash", "-c", startJob(dir)], { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
    let group: number | undefined;
    try {
      const shell = Number((await readUntil(job.stdout, /STARTED (\d+)/))[1]);
      const starter = procStat(shell);
      group = starter.pgrp;
      expect(starter.session).toBe(shell);
      const daemon = await daemonStatus(dir);
      const stat = procStat(daemon.pid);
      // Its own session (setsid), not the starter's, not ours, and no controlling terminal.
      expect(stat.session).not.toBe(starter.session);
      expect(stat.session).not.toBe(procStat(process.pid).session);
      expect(stat.session).toBe(daemon.pid);
      expect(stat.pgrp).not.toBe(starter.pgrp);

      // Ctrl-C, then the hangup of the terminal, to the whole job.
      process.kill(-starter.pgrp, "SIGINT");
      process.kill(-starter.pgrp, "SIGHUP");
      expect(await waitFor(() => !isRunning(shell))).toBe(true);
      await job.exited;

      expect(isRunning(daemon.pid)).toBe(true);
      expect((await daemonStatus(dir)).pid).toBe(daemon.pid);
      expect((await ve(dir, ["orch", "work-unit", "create", "still-here"])).code).toBe(0);
    } finally {
      // setsid made the shell its own group leader: its pid is the group, even if we failed
      // before reading it.
      killQuietly(group ?? job.pid, "SIGKILL", true);
      killQuietly(job.pid);
    }
  });

  test.skipIf(!hasScript)("Ctrl-C typed on the terminal that started it does not end it", async () => {
    const dir = project();
    // `script` gives the job a real pseudo-terminal; ^C on it is the terminal's SIGINT.
    const terminal = onPty(startJob(dir));
    const term = Bun.spawn(terminal.argv, { stdin: "pipe", stdout: "pipe", stderr: "inherit", env: { ...process.env, ...terminal.env } });
    let shell: number | undefined;
    try {
      shell = Number((await readUntil(term.stdout, /STARTED (\d+)/))[1]);
      expect(procStat(shell).ttyNr).not.toBe(0);
      const daemon = await daemonStatus(dir);
      expect(procStat(daemon.pid).ttyNr).toBe(0);

      term.stdin.write("\x03");
      await term.stdin.flush();
      const s = shell;
      expect(await waitFor(() => !isRunning(s))).toBe(true);

      expect(isRunning(daemon.pid)).toBe(true);
      expect((await daemonStatus(dir)).pid).toBe(daemon.pid);
    } finally {
      if (shell) killQuietly(shell, "SIGKILL", true);
      killQuietly(term.pid);
    }
  });

  test.skipIf(!hasScript)("closing the terminal that started it does not end it", async () => {
    const dir = project();
    const terminal = onPty(startJob(dir));
    const term = Bun.spawn(terminal.argv, { stdin: "pipe", stdout: "pipe", stderr: "inherit", env: { ...process.env, ...terminal.env } });
    let shell: number | undefined;
    try {
      shell = Number((await readUntil(term.stdout, /STARTED (\d+)/))[1]);
      const daemon = await daemonStatus(dir);

      // The terminal emulator dies: the kernel hangs up the pty and SIGHUPs its session.
      term.kill("SIGKILL");
      await term.exited;
      const s = shell;
      expect(await waitFor(() => !isRunning(s))).toBe(true);

      expect(isRunning(daemon.pid)).toBe(true);
      expect((await daemonStatus(dir)).pid).toBe(daemon.pid);
    } finally {
      if (shell) killQuietly(shell, "SIGKILL", true);
      killQuietly(term.pid);
    }
  });
});
