-- A member of staff's current training for their role: the role's grants when they passed (so a
-- policy that widens the role asks for it again), the policy version, and when it expires. The
-- history of passes is in the ledger.
CREATE TABLE staff_training (
    staff_id BLOB NOT NULL,
    role TEXT NOT NULL,
    scope TEXT NOT NULL,
    policy_version INTEGER NOT NULL,
    passed_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    reminded_ms INTEGER,
    PRIMARY KEY (staff_id, role)
);
