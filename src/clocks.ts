// The daemon's fixed clocks and limits that tests must not sit out: each default is the one the
// product ships, and VE_<NAME> in the daemon's (or CLI's) environment replaces it, for tests
// only, so they wait for a condition instead of for the clock. Read at each use, so a test
// process can set the variable around one call. Not for users: the defaults are the contract.
// Overrides so far: VE_INDEX_LOCK_WAIT_MS (git/land.ts); VE_TERM_GRACE_MS (engine/process-group.ts),
// VE_REQUEST_TIMEOUT_MS (client/client.ts) and VE_START_TIMEOUT_MS (control/daemon.ts) predate
// this module and keep their names.

/** `defaultMs`, or the non-negative number of milliseconds VE_<name> holds; anything else is ignored. */
export function clockMs(name: string, defaultMs: number, env: Record<string, string | undefined> = process.env): number {
  const raw = env[`VE_${name}`];
  if (raw === undefined || raw.trim() === "") return defaultMs;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : defaultMs;
}
