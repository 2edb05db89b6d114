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
-- A unit's blockers in the order given, without a sort on every read.
CREATE INDEX work_unit_blockers_by_chunk ON work_unit_blockers (chunk, id);

-- A blocked_by that is not a list of names (the Python reference wrote whatever it was given:
-- not JSON, an object, numbers, nulls, empty names) is kept in the unit's history below, not
-- lost with the column. Numbers are names ("1" is a valid chunk name).
CREATE TEMP TABLE upgrade_odd_blockers AS
SELECT w.chunk AS chunk, w.blocked_by AS raw
FROM work_units AS w
WHERE w.blocked_by IS NOT NULL AND trim(w.blocked_by) NOT IN ('', 'null', '[]')
  AND (NOT json_valid(w.blocked_by)
       OR json_type(CASE WHEN json_valid(w.blocked_by) THEN w.blocked_by ELSE '[]' END) NOT IN ('array', 'text')
       OR EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(w.blocked_by) THEN w.blocked_by ELSE '[]' END) AS j
                  WHERE j.type NOT IN ('text', 'integer', 'real') OR trim(CAST(j.value AS TEXT)) = ''));

INSERT OR IGNORE INTO work_unit_blockers (chunk, blocker)
SELECT w.chunk, CAST(j.value AS TEXT)
FROM work_units AS w, json_each(w.blocked_by) AS j
WHERE w.blocked_by IS NOT NULL AND json_valid(w.blocked_by) AND j.type IN ('text', 'integer', 'real')
  AND trim(CAST(j.value AS TEXT)) <> ''
ORDER BY w.rowid, j.key;

ALTER TABLE work_units DROP COLUMN blocked_by;

-- 0001 enforced nothing: drop blockers that are the unit itself or already DONE, as the store
-- does on every write.
DELETE FROM work_unit_blockers
WHERE blocker = chunk OR blocker IN (SELECT chunk FROM work_units WHERE status = 'DONE');

CREATE INDEX work_units_by_status ON work_units (status);

-- The log records phase changes and why a change happened, next to the status columns.
ALTER TABLE status_log ADD COLUMN old_phase TEXT;
ALTER TABLE status_log ADD COLUMN new_phase TEXT;
ALTER TABLE status_log ADD COLUMN reason TEXT;
ALTER TABLE status_log ADD COLUMN forced INTEGER NOT NULL DEFAULT 0;
CREATE INDEX status_log_by_chunk ON status_log (chunk, id);

INSERT INTO status_log (chunk, old_status, new_status, old_phase, new_phase, reason, forced, timestamp)
SELECT w.chunk, w.status, w.status, w.phase, w.phase,
       'schema upgrade: blocked_by held ' || quote(o.raw) || ', which is not a list of chunk names; the names in it were kept',
       0, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM upgrade_odd_blockers AS o JOIN work_units AS w ON w.chunk = o.chunk
ORDER BY w.rowid;
DROP TABLE upgrade_odd_blockers;

-- A unit waiting on an unfinished blocker is never READY or RUNNING: units that 0001 let be
-- so become BLOCKED, each change logged like any other.
INSERT INTO status_log (chunk, old_status, new_status, old_phase, new_phase, reason, forced, timestamp)
SELECT w.chunk, w.status, 'BLOCKED', w.phase, w.phase, 'schema upgrade: waits on unfinished blockers', 0,
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM work_units AS w
WHERE w.status IN ('READY', 'RUNNING')
  AND EXISTS (SELECT 1 FROM work_unit_blockers AS b WHERE b.chunk = w.chunk)
ORDER BY w.rowid;

UPDATE work_units
SET status = 'BLOCKED', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE status IN ('READY', 'RUNNING')
  AND EXISTS (SELECT 1 FROM work_unit_blockers AS b WHERE b.chunk = work_units.chunk);
