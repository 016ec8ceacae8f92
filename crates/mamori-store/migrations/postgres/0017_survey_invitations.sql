-- Invited surveys: one response per invited customer, unlinkably (RFC 9474 blind signatures).
-- The issuer key is per survey, its secret sealed under the keyring.
CREATE TABLE survey_issuers (
    survey_id BYTEA PRIMARY KEY REFERENCES surveys (id),
    public_key BYTEA NOT NULL,
    sealed_secret BYTEA NOT NULL
);
-- Who was invited and whether their one token was issued; never which token, nor when beyond
-- the day of the invitation. The code in the invitation link is kept only as a keyed digest.
CREATE TABLE survey_invitations (
    survey_id BYTEA NOT NULL REFERENCES surveys (id),
    subject_id BYTEA NOT NULL,
    code_digest BYTEA NOT NULL UNIQUE,
    day BIGINT NOT NULL,
    claimed BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (survey_id, subject_id)
);
CREATE INDEX survey_invitations_by_subject ON survey_invitations (subject_id);
-- Tokens used with a response, by digest, so each is accepted once. No time is kept, so nothing
-- but the heap order tells when a token was spent (see docs/SECURITY.md).
CREATE TABLE survey_spent_tokens (
    survey_id BYTEA NOT NULL REFERENCES surveys (id),
    digest BYTEA NOT NULL,
    PRIMARY KEY (survey_id, digest)
);
