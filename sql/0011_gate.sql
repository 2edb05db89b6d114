-- The landing gate (issue 20): a unit's own verify command (`inject --verify`) and the fix runs
-- a red gate has cost it; every gate run (the queue, and its history); and the base's own result
-- per base commit and verify command, so a base that is red on its own is gated once.
ALTER TABLE unit_engine ADD COLUMN verify TEXT;
ALTER TABLE unit_engine ADD COLUMN gate_runs INTEGER NOT NULL DEFAULT 0;

CREATE TABLE gates (
    id TEXT PRIMARY KEY,
    chunk TEXT NOT NULL REFERENCES work_units (chunk) ON DELETE CASCADE ON UPDATE CASCADE,
    base TEXT NOT NULL,
    base_commit TEXT NOT NULL,
    candidate TEXT NOT NULL,    -- the exact merge commit that lands if it is green
    verify TEXT NOT NULL,
    state TEXT NOT NULL,        -- 'running' | 'green' | 'red' | 'flaky' | 'interrupted'
    queued_at TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    pid INTEGER,
    process_start TEXT,
    worktree TEXT NOT NULL,     -- the scratch worktree, removed when the gate ends
    exit_code INTEGER,
    reason TEXT,
    failed_tests TEXT NOT NULL DEFAULT '[]',
    flaky_tests TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX gates_by_chunk ON gates (chunk, started_at);
CREATE INDEX gates_open ON gates (state) WHERE ended_at IS NULL;

CREATE TABLE gate_baselines (
    base_commit TEXT NOT NULL,
    verify TEXT NOT NULL,
    green INTEGER NOT NULL,
    reported INTEGER NOT NULL,  -- 1: failed_tests come from a JUnit report
    failed_tests TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (base_commit, verify)
);
