-- Consent: an append-only history of every grant and withdrawal (the proof), and the current
-- state derived from it in the same transaction (what access decisions read). Neither holds a
-- personal value: ids, policy names, provenance.
CREATE TABLE consent_events (
    id BLOB PRIMARY KEY,
    subject_id BLOB NOT NULL,
    purpose TEXT NOT NULL,
    -- '' when the purpose declares no channels (consent is per purpose only).
    channel TEXT NOT NULL,
    granted INTEGER NOT NULL,
    source TEXT NOT NULL,
    notice_version TEXT,
    actor TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX consent_events_subject ON consent_events (subject_id, created_ms);

CREATE TABLE consent_state (
    subject_id BLOB NOT NULL,
    purpose TEXT NOT NULL,
    channel TEXT NOT NULL,
    granted INTEGER NOT NULL,
    source TEXT NOT NULL,
    notice_version TEXT,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (subject_id, purpose, channel)
) WITHOUT ROWID;
