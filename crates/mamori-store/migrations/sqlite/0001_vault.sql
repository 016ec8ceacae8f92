-- Subjects: the wrapped data key and the sealed field map. Erasure sets both to NULL (crypto-shredding).
CREATE TABLE subjects (
    id BLOB PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    version INTEGER NOT NULL,
    wrapped_dek BLOB,
    fields BLOB,
    erased_ms INTEGER
) WITHOUT ROWID;

-- Keyed blind indexes (HMAC of the normalised value): exact lookup without plaintext.
CREATE TABLE lookup_index (
    kind INTEGER NOT NULL,
    digest BLOB NOT NULL,
    subject_id BLOB NOT NULL,
    PRIMARY KEY (kind, digest)
) WITHOUT ROWID;
CREATE INDEX lookup_index_subject ON lookup_index (subject_id);

-- Append-only history items (orders, tickets), sealed under the subject's data key.
CREATE TABLE records (
    id BLOB PRIMARY KEY,
    subject_id BLOB NOT NULL,
    category TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    sealed BLOB NOT NULL
);
CREATE INDEX records_subject ON records (subject_id, created_ms);

-- The ledger: leaf data is the event JSON (ids and names, never values).
CREATE TABLE ledger_leaves (
    idx INTEGER PRIMARY KEY,
    data BLOB NOT NULL,
    leaf_hash BLOB NOT NULL,
    subject_id BLOB
);
CREATE INDEX ledger_leaves_subject ON ledger_leaves (subject_id) WHERE subject_id IS NOT NULL;

CREATE TABLE tree_heads (
    size INTEGER PRIMARY KEY,
    timestamp_ms INTEGER NOT NULL,
    root BLOB NOT NULL,
    signature BLOB NOT NULL
);

CREATE TABLE api_keys (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    digest BLOB NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL,
    revoked_ms INTEGER
);
