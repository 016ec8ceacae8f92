-- Published policy versions: what the notices said, and when. The text holds no personal data.
CREATE TABLE policy_versions (
    version INTEGER PRIMARY KEY AUTOINCREMENT,
    hash BLOB NOT NULL,
    published_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    policy TEXT NOT NULL
);
