-- PostgreSQL twin of migrations/sqlite/0025_retention.sql.
ALTER TABLE subjects ADD COLUMN active_ms BIGINT;
CREATE INDEX records_category_time ON records (category, created_ms);
