-- Results read only the coded answers of one survey. An index of (survey, id, coded) allows an
-- index-only scan (once VACUUM has set the visibility map) instead of whole rows with their JSON.
-- It replaces the (survey, id) index, its prefix.
DROP INDEX survey_responses_by_survey;
CREATE INDEX survey_responses_codes ON survey_responses (survey_id, id, coded);
