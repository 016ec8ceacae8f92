-- Who has answered an identified survey (linked to them by design), so each person answers once.
-- Deleted with the person.
CREATE TABLE survey_participants (
    survey_id BYTEA NOT NULL REFERENCES surveys (id),
    subject_id BYTEA NOT NULL,
    PRIMARY KEY (survey_id, subject_id)
);
CREATE INDEX survey_participants_by_subject ON survey_participants (subject_id);
