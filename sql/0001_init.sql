-- The seed plan's schema, unchanged: later migrations extend it. IF NOT EXISTS: the Python
-- reference creates these tables too, and may not have recorded a version for them.
CREATE TABLE IF NOT EXISTS work_units (
    chunk TEXT PRIMARY KEY,
    phase TEXT NOT NULL,
    status TEXT NOT NULL,
    blocked_by TEXT,  -- JSON array of chunk names
    worktree TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS status_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk TEXT NOT NULL,
    old_status TEXT,
    new_status TEXT NOT NULL,
    timestamp TEXT NOT NULL
);
