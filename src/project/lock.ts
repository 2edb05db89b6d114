// The single-instance guarantee: an exclusive flock on orchestrator.pid, held for the daemon's
// whole life and released by the kernel however it ends (kill -9 included). The file is never
// unlinked: two processes could then lock two different inodes.
import { closeSync, constants, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { VeError } from "../errors.ts";
import { LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN, SystemCallError, flock as flockFd } from "../platform/libc.ts";
import { PRIVATE_FILE_MODE } from "./state-dir.ts";

/**
 * A probe (`isLockHeld`, `stop`) holds the lock for microseconds; a daemon that starts in that
 * instant retries for this long before concluding that another daemon runs.
 */
export const LOCK_RETRY_MS = 300;
const LOCK_RETRY_STEP_MS = 5;

export interface HeldLock {
  fd: number;
  /** Records our pid in the file (the lock, not the file, is what proves we run). */
  writePid(pid: number): void;
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

function openLockFile(path: string): number {
  return openSync(path, constants.O_RDWR | constants.O_CREAT, PRIVATE_FILE_MODE);
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
    writePid(pid: number) {
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
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch {
    return false;
  }
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
  } catch {
    return false;
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
  try {
    const pid = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
