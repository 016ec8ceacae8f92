-- The privacy report counts the open queue by kind (open, overdue, waiting, soonest due): this
-- partial index holds every column that count reads, so it is answered from the index alone,
-- in kind order, without visiting the requests' rows.
CREATE INDEX rights_requests_open_kind ON rights_requests (kind, due_ms, waiting_for)
    WHERE closed_ms IS NULL;
