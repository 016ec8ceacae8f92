-- PostgreSQL twin of migrations/sqlite/0005_outbox.sql.
CREATE TABLE outbox (
    seq BIGSERIAL PRIMARY KEY,
    id BYTEA NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    subject_id BYTEA,
    payload TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
