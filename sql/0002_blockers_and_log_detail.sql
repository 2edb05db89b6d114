-- Dependencies get their own table: "who waits on X" (asked whenever a unit becomes DONE or
-- is deleted) is then an index lookup instead of a scan of every unit's JSON list.
-- `id` keeps each unit's blockers in the order they were given.
CREATE TABLE work_unit_blockers (
    id INTEGER PRIMARY KEY,
    chunk TEXT NOT NULL REFERENCES work_units (chunk) ON DELETE CASCADE,
    blocker TEXT NOT NULL,
    UNIQUE (chunk, blocker)
);
CREATE INDEX work_unit_blockers_by_blocker ON work_unit_blockers (blocker);

INSERT OR IGNORE INTO work_unit_blockers (chunk, blocker)
SELECT w.chunk, j.value
FROM work_units AS w, json_each(w.blocked_by) AS j
WHERE w.blocked_by IS NOT NULL AND json_valid(w.blocked_by) AND j.type = 'text'
ORDER BY w.rowid, j.key;

ALTER TABLE work_units DROP COLUMN blocked_by;

CREATE INDEX work_units_by_status ON work_units (status);

-- The log records phase changes and why a change happened, next to the status columns.
ALTER TABLE status_log ADD COLUMN old_phase TEXT;
ALTER TABLE status_log ADD COLUMN new_phase TEXT;
ALTER TABLE status_log ADD COLUMN reason TEXT;
ALTER TABLE status_log ADD COLUMN forced INTEGER NOT NULL DEFAULT 0;
CREATE INDEX status_log_by_chunk ON status_log (chunk, id);
