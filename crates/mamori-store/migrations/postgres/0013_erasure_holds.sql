-- An erasure keeps what a legal obligation requires (e.g. invoices for tax law) until the hold
-- ends: such a subject has erased_ms set but still a key and the kept fields, and held_until_ms
-- says when the next kept category expires (the sweep then drops it).
ALTER TABLE subjects ADD COLUMN held_until_ms BIGINT;
-- Set by the erasure, cleared once the kept part is re-sealed under a fresh key (in the
-- background, so an erasure stays quick however many records are kept).
ALTER TABLE subjects ADD COLUMN rekey_requested_ms BIGINT;
CREATE INDEX subjects_rekey ON subjects (rekey_requested_ms) WHERE rekey_requested_ms IS NOT NULL;
CREATE INDEX subjects_held_until ON subjects (held_until_ms) WHERE held_until_ms IS NOT NULL;
-- Erasure ends the person's sessions.
CREATE INDEX sessions_subject ON sessions (subject_id);
-- Which categories a person has records in, and deleting one category's records, at erasure.
CREATE INDEX records_subject_category ON records (subject_id, category);
