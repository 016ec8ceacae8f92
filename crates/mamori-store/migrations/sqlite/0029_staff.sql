-- Staff: people who sign in (API keys stay for machines). The address is a keyed index (to find
-- them at sign-in) and sealed (to write to them), never plaintext. Enrolment links by the keyed
-- digest of their one-time token.
CREATE TABLE staff (
    id BLOB PRIMARY KEY,
    email_index BLOB NOT NULL UNIQUE,
    email_sealed BLOB NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT,
    created_ms INTEGER NOT NULL,
    enrolled_ms INTEGER,
    disabled_ms INTEGER
);
CREATE TABLE staff_enrolments (
    digest BLOB PRIMARY KEY,
    staff_id BLOB NOT NULL,
    expires_ms INTEGER NOT NULL,
    used_ms INTEGER
);
