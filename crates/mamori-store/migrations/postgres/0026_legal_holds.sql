-- PostgreSQL twin of migrations/sqlite/0026_legal_holds.sql.
CREATE TABLE legal_holds (
    id BYTEA PRIMARY KEY,
    subject_id BYTEA,
    category TEXT,
    reason TEXT NOT NULL,
    until_ms BIGINT,
    created_ms BIGINT NOT NULL,
    lifted_ms BIGINT
);
CREATE INDEX legal_holds_subject ON legal_holds (subject_id) WHERE subject_id IS NOT NULL;
