-- Notices to the people an incident affected. The run says who prepared them and under which
-- purpose each person's address is read when their notice goes out, the fallback language, and
-- what the business advises (free text, so sealed). One row per person and incident: ids,
-- category names, times and a state (pending, sending, sent, uncertain, no_address, erased,
-- denied, failed, drafted); a notice moves only from the state it was read in, so it goes out at
-- most once even with several servers.
CREATE TABLE incident_notice_runs (
    incident_id BLOB PRIMARY KEY REFERENCES incidents (id),
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    purpose TEXT NOT NULL,
    language TEXT NOT NULL,
    advice_sealed BLOB,
    prepared_ms INTEGER NOT NULL
);
CREATE TABLE incident_notices (
    incident_id BLOB NOT NULL REFERENCES incidents (id),
    subject_id BLOB NOT NULL,
    state TEXT NOT NULL,
    categories TEXT NOT NULL,
    first_ms INTEGER NOT NULL,
    last_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    changed_ms INTEGER NOT NULL,
    sent_ms INTEGER,
    PRIMARY KEY (incident_id, subject_id)
);
CREATE INDEX incident_notices_state ON incident_notices (state, changed_ms);
CREATE INDEX incident_notices_subject ON incident_notices (subject_id);
