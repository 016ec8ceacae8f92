//! PostgreSQL: one pool; writers in several processes take turns on an advisory lock.

use sqlx::Row;
use sqlx::postgres::{PgPool, PgPoolOptions};

use super::{Dialect, LEAF_PAGE};
use crate::*;

type Db = sqlx::Postgres;
type Backend = PostgresStore;

const DIALECT: Dialect = Dialect {
    name: "postgres",
    begin: "BEGIN",
    // One key shared by every Mamori process ("mamori" in ASCII), held until commit or rollback.
    take_turns: "SELECT pg_advisory_xact_lock(120265215275625)",
    insert_quietly: "INSERT INTO",
    // PostgreSQL keeps no statement journal to spare, and says "skip conflicts" its own way.
    quietly: " ON CONFLICT DO NOTHING",
    random_id: "uuid_send(gen_random_uuid())",
};

// The queries both backends share, compiled here for PostgreSQL (and in sqlite.rs for SQLite).
#[allow(clippy::duplicate_mod)]
#[path = "shared/mod.rs"]
mod shared;

pub struct PostgresStore {
    write: PgPool,
    read: PgPool,
    /// As [`SqliteStore`]'s.
    write_failed: std::sync::atomic::AtomicBool,
}

impl PostgresStore {
    fn local_dir(&self) -> Option<std::path::PathBuf> {
        None
    }

    fn lost_file(&self) -> Option<String> {
        None
    }

    /// PostgreSQL's copies are made by its own tools (`pg_dump`), outside this store.
    async fn snapshot_file(&self, _to: &std::path::Path) -> Result<bool> {
        Ok(false)
    }

    pub async fn open(url: &str) -> Result<PostgresStore> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PostgresStore {
            write: pool.clone(),
            read: pool,
            write_failed: Default::default(),
        })
    }
}

impl PostgresStore {
    async fn subject_impl(&self, id: &Id) -> Result<Option<SubjectRow>> {
        let sql = format!(
            "SELECT {} FROM subjects WHERE id = $1",
            super::rows::SUBJECT_COLUMNS
        );
        let row: Option<super::rows::Subject> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&id[..])
            .fetch_optional(&self.read)
            .await?;
        super::rows::convert_one(row)
    }

    async fn consents_impl(&self, subject: &Id) -> Result<Vec<ConsentRow>> {
        let sql = format!(
            "SELECT {} FROM consent_state WHERE subject_id = $1 ORDER BY purpose, channel",
            super::rows::CONSENT_STATE_COLUMNS
        );
        let rows: Vec<super::rows::ConsentState> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&subject[..])
            .fetch_all(&self.read)
            .await?;
        super::rows::convert(rows)
    }
}

impl PostgresStore {
    /// PostgreSQL offers no way to zero a dead tuple's bytes or the WAL that holds them:
    /// old row versions stay in the table file until VACUUM reuses the space, and in `pg_wal`
    /// until it is recycled (docs/SECURITY.md, "Erasure and the copies a database keeps").
    fn scrub_freed_pages(&self) {}

    /// PostgreSQL has no faster path for a batch of events alone: `commit_batch` goes on.
    fn commit_events_only(
        &self,
        _jobs: usize,
        _tree_size: u64,
        _finish: &mut Finish<'_>,
    ) -> Result<Option<Vec<JobOutcome>>> {
        Ok(None)
    }

    async fn consented_among_impl(
        &self,
        subjects: &[Id],
        purpose: &str,
        channel: &str,
        check: StateCheck,
    ) -> Result<std::result::Result<Vec<Id>, ConsentRow>> {
        let ids: Vec<Vec<u8>> = subjects.iter().map(|id| id.to_vec()).collect();
        let rows = sqlx::query("SELECT subject_id, source, notice_version, updated_ms, mac FROM consent_state WHERE purpose = $1 AND channel = $2 AND granted = 1 AND subject_id = ANY($3)")
            .bind(purpose).bind(channel).bind(&ids)
            .fetch_all(&self.read).await?;
        let mut granted = Vec::with_capacity(rows.len());
        for r in &rows {
            let subject = id_from_slice(r.try_get::<&[u8], _>("subject_id")?)?;
            let row = ConsentStateRef {
                subject_id: &subject,
                purpose,
                channel,
                granted: true,
                source: r.try_get("source")?,
                notice_version: r.try_get("notice_version")?,
                created_ms: r.try_get("updated_ms")?,
                state_mac: r.try_get("mac")?,
            };
            if !check(&row) {
                return Ok(Err(row.to_row()));
            }
            granted.push(subject);
        }
        Ok(Ok(granted))
    }
}

impl PostgresStore {
    async fn bulk_tuning(_: &PgPool) -> Result<()> {
        Ok(())
    }

    async fn survey_codes_impl(&self, survey_id: &Id) -> Result<Vec<Vec<u8>>> {
        let codes = sqlx::query_scalar("SELECT coded FROM survey_responses WHERE survey_id = $1")
            .bind(&survey_id[..])
            .fetch_all(&self.read)
            .await?;
        Ok(codes)
    }

    /// Pages through the ledger inside one REPEATABLE READ transaction (one snapshot).
    fn stream_leaves_impl(&self, from: u64) -> tokio::sync::mpsc::Receiver<Result<Vec<LeafRow>>> {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let pool = self.read.clone();
        tokio::spawn(async move {
            if let Err(e) = stream_postgres_leaves(pool, from, &tx).await {
                let _ = tx.send(Err(e)).await;
            }
        });
        rx
    }
}

async fn stream_postgres_leaves(
    pool: PgPool,
    mut from: u64,
    tx: &tokio::sync::mpsc::Sender<Result<Vec<LeafRow>>>,
) -> Result<()> {
    let mut snapshot = pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    loop {
        let rows: Vec<super::rows::Leaf> = sqlx::query_as(
            "SELECT idx, data, leaf_hash FROM ledger_leaves WHERE idx >= $1 ORDER BY idx LIMIT $2",
        )
        .bind(from as i64)
        .bind(LEAF_PAGE as i64)
        .fetch_all(&mut *snapshot)
        .await?;
        if rows.is_empty() {
            return Ok(());
        }
        let page: Vec<LeafRow> = super::rows::convert(rows)?;
        from = page.last().map_or(from, |l| l.index + 1);
        if tx.send(Ok(page)).await.is_err() {
            return Ok(());
        }
    }
}
