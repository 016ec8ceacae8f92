-- Legal holds: a person, a category, or a category of one person kept past retention and
-- despite erasure requests until lifted (or `until_ms`). The reason is a code, never free text.
CREATE TABLE legal_holds (
    id BLOB PRIMARY KEY,
    subject_id BLOB,
    category TEXT,
    reason TEXT NOT NULL,
    until_ms INTEGER,
    created_ms INTEGER NOT NULL,
    lifted_ms INTEGER
);
CREATE INDEX legal_holds_subject ON legal_holds (subject_id) WHERE subject_id IS NOT NULL;
