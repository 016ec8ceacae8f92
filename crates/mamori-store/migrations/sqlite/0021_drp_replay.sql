-- Signed DRP messages already acted on (SHA-256 of the message as sent), kept until they expire,
-- so the same signed body cannot pair or file twice.
CREATE TABLE drp_spent (
    digest BLOB PRIMARY KEY,
    expires_ms INTEGER NOT NULL
);
