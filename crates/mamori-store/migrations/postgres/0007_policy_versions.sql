-- PostgreSQL twin of migrations/sqlite/0007_policy_versions.sql.
CREATE TABLE policy_versions (
    version BIGSERIAL PRIMARY KEY,
    hash BYTEA NOT NULL,
    published_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    policy TEXT NOT NULL
);
