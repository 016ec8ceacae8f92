-- Data disclosed to a vendor of the policy's register: to whom (the vendor's policy name), for which
-- purpose, which categories (comma-separated names), by whom, when. Ids, names and times only — the
-- data itself left in the answer and is not kept again. Kept after an erasure: it says which vendors
-- must be told to erase too.
CREATE TABLE disclosures (
    id BLOB PRIMARY KEY,
    subject_id BLOB NOT NULL,
    vendor TEXT NOT NULL,
    purpose TEXT NOT NULL,
    categories TEXT NOT NULL,
    actor TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX disclosures_by_subject ON disclosures (subject_id, at_ms);
