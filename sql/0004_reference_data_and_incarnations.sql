-- A database written by the Python `ve orch` (the reference) holds values this ve cannot
-- answer with: microsecond timestamps with `+00:00`, statuses in another case, names outside
-- the chunk rule. Converting them needs code: src/state/reference-data.ts runs right after
-- this file, in the same transaction.

-- updated_at is the compare-and-set token. A unit deleted and created again in the same
-- millisecond would get its old token back, and a write based on the old unit would succeed
-- on the new one. The last token of each deleted name is kept here, and a new unit of that
-- name starts after it (the row then goes: the new unit's own tokens only grow).
CREATE TABLE work_unit_tombstones (
    chunk TEXT PRIMARY KEY,
    last_updated_at TEXT NOT NULL
);
