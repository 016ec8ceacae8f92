-- Surveys and their anonymous responses. A response row holds no subject, no address, no user
-- agent and no time finer than the day. Its id is random and the table has no rowid, so neither
-- key order nor storage order tells in which order responses came.
CREATE TABLE surveys (
    id BLOB PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    definition TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    closed_ms INTEGER
);
CREATE TABLE survey_responses (
    id BLOB PRIMARY KEY,
    survey_id BLOB NOT NULL REFERENCES surveys (id),
    day INTEGER NOT NULL,
    answers TEXT NOT NULL,
    -- One code per question (see mamori_core::surveys::Codec), read by the results.
    coded BLOB NOT NULL,
    -- The free-text answers only, for the results' sample of texts.
    texts TEXT
) WITHOUT ROWID;
CREATE INDEX survey_responses_by_survey ON survey_responses (survey_id, id);
