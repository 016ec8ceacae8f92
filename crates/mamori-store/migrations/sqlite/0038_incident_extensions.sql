-- A timeline entry that extends a duty's deadline names the duty (link_kind 'duty', link_id
-- 'gdpr:authority') and the new due time here; its reason is the entry's sealed note.
ALTER TABLE incident_entries ADD COLUMN until_ms INTEGER;
