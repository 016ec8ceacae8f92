-- A member of staff's current training for their role: the role's grants when they passed (so a
-- policy that widens the role asks for it again), the policy version, and when it expires. The
-- history of passes is in the ledger.
CREATE TABLE staff_training (
    staff_id BYTEA NOT NULL,
    role TEXT NOT NULL,
    scope TEXT NOT NULL,
    policy_version BIGINT NOT NULL,
    passed_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    reminded_ms BIGINT,
    PRIMARY KEY (staff_id, role)
);
