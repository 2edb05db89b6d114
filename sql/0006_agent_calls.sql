-- What agents told the daemon during their runs: `ve mcp`'s ask_operator / report_done, `ve agent
-- ask` / `ve agent done`, and questions a backend read from the agent's own stream (Claude's
-- AskUserQuestion). Kept with the run after it ends; the engine reads them when the run ends.
CREATE TABLE agent_calls (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,             -- 'ask' | 'done'
    via TEXT NOT NULL,              -- 'mcp' | 'cli' | 'stream'
    question TEXT,                  -- ask
    options TEXT,                   -- ask: JSON list of strings, or NULL
    summary TEXT,                   -- done
    at TEXT NOT NULL
);
CREATE INDEX agent_calls_by_run ON agent_calls (run_id, id);

-- The last summary the agent reported with report_done / `ve agent done`.
ALTER TABLE runs ADD COLUMN summary TEXT;
