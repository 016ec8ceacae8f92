-- Codes sent to one person are counted across all their addresses (e-mail and phone), so the
-- limit on codes is per person, not per address or spelling: the sign-in reads how many
-- challenges were made for the person recently.
CREATE INDEX signin_challenges_subject ON signin_challenges (subject_id, created_ms) WHERE subject_id IS NOT NULL;
