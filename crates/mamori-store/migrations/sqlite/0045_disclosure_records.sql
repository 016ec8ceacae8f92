-- The person's records disclosed with the categories (e.g. the order a courier delivers): their ids
-- as the API writes them, comma-separated, empty when none. Ids only: the records stay sealed.
ALTER TABLE disclosures ADD COLUMN records TEXT NOT NULL DEFAULT '';
