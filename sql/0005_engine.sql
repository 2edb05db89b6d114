-- The engine: units the scheduler runs, their runs, what waits on a person, and settings.
-- A tracked unit (v1) has scheduled = 0 and none of the engine's rows.
ALTER TABLE work_units ADD COLUMN scheduled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE work_units ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE work_units ADD COLUMN base_branch TEXT;

-- Per scheduled unit: what the engine must remember across restarts.
CREATE TABLE unit_engine (
    chunk TEXT PRIMARY KEY REFERENCES work_units (chunk) ON DELETE CASCADE ON UPDATE CASCADE,
    goal TEXT,                      -- inject --goal text, seeded into GOAL.md
    backend TEXT NOT NULL,          -- the backend its runs use
    branch_base_commit TEXT,        -- the base commit ve/<chunk> was made from
    session_id TEXT,                -- the agent session to resume
    stage TEXT NOT NULL DEFAULT 'phase',   -- 'phase' (agent runs the phase) | 'landing' | 'resolving'
    retry_kind TEXT,
    retry_at TEXT,                  -- backoff: not before this time
    retries TEXT NOT NULL DEFAULT '{}',    -- JSON {kind: count} in the current phase
    conflict_runs INTEGER NOT NULL DEFAULT 0,
    conflict_files TEXT,            -- JSON list, for the resolution prompt
    next_reason TEXT                -- JSON: why the next run happens (retry, answer, interruption)
);

CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    chunk TEXT NOT NULL,
    phase TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    purpose TEXT NOT NULL,          -- 'phase' | 'resolve'
    backend TEXT NOT NULL,
    backend_version TEXT,
    session_id TEXT,
    pid INTEGER,
    process_start TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    outcome TEXT,
    reason TEXT,
    exit_code INTEGER,
    cost_usd REAL,
    turns INTEGER,
    input_tokens INTEGER,
    output_tokens INTEGER,
    token_hash TEXT NOT NULL
);
CREATE INDEX runs_by_chunk ON runs (chunk, started_at);
CREATE INDEX runs_by_token ON runs (token_hash);
-- The store's invariant, also enforced by SQLite: at most one open run per unit.
CREATE UNIQUE INDEX runs_one_open_per_unit ON runs (chunk) WHERE ended_at IS NULL;

CREATE TABLE attention (
    chunk TEXT PRIMARY KEY REFERENCES work_units (chunk) ON DELETE CASCADE ON UPDATE CASCADE,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    question TEXT,
    options TEXT,
    since TEXT NOT NULL,
    run_id TEXT
);

CREATE TABLE config (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,            -- JSON
    updated_at TEXT NOT NULL
);
