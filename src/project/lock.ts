// The single-instance guarantee: an exclusive flock on orchestrator.pid, held for the daemon's
// whole life and released by the kernel however it ends (kill -9 included). The file is never
// unlinked: two processes could then lock two different inodes.
import { closeSync, ftruncateSync, rmSync, writeSync } from "node:fs";
import { VeError } from "../errors.ts";
import { LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN, SystemCallError, flock as flockFd } from "../platform/libc.ts";
import { openStateFile, readStateText, writeFileAside } from "./safe-files.ts";

/**
 * Where the daemon's start time is kept, beside its pid file: the pid file holds the pid alone,
 * so `kill $(cat .ve/orchestrator.pid)` signals the daemon and nothing else.
 */
export function startTimePath(pidPath: string): string {
  return `${pidPath.replace(/\.pid$/, "")}.started`;
}

/**
 * A probe (`isLockHeld`, `stop`) holds the lock for microseconds; a daemon that starts in that
 * instant retries for this long before concluding that another daemon runs.
 */
export const LOCK_RETRY_MS = 300;
const LOCK_RETRY_STEP_MS = 5;

export interface HeldLock {
  fd: number;
  /**
   * Records our pid, and when we started (see platform/process.ts), in the file: `stop` signals
   * only a process the kernel confirms is this one. The lock, not the file, proves we run.
   */
  writePid(pid: number, startTime?: string): void;
  /** Empties the pid file and releases the lock. */
  release(): void;
}

/**
 * flock(2) on the lock file at `path`: false only when another process holds it. Any other failure
 * is not "a daemon runs" and must not read as one, so it names the file and the reason.
 */
function flock(path: string, fd: number, operation: number): boolean {
  try {
    return flockFd(fd, operation);
  } catch (error) {
    if (!(error instanceof SystemCallError)) throw error;
    throw new VeError(
      "io_failed",
      `cannot lock ${path}: ${error.description} (flock errno ${error.errno}); keep the project on a file system that supports flock(2) locks.`,
      { path, errno: error.errno },
    );
  }
}

/** Never through a link: a committed `.ve/orchestrator.pid` symlink would have us truncate its target. */
function openLockFile(path: string): number {
  return openStateFile(path, "readwrite");
}

export async function acquireLock(path: string, retryMs = LOCK_RETRY_MS): Promise<HeldLock | undefined> {
  const fd = openLockFile(path);
  const deadline = Date.now() + retryMs;
  try {
    while (!flock(path, fd, LOCK_EX | LOCK_NB)) {
      if (Date.now() >= deadline) {
        closeSync(fd);
        return undefined;
      }
      await Bun.sleep(LOCK_RETRY_STEP_MS);
    }
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return {
    fd,
    writePid(pid: number, startTime?: string) {
      // The start time first: a reader that sees the new pid finds its start time beside it.
      if (startTime) writeFileAside(startTimePath(path), `${startTime}\n`);
      else rmSync(startTimePath(path), { force: true });
      ftruncateSync(fd, 0);
      writeSync(fd, `${pid}\n`, 0);
    },
    release() {
      try {
        ftruncateSync(fd, 0);
      } finally {
        flock(path, fd, LOCK_UN);
        closeSync(fd);
      }
    },
  };
}

/** Whether some process holds the daemon lock on `path`, without keeping any lock ourselves. */
export function isLockHeld(path: string): boolean {
  const fd = openStateFile(path, "read");
  if (fd === undefined) return false;
  try {
    if (!flock(path, fd, LOCK_SH | LOCK_NB)) return true;
    flock(path, fd, LOCK_UN);
    return false;
  } finally {
    closeSync(fd);
  }
}

/** Takes the lock briefly to run `fn` while no daemon can start; false if a daemon holds it. */
export function withLockFree(path: string, fn: () => void): boolean {
  let fd: number;
  try {
    fd = openLockFile(path);
  } catch (error) {
    // No `.ve/` at all: nothing a daemon could have left, nothing to guard.
    if (error instanceof VeError && (error.details as { errno_code?: string } | undefined)?.errno_code === "ENOENT") return false;
    throw error;
  }
  try {
    if (!flock(path, fd, LOCK_EX | LOCK_NB)) return false;
    try {
      fn();
    } finally {
      flock(path, fd, LOCK_UN);
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

/** The pid recorded in the file, if any. */
export function readPid(path: string): number | undefined {
  return readPidRecord(path)?.pid;
}

export interface PidRecord {
  pid: number;
  /** Absent in files written by daemons before 0.2. */
  startTime: string | undefined;
}

/**
 * The pid and start time recorded in the file; undefined if absent, empty or malformed. A file
 * ve does not trust (a link, another user's) is refused, not read.
 */
export function readPidRecord(path: string): PidRecord | undefined {
  const text = readStateText(path);
  if (text === undefined) return undefined;
  const [first, second] = text.split("\n");
  const pid = Number.parseInt((first ?? "").trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  // Earlier daemons wrote the start time as the pid file's second line.
  const startTime = second?.trim() || readStateText(startTimePath(path))?.trim() || undefined;
  return { pid, startTime };
}
