-- The law covering the person a notice went to, by the country of their address as read when
-- the notice was sent (gdpr, lgpd, appi); null where none is known.
ALTER TABLE incident_notices ADD COLUMN jurisdiction TEXT;
