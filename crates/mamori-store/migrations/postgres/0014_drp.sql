-- Data Rights Protocol: authorised agents registered out of band (their Ed25519 verify keys),
-- the pair-wise bearer tokens they obtain (keyed digests only), and which agent filed which
-- request, with its own reference and where to send status callbacks.
CREATE TABLE drp_agents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    verify_key BYTEA NOT NULL,
    created_ms BIGINT NOT NULL,
    removed_ms BIGINT
);
CREATE TABLE drp_tokens (
    digest BYTEA PRIMARY KEY,
    agent_id TEXT NOT NULL REFERENCES drp_agents (id),
    created_ms BIGINT NOT NULL
);
CREATE TABLE drp_requests (
    request_id BYTEA PRIMARY KEY REFERENCES rights_requests (id),
    agent_id TEXT NOT NULL REFERENCES drp_agents (id),
    agent_request_id TEXT,
    status_callback TEXT
);
