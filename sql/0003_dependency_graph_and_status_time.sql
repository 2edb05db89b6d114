-- Dependencies are kept: from this version on, a row of work_unit_blockers is a declared
-- dependency for the unit's whole life (depends_on), and what a unit still waits on
-- (blocked_by) is the subset whose blocker is not DONE, derived on read. Edges that earlier
-- versions deleted when their blocker finished are gone; nothing can bring them back.

-- When a unit's status last changed: the newest logged status change, else its creation.
ALTER TABLE work_units ADD COLUMN status_changed_at TEXT;
UPDATE work_units
SET status_changed_at = coalesce(
    (SELECT max(l.timestamp) FROM status_log AS l
     WHERE l.chunk = work_units.chunk AND (l.old_status IS NULL OR l.old_status <> l.new_status)),
    created_at);

-- Who made a change (a claimer's name), when the request said so.
ALTER TABLE status_log ADD COLUMN actor TEXT;

-- Names that differ only in case collide as directories and branches on case-insensitive
-- file systems: the store refuses such a second name, and looks for one through this index.
-- Not UNIQUE: a database may already hold such pairs, and refusing to open it helps nobody.
CREATE INDEX work_units_by_chunk_nocase ON work_units (chunk COLLATE NOCASE);
