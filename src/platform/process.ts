// What the kernel says about a process and its locks: for telling the daemon that holds a
// project's lock from whatever a socket claims, and for the engine's kill ladder (a pid is only
// an identity together with its start time, since pids are reused). Linux reads /proc; macOS asks ps (no /proc, and
// no listing of flock holders there: see flockHolders).
import { readFileSync, readdirSync, readlinkSync, statSync } from "node:fs";

/**
 * An opaque token of when `pid` started: the same value for the same process, another for a
 * process that later reuses the pid. Undefined if no such process (or it cannot be read).
 */
export function processStartTime(pid: number): string | undefined {
  // Field 22 (starttime, clock ticks after boot).
  if (process.platform === "linux") return linuxStat(pid)?.[19];
  // macOS and the BSDs: lstart is the start time to the second, enough to tell a reused pid.
  const ps = Bun.spawnSync(["ps", "-o", "lstart=", "-p", String(pid)], { stdout: "pipe", stderr: "ignore" });
  const text = ps.stdout.toString().trim();
  return ps.exitCode === 0 && text ? text : undefined;
}

/**
 * The pids holding an flock on `path`, from /proc/locks (Linux only; undefined elsewhere or when
 * it cannot be read, and the caller falls back on the pid file and the start time).
 */
export function flockHolders(path: string): number[] | undefined {
  if (process.platform !== "linux") return undefined;
  let locks: string;
  let ino: number;
  let dev: number;
  try {
    const info = statSync(path);
    ino = info.ino;
    dev = info.dev;
    locks = readFileSync("/proc/locks", "utf8");
  } catch {
    return undefined;
  }
  // glibc's dev_t split; /proc/locks prints "MAJOR:MINOR:INODE" with the first two in hex.
  const major = ((dev >>> 8) & 0xfff) | Math.floor(dev / 2 ** 32) & ~0xfff;
  const minor = (dev & 0xff) | ((dev >>> 12) & ~0xff & 0xfffff);
  const holders: number[] = [];
  for (const line of locks.split("\n")) {
    // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; blocked waiters are "1: -> FLOCK ...".
    const match = /^\d+: FLOCK +\S+ +\S+ +(\d+) +([0-9a-f]+):([0-9a-f]+):(\d+) /.exec(line);
    if (!match) continue;
    if (Number(match[4]) !== ino) continue;
    if (Number.parseInt(match[2] as string, 16) !== major || Number.parseInt(match[3] as string, 16) !== minor) continue;
    holders.push(Number(match[1]));
  }
  return holders;
}

export interface ProcessInfo {
  pid: number;
  /** Process group id. */
  pgid: number;
  /** When it started, as processStartTime gives it. */
  startTime: string;
}

const IS_LINUX = process.platform === "linux";

/** Fields of /proc/<pid>/stat after the command name, which may itself hold spaces and parens. */
function linuxStat(pid: number): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

function darwinPs(pid: number): ProcessInfo | undefined {
  const result = Bun.spawnSync(["ps", "-o", "pgid=,lstart=", "-p", String(pid)], { stderr: "ignore" });
  const line = result.stdout.toString().trim();
  if (result.exitCode !== 0 || line === "") return undefined;
  const space = line.indexOf(" ");
  // The same text processStartTime reads (`ps -o lstart=`), so both compare equal.
  return { pid, pgid: Number(line.slice(0, space)), startTime: line.slice(space + 1).trim() };
}

/** The process `pid` as it is now, or undefined when there is none (zombies count as gone). */
export function processInfo(pid: number): ProcessInfo | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (!IS_LINUX) return darwinPs(pid);
  const fields = linuxStat(pid);
  // Field 3 is the state, 5 the process group, 22 the start time (1-based, as proc(5) counts).
  if (!fields || fields[0] === "Z" || fields[0] === "X") return undefined;
  return { pid, pgid: Number(fields[2]), startTime: fields[19] ?? "" };
}

/** Whether `pid` is still the very process that was recorded with `startTime`. */
export function isSameProcess(pid: number, startTime: string): boolean {
  return processInfo(pid)?.startTime === startTime;
}

/** Pids of the processes in group `pgid`. */
export function processGroupMembers(pgid: number): number[] {
  if (!IS_LINUX) {
    const result = Bun.spawnSync(["ps", "-A", "-o", "pid=,pgid="], { stderr: "ignore" });
    return result.stdout
      .toString()
      .split("\n")
      .map((line) => line.trim().split(/\s+/).map(Number))
      .filter(([pid, group]) => group === pgid && pid !== undefined && pid > 0)
      .map(([pid]) => pid as number);
  }
  return allPids().filter((pid) => processInfo(pid)?.pgid === pgid);
}

function allPids(): number[] {
  try {
    return readdirSync("/proc")
      .filter((name) => name.charCodeAt(0) >= 48 && name.charCodeAt(0) <= 57)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Processes whose working directory is `dir` or below it: what is left of an agent that left
 * its process group (a daemonised dev server, say). With `marker` (`VE_RUN_ID=<id>`), only
 * those whose environment carries it: a person's shell that happens to sit in the worktree is
 * not an agent's leftover and is never killed. Linux only by design: macOS has no cheap
 * way to list every process's working directory (lsof takes seconds), and there the group
 * kill is the whole ladder.
 */
export function processesWithCwdInside(dir: string, marker?: string): number[] {
  if (!IS_LINUX) return [];
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  const found: number[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    const path = workingDirectoryOf(pid);
    if (path === undefined) continue;
    if (path !== dir && !path.startsWith(prefix)) continue;
    if (marker !== undefined && !hasEnvironmentEntry(pid, marker)) continue;
    found.push(pid);
  }
  return found;
}

/**
 * Processes whose environment holds exactly `entry` (`VE_RUN_ID=<id>`), wherever they work:
 * every descendant of a run inherits it, also one that left the run's group, session and
 * worktree. An entry, not a substring: `VE_RUN_ID=<id>0` or `OTHER=VE_RUN_ID=<id>` is not it.
 * Never this process. Linux only (macOS has no readable environment of other processes).
 */
export function processesWithEnvironmentEntry(entry: string): ProcessInfo[] {
  if (!IS_LINUX || !entry.includes("=")) return [];
  const found: ProcessInfo[] = [];
  for (const pid of allPids()) {
    if (pid <= 1 || pid === process.pid) continue;
    // The identity first: a pid that ends and is reused between the two reads reads as
    // another start time at the signal, and is spared.
    const info = processInfo(pid);
    if (!info) continue;
    if (hasEnvironmentEntry(pid, entry)) found.push(info);
  }
  return found;
}

/** `pid`'s working directory; a deleted one reads as "<path> (deleted)" and is still that path. */
function workingDirectoryOf(pid: number): string | undefined {
  try {
    const cwd = readlinkSync(`/proc/${pid}/cwd`);
    return cwd.endsWith(" (deleted)") ? cwd.slice(0, -" (deleted)".length) : cwd;
  } catch {
    return undefined;
  }
}

/** Whether `pid`'s environment holds exactly `entry` (`NAME=value`); false when unreadable. */
function hasEnvironmentEntry(pid: number, entry: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(entry);
  } catch {
    return false;
  }
}

/**
 * Git processes working in one of `dirs` (or below): comm, exe or argv[0] is git (`git`,
 * `git-upload-pack`, a `git` shim's real git), and the cwd is inside. A lock file such a
 * process may hold is not stale. Undefined off Linux, where there is no cheap listing of
 * every process's working directory: the caller then takes every git as possibly alive.
 */
export function gitProcessesIn(dirs: readonly string[]): number[] | undefined {
  if (!IS_LINUX) return undefined;
  const prefixes = dirs.map((dir) => (dir.endsWith("/") ? dir : `${dir}/`));
  const found: number[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    if (!isGitProcess(pid)) continue;
    const path = workingDirectoryOf(pid);
    if (path === undefined) continue;
    if (prefixes.some((prefix) => path === prefix.slice(0, -1) || path.startsWith(prefix))) found.push(pid);
  }
  return found;
}

function isGitProcess(pid: number): boolean {
  const isGitName = (name: string) => {
    const base = name.slice(name.lastIndexOf("/") + 1);
    return base === "git" || base.startsWith("git-");
  };
  try {
    if (isGitName(readFileSync(`/proc/${pid}/comm`, "utf8").trim())) return true;
  } catch {
    return false;
  }
  try {
    if (isGitName(readlinkSync(`/proc/${pid}/exe`))) return true;
  } catch {
    // Another user's process: its exe is not readable, its cmdline is.
  }
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
    return isGitName(argv0);
  } catch {
    return false;
  }
}
