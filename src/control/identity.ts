// Which process is this project's daemon, decided from what the lock holder recorded and the
// kernel confirms, never from a network answer: anyone able to answer on the socket or the port
// could otherwise make `stop` (run as root, perhaps) signal any pid it names.
//
// Linux: the flock holder from /proc/locks must be the pid in the pid file, and that process's
// start time the one recorded beside it. macOS has no /proc/locks: the lock must be held, and
// the pid file's pid must have the recorded start time (ps -o lstart), which rules out a pid
// reused since. A pid file without a start time (a daemon before 0.2) is trusted only as far as
// the lock is held and, on Linux, the kernel names the same holder.
import { closeSync, constants, openSync, statSync } from "node:fs";
import { VeError } from "../errors.ts";
import { flockHolders, processStartTime } from "../platform/process.ts";
import { LOCK_NB, LOCK_SH, LOCK_UN, flock } from "../platform/libc.ts";
import type { ProjectPaths } from "../project/paths.ts";
import { isLockHeld, readPidRecord } from "../project/lock.ts";

export interface DaemonProcess {
  pid: number;
  startTime: string | undefined;
}

/**
 * A starting daemon writes its pid right after taking the lock; an identity is retried this long.
 * On a loaded machine the daemon can be descheduled between the two for over a second (a stop
 * racing a start then failed): the wait only happens while the record does not match the lock.
 */
const IDENTIFY_RETRY_MS = 10_000;
const IDENTIFY_STEP_MS = 10;

function ownerOf(path: string): string {
  try {
    return ` (uid ${statSync(path).uid})`;
  } catch {
    return "";
  }
}

export function permissionDenied(paths: ProjectPaths, what: string): VeError {
  return new VeError(
    "permission_denied",
    `Permission denied ${what}: the ve daemon of ${paths.root} belongs to another user${ownerOf(paths.stateDir)}; run the command as that user.`,
    { path: paths.stateDir },
  );
}

type Found = { kind: "none" } | { kind: "found"; daemon: DaemonProcess } | { kind: "unconfirmed"; why: string };

function identifyOnce(paths: ProjectPaths): Found {
  let fd: number;
  try {
    fd = openSync(paths.pid, constants.O_RDONLY);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM") throw permissionDenied(paths, `reading ${paths.pid}`);
    return { kind: "none" };
  }
  try {
    if (flock(fd, LOCK_SH | LOCK_NB)) {
      flock(fd, LOCK_UN);
      return { kind: "none" };
    }
  } finally {
    closeSync(fd);
  }
  const record = readPidRecord(paths.pid);
  if (!record) return { kind: "unconfirmed", why: "recorded no pid" };
  const holders = flockHolders(paths.pid);
  if (holders && !holders.includes(record.pid)) {
    return {
      kind: "unconfirmed",
      why: `names pid ${record.pid}, but the kernel says ${holders.length ? `pid ${holders.join(", ")}` : "no process"} holds its lock`,
    };
  }
  if (record.startTime !== undefined && processStartTime(record.pid) !== record.startTime) {
    return { kind: "unconfirmed", why: `names pid ${record.pid}, which is not the process that took the lock` };
  }
  return { kind: "found", daemon: { pid: record.pid, startTime: record.startTime } };
}

/**
 * The daemon holding the project's lock, as the kernel confirms it; undefined when none holds
 * it. Throws permission_denied when the state is another user's, daemon_stop_failed when the
 * holder cannot be confirmed.
 */
export async function lockHolder(paths: ProjectPaths): Promise<DaemonProcess | undefined> {
  const deadline = Date.now() + IDENTIFY_RETRY_MS;
  for (;;) {
    const found = identifyOnce(paths);
    if (found.kind === "none") return undefined;
    if (found.kind === "found") return found.daemon;
    if (Date.now() >= deadline) {
      throw new VeError(
        "daemon_stop_failed",
        `A process holds the lock on ${paths.pid}, but the file ${found.why}; find the holder with \`fuser ${paths.pid}\` and stop it yourself.`,
        { path: paths.pid },
      );
    }
    await Bun.sleep(IDENTIFY_STEP_MS);
  }
}

/** Whether `daemon` still holds the project's lock (it is gone once it does not). */
export function holdsLock(paths: ProjectPaths, daemon: DaemonProcess): boolean {
  const started = processStartTime(daemon.pid);
  if (started === undefined) return false;
  if (daemon.startTime !== undefined && started !== daemon.startTime) return false;
  const holders = flockHolders(paths.pid);
  if (holders) return holders.includes(daemon.pid);
  return isLockHeld(paths.pid) && readPidRecord(paths.pid)?.pid === daemon.pid;
}
