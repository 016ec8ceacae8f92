-- Webhook subscriptions and their delivery position in the outbox. The signing secret is derived
-- from the master key and the id, so it is not stored. Delivery is in outbox order per
-- subscription: `cursor` is the last seq handled, `attempts` the failures on the next one.
CREATE TABLE webhooks (
    id BYTEA PRIMARY KEY,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    removed_ms BIGINT,
    cursor BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_ms BIGINT NOT NULL,
    last_status BIGINT
);

-- Events given up on after the last attempt; `mamori webhook replay` sends them again.
CREATE TABLE webhook_dead_letters (
    webhook_id BYTEA NOT NULL,
    seq BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    last_status BIGINT,
    failed_ms BIGINT NOT NULL,
    PRIMARY KEY (webhook_id, seq)
);
