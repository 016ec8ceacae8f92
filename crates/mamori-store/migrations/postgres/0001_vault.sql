-- PostgreSQL twin of migrations/sqlite/0001_vault.sql.
-- Subjects: the wrapped data key and the sealed field map. Erasure sets both to NULL (crypto-shredding).
CREATE TABLE subjects (
    id BYTEA PRIMARY KEY,
    created_ms BIGINT NOT NULL,
    version BIGINT NOT NULL,
    wrapped_dek BYTEA,
    fields BYTEA,
    erased_ms BIGINT
);

-- Keyed blind indexes (HMAC of the normalised value): exact lookup without plaintext.
CREATE TABLE lookup_index (
    kind BIGINT NOT NULL,
    digest BYTEA NOT NULL,
    subject_id BYTEA NOT NULL,
    PRIMARY KEY (kind, digest)
);
CREATE INDEX lookup_index_subject ON lookup_index (subject_id);

-- Append-only history items (orders, tickets), sealed under the subject's data key.
CREATE TABLE records (
    id BYTEA PRIMARY KEY,
    subject_id BYTEA NOT NULL,
    category TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    sealed BYTEA NOT NULL
);
CREATE INDEX records_subject ON records (subject_id, created_ms);

-- The ledger: leaf data is the event JSON (ids and names, never values).
CREATE TABLE ledger_leaves (
    idx BIGINT PRIMARY KEY,
    data BYTEA NOT NULL,
    leaf_hash BYTEA NOT NULL,
    subject_id BYTEA
);
CREATE INDEX ledger_leaves_subject ON ledger_leaves (subject_id) WHERE subject_id IS NOT NULL;

CREATE TABLE tree_heads (
    size BIGINT PRIMARY KEY,
    timestamp_ms BIGINT NOT NULL,
    root BYTEA NOT NULL,
    signature BYTEA NOT NULL
);

CREATE TABLE api_keys (
    id BYTEA PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    digest BYTEA NOT NULL UNIQUE,
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);
