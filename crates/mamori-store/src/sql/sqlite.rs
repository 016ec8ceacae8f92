//! SQLite: one writer connection (and its WAL checkpoints off the commit path), a pool of
//! readers, and rusqlite where handing rows across threads one by one would cost more than the
//! work (streams of leaves, survey codes, consent checks of many subjects).

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::{Dialect, LEAF_PAGE, mac_from};
use crate::*;

type Db = sqlx::Sqlite;
type Backend = SqliteStore;

// IMMEDIATE takes the write lock at BEGIN (waiting on the busy timeout) instead of failing at the
// first write if a checkpoint rewound the WAL since the transaction's first read. `OR IGNORE`
// also covers NOT NULL, so no multi-row insert can abort half-way and SQLite keeps no statement
// journal.
const DIALECT: Dialect = Dialect {
    name: "sqlite",
    begin: "BEGIN IMMEDIATE",
    take_turns: "",
    insert_quietly: "INSERT OR IGNORE INTO",
    quietly: "",
    random_id: "randomblob(16)",
};

// The queries both backends share, compiled here for SQLite (and in postgres.rs for PostgreSQL).
#[allow(clippy::duplicate_mod)]
#[path = "shared/mod.rs"]
mod shared;

pub struct SqliteStore {
    path: std::path::PathBuf,
    /// Exactly one connection: SQLite has one writer, and the writer task is its only user.
    write: SqlitePool,
    read: SqlitePool,
    /// Point reads on the calling thread (hot paths only).
    inline: std::sync::Arc<crate::inline::InlineReads>,
    /// Commits of ledger events alone (`events_only.rs`), on the writer's thread.
    events_only: crate::events_only::EventsOnly,
    checkpointer: tokio::task::JoinHandle<()>,
    /// Set when a write transaction failed: its connection may not have ended the
    /// transaction (a COMMIT that failed on a full disk leaves sqlx refusing to begin on it),
    /// so the next write closes it and starts on a fresh one.
    write_failed: std::sync::atomic::AtomicBool,
    /// The database file's device and inode when it was opened.
    identity: Option<(u64, u64)>,
    /// Set by a commit that destroyed key material; the checkpointer then empties the WAL.
    wal_holds_erased: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// A file's device and inode: which file it is, whatever its name.
fn file_identity(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

impl SqliteStore {
    /// A consistent copy of the database in one new file (`VACUUM INTO`: a snapshot of one read
    /// transaction, taken while writers go on).
    async fn snapshot_file(&self, to: &std::path::Path) -> Result<bool> {
        let to = to
            .to_str()
            .ok_or(crate::StoreError::Corrupt("the snapshot path is not UTF-8"))?;
        sqlx::query("VACUUM INTO $1")
            .bind(to)
            .execute(&self.read)
            .await?;
        Ok(true)
    }

    fn lost_file(&self) -> Option<String> {
        let name = self.path.display();
        match (self.identity, file_identity(&self.path)) {
            (Some(_), None) => Some(format!(
                "the database file {name} was deleted while in use; restore it (or restart on a new one)"
            )),
            (Some(opened), Some(now)) if opened != now => Some(format!(
                "the database file {name} was replaced while in use; restart to use the new one"
            )),
            _ => None,
        }
    }

    /// After an erasure: SQLite already zeroed the row's old bytes (`secure_delete`), but
    /// the write-ahead log still holds the pages as they were before; the checkpointer copies
    /// the WAL back and truncates it to nothing at its next turn (retrying while readers hold it).
    fn scrub_freed_pages(&self) {
        self.wal_holds_erased
            .store(true, std::sync::atomic::Ordering::Release);
    }

    fn local_dir(&self) -> Option<std::path::PathBuf> {
        let dir = self.path.parent()?;
        Some(if dir.as_os_str().is_empty() {
            ".".into()
        } else {
            dir.to_path_buf()
        })
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.checkpointer.abort();
    }
}

/// How often the WAL is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// WAL frames (pages) beyond which a checkpoint also rewinds the WAL, briefly holding writers.
const WAL_RESTART_FRAMES: i64 = 32_768;

/// Checkpoints the WAL from its own connection, so commits never pay for it (SQLite's automatic
/// checkpoint would run inside whichever commit crosses the threshold and stall every request
/// waiting on that batch). PASSIVE never blocks the writer or readers; under steady writes it
/// never quite reaches the end of the WAL, so once the WAL is long a RESTART rewinds it.
async fn checkpoint_loop(
    pool: SqlitePool,
    wal_holds_erased: std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use std::sync::atomic::Ordering;
    loop {
        tokio::time::sleep(CHECKPOINT_EVERY).await;
        // Pages as they were before an erasure live on in the WAL until it is rewound and cut:
        // TRUNCATE copies every frame back and empties the file, or fails (busy) and is retried.
        if wal_holds_erased.swap(false, Ordering::AcqRel)
            && !matches!(checkpoint(&pool, "TRUNCATE").await, Ok((0, 0)))
        {
            wal_holds_erased.store(true, Ordering::Release);
        }
        let (frames, copied) = match checkpoint(&pool, "PASSIVE").await {
            Ok(progress) => progress,
            Err(e) => {
                tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
                continue;
            }
        };
        // Rewind only a long WAL that is already fully copied, so the RESTART itself is quick;
        // if readers keep it busy past the short timeout it fails harmlessly and runs again later.
        if frames > WAL_RESTART_FRAMES && copied == frames {
            let _ = checkpoint(&pool, "RESTART").await;
        }
    }
}

/// Runs one checkpoint; returns the WAL's length and how much of it is copied, in frames.
async fn checkpoint(pool: &SqlitePool, mode: &str) -> std::result::Result<(i64, i64), sqlx::Error> {
    let sql = format!("PRAGMA wal_checkpoint({mode})");
    // PRAGMA wal_checkpoint answers (busy, WAL frames, frames copied).
    let (busy, frames, copied): (i64, i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_one(pool)
        .await?;
    tracing::debug!(mode, busy, frames, copied, "WAL checkpoint");
    Ok((frames, copied))
}

impl SqliteStore {
    pub async fn open(path: &str) -> Result<SqliteStore> {
        if let Some(dir) = std::path::Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        }
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk when it returns — "acknowledged means durable".
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // 8 MiB of page cache per connection: the OS page cache holds the file anyway, and
            // each connection's cache is private memory. (32 MiB for the writer bought nothing
            // measurable, and once the subject indexer touched the whole index it was full and
            // the server outgrew its 200 MB budget: docs/PERFORMANCE.md.)
            .pragma("cache_size", "-8192")
            // Savepoint journals (one per batch of the writer) stay in memory, not in temp files.
            .pragma("temp_store", "memory")
            // Checkpoints run in `checkpoint_loop`, off the commit path.
            .pragma("wal_autocheckpoint", "0")
            // After a RESTART rewinds the WAL, SQLite truncates the file to this size.
            .pragma("journal_size_limit", "268435456")
            // Deleted and overwritten content is zeroed in every page SQLite writes anyway: an
            // erased subject's wrapped key and sealed fields, which live in its row, cannot be
            // carved from the page's free space. FAST leaves pages freed whole (purged records:
            // noise without that key) as they were; ON zeroed those too and cost bulk imports 30%.
            .pragma("secure_delete", "FAST");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&write).await?;
        // A RESTART holds the write lock while it waits for readers to leave the WAL: a short
        // busy timeout bounds that wait (it is simply retried later) so commits never stall long.
        let checkpoint = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone().busy_timeout(Duration::from_millis(20)))
            .await?;
        let wal_holds_erased: std::sync::Arc<std::sync::atomic::AtomicBool> = Default::default();
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(
                options
                    .read_only(true)
                    // Rows cross from SQLite's worker thread in bigger hand-offs (fewer wake-ups).
                    .row_buffer_size(4096),
            )
            .await?;
        Ok(SqliteStore {
            path: path.into(),
            inline: std::sync::Arc::new(crate::inline::InlineReads::new(path.into())),
            events_only: crate::events_only::EventsOnly::new(path.into()),
            write,
            read,
            checkpointer: tokio::spawn(checkpoint_loop(checkpoint, wal_holds_erased.clone())),
            write_failed: Default::default(),
            identity: file_identity(std::path::Path::new(path)),
            wal_holds_erased,
        })
    }
}

/// A `consent_state` row as rusqlite reads the same columns.
fn sqlite_consent_state(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConsentRow> {
    let subject: [u8; 16] = r.get(0)?;
    Ok(ConsentRow {
        id: [0; 16],
        subject_id: subject,
        purpose: r.get(1)?,
        channel: r.get(2)?,
        granted: r.get::<_, i64>(3)? != 0,
        source: r.get(4)?,
        notice_version: r.get(5)?,
        actor: String::new(),
        created_ms: r.get(6)?,
        state_mac: mac_from(r.get::<_, Option<Vec<u8>>>(7)?),
    })
}

impl SqliteStore {
    fn commit_events_only(
        &self,
        jobs: usize,
        tree_size: u64,
        finish: &mut Finish<'_>,
    ) -> Result<Option<Vec<JobOutcome>>> {
        self.events_only.commit(jobs, tree_size, finish).map(Some)
    }

    /// One primary-key seek per id, in id order (neighbouring ids share B-tree pages), all in
    /// one statement on a blocking thread: about 0.45 µs per id, where sqlx (rows handed across
    /// threads) or a statement per id from Rust (about 2 µs) cost several times more.
    async fn consented_among_impl(
        &self,
        subjects: &[Id],
        purpose: &str,
        channel: &str,
        check: StateCheck,
    ) -> Result<std::result::Result<Vec<Id>, ConsentRow>> {
        let mut sorted: Vec<Id> = subjects.to_vec();
        sorted.sort_unstable();
        let (purpose, channel) = (purpose.to_string(), channel.to_string());
        self.inline.with_blocking(move |conn| {
            // One statement seeks every id inside SQLite (`rarray` hands it the list), instead of
            // one bind/step/reset round per id from Rust.
            let ids: Vec<rusqlite::types::Value> =
                sorted.iter().map(|id| rusqlite::types::Value::Blob(id.to_vec())).collect();
            let mut statement = conn.prepare_cached(
                "SELECT subject_id, source, notice_version, updated_ms, mac FROM consent_state WHERE subject_id IN rarray(?1) AND purpose = ?2 AND channel = ?3 AND granted = 1",
            )?;
            let mut rows = statement.query(rusqlite::params![std::rc::Rc::new(ids), &purpose, &channel])?;
            let mut granted = Vec::with_capacity(sorted.len());
            // Each row is checked in SQLite's own buffers: no copy of its text per subject.
            while let Some(r) = rows.next()? {
                let subject: [u8; 16] = r
                    .get_ref(0)?
                    .as_blob()?
                    .try_into()
                    .map_err(|_| rusqlite::Error::InvalidColumnType(0, "subject_id".into(), rusqlite::types::Type::Blob))?;
                let row = ConsentStateRef {
                    subject_id: &subject,
                    purpose: &purpose,
                    channel: &channel,
                    granted: true,
                    source: r.get_ref(1)?.as_str()?,
                    notice_version: r.get_ref(2)?.as_str_or_null()?,
                    created_ms: r.get(3)?,
                    state_mac: r.get_ref(4)?.as_blob_or_null()?,
                };
                if !check(&row) {
                    return Ok(Err(row.to_row()));
                }
                granted.push(subject);
            }
            Ok(Ok(granted))
        }).await
    }

    /// A subject by primary key, read on the calling thread (see `inline`): every audited read
    /// starts here, and sqlx's hand-off to its SQLite thread and back cost more than the read.
    async fn subject_impl(&self, id: &Id) -> Result<Option<SubjectRow>> {
        use rusqlite::OptionalExtension;
        self.inline.with(|conn| {
            let sql = format!(
                "SELECT {} FROM subjects WHERE id = ?1",
                super::rows::SUBJECT_COLUMNS
            );
            let mut statement = conn.prepare_cached(&sql)?;
            let row = statement.query_row([&id[..]], |r| {
                Ok(SubjectRow {
                    id: r.get(0)?,
                    created_ms: r.get(1)?,
                    version: r.get(2)?,
                    wrapped_dek: r.get(3)?,
                    fields: r.get(4)?,
                    erased_ms: r.get(5)?,
                    held_until_ms: r.get(6)?,
                    rekey_requested_ms: r.get(7)?,
                    previous_wrapped_dek: r.get(8)?,
                })
            });
            row.optional()
        })
    }

    /// The consent state by primary key, read on the calling thread (see `inline`).
    async fn consents_impl(&self, subject: &Id) -> Result<Vec<ConsentRow>> {
        self.inline.with(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT subject_id, purpose, channel, granted, source, notice_version, updated_ms, mac FROM consent_state WHERE subject_id = ?1 ORDER BY purpose, channel",
            )?;
            let rows = statement.query_map([&subject[..]], sqlite_consent_state)?;
            rows.collect()
        })
    }
}

impl SqliteStore {
    /// A bulk load dirties many index pages per batch; with a small cache SQLite spills them to
    /// the WAL mid-transaction (and rereads them), so the writer gets 512 MiB while it loads.
    async fn bulk_tuning(write: &SqlitePool) -> Result<()> {
        sqlx::query("PRAGMA cache_size = -524288")
            .execute(write)
            .await?;
        Ok(())
    }

    /// Streams leaves with rusqlite on a thread of its own: sqlx hands rows one by one across
    /// threads, which costs more than hashing them, and `ledger verify` reads millions.
    /// Reads a survey's coded responses with rusqlite on blocking threads: sqlx hands rows one
    /// by one across threads, which for a million small rows costs more than counting them.
    /// The ids are random, so two halves of the id range hold about half the rows each: each
    /// half is read on its own connection and core, from the (survey, id, coded) index.
    async fn survey_codes_impl(&self, survey_id: &Id) -> Result<Vec<Vec<u8>>> {
        let halves = [([0u8; 16], Some(Self::MIDDLE_ID)), (Self::MIDDLE_ID, None)];
        let reads = halves.map(|(from, to)| {
            let (path, survey_id) = (self.path.clone(), *survey_id);
            tokio::task::spawn_blocking(move || read_codes(&path, &survey_id, &from, to.as_ref()))
        });
        let mut codes = Vec::new();
        for read in reads {
            let part = read
                .await
                .map_err(|e| StoreError::Database(sqlx::Error::Protocol(e.to_string())))??;
            if codes.is_empty() {
                codes = part;
            } else {
                codes.extend(part);
            }
        }
        Ok(codes)
    }

    const MIDDLE_ID: Id = [0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    fn stream_leaves_impl(&self, from: u64) -> tokio::sync::mpsc::Receiver<Result<Vec<LeafRow>>> {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let path = self.path.clone();
        std::thread::spawn(move || {
            if let Err(e) = stream_sqlite_leaves(&path, from, &tx) {
                let _ = tx.blocking_send(Err(e));
            }
        });
        rx
    }
}

/// The coded responses of a survey with ids in `[from, to)` (to the end without `to`).
fn read_codes(
    path: &std::path::Path,
    survey_id: &Id,
    from: &Id,
    to: Option<&Id>,
) -> Result<Vec<Vec<u8>>> {
    use rusqlite::OpenFlags;
    let failed = |e: rusqlite::Error| StoreError::Database(sqlx::Error::Protocol(e.to_string()));
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(failed)?;
    let sql = if to.is_some() {
        "SELECT coded FROM survey_responses WHERE survey_id = ?1 AND id >= ?2 AND id < ?3"
    } else {
        "SELECT coded FROM survey_responses WHERE survey_id = ?1 AND id >= ?2"
    };
    let mut statement = conn.prepare(sql).map_err(failed)?;
    let row = |r: &rusqlite::Row<'_>| r.get::<_, Vec<u8>>(0);
    let rows = match to {
        Some(to) => statement.query_map(rusqlite::params![&survey_id[..], &from[..], &to[..]], row),
        None => statement.query_map(rusqlite::params![&survey_id[..], &from[..]], row),
    }
    .map_err(failed)?;
    rows.collect::<std::result::Result<Vec<_>, _>>()
        .map_err(failed)
}

fn stream_sqlite_leaves(
    path: &std::path::Path,
    from: u64,
    tx: &tokio::sync::mpsc::Sender<Result<Vec<LeafRow>>>,
) -> Result<()> {
    use rusqlite::OpenFlags;
    let corrupt = |e: rusqlite::Error| StoreError::Database(sqlx::Error::Protocol(e.to_string()));
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(corrupt)?;
    let mut statement = conn
        .prepare("SELECT idx, data, leaf_hash FROM ledger_leaves WHERE idx >= ?1 ORDER BY idx")
        .map_err(corrupt)?;
    let mut rows = statement.query([from as i64]).map_err(corrupt)?;
    let mut page = Vec::with_capacity(LEAF_PAGE);
    while let Some(row) = rows.next().map_err(corrupt)? {
        let index: i64 = row.get(0).map_err(corrupt)?;
        let hash = row
            .get_ref(2)
            .map_err(corrupt)?
            .as_blob()
            .map_err(|e| corrupt(e.into()))?;
        page.push(LeafRow {
            index: index as u64,
            data: row.get(1).map_err(corrupt)?,
            hash: hash_from_slice(hash)?,
            subject_id: None,
        });
        if page.len() == LEAF_PAGE {
            let full = std::mem::replace(&mut page, Vec::with_capacity(LEAF_PAGE));
            if tx.blocking_send(Ok(full)).is_err() {
                return Ok(());
            }
        }
    }
    if !page.is_empty() {
        let _ = tx.blocking_send(Ok(page));
    }
    Ok(())
}
