//! SQLite group commits that hold ledger events and no data change: under a consent-check load
//! (tens of thousands of detached check events a second) that is almost every commit, every
//! 5 ms. Through sqlx each of its ten or so statements (BEGIN, one INSERT per chunk of leaves,
//! the signed head, COMMIT) was a round trip to sqlx's worker thread: two thread wake-ups per
//! statement, which a profile of the server showed as a tenth of its CPU. Here the writer's own
//! thread runs them on a rusqlite connection of its own, one cached single-row INSERT per leaf.
//!
//! Only the ledger writer calls this, one batch at a time, so this connection and sqlx's write
//! connection never hold transactions at once; `BEGIN IMMEDIATE` waits out anything else (the
//! checkpointer, another process) like the sqlx path does.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior, params};

use crate::inline::database_error;
use crate::{Finish, JobOutcome, LEAF_INDEX_TAKEN, Result};

pub struct EventsOnly {
    path: PathBuf,
    /// Opened on first use (most processes never commit events alone).
    conn: Mutex<Option<Connection>>,
}

impl EventsOnly {
    pub fn new(path: PathBuf) -> EventsOnly {
        EventsOnly {
            path,
            conn: Mutex::new(None),
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open(&self.path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        // As on sqlx's write connection: a commit is on disk when it returns, and checkpoints
        // stay off the commit path (`checkpoint_loop`).
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        // It only appends to two tables: a small cache is enough (private memory per connection).
        conn.pragma_update(None, "cache_size", -2048)?;
        Ok(conn)
    }

    /// Appends the leaves and signed head that `finish` returns for `jobs` change-less jobs
    /// (every outcome is a success: there is nothing that could conflict), in one transaction,
    /// after the leaves other processes appended from `tree_size` on (see [`Finish`]).
    /// Blocks the calling thread for the commit, fsync included: the ledger writer's own.
    pub fn commit(
        &self,
        jobs: usize,
        tree_size: u64,
        finish: &mut Finish<'_>,
    ) -> Result<Vec<JobOutcome>> {
        let outcomes: Vec<JobOutcome> = vec![Ok(()); jobs];
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let conn = match guard.as_mut() {
            Some(conn) => conn,
            None => guard.insert(self.open().map_err(database_error)?),
        };
        let committed = Self::commit_on(conn, outcomes, tree_size, finish);
        if committed.is_err() {
            // A connection whose transaction could not end (a full disk) is not reused.
            *guard = None;
        }
        committed
    }

    fn commit_on(
        conn: &mut Connection,
        outcomes: Vec<JobOutcome>,
        tree_size: u64,
        finish: &mut Finish<'_>,
    ) -> Result<Vec<JobOutcome>> {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(database_error)?;
        let foreign = leaves_since(&tx, tree_size).map_err(database_error)?;
        let (leaves, head) = finish(&outcomes, &foreign);
        if leaves.is_empty() {
            return Ok(outcomes);
        }
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO ledger_leaves (idx, data, leaf_hash, subject_id) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(database_error)?;
            for leaf in &leaves {
                let inserted = insert
                    .execute(params![
                        leaf.index as i64,
                        leaf.data,
                        &leaf.hash[..],
                        leaf.subject_id.as_ref().map(|s| &s[..]),
                    ])
                    .map_err(database_error)?;
                if inserted != 1 {
                    return Err(LEAF_INDEX_TAKEN);
                }
            }
            tx.prepare_cached(
                "INSERT INTO tree_heads (size, timestamp_ms, root, signature, key_id) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    head.head.size as i64,
                    head.head.timestamp_ms,
                    &head.head.root[..],
                    &head.signature[..],
                    &head.key_id,
                ])
            })
            .map_err(database_error)?;
        }
        tx.commit().map_err(database_error)?;
        Ok(outcomes)
    }
}

/// Hashes of the stored leaves from `from` on (normally none: one seek past the end).
fn leaves_since(tx: &rusqlite::Transaction<'_>, from: u64) -> rusqlite::Result<Vec<[u8; 32]>> {
    let mut statement =
        tx.prepare_cached("SELECT leaf_hash FROM ledger_leaves WHERE idx >= ?1 ORDER BY idx")?;
    let hashes = statement.query_map([from as i64], |r| r.get::<_, [u8; 32]>(0))?;
    hashes.collect()
}
