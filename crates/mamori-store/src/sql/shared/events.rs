//! The transactional outbox (events announced to other systems: ids and states only) and the
//! webhook subscriptions that consume it.

use super::*;
use rows::WEBHOOK_COLUMNS;

#[async_trait]
impl EventStore for Backend {
    async fn webhooks(&self) -> Result<Vec<WebhookRow>> {
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE removed_ms IS NULL ORDER BY created_ms, id"
        );
        let rows: Vec<rows::Webhook> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.read)
            .await?;
        convert(rows)
    }

    async fn webhook(&self, id: &Id) -> Result<Option<WebhookRow>> {
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1");
        let row: Option<rows::Webhook> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&id[..])
            .fetch_optional(&self.read)
            .await?;
        convert_one(row)
    }

    async fn last_event_seq(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM outbox")
                .fetch_one(&self.read)
                .await?,
        )
    }

    async fn dead_letters(&self, webhook: &Id) -> Result<Vec<(i64, i64, Option<i64>)>> {
        Ok(sqlx::query_as(
            "SELECT seq, attempts, last_status FROM webhook_dead_letters WHERE webhook_id = $1 ORDER BY seq",
        )
        .bind(&webhook[..])
        .fetch_all(&self.read)
        .await?)
    }

    async fn events_after(&self, after: i64, limit: i64) -> Result<Vec<OutboxRow>> {
        let rows: Vec<rows::Outbox> = sqlx::query_as(
            "SELECT seq, id, kind, subject_id, payload, created_ms FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        convert(rows)
    }
}

pub(super) async fn apply(conn: &mut Conn, change: &Change) -> Applied {
    match change {
        Change::Announce(e) => {
            sqlx::query("INSERT INTO outbox (id, kind, subject_id, payload, created_ms) VALUES ($1, $2, $3, $4, $5)")
                .bind(&e.id[..]).bind(&e.kind).bind(e.subject_id.map(|s| s.to_vec())).bind(&e.payload).bind(e.created_ms)
                .execute(&mut *conn).await.map_err(duplicate)?;
            Ok(())
        }
        Change::AnnounceToSubjects {
            kind,
            payload,
            created_ms,
            granted_purpose,
        } => {
            announce_to_subjects(conn, kind, payload, *created_ms, granted_purpose.as_deref()).await
        }
        Change::InsertWebhook(w) => {
            sqlx::query("INSERT INTO webhooks (id, url, event_types, created_ms, cursor, attempts, next_attempt_ms) VALUES ($1, $2, $3, $4, $5, 0, 0)")
                .bind(&w.id[..]).bind(&w.url).bind(&w.event_types).bind(w.created_ms).bind(w.cursor)
                .execute(&mut *conn).await.map_err(duplicate)?;
            Ok(())
        }
        Change::RemoveWebhook { id, removed_ms } => {
            let done = sqlx::query(
                "UPDATE webhooks SET removed_ms = $1 WHERE id = $2 AND removed_ms IS NULL",
            )
            .bind(removed_ms)
            .bind(&id[..])
            .execute(&mut *conn)
            .await?;
            changed_a_row(done, JobError::Gone)
        }
        Change::WebhookProgress {
            id,
            expected_cursor,
            cursor,
            attempts,
            next_attempt_ms,
            last_status,
        } => {
            sqlx::query("UPDATE webhooks SET cursor = $1, attempts = $2, next_attempt_ms = $3, last_status = $4 WHERE id = $5 AND ($6 IS NULL OR cursor = $6)")
                .bind(cursor).bind(attempts).bind(next_attempt_ms).bind(last_status).bind(&id[..]).bind(expected_cursor)
                .execute(&mut *conn).await?;
            Ok(())
        }
        Change::DeadLetter {
            webhook_id,
            seq,
            attempts,
            last_status,
            failed_ms,
        } => {
            sqlx::query("INSERT INTO webhook_dead_letters (webhook_id, seq, attempts, last_status, failed_ms) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (webhook_id, seq) DO UPDATE SET attempts = excluded.attempts, last_status = excluded.last_status, failed_ms = excluded.failed_ms")
                .bind(&webhook_id[..]).bind(seq).bind(attempts).bind(last_status).bind(failed_ms)
                .execute(&mut *conn).await?;
            Ok(())
        }
        _ => Err(misrouted()),
    }
}

/// Pausing or resuming an active subscription, and rotating its signing secret.
pub(super) async fn apply_webhook_controls(conn: &mut Conn, change: &Change) -> Applied {
    match change {
        Change::PauseWebhook { id, paused_ms } => {
            let sql = match paused_ms {
                Some(_) => {
                    "UPDATE webhooks SET paused_ms = COALESCE(paused_ms, $1) WHERE id = $2 AND removed_ms IS NULL"
                }
                None => "UPDATE webhooks SET paused_ms = $1 WHERE id = $2 AND removed_ms IS NULL",
            };
            let done = sqlx::query(sql)
                .bind(paused_ms)
                .bind(&id[..])
                .execute(&mut *conn)
                .await?;
            changed_a_row(done, JobError::Gone)
        }
        Change::RotateWebhookSecret {
            id,
            secret_version,
            previous_secret_until_ms,
        } => {
            let done = sqlx::query("UPDATE webhooks SET secret_version = $1, previous_secret_until_ms = $2 WHERE id = $3 AND removed_ms IS NULL AND secret_version = $4")
                .bind(secret_version).bind(previous_secret_until_ms).bind(&id[..]).bind(secret_version - 1)
                .execute(&mut *conn).await?;
            changed_a_row(done, JobError::Stale)
        }
        _ => Err(misrouted()),
    }
}

/// One event per live subject (or per live subject granting `purpose`), in id order, with ids
/// the database draws.
async fn announce_to_subjects(
    conn: &mut Conn,
    kind: &str,
    payload: &str,
    created_ms: i64,
    granted_purpose: Option<&str>,
) -> Applied {
    let random_id = DIALECT.random_id;
    match granted_purpose {
        None => {
            let sql = format!(
                "INSERT INTO outbox (id, kind, subject_id, payload, created_ms) SELECT {random_id}, $1, id, $2, $3 FROM subjects WHERE erased_ms IS NULL ORDER BY id"
            );
            sqlx::query(dialect_sql(sql))
                .bind(kind)
                .bind(payload)
                .bind(created_ms)
                .execute(&mut *conn)
                .await?;
        }
        Some(purpose) => {
            let sql = format!(
                "INSERT INTO outbox (id, kind, subject_id, payload, created_ms) SELECT {random_id}, $1, s.id, $2, $3 FROM subjects s WHERE s.erased_ms IS NULL AND EXISTS \
                               (SELECT 1 FROM consent_state c WHERE c.subject_id = s.id AND c.purpose = $4 AND c.granted = 1) ORDER BY s.id"
            );
            sqlx::query(dialect_sql(sql))
                .bind(kind)
                .bind(payload)
                .bind(created_ms)
                .bind(purpose)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}
