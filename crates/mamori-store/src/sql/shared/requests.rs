//! Rights requests (the register, with their deadlines and reminders) and the Data Rights
//! Protocol agents that file them for people.

use super::*;
use rows::{DRP_AGENT_COLUMNS, REQUEST_COLUMNS};

#[async_trait]
impl RequestStore for Backend {
    async fn request(&self, id: &Id) -> Result<Option<RequestRow>> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM rights_requests WHERE id = $1");
        let row: Option<rows::Request> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&id[..])
            .fetch_optional(&self.read)
            .await?;
        convert_one(row)
    }

    async fn waiting_requests(&self, limit: i64) -> Result<Vec<RequestRow>> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM rights_requests WHERE waiting_for IS NOT NULL \
             AND closed_ms IS NULL ORDER BY received_ms, id LIMIT $1"
        );
        let rows: Vec<rows::Request> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        convert(rows)
    }

    async fn requests_to_remind(&self, before_ms: i64, limit: i64) -> Result<Vec<RequestRow>> {
        // The open queue's partial index gives the rows in due order; few are unreminded.
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM rights_requests WHERE closed_ms IS NULL AND due_ms < $1 \
             AND (reminded_due_ms IS NULL OR reminded_due_ms <> due_ms) ORDER BY due_ms, id LIMIT $2"
        );
        let rows: Vec<rows::Request> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(before_ms)
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        convert(rows)
    }

    async fn open_request_counts(
        &self,
        now_ms: i64,
        soon_ms: i64,
        cap: i64,
    ) -> Result<(i64, i64, i64)> {
        // Three range counts over the open queue's partial index (due_ms, id), each stopping at
        // `cap`: a page that says "1,000+" costs the same with a hundred thousand open.
        let count = async |from: i64, to: i64| -> Result<i64> {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM (SELECT 1 FROM rights_requests WHERE closed_ms IS NULL \
                 AND due_ms >= $1 AND due_ms < $2 LIMIT $3) AS capped",
            )
            .bind(from)
            .bind(to)
            .bind(cap)
            .fetch_one(&self.read)
            .await?;
            Ok(n)
        };
        Ok((
            count(i64::MIN, i64::MAX).await?,
            count(i64::MIN, now_ms).await?,
            count(now_ms, soon_ms).await?,
        ))
    }

    async fn open_requests_by_kind(&self, now_ms: i64) -> Result<Vec<OpenKindCount>> {
        let rows: Vec<(String, i64, i64, i64, Option<i64>)> = sqlx::query_as(
            "SELECT kind, COUNT(*), SUM(CASE WHEN due_ms < $1 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN waiting_for IS NOT NULL THEN 1 ELSE 0 END), MIN(due_ms) \
             FROM rights_requests WHERE closed_ms IS NULL GROUP BY kind ORDER BY kind",
        )
        .bind(now_ms)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(kind, open, overdue, waiting, soonest_due_ms)| OpenKindCount {
                    kind,
                    open,
                    overdue,
                    waiting,
                    soonest_due_ms,
                },
            )
            .collect())
    }

    async fn requests(&self, f: &RequestFilter) -> Result<Vec<RequestRow>> {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
            "SELECT {REQUEST_COLUMNS} FROM rights_requests WHERE "
        ));
        match (&f.state, f.reference) {
            // One request by its reference, whatever its state (unless one is named).
            (None, Some(reference)) => qb.push("reference = ").push_bind(reference),
            // Written as the partial index's condition, so the open queue reads it in order.
            (None, None) => qb.push("closed_ms IS NULL"),
            (Some(state), reference) => {
                qb.push("state = ").push_bind(state.clone());
                if let Some(reference) = reference {
                    qb.push(" AND reference = ").push_bind(reference);
                }
                &mut qb
            }
        };
        if let Some(due) = f.due_before {
            qb.push(" AND due_ms < ").push_bind(due);
        }
        if let Some(subject) = f.subject {
            qb.push(" AND subject_id = ").push_bind(subject.to_vec());
        }
        if let Some((due, id)) = f.after {
            qb.push(" AND (due_ms > ")
                .push_bind(due)
                .push(" OR (due_ms = ")
                .push_bind(due)
                .push(" AND id > ")
                .push_bind(id.to_vec())
                .push("))");
        }
        qb.push(" ORDER BY due_ms, id LIMIT ").push_bind(f.limit);
        let rows: Vec<rows::Request> = qb.build_query_as().fetch_all(&self.read).await?;
        convert(rows)
    }

    async fn drp_agent(&self, id: &str) -> Result<Option<DrpAgentRow>> {
        let sql = format!("SELECT {DRP_AGENT_COLUMNS} FROM drp_agents WHERE id = $1");
        let row: Option<rows::DrpAgent> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        convert_one(row)
    }

    async fn drp_agents(&self) -> Result<Vec<DrpAgentRow>> {
        let sql = format!("SELECT {DRP_AGENT_COLUMNS} FROM drp_agents ORDER BY id");
        let rows: Vec<rows::DrpAgent> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.read)
            .await?;
        convert(rows)
    }

    async fn drp_token_agent(&self, digest: &[u8; 32]) -> Result<Option<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT t.agent_id, t.created_ms FROM drp_tokens t JOIN drp_agents a ON a.id = t.agent_id WHERE t.digest = $1 AND a.removed_ms IS NULL",
        )
        .bind(&digest[..])
        .fetch_optional(&self.read)
        .await?)
    }

    async fn drp_request(&self, request_id: &Id) -> Result<Option<DrpRequestRow>> {
        let row: Option<rows::DrpRequest> = sqlx::query_as(
            "SELECT request_id, agent_id, agent_request_id, status_callback FROM drp_requests WHERE request_id = $1",
        )
        .bind(&request_id[..])
        .fetch_optional(&self.read)
        .await?;
        convert_one(row)
    }
}

pub(super) async fn apply(conn: &mut Conn, change: &Change) -> Applied {
    match change {
        Change::InsertRequest(r) => {
            sqlx::query("INSERT INTO rights_requests (id, kind, subject_id, jurisdiction, source, state, received_ms, due_ms, extension, closed_ms, reason, updated_ms, reference, waiting_for, verified_by, verified_ms) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)")
                .bind(&r.id[..]).bind(r.kind.as_str()).bind(r.subject_id.map(|s| s.to_vec())).bind(&r.jurisdiction).bind(r.source.as_str()).bind(r.state.as_str())
                .bind(r.received_ms).bind(r.due_ms).bind(r.extension.map(ExtensionReason::as_str)).bind(r.closed_ms).bind(r.reason.map(DenialReason::as_str)).bind(r.updated_ms).bind(r.reference)
                .bind(r.waiting_for.map(WaitReason::as_str))
                .bind(r.verified.map(|(by, _)| by.as_str())).bind(r.verified.map(|(_, at)| at))
                .execute(&mut *conn).await.map_err(duplicate)?;
            Ok(())
        }
        Change::UpdateRequest {
            expected_state,
            row: r,
        } => {
            let done = sqlx::query("UPDATE rights_requests SET state = $1, due_ms = $2, extension = $3, closed_ms = $4, reason = $5, updated_ms = $6, waiting_for = $9, \
                                    verified_by = $10, verified_ms = $11 WHERE id = $7 AND state = $8")
                .bind(r.state.as_str()).bind(r.due_ms).bind(r.extension.map(ExtensionReason::as_str)).bind(r.closed_ms).bind(r.reason.map(DenialReason::as_str)).bind(r.updated_ms)
                .bind(&r.id[..]).bind(expected_state.as_str())
                .bind(r.waiting_for.map(WaitReason::as_str))
                .bind(r.verified.map(|(by, _)| by.as_str())).bind(r.verified.map(|(_, at)| at))
                .execute(&mut *conn).await?;
            changed_a_row(done, JobError::Stale)
        }
        Change::MarkRequestReminded { id, due_ms } => {
            let done = sqlx::query("UPDATE rights_requests SET reminded_due_ms = $1 WHERE id = $2 AND due_ms = $1 AND closed_ms IS NULL \
                                    AND (reminded_due_ms IS NULL OR reminded_due_ms <> $1)")
                .bind(due_ms).bind(&id[..]).execute(&mut *conn).await?;
            changed_a_row(done, JobError::Stale)
        }
        _ => Err(misrouted()),
    }
}

pub(super) async fn apply_drp(conn: &mut Conn, change: &Change) -> Applied {
    match change {
        Change::InsertDrpAgent(a) => {
            sqlx::query(
                "INSERT INTO drp_agents (id, name, verify_key, created_ms) VALUES ($1, $2, $3, $4)",
            )
            .bind(&a.id)
            .bind(&a.name)
            .bind(&a.verify_key[..])
            .bind(a.created_ms)
            .execute(&mut *conn)
            .await
            .map_err(duplicate)?;
            Ok(())
        }
        Change::RemoveDrpAgent { id, removed_ms } => {
            let done = sqlx::query(
                "UPDATE drp_agents SET removed_ms = $1 WHERE id = $2 AND removed_ms IS NULL",
            )
            .bind(removed_ms)
            .bind(id)
            .execute(&mut *conn)
            .await?;
            changed_a_row(done, JobError::Gone)
        }
        Change::SpendDrpMessage {
            digest,
            expires_ms,
            now_ms,
        } => {
            sqlx::query("DELETE FROM drp_spent WHERE expires_ms < $1")
                .bind(now_ms)
                .execute(&mut *conn)
                .await?;
            sqlx::query("INSERT INTO drp_spent (digest, expires_ms) VALUES ($1, $2)")
                .bind(&digest[..])
                .bind(expires_ms)
                .execute(&mut *conn)
                .await
                .map_err(duplicate)?;
            Ok(())
        }
        Change::InsertDrpToken {
            digest,
            agent_id,
            created_ms,
        } => {
            sqlx::query("DELETE FROM drp_tokens WHERE agent_id = $1")
                .bind(agent_id)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "INSERT INTO drp_tokens (digest, agent_id, created_ms) VALUES ($1, $2, $3)",
            )
            .bind(&digest[..])
            .bind(agent_id)
            .bind(created_ms)
            .execute(&mut *conn)
            .await
            .map_err(duplicate)?;
            Ok(())
        }
        Change::InsertDrpRequest(r) => {
            sqlx::query("INSERT INTO drp_requests (request_id, agent_id, agent_request_id, status_callback) VALUES ($1, $2, $3, $4)")
                .bind(&r.request_id[..]).bind(&r.agent_id).bind(&r.agent_request_id).bind(&r.status_callback)
                .execute(&mut *conn).await.map_err(duplicate)?;
            Ok(())
        }
        _ => Err(misrouted()),
    }
}

/// Pauses (keeping the first pause time) or resumes an agent that is not removed.
pub(super) async fn pause_drp_agent(conn: &mut Conn, change: &Change) -> Applied {
    let Change::PauseDrpAgent { id, paused_ms } = change else {
        return Err(misrouted());
    };
    let sql = match paused_ms {
        Some(_) => {
            "UPDATE drp_agents SET paused_ms = COALESCE(paused_ms, $1) WHERE id = $2 AND removed_ms IS NULL"
        }
        None => "UPDATE drp_agents SET paused_ms = $1 WHERE id = $2 AND removed_ms IS NULL",
    };
    let done = sqlx::query(sql)
        .bind(paused_ms)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    changed_a_row(done, JobError::Gone)
}
