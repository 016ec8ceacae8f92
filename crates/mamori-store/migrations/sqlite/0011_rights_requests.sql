-- Data-subject requests as objects: kind, state (Data Rights Protocol names), the deadline the
-- jurisdiction sets and its one extension (a reason code, never free text, so no personal data
-- is written here). The partial index serves the privacy officer's queue: open requests by due date.
CREATE TABLE rights_requests (
    id BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    subject_id BLOB,
    jurisdiction TEXT NOT NULL,
    source TEXT NOT NULL,
    state TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    due_ms INTEGER NOT NULL,
    extension TEXT,
    closed_ms INTEGER,
    reason TEXT,
    updated_ms INTEGER NOT NULL
);
CREATE INDEX rights_requests_open_due ON rights_requests (due_ms, id) WHERE closed_ms IS NULL;
CREATE INDEX rights_requests_state_due ON rights_requests (state, due_ms, id);
CREATE INDEX rights_requests_subject ON rights_requests (subject_id) WHERE subject_id IS NOT NULL;
