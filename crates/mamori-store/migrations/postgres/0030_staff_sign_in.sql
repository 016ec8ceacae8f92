-- Staff sign-in: second factors (the TOTP secret or passkey sealed; last_used is the last TOTP
-- step or the passkey's signature counter, so a code is taken once and a cloned passkey shows),
-- recovery codes by keyed digest, server-side sessions by the keyed digest of their cookie, and
-- the account's failed attempts (lock-out).
CREATE TABLE staff_factors (
    id BYTEA PRIMARY KEY,
    staff_id BYTEA NOT NULL,
    kind TEXT NOT NULL,
    sealed BYTEA NOT NULL,
    last_used BIGINT NOT NULL DEFAULT 0,
    created_ms BIGINT NOT NULL
);
CREATE INDEX staff_factors_by_staff ON staff_factors (staff_id);
CREATE TABLE staff_recovery_codes (
    digest BYTEA PRIMARY KEY,
    staff_id BYTEA NOT NULL,
    used_ms BIGINT
);
CREATE TABLE staff_sessions (
    digest BYTEA PRIMARY KEY,
    id BYTEA NOT NULL UNIQUE,
    staff_id BYTEA NOT NULL,
    created_ms BIGINT NOT NULL,
    seen_ms BIGINT NOT NULL,
    verified_ms BIGINT NOT NULL,
    ended_ms BIGINT
);
CREATE INDEX staff_sessions_by_staff ON staff_sessions (staff_id);
ALTER TABLE staff ADD COLUMN failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN locked_until_ms BIGINT;
