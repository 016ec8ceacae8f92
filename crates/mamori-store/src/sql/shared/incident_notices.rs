//! Notices of incidents to the people they affected: who prepared them, and one row per person.

use super::*;

type NoticeTuple = (
    Vec<u8>,
    Vec<u8>,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<String>,
);

const NOTICE_COLUMNS: &str = "incident_id, subject_id, state, categories, first_ms, last_ms, attempts, changed_ms, sent_ms, jurisdiction";

fn notice(r: NoticeTuple) -> Result<NoticeRow> {
    Ok(NoticeRow {
        incident_id: id_from_slice(&r.0)?,
        subject_id: id_from_slice(&r.1)?,
        state: r.2,
        categories: r.3,
        first_ms: r.4,
        last_ms: r.5,
        attempts: r.6,
        changed_ms: r.7,
        sent_ms: r.8,
        jurisdiction: r.9,
    })
}

/// Rows per INSERT when adding many people at once.
const CHUNK: usize = 500;

#[async_trait]
impl NoticeStore for Backend {
    async fn notice_run(&self, incident: &Id) -> Result<Option<NoticeRunRow>> {
        type RunTuple = (String, String, String, String, Option<Vec<u8>>, i64);
        let row: Option<RunTuple> = sqlx::query_as(
            "SELECT actor, role, purpose, language, advice_sealed, prepared_ms \
             FROM incident_notice_runs WHERE incident_id = $1",
        )
        .bind(&incident[..])
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| NoticeRunRow {
            incident_id: *incident,
            actor: r.0,
            role: r.1,
            purpose: r.2,
            language: r.3,
            advice_sealed: r.4,
            prepared_ms: r.5,
        }))
    }

    async fn incident_notices(&self, incident: &Id) -> Result<Vec<NoticeRow>> {
        let sql = format!(
            "SELECT {NOTICE_COLUMNS} FROM incident_notices WHERE incident_id = $1 ORDER BY subject_id"
        );
        let rows: Vec<NoticeTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&incident[..])
            .fetch_all(&self.read)
            .await?;
        rows.into_iter().map(notice).collect()
    }

    async fn notices_due(&self, stale_ms: i64, limit: i64) -> Result<Vec<NoticeRow>> {
        // Two reads, each along the (state, changed_ms) index: an OR of the two would scan.
        let stale = format!(
            "SELECT {NOTICE_COLUMNS} FROM incident_notices \
             WHERE state = 'sending' AND changed_ms < $1 ORDER BY changed_ms LIMIT $2"
        );
        let pending = format!(
            "SELECT {NOTICE_COLUMNS} FROM incident_notices \
             WHERE state = 'pending' ORDER BY changed_ms LIMIT $1"
        );
        let mut rows: Vec<NoticeTuple> = sqlx::query_as(sqlx::AssertSqlSafe(stale))
            .bind(stale_ms)
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        let left = limit - rows.len() as i64;
        if left > 0 {
            let more: Vec<NoticeTuple> = sqlx::query_as(sqlx::AssertSqlSafe(pending))
                .bind(left)
                .fetch_all(&self.read)
                .await?;
            rows.extend(more);
        }
        rows.into_iter().map(notice).collect()
    }

    async fn subject_notices(&self, subject: &Id) -> Result<Vec<NoticeRow>> {
        let sql = format!(
            "SELECT {NOTICE_COLUMNS} FROM incident_notices WHERE subject_id = $1 ORDER BY first_ms"
        );
        let rows: Vec<NoticeTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&subject[..])
            .fetch_all(&self.read)
            .await?;
        rows.into_iter().map(notice).collect()
    }
}

async fn prepare(conn: &mut Conn, run: &NoticeRunRow, notices: &[NoticeRow]) -> Applied {
    sqlx::query(
        "INSERT INTO incident_notice_runs (incident_id, actor, role, purpose, language, advice_sealed, prepared_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (incident_id) DO UPDATE SET actor = excluded.actor, role = excluded.role, \
         purpose = excluded.purpose, language = excluded.language, \
         advice_sealed = excluded.advice_sealed, prepared_ms = excluded.prepared_ms",
    )
    .bind(&run.incident_id[..])
    .bind(&run.actor)
    .bind(&run.role)
    .bind(&run.purpose)
    .bind(&run.language)
    .bind(&run.advice_sealed)
    .bind(run.prepared_ms)
    .execute(&mut *conn)
    .await?;
    for chunk in notices.chunks(CHUNK) {
        let mut qb: QueryBuilder<Db> =
            QueryBuilder::new(format!("INSERT INTO incident_notices ({NOTICE_COLUMNS}) "));
        qb.push_values(chunk, |mut b, n| {
            b.push_bind(&n.incident_id[..])
                .push_bind(&n.subject_id[..])
                .push_bind(&n.state)
                .push_bind(&n.categories)
                .push_bind(n.first_ms)
                .push_bind(n.last_ms)
                .push_bind(n.attempts)
                .push_bind(n.changed_ms)
                .push_bind(n.sent_ms)
                .push_bind(&n.jurisdiction);
        });
        // A person noticed already keeps the notice they have.
        qb.push(" ON CONFLICT (incident_id, subject_id) DO NOTHING");
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

pub(super) async fn apply(conn: &mut Conn, change: &Change) -> Applied {
    match change {
        Change::PrepareNotices { run, notices } => prepare(conn, run, notices).await,
        Change::MoveNotice {
            incident_id,
            subject_id,
            from,
            to,
            at_ms,
            attempts,
            sent,
            jurisdiction,
        } => {
            let done = sqlx::query(
                "UPDATE incident_notices SET state = $1, changed_ms = $2, attempts = $3, \
                 sent_ms = CASE WHEN $4 THEN $2 ELSE sent_ms END, \
                 jurisdiction = COALESCE($8, jurisdiction) \
                 WHERE incident_id = $5 AND subject_id = $6 AND state = $7",
            )
            .bind(to)
            .bind(at_ms)
            .bind(attempts)
            .bind(sent)
            .bind(&incident_id[..])
            .bind(&subject_id[..])
            .bind(from)
            .bind(jurisdiction)
            .execute(&mut *conn)
            .await?;
            changed_a_row(done, JobError::Duplicate)
        }
        _ => Err(misrouted()),
    }
}
