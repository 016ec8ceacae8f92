-- When the subject last changed (created, updated, a record added): the retention of its
-- field categories counts from it. NULL: since creation (created_ms).
ALTER TABLE subjects ADD COLUMN active_ms INTEGER;
-- The retention sweep finds a category's expired records by time.
CREATE INDEX records_category_time ON records (category, created_ms);
