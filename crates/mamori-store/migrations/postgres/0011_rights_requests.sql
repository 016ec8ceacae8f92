-- PostgreSQL twin of migrations/sqlite/0011_rights_requests.sql.
CREATE TABLE rights_requests (
    id BYTEA PRIMARY KEY,
    kind TEXT NOT NULL,
    subject_id BYTEA,
    jurisdiction TEXT NOT NULL,
    source TEXT NOT NULL,
    state TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    due_ms BIGINT NOT NULL,
    extension TEXT,
    closed_ms BIGINT,
    reason TEXT,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX rights_requests_open_due ON rights_requests (due_ms, id) WHERE closed_ms IS NULL;
CREATE INDEX rights_requests_state_due ON rights_requests (state, due_ms, id);
CREATE INDEX rights_requests_subject ON rights_requests (subject_id) WHERE subject_id IS NOT NULL;
