//! The two SQL backends. Their SQL is identical (placeholders `$1…` in order of first use work
//! on both) but for a few phrases named in [`Dialect`], so one body of queries, `shared/`, is
//! compiled once for each: `sqlite.rs` and `postgres.rs` each name their database type and
//! dialect and mount `shared/` as a module of their own. Connection set-up, migrations and the
//! few paths that are faster done natively (rusqlite on SQLite) live in each backend's file.

mod postgres;
mod rows;
mod sqlite;
#[cfg(test)]
mod tests;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use crate::*;

/// What the two SQL dialects spell differently.
pub(crate) struct Dialect {
    /// As [`Storage::backend`] reports it.
    pub name: &'static str,
    /// Opens the batch transaction.
    pub begin: &'static str,
    /// Run first in the batch transaction so writers in other processes take turns ("" if the
    /// transaction's `begin` already does).
    pub take_turns: &'static str,
    /// Starts a multi-row insert that skips rows that conflict (`… INTO table`); the caller
    /// counts the rows that went in.
    pub insert_quietly: &'static str,
    /// Ends the same insert.
    pub quietly: &'static str,
    /// An expression for 16 random bytes (an outbox event's id).
    pub random_id: &'static str,
}

/// Rows per multi-row INSERT: well under SQLite's 32,766 and PostgreSQL's 65,535 bind limits.
const BULK_ROWS: usize = 1000;

/// Row counts of the multi-row leaf INSERT. Prepared statements are cached by their SQL text, so
/// batches of every size from 1 to 1,000 would each prepare a statement of their own (and evict
/// the others); a few fixed sizes keep every shape cached.
const LEAF_CHUNKS: [usize; 6] = [BULK_ROWS, 256, 64, 16, 4, 1];

/// Leaves per page when streaming the ledger.
const LEAF_PAGE: usize = 20_000;

/// `rows` cut greedily into chunks of the sizes in [`LEAF_CHUNKS`].
fn statement_sized_chunks<T>(mut rows: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    for size in LEAF_CHUNKS {
        while rows.len() >= size {
            let (chunk, rest) = rows.split_at(size);
            out.push(chunk);
            rows = rest;
        }
    }
    out
}

/// Below this many jobs the per-job path is as fast and simpler.
const BULK_MIN_JOBS: usize = 8;

fn is_bulk_insertable(change: &Change) -> bool {
    matches!(
        change,
        Change::InsertSubject { .. }
            | Change::PutIndex { .. }
            | Change::SaveImportProgress(_)
            | Change::InsertSurveyResponse { .. }
    )
}

fn index_key(change: &Change) -> Option<(i64, IndexDigest)> {
    match change {
        Change::PutIndex { kind, digest, .. } => Some((*kind as i64, *digest)),
        _ => None,
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn mac_from(bytes: Option<Vec<u8>>) -> Option<[u8; 32]> {
    bytes.and_then(|b| <[u8; 32]>::try_from(b).ok())
}

/// Tables whose rows about a person an erasure deletes (see `forget_person`).
pub const FORGOTTEN_AT_ERASURE: [&str; 5] = [
    "lookup_index",
    "consent_state",
    "survey_invitations",
    "survey_participants",
    "signin_challenges",
];

/// Tables that keep a person's subject id after an erasure, and why (ids, states and times only;
/// never a personal value). The schema test checks that every table with a `subject_id` column
/// is in this list or in [`FORGOTTEN_AT_ERASURE`].
pub const KEPT_AFTER_ERASURE: [(&str, &str); 12] = [
    (
        "vendor_tasks",
        "what vendors were asked to do after the erasure, and whether they confirmed: names, codes, times",
    ),
    (
        "subjects",
        "the erased row itself: id, times, and what a legal hold keeps, sealed",
    ),
    (
        "records",
        "what a legal obligation keeps, sealed under the hold's key; dropped as holds end",
    ),
    (
        "consent_events",
        "the consent history: proof of what was agreed, when, under which notice",
    ),
    ("sessions", "revoked at erasure; expired rows are purged"),
    (
        "legal_holds",
        "the record of holds placed and lifted (an erasure waits while one is in force): ids, codes, times",
    ),
    (
        "ledger_leaves",
        "the tamper-evident log of every access: ids and names, never values",
    ),
    (
        "subject_leaves",
        "the index of the ledger by subject, for the access log and proofs",
    ),
    (
        "rights_requests",
        "the register of requests: the erasure request itself is evidence",
    ),
    (
        "outbox",
        "events announced to other systems: ids and states",
    ),
    (
        "incident_notices",
        "proof that a person an incident affected was told (or why not): ids, category names, states, times",
    ),
    (
        "disclosures",
        "what was disclosed to which vendor, when: evidence, and which vendors must be told to erase (ids, names, times)",
    ),
];

/// Why one change was not applied: the job's fault (its outcome), or the database's (the batch's).
enum ApplyError {
    Job(JobError),
    Db(sqlx::Error),
}

impl ApplyError {
    fn from(e: sqlx::Error, on_unique: JobError) -> ApplyError {
        if is_unique_violation(&e) {
            ApplyError::Job(on_unique)
        } else {
            ApplyError::Db(e)
        }
    }
}

impl From<sqlx::Error> for ApplyError {
    fn from(e: sqlx::Error) -> Self {
        ApplyError::Db(e)
    }
}

impl From<StoreError> for ApplyError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Database(e) => ApplyError::Db(e),
            other => ApplyError::Db(sqlx::Error::Protocol(other.to_string())),
        }
    }
}
