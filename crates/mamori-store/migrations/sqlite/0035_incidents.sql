-- The incident register: kind, severity and status as codes, times, who opened it; the title is
-- free text the staff write, so it is kept only sealed. The timeline is append-only: each entry
-- a code (opened, note, status, severity, link, containment), who and when, what it set, and a
-- note sealed like the title. version counts the entries, so two staff changing one incident at
-- once cannot both win.
CREATE TABLE incidents (
    id BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    title_sealed BLOB NOT NULL,
    detected_ms INTEGER NOT NULL,
    reported_by TEXT NOT NULL,
    drill INTEGER NOT NULL,
    version INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE INDEX incidents_created ON incidents (created_ms, id);
CREATE TABLE incident_entries (
    incident_id BLOB NOT NULL REFERENCES incidents (id),
    seq INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT,
    severity TEXT,
    link_kind TEXT,
    link_id TEXT,
    note_sealed BLOB,
    PRIMARY KEY (incident_id, seq)
);
