-- PostgreSQL twin of migrations/sqlite/0023_request_reference.sql.
ALTER TABLE rights_requests ADD COLUMN reference BIGINT;
UPDATE rights_requests SET reference = numbered.n
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM rights_requests) AS numbered
    WHERE rights_requests.id = numbered.id;
CREATE UNIQUE INDEX rights_requests_reference ON rights_requests (reference);
