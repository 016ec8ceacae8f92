-- Results read only the coded answers of one survey. An index of (survey, id, coded) lets that
-- read scan narrow index pages instead of whole rows with their JSON, and in id ranges, which
-- results read in parallel. It replaces the (survey, id) index, its prefix.
DROP INDEX survey_responses_by_survey;
CREATE INDEX survey_responses_codes ON survey_responses (survey_id, id, coded);
