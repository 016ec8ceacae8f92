-- Reminders that a vendor's contract ends or ended, or its security review is missing, overdue or
-- failed: one row per vendor and occasion (e.g. `contract_end@2027-03-31`), so each goes out once
-- even with several servers, and again only when the policy gives a new date. Policy names only.
CREATE TABLE vendor_reminders (
    vendor TEXT NOT NULL,
    occasion TEXT NOT NULL,
    sent_ms INTEGER NOT NULL,
    PRIMARY KEY (vendor, occasion)
);
