-- A held subject's kept records are re-sealed under a fresh key a few hundred per transaction,
-- so the re-key never holds the one writer for long. Meanwhile the old key stays here (records
-- not yet re-sealed open with it); the last step clears it, and the old key is gone.
ALTER TABLE subjects ADD COLUMN previous_wrapped_dek BYTEA;
