-- Containment that can be undone: a webhook subscription or a DRP agent paused (null: running).
-- A paused subscription keeps its cursor, so resuming sends what was held; a paused agent's
-- tokens are refused until it is resumed.
ALTER TABLE webhooks ADD COLUMN paused_ms BIGINT;
ALTER TABLE drp_agents ADD COLUMN paused_ms BIGINT;
-- Webhook signing secrets are derived from the keyring per subscription and version (never
-- stored); rotating bumps the version. The previous secret also signs until
-- previous_secret_until_ms (null: not at all), so a receiver can switch without losing events.
ALTER TABLE webhooks ADD COLUMN secret_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN previous_secret_until_ms BIGINT;
