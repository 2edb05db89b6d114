// Descriptors in TCP mode. Any local user can connect to 127.0.0.1; Bun closes a connection
// that sent no complete request only after about ten seconds, and offers no bound on how many
// it accepts. At the open-file limit, accept() fails with EMFILE while the listening socket
// stays readable, and the event loop spins on it, answering no one. So the daemon raises its
// soft limit to the hard one at start, and in TCP mode watches how many descriptors are open:
// near the limit it starts a second listener on the same port (SO_REUSEPORT, same user only, so
// the port is never free for another to take; from descriptors held back for it) and closes the
// first with every connection on it.
import { closeSync, openSync, readdirSync } from "node:fs";
import { fdLimits, raiseFdLimit } from "../platform/libc.ts";

export const FD_CHECK_INTERVAL_MS = 1000;
/** Descriptors kept free for the daemon's own files and the owner's next connections. */
export const FD_RESERVE = 128;

/**
 * Open descriptors of this process; Infinity when listing them fails for want of one (EMFILE:
 * the limit is reached), undefined where they cannot be listed.
 */
export function openFdCount(): number | undefined {
  const dir = process.platform === "linux" ? "/proc/self/fd" : "/dev/fd";
  try {
    return readdirSync(dir).length;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "EMFILE" || code === "ENFILE" ? Number.POSITIVE_INFINITY : undefined;
  }
}

/** Raises the soft open-file limit; returns the soft limit now in force (undefined if unknown). */
export function raiseFdLimitForDaemon(warn: (message: string) => void): number | undefined {
  try {
    return raiseFdLimit().after.soft;
  } catch (error) {
    warn(`cannot raise the open-file limit (${(error as Error).message})`);
    try {
      return fdLimits().soft;
    } catch {
      return undefined;
    }
  }
}

/** The descriptor count at which the listener is renewed, for a soft limit. */
export function sheddingThreshold(limit: number): number {
  return Math.max(limit - FD_RESERVE, Math.floor(limit * 0.9));
}

/** Descriptors held back so a new listener can be made when none are left (EMFILE). */
const RESERVED_FDS = 4;

/**
 * A few descriptors on /dev/null, held back: `use` releases them, runs `fn` (which may then open
 * descriptors although the process is at its limit) and takes them back as far as it can. The
 * event loop accepts nothing during `fn`, a synchronous call, so no connection takes them first.
 */
export class ReservedDescriptors {
  #fds: number[] = [];

  constructor() {
    this.refill();
  }

  private refill(): void {
    while (this.#fds.length < RESERVED_FDS) {
      try {
        this.#fds.push(openSync("/dev/null", "r"));
      } catch {
        return;
      }
    }
  }

  use<T>(fn: () => T): T {
    for (const fd of this.#fds.splice(0)) closeSync(fd);
    try {
      return fn();
    } finally {
      this.refill();
    }
  }

  close(): void {
    for (const fd of this.#fds.splice(0)) closeSync(fd);
  }
}
