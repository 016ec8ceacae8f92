-- Which ledger leaves concern which subject ("who accessed my data", exports). An index on
-- ledger_leaves(subject_id) made every audited read dirty one random index page (0003). Instead
-- the server indexes committed leaves in the background, a few thousand at a time, into
-- *segments*: each segment's entries are written sorted and appended after the previous
-- segment's, so pages are written once and full. A subject's leaves are one seek per segment;
-- segments are merged (size-tiered) so there stay few. Leaves after the last segment are found
-- by a short scan of the ledger's newest rows.
CREATE TABLE subject_leaf_segments (
    segment INTEGER PRIMARY KEY,
    -- 0, 1, 2 by size; -1 while a merge builds it; -2 once merged away (rows being dropped).
    level INTEGER NOT NULL,
    entries INTEGER NOT NULL,
    first_idx INTEGER NOT NULL,
    last_idx INTEGER NOT NULL
);

CREATE TABLE subject_leaves (
    segment INTEGER NOT NULL,
    subject_id BLOB NOT NULL,
    idx INTEGER NOT NULL,
    PRIMARY KEY (segment, subject_id, idx)
) WITHOUT ROWID;
