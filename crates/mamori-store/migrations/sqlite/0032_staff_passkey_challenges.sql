-- Passkey ceremonies in flight: the webauthn state (sealed) between the page asking for a passkey
-- and the browser's answer, by the keyed digest of the token the page holds. Taken once (a
-- replayed answer finds nothing), gone after five minutes.
CREATE TABLE staff_passkey_challenges (
    digest BLOB PRIMARY KEY,
    staff_id BLOB,
    kind TEXT NOT NULL,
    sealed BLOB NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE INDEX staff_passkey_challenges_by_expiry ON staff_passkey_challenges (expires_ms);
