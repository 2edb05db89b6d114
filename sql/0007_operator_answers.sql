-- The operator's answers to the agents' questions (`ve orch answer`), each kept with the phase it
-- was given in. The later runs of that phase are told them (a new session, the `command`
-- backend's every run, a retry), so a retry after the answered run failed does not lose them.
-- When the phase is completed they are settled: the next phase starts without them.
CREATE TABLE operator_answers (
    id INTEGER PRIMARY KEY,
    chunk TEXT NOT NULL REFERENCES work_units (chunk) ON DELETE CASCADE ON UPDATE CASCADE,
    phase TEXT NOT NULL,
    run_id TEXT,                    -- the run whose question it answers
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    settled_at TEXT                 -- when its phase was completed; NULL while the phase goes on
);
CREATE INDEX operator_answers_by_chunk ON operator_answers (chunk, id);

-- An answer given before this version and not yet run is only in its unit's next_reason.
INSERT INTO operator_answers (chunk, phase, run_id, question, answer, answered_at)
SELECT e.chunk, w.phase, json_extract(e.next_reason, '$.run_id'), coalesce(json_extract(e.next_reason, '$.question'), ''),
       json_extract(e.next_reason, '$.answer'), w.updated_at
FROM unit_engine AS e JOIN work_units AS w ON w.chunk = e.chunk
WHERE json_valid(e.next_reason) AND json_extract(e.next_reason, '$.kind') = 'answer'
  AND json_extract(e.next_reason, '$.answer') IS NOT NULL;
