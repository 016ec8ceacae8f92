-- Which server runs each background job (and each webhook subscription's deliveries) now: a lease
-- with an expiry, taken over only once it lapsed, and a fencing token raised each time it changes
-- hands — the holder's commits carry it, so a server that lost its lease writes nothing more.
CREATE TABLE job_leases (
    job TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    fence INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
