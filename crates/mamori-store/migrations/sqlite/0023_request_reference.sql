-- A short reference for each request (shown as R-XXXX-XXXX, 40 random bits in Crockford base32)
-- that a person can read out on the phone and staff can look up; unique, so a collision refuses
-- the insert instead of giving two requests one reference. Requests from before are numbered in
-- the order they were made.
ALTER TABLE rights_requests ADD COLUMN reference INTEGER;
UPDATE rights_requests SET reference = (SELECT COUNT(*) FROM rights_requests AS earlier WHERE earlier.id <= rights_requests.id);
CREATE UNIQUE INDEX rights_requests_reference ON rights_requests (reference);
