-- Automatic signals that opened an incident, once each: the signal's key (its kind, the actor's
-- id and the hour, never a personal value) and the incident it opened.
CREATE TABLE incident_signals (
    signal TEXT PRIMARY KEY,
    incident_id BLOB NOT NULL REFERENCES incidents (id),
    at_ms INTEGER NOT NULL
);
