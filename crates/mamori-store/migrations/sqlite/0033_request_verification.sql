-- How a requester's identity was verified, and when: privacy-center requests by their sign-in,
-- agents' by the agent; staff record their own check (an identity document, a call back, account
-- details) before they fulfil a request that came another way.
ALTER TABLE rights_requests ADD COLUMN verified_by TEXT;
ALTER TABLE rights_requests ADD COLUMN verified_ms INTEGER;
UPDATE rights_requests SET verified_by = 'privacy_center_sign_in', verified_ms = received_ms
    WHERE source = 'privacy_center';
UPDATE rights_requests SET verified_by = 'agent', verified_ms = received_ms WHERE source = 'agent';
