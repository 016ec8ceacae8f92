-- Privacy-center sign-in. A challenge is created for every request, known address or not
-- (answers do not reveal who is a customer); only a keyed digest of the code is stored. Sessions
-- are stored as keyed digests of their tokens. No personal value in either table.
CREATE TABLE signin_challenges (
    id BLOB PRIMARY KEY,
    subject_id BLOB,
    code_digest BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    used_ms INTEGER
);

CREATE TABLE sessions (
    digest BLOB PRIMARY KEY,
    subject_id BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    revoked_ms INTEGER
);
