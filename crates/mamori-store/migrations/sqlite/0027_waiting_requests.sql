-- Open requests that wait (an erasure a legal hold keeps waiting): what they wait for.
ALTER TABLE rights_requests ADD COLUMN waiting_for TEXT;
CREATE INDEX rights_requests_waiting ON rights_requests (waiting_for) WHERE waiting_for IS NOT NULL;
