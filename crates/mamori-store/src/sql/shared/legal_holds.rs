//! Legal holds: placed, lifted, and the ones in force.

use super::*;

type HoldTuple = (
    Vec<u8>,
    Option<Vec<u8>>,
    Option<String>,
    String,
    Option<i64>,
    i64,
    Option<i64>,
);

const HOLD_COLUMNS: &str = "id, subject_id, category, reason, until_ms, created_ms, lifted_ms";

fn hold(row: HoldTuple) -> Result<LegalHoldRow> {
    let (id, subject_id, category, reason, until_ms, created_ms, lifted_ms) = row;
    Ok(LegalHoldRow {
        id: id_from_slice(&id)?,
        subject_id: subject_id.map(|s| id_from_slice(&s)).transpose()?,
        category,
        reason,
        until_ms,
        created_ms,
        lifted_ms,
    })
}

#[async_trait]
impl LegalHoldStore for Backend {
    async fn legal_holds(&self, now_ms: i64) -> Result<Vec<LegalHoldRow>> {
        let sql = format!(
            "SELECT {HOLD_COLUMNS} FROM legal_holds WHERE lifted_ms IS NULL AND (until_ms IS NULL OR until_ms > $1) ORDER BY created_ms, id"
        );
        let rows: Vec<HoldTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(now_ms)
            .fetch_all(&self.read)
            .await?;
        rows.into_iter().map(hold).collect()
    }

    async fn legal_hold(&self, id: &Id) -> Result<Option<LegalHoldRow>> {
        let sql = format!("SELECT {HOLD_COLUMNS} FROM legal_holds WHERE id = $1");
        let row: Option<HoldTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&id[..])
            .fetch_optional(&self.read)
            .await?;
        row.map(hold).transpose()
    }
}

pub(super) async fn apply(conn: &mut Conn, change: &Change) -> Applied {
    match change {
        Change::InsertLegalHold(h) => {
            sqlx::query("INSERT INTO legal_holds (id, subject_id, category, reason, until_ms, created_ms) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&h.id[..]).bind(h.subject_id.map(|s| s.to_vec())).bind(&h.category).bind(&h.reason).bind(h.until_ms).bind(h.created_ms)
                .execute(&mut *conn).await?;
            Ok(())
        }
        Change::LiftLegalHold { id, lifted_ms } => {
            let done = sqlx::query(
                "UPDATE legal_holds SET lifted_ms = $1 WHERE id = $2 AND lifted_ms IS NULL",
            )
            .bind(lifted_ms)
            .bind(&id[..])
            .execute(&mut *conn)
            .await?;
            changed_a_row(done, JobError::Gone)
        }
        _ => Err(misrouted()),
    }
}
