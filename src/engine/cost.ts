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

/** The run figures a sum reads (a subset of the API's Run). */
export interface CostRun {
  chunk: string;
  phase: string;
  backend: string;
  models: readonly string[];
  started_at: string;
  cost_usd: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
}

export const COST_GROUPS = ["unit", "phase", "backend", "model", "day"] as const;
export type CostGroup = (typeof COST_GROUPS)[number];

export interface CostSum {
  /** The group's name (a unit, phase, backend, model, or a UTC day YYYY-MM-DD); "total" for all. */
  key: string;
  runs: number;
  /** Null when no run of the group reported a cost (Codex without prices). */
  usd: number | null;
  /** Runs whose cost is unknown: `usd` leaves them out. */
  runs_without_cost: number;
  tokens_in: number;
  tokens_out: number;
}

function groupKey(run: CostRun, by: CostGroup): string {
  switch (by) {
    case "unit":
      return run.chunk;
    case "phase":
      return run.phase;
    case "backend":
      return run.backend;
    case "model":
      return run.models.length > 0 ? run.models.join("+") : "unknown";
    case "day":
      return run.started_at.slice(0, 10);
  }
}

/**
 * Sums of the runs started at or after `sinceIso` (all when null), per group when `by` is given,
 * sorted by key, with the total last.
 */
export function costSums(runs: readonly CostRun[], by: CostGroup | null, sinceIso: string | null): CostSum[] {
  const sums = new Map<string, CostSum>();
  const add = (key: string, run: CostRun) => {
    let sum = sums.get(key);
    if (!sum) {
      sum = { key, runs: 0, usd: null, runs_without_cost: 0, tokens_in: 0, tokens_out: 0 };
      sums.set(key, sum);
    }
    sum.runs++;
    if (run.cost_usd === null) sum.runs_without_cost++;
    // Rounded to the nano-dollar, as each run's own figure is.
    else sum.usd = Math.round(((sum.usd ?? 0) + run.cost_usd) * 1e9) / 1e9;
    sum.tokens_in += run.input_tokens ?? 0;
    sum.tokens_out += run.output_tokens ?? 0;
  };
  const total: CostSum[] = [];
  for (const run of runs) {
    if (sinceIso !== null && run.started_at < sinceIso) continue;
    if (by !== null) add(groupKey(run, by), run);
  }
  const grouped = [...sums.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  sums.clear();
  for (const run of runs) if (sinceIso === null || run.started_at >= sinceIso) add("total", run);
  total.push(sums.get("total") ?? { key: "total", runs: 0, usd: null, runs_without_cost: 0, tokens_in: 0, tokens_out: 0 });
  return [...grouped, ...total];
}
