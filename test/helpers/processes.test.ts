// The process helper's two sources agree: /proc (Linux) and ps + lsof (what macOS has). On Linux
// both run, so the path macOS takes is exercised here too; elsewhere only `ps` exists and this
// file checks that it answers at all.
import { afterEach, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { StartResult } from "../../src/models/index.ts";
import { jsonOf, useProjects, waitFor } from "../e2e/harness.ts";
import {
  type ProcessSource,
  commandLine,
  cwdOf,
  daemonPids,
  executableOf,
  isRunning,
  isVeDaemon,
  procStat,
  tcpListenAddresses,
} from "./processes.ts";
import { useTempDirs } from "./temp.ts";

const tempDir = useTempDirs("ve-processes");
const { project, ve } = useProjects("ve-processes");
const HAS_LSOF = Bun.which("lsof") !== null;
const SOURCES: ProcessSource[] = process.platform === "linux" ? ["proc", "ps"] : ["ps"];
if (!HAS_LSOF) console.log("lsof-based answers (working directory, executable, listeners) skipped: lsof is not installed");

const children: Subprocess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill("SIGKILL");
    await child.exited;
  }
});

function sleeper(cwd: string): Subprocess {
  const child = Bun.spawn(["sleep", "60"], { cwd, stdio: ["ignore", "ignore", "ignore"] });
  children.push(child);
  return child;
}

for (const source of SOURCES) {
  describe(`from ${source}`, () => {
    test("a child: running, its command line, parent and group, working directory and executable", async () => {
      const dir = tempDir();
      const child = sleeper(dir);
      expect(isRunning(child.pid, source)).toBe(true);
      expect(commandLine(child.pid, source)).toEqual(["sleep", "60"]);
      const stat = procStat(child.pid, source);
      expect(stat.ppid).toBe(process.pid);
      expect(stat.pgrp).toBe(procStat(process.pid, source).pgrp);
      expect(stat.session).toBe(procStat(process.pid, source).session);
      expect(["S", "R"]).toContain(stat.state);
      if (HAS_LSOF || source === "proc") {
        expect(cwdOf(child.pid, source)).toBe(dir);
        expect(executableOf(child.pid, source)).toMatch(/\/sleep$/);
      }
      child.kill("SIGKILL");
      await child.exited;
      expect(isRunning(child.pid, source)).toBe(false);
    });

    test("a ve daemon: found by its project, known as a daemon, its TCP port on 127.0.0.1 only", async () => {
      const dir = project();
      const start = await ve(dir, ["orch", "start", "--tcp", "--json"]);
      expect(start.code).toBe(0);
      const { pid, port } = jsonOf(StartResult, start).daemon;
      expect(daemonPids(dir, source)).toEqual([pid]);
      expect(isVeDaemon(pid, source)).toBe(true);
      expect(isVeDaemon(process.pid, source)).toBe(false);
      if (HAS_LSOF || source === "proc") expect(tcpListenAddresses(port ?? 0, source)).toEqual(["127.0.0.1"]);
      expect((await ve(dir, ["orch", "stop"])).code).toBe(0);
      expect(await waitFor(() => daemonPids(dir, source).length === 0)).toBe(true);
    });
  });
}
