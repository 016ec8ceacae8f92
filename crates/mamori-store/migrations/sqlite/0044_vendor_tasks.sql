-- What a vendor that received a person's data must do after the person was erased, corrected or
-- opted out: one task per vendor and change, told through the outbox and webhooks, reminded until
-- the vendor confirms with a signature of its own. Ids, names, codes and times only. Kept after an
-- erasure: it is the proof that vendors were asked, and whether they confirmed.
CREATE TABLE vendor_tasks (
    id BLOB PRIMARY KEY,
    vendor TEXT NOT NULL,
    subject_id BLOB NOT NULL,
    kind TEXT NOT NULL,
    purpose TEXT,
    categories TEXT NOT NULL,
    disclosures TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    due_ms INTEGER NOT NULL,
    next_reminder_ms INTEGER NOT NULL,
    reminders INTEGER NOT NULL DEFAULT 0,
    confirmed_ms INTEGER
);
CREATE INDEX vendor_tasks_by_subject ON vendor_tasks (subject_id, created_ms);
CREATE INDEX vendor_tasks_open ON vendor_tasks (confirmed_ms, next_reminder_ms);
