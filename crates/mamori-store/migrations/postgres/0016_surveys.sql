-- Surveys and their anonymous responses. A response row holds no subject, no address, no user
-- agent and no time finer than the day. Its id is random, so key order tells nothing of arrival
-- (the heap's physical order does until the table is rewritten; see docs/SECURITY.md).
CREATE TABLE surveys (
    id BYTEA PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    definition TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    closed_ms BIGINT
);
CREATE TABLE survey_responses (
    id BYTEA PRIMARY KEY,
    survey_id BYTEA NOT NULL REFERENCES surveys (id),
    day BIGINT NOT NULL,
    answers TEXT NOT NULL,
    -- One code per question (see mamori_core::surveys::Codec), read by the results.
    coded BYTEA NOT NULL,
    -- The free-text answers only, for the results' sample of texts.
    texts TEXT
);
CREATE INDEX survey_responses_by_survey ON survey_responses (survey_id, id);
