-- Bulk-import checkpoints: how many rows of a file (named by its SHA-256 and the purpose) are
-- done. Written in the same transaction as the batch it describes, so a resumed import neither
-- skips nor repeats a row.
CREATE TABLE imports (
    id BLOB PRIMARY KEY,
    rows_done INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
