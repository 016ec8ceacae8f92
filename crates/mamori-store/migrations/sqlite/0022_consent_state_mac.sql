-- Each current consent decision carries a keyed MAC of what it says (subject, purpose, channel,
-- granted, source, notice version, time), checked on every read: a grant flipped or copied to
-- another subject in the database is an integrity failure, never a silent grant. Rows from
-- before get their MAC once, at the first start after this migration (the marker says so).
ALTER TABLE consent_state ADD COLUMN mac BLOB;
CREATE TABLE consent_state_unsealed (pending INTEGER NOT NULL);
INSERT INTO consent_state_unsealed (pending) VALUES (1);
