// The one place where an error becomes an exit code.
import type { VeError } from "../errors.ts";

export const EXIT_OK = 0;
/** The request failed: validation, not found, conflict, or the daemon refused to start. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** No daemon answers for this project (not running, stale files, or not responding). */
export const EXIT_NOT_RUNNING = 3;

export function exitCodeOf(error: VeError): number {
  switch (error.code) {
    case "usage":
      return EXIT_USAGE;
    case "daemon_not_running":
    case "daemon_unresponsive":
    case "daemon_stopping":
      return EXIT_NOT_RUNNING;
    default:
      return EXIT_FAILED;
  }
}
