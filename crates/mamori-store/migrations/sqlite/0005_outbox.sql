-- Transactional outbox: events for other systems (webhooks, the pull feed), written in the same
-- transaction as the change they announce. Ids and states only, never a personal value.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id BLOB NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    subject_id BLOB,
    payload TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
