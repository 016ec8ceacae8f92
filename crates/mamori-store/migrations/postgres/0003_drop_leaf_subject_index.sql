-- Nothing reads ledger leaves by subject yet, and this index made every audited read dirty one
-- random index page: ~20% of read throughput and most of the p99 under load. A subject's access
-- history (privacy center) will get a structure suited to it when it is built.
DROP INDEX IF EXISTS ledger_leaves_subject;
