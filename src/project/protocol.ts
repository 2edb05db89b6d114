// What the CLI and the daemon it re-executes agree on. Imports nothing: the CLI's root
// command reads it on every run.

/** The hidden command the CLI re-executes itself with to become the daemon. */
export const DAEMON_COMMAND = "__daemon";
/** Exit code of a daemon that found another one holding the lock (the CLI then reports the winner). */
export const EXIT_ANOTHER_DAEMON = 75;
