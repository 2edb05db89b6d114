// What the kernel says about a process and its locks, for telling the daemon that holds a
// project's lock from whatever a socket claims. Linux reads /proc; macOS asks ps (no /proc, and
// no listing of flock holders there: see flockHolders).
import { readFileSync, statSync } from "node:fs";

/**
 * An opaque token of when `pid` started: the same value for the same process, another for a
 * process that later reuses the pid. Undefined if no such process (or it cannot be read).
 */
export function processStartTime(pid: number): string | undefined {
  if (process.platform === "linux") {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // Field 22 (starttime, clock ticks after boot); the command name (field 2) may hold
      // spaces and parentheses, so count from the last ")".
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return fields[19];
    } catch {
      return undefined;
    }
  }
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
