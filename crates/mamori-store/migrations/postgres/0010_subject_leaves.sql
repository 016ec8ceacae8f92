-- PostgreSQL twin of migrations/sqlite/0010_subject_leaves.sql: a subject's ledger leaves,
-- indexed in the background in sorted, append-only segments (see there for why).
CREATE TABLE subject_leaf_segments (
    segment BIGINT PRIMARY KEY,
    level BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    first_idx BIGINT NOT NULL,
    last_idx BIGINT NOT NULL
);

CREATE TABLE subject_leaves (
    segment BIGINT NOT NULL,
    subject_id BYTEA NOT NULL,
    idx BIGINT NOT NULL,
    PRIMARY KEY (segment, subject_id, idx)
);
