-- The current consent state holds live subjects only: erasure now deletes a subject's state (its
-- history in consent_events stays as proof), so audience filtering is one primary-key probe per id
-- instead of a join with subjects. Existing erased subjects lose their state here.
DELETE FROM consent_state WHERE subject_id IN (SELECT id FROM subjects WHERE erased_ms IS NOT NULL);
