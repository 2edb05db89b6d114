// A run's own cost, from what its CLI reported. Pure: the engine passes the unit's earlier runs.

/** What an earlier run of the unit left to compare with. */
export interface PriorRun {
  session_id: string | null;
  session_cost_usd: number | null;
  ended_at: string | null;
}

/**
 * The run's own cost. Claude Code's `total_cost_usd` is the session's running total across
 * `--resume`: the run's share is the difference to the last total the same session reported.
 * A total below the previous one means the CLI restarted its count (a new session under the
 * same id): then the total is the run's own.
 */
export function ownRunCost(sessionTotalUsd: number | null, sessionId: string | null, priorRuns: readonly PriorRun[]): number | null {
  if (sessionTotalUsd === null) return null;
  if (sessionId === null) return sessionTotalUsd;
  let previous: number | null = null;
  for (const run of priorRuns) {
    if (run.session_id === sessionId && run.session_cost_usd !== null && run.ended_at !== null) previous = run.session_cost_usd;
  }
  if (previous === null || sessionTotalUsd < previous) return sessionTotalUsd;
  // Rounded to the nano-dollar: a difference of floats carries noise in the last digits.
  return Math.round((sessionTotalUsd - previous) * 1e9) / 1e9;
}
