-- PostgreSQL twin of migrations/sqlite/0002_imports.sql.
CREATE TABLE imports (
    id BYTEA PRIMARY KEY,
    rows_done BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
