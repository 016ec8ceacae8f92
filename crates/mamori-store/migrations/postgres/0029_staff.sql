-- Staff: people who sign in (API keys stay for machines). The address is a keyed index (to find
-- them at sign-in) and sealed (to write to them), never plaintext. Enrolment links by the keyed
-- digest of their one-time token.
CREATE TABLE staff (
    id BYTEA PRIMARY KEY,
    email_index BYTEA NOT NULL UNIQUE,
    email_sealed BYTEA NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT,
    created_ms BIGINT NOT NULL,
    enrolled_ms BIGINT,
    disabled_ms BIGINT
);
CREATE TABLE staff_enrolments (
    digest BYTEA PRIMARY KEY,
    staff_id BYTEA NOT NULL,
    expires_ms BIGINT NOT NULL,
    used_ms BIGINT
);
