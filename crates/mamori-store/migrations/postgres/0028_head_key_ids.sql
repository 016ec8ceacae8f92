-- Each signed tree head names the key that signed it (its RFC 7638 thumbprint); none on heads
-- from before key ids, which the ledger's first key signed.
ALTER TABLE tree_heads ADD COLUMN key_id TEXT;
