-- Staff sign-in: second factors (the TOTP secret or passkey sealed; last_used is the last TOTP
-- step or the passkey's signature counter, so a code is taken once and a cloned passkey shows),
-- recovery codes by keyed digest, server-side sessions by the keyed digest of their cookie, and
-- the account's failed attempts (lock-out).
CREATE TABLE staff_factors (
    id BLOB PRIMARY KEY,
    staff_id BLOB NOT NULL,
    kind TEXT NOT NULL,
    sealed BLOB NOT NULL,
    last_used INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL
);
CREATE INDEX staff_factors_by_staff ON staff_factors (staff_id);
CREATE TABLE staff_recovery_codes (
    digest BLOB PRIMARY KEY,
    staff_id BLOB NOT NULL,
    used_ms INTEGER
);
CREATE TABLE staff_sessions (
    digest BLOB PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    staff_id BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    seen_ms INTEGER NOT NULL,
    verified_ms INTEGER NOT NULL,
    ended_ms INTEGER
);
CREATE INDEX staff_sessions_by_staff ON staff_sessions (staff_id);
ALTER TABLE staff ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN locked_until_ms INTEGER;
