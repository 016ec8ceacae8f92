-- Steps of a response that are not timeline entries, kept once each with when they were first
-- reached (for the drill report): the impact computed, the first regulator draft.
CREATE TABLE incident_milestones (
    incident_id BYTEA NOT NULL REFERENCES incidents (id),
    milestone TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (incident_id, milestone)
);
