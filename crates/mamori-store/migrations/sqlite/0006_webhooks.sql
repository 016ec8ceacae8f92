-- Webhook subscriptions and their delivery position in the outbox. The signing secret is derived
-- from the master key and the id, so it is not stored. Delivery is in outbox order per
-- subscription: `cursor` is the last seq handled, `attempts` the failures on the next one.
CREATE TABLE webhooks (
    id BLOB PRIMARY KEY,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    removed_ms INTEGER,
    cursor INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_ms INTEGER NOT NULL,
    last_status INTEGER
);

-- Events given up on after the last attempt; `mamori webhook replay` sends them again.
CREATE TABLE webhook_dead_letters (
    webhook_id BLOB NOT NULL,
    seq INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    last_status INTEGER,
    failed_ms INTEGER NOT NULL,
    PRIMARY KEY (webhook_id, seq)
);
