-- The due date a reminder was last sent for: one reminder per deadline, and a new one when an
-- extension moves the deadline.
ALTER TABLE rights_requests ADD COLUMN reminded_due_ms INTEGER;
