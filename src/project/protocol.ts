// What the CLI and the daemon it re-executes agree on. Imports nothing: the CLI's root
// command reads it on every run.

/** The hidden command the CLI re-executes itself with to become the daemon. */
export const DAEMON_COMMAND = "__daemon";
/** Exit code of a daemon that found another one holding the lock (the CLI then reports the winner). */
export const EXIT_ANOTHER_DAEMON = 75;
/**
 * Exit codes of a daemon that could not start because of its disk (sysexits' EX_CANTCREAT and
 * EX_IOERR): the CLI reports storage_full or storage_unavailable even when the disk was too
 * full to take the log line that says why.
 */
export const EXIT_STORAGE_FULL = 73;
export const EXIT_STORAGE_UNAVAILABLE = 74;

/** The exit code for a start that failed with this error code, if it is about the disk. */
export function storageExitCode(code: string | undefined): number | undefined {
  if (code === "storage_full") return EXIT_STORAGE_FULL;
  if (code === "storage_unavailable") return EXIT_STORAGE_UNAVAILABLE;
  return undefined;
}

/**
 * Begins the log line of a daemon that ended because its state directory, database, lock file
 * or socket was deleted or replaced under it; `start` looks for it to explain an empty state.
 */
export const LOST_STATE_MARKER = "stopping because its files went away";

/** The header in which an agent's call about its run (`ve mcp`, `ve agent`) carries VE_RUN_TOKEN. */
export const RUN_TOKEN_HEADER = "x-ve-run-token";
