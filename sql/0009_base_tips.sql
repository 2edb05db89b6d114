-- The tip of each base branch as the engine last published it (a landing, or a person's
-- `ve orch retry --accept-base`): a base whose ref no longer descends from it was moved
-- backwards by someone else (an agent's `git branch -f`, `update-ref`, `reset --hard`).
CREATE TABLE base_tips (
  base TEXT PRIMARY KEY,
  tip TEXT NOT NULL,
  chunk TEXT,
  at TEXT NOT NULL
);
