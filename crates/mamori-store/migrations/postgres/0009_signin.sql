-- PostgreSQL twin of migrations/sqlite/0009_signin.sql.
-- Privacy-center sign-in. A challenge is created for every request, known address or not
-- (answers do not reveal who is a customer); only a keyed digest of the code is stored. Sessions
-- are stored as keyed digests of their tokens. No personal value in either table.
CREATE TABLE signin_challenges (
    id BYTEA PRIMARY KEY,
    subject_id BYTEA,
    code_digest BYTEA NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    used_ms BIGINT
);

CREATE TABLE sessions (
    digest BYTEA PRIMARY KEY,
    subject_id BYTEA NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);
