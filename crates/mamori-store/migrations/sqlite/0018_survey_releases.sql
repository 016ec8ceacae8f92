-- Differentially private releases of survey results. Each spends part of the survey's ε budget,
-- kept in millionths so sums are exact; a release is inserted only if the budget allows it.
CREATE TABLE survey_releases (
    id BLOB PRIMARY KEY,
    survey_id BLOB NOT NULL REFERENCES surveys (id),
    created_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    epsilon_micro INTEGER NOT NULL,
    result TEXT NOT NULL
);
CREATE INDEX survey_releases_by_survey ON survey_releases (survey_id, created_ms);
