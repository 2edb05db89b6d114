// A database as the Python `ve orch` (the reference) writes it: the seed plan's schema, its
// version row, and the data shapes Python produces (isoformat() timestamps with microseconds
// and `+00:00` or no offset, statuses in other cases or as `WorkUnitStatus.X`, json.dumps
// blocker lists holding anything, names outside ve's chunk rule, NULLs and empty strings).
import { Database } from "bun:sqlite";

/** The seed plan's schema, verbatim (/work/shared/seed: "Step 3: Implement SQLite state store"). */
export const REFERENCE_SCHEMA = `
CREATE TABLE work_units (
    chunk TEXT PRIMARY KEY,
    phase TEXT NOT NULL,
    status TEXT NOT NULL,
    blocked_by TEXT,  -- JSON array of chunk names
    worktree TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE schema_migrations (
    version INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL
);

CREATE TABLE status_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk TEXT NOT NULL,
    old_status TEXT,
    new_status TEXT NOT NULL,
    timestamp TEXT NOT NULL
);`;

export interface ReferenceUnit {
  chunk: string;
  phase: string;
  status: string;
  blocked_by: string | null;
  worktree: string | null;
  created_at: string | number;
  updated_at: string | number;
}

/** One unit per shape; the comments say what a test expects of each. */
export const REFERENCE_UNITS: ReferenceUnit[] = [
  // The timestamp shape; a valid name; no blockers.
  { chunk: "alpha", phase: "GOAL", status: "READY", blocked_by: "[]", worktree: null, created_at: "2026-01-11T16:31:05.123456+00:00", updated_at: "2026-01-11T16:32:00.5+00:00" },
  // A name with a space, lower-case values, naive timestamps, an empty worktree, RUNNING behind an unfinished blocker.
  { chunk: "my chunk", phase: "plan", status: "running", blocked_by: '["alpha"]', worktree: "", created_at: "2026-01-11T16:31:05.123456", updated_at: "2026-01-11T16:31:06" },
  // A slash; enum reprs; a blocker list with a renamed unit, a name of no unit and a number; a space separator and an offset.
  { chunk: "a/b", phase: "WorkUnitPhase.IMPLEMENT", status: "WorkUnitStatus.BLOCKED", blocked_by: '["my chunk", "ghost name", 7]', worktree: "/work/a b", created_at: "2026-01-11 16:31:05", updated_at: "2026-01-11T18:31:05.999999+02:00" },
  // Valid, and what 'a/b' would become: the rename must not merge them.
  { chunk: "a-b", phase: "COMPLETE", status: "done", blocked_by: null, worktree: null, created_at: "2026-01-11T16:31:05Z", updated_at: "2026-01-11T16:31:05.000001Z" },
  // Values ve has no word for, a blocker list that is not JSON, a time that is none, an epoch float.
  { chunk: "weird", phase: "REVIEW", status: "PAUSED", blocked_by: "not json", worktree: null, created_at: "yesterday", updated_at: 1768148465.25 },
  { chunk: "needs", phase: "Implement", status: "needs attention", blocked_by: "null", worktree: null, created_at: "2026-01-11T16:31:05.1+00:00", updated_at: "2026-01-11T16:31:05.12-05:30" },
  // Only its name is wrong ('..' and a trailing '.lock').
  { chunk: "x..y.lock", phase: "GOAL", status: "READY", blocked_by: '["alpha", null, ""]', worktree: null, created_at: "2026-01-11T16:31:05+00:00", updated_at: "2026-01-11T16:31:05+00:00" },
];

export const REFERENCE_LOG: [chunk: string, old: string | null, next: string, timestamp: string][] = [
  ["alpha", null, "READY", "2026-01-11T16:31:05.123456+00:00"],
  ["my chunk", null, "ready", "2026-01-11T16:31:05.123456"],
  ["my chunk", "ready", "running", "2026-01-11T16:31:06"],
  ["a/b", null, "WorkUnitStatus.BLOCKED", "2026-01-11 16:31:05"],
  ["a-b", null, "DONE", "2026-01-11T16:31:05Z"],
  ["weird", "READY", "PAUSED", "not a time"],
];

/** Writes the reference's database at `path`; `version: null` leaves schema_migrations empty. */
export function writeReferenceDatabase(path: string, options: { version?: number | null } = {}): void {
  const db = new Database(path, { create: true });
  try {
    db.run(REFERENCE_SCHEMA);
    const version = options.version === undefined ? 1 : options.version;
    if (version !== null) db.query("INSERT INTO schema_migrations VALUES (?, ?)").run(version, "2026-01-11T16:30:00.000001+00:00");
    const unit = db.query("INSERT INTO work_units VALUES (?, ?, ?, ?, ?, ?, ?)");
    for (const u of REFERENCE_UNITS) unit.run(u.chunk, u.phase, u.status, u.blocked_by, u.worktree, u.created_at, u.updated_at);
    const log = db.query("INSERT INTO status_log (chunk, old_status, new_status, timestamp) VALUES (?, ?, ?, ?)");
    for (const row of REFERENCE_LOG) log.run(...row);
  } finally {
    db.close();
  }
}
