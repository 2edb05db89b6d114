// The gate's records: one row per gate run (the queue while it runs, its history after) and the
// base's own result per base commit and verify command. The engine writes them around each gate;
// `ve orch queue` and the unit's JSON read them.
import type { Store } from "./store.ts";

export type GateState = "running" | "green" | "red" | "flaky" | "interrupted";

export interface GateRow {
  id: string;
  chunk: string;
  base: string;
  base_commit: string;
  candidate: string;
  verify: string;
  state: GateState;
  queued_at: string;
  started_at: string;
  ended_at: string | null;
  pid: number | null;
  process_start: string | null;
  worktree: string;
  exit_code: number | null;
  reason: string | null;
  failed_tests: string[];
  flaky_tests: string[];
}

export interface Baseline {
  base_commit: string;
  verify: string;
  green: boolean;
  /** The failures come from a JUnit report (compared by test id), not only the exit status. */
  reported: boolean;
  failed_tests: string[];
  at: string;
}

type RawGate = Omit<GateRow, "failed_tests" | "flaky_tests"> & { failed_tests: string; flaky_tests: string };

function toGate(raw: RawGate): GateRow {
  return { ...raw, failed_tests: JSON.parse(raw.failed_tests) as string[], flaky_tests: JSON.parse(raw.flaky_tests) as string[] };
}

export class GateStore {
  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  private get db() {
    return this.store.db;
  }

  private timestamp(): string {
    return new Date(this.now()).toISOString();
  }

  open(gate: Pick<GateRow, "id" | "chunk" | "base" | "base_commit" | "candidate" | "verify" | "worktree" | "queued_at">): GateRow {
    const at = this.timestamp();
    this.db
      .query("INSERT INTO gates (id, chunk, base, base_commit, candidate, verify, state, queued_at, started_at, worktree) VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)")
      .run(gate.id, gate.chunk, gate.base, gate.base_commit, gate.candidate, gate.verify, gate.queued_at, at, gate.worktree);
    return this.get(gate.id) as GateRow;
  }

  recordProcess(id: string, pid: number, processStart: string): void {
    this.db.query("UPDATE gates SET pid = ?, process_start = ? WHERE id = ?").run(pid, processStart, id);
  }

  close(id: string, end: { state: Exclude<GateState, "running">; exit_code: number | null; reason: string; failed_tests?: readonly string[]; flaky_tests?: readonly string[] }): void {
    this.db
      .query("UPDATE gates SET state = ?, ended_at = ?, exit_code = ?, reason = ?, failed_tests = ?, flaky_tests = ? WHERE id = ? AND ended_at IS NULL")
      .run(end.state, this.timestamp(), end.exit_code, end.reason, JSON.stringify(end.failed_tests ?? []), JSON.stringify(end.flaky_tests ?? []), id);
  }

  get(id: string): GateRow | undefined {
    const raw = this.db.query("SELECT * FROM gates WHERE id = ?").get(id) as RawGate | null;
    return raw ? toGate(raw) : undefined;
  }

  /** Gates a daemon left running (it ended mid-gate): their processes and worktrees are cleaned up, and they run again. */
  openGates(): GateRow[] {
    return (this.db.query("SELECT * FROM gates WHERE ended_at IS NULL ORDER BY started_at").all() as RawGate[]).map(toGate);
  }

  /** Every gate, oldest first; `chunk` for one unit's. */
  list(chunk?: string): GateRow[] {
    const rows = chunk === undefined ? this.db.query("SELECT * FROM gates ORDER BY started_at, rowid").all() : this.db.query("SELECT * FROM gates WHERE chunk = ? ORDER BY started_at, rowid").all(chunk);
    return (rows as RawGate[]).map(toGate);
  }

  /** The unit's newest gate. */
  latest(chunk: string): GateRow | undefined {
    const raw = this.db.query("SELECT * FROM gates WHERE chunk = ? ORDER BY started_at DESC, rowid DESC LIMIT 1").get(chunk) as RawGate | null;
    return raw ? toGate(raw) : undefined;
  }

  baseline(baseCommit: string, verify: string): Baseline | undefined {
    const raw = this.db.query("SELECT * FROM gate_baselines WHERE base_commit = ? AND verify = ?").get(baseCommit, verify) as
      | (Omit<Baseline, "green" | "reported" | "failed_tests"> & { green: number; reported: number; failed_tests: string })
      | null;
    return raw ? { ...raw, green: raw.green === 1, reported: raw.reported === 1, failed_tests: JSON.parse(raw.failed_tests) as string[] } : undefined;
  }

  saveBaseline(baseline: Omit<Baseline, "at" | "failed_tests"> & { failed_tests: readonly string[] }): void {
    this.db
      .query("INSERT INTO gate_baselines (base_commit, verify, green, reported, failed_tests, at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (base_commit, verify) DO UPDATE SET green = excluded.green, reported = excluded.reported, failed_tests = excluded.failed_tests, at = excluded.at")
      .run(baseline.base_commit, baseline.verify, baseline.green ? 1 : 0, baseline.reported ? 1 : 0, JSON.stringify(baseline.failed_tests), this.timestamp());
  }
}
