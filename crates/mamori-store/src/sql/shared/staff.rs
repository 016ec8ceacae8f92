//! Staff and their enrolment links.

use super::*;

type StaffTuple = (
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    String,
    Option<String>,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
    Option<i64>,
);

const STAFF_COLUMNS: &str = "id, email_index, email_sealed, role, password_hash, created_ms, \
     enrolled_ms, disabled_ms, failures, locked_until_ms";

fn staff(row: StaffTuple) -> Result<StaffRow> {
    let (
        id,
        email_index,
        email_sealed,
        role,
        password_hash,
        created_ms,
        enrolled_ms,
        disabled_ms,
        failures,
        locked_until_ms,
    ) = row;
    Ok(StaffRow {
        id: id_from_slice(&id)?,
        email_index: (email_index.try_into())
            .map_err(|_| StoreError::Corrupt("staff email index is not 32 bytes"))?,
        email_sealed,
        role,
        password_hash,
        created_ms,
        enrolled_ms,
        disabled_ms,
        failures,
        locked_until_ms,
    })
}

#[async_trait]
impl StaffStore for Backend {
    async fn staff_member(&self, id: &Id) -> Result<Option<StaffRow>> {
        let sql = format!("SELECT {STAFF_COLUMNS} FROM staff WHERE id = $1");
        let row: Option<StaffTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&id[..])
            .fetch_optional(&self.read)
            .await?;
        row.map(staff).transpose()
    }

    async fn staff_by_email(&self, index: &[u8; 32]) -> Result<Option<StaffRow>> {
        let sql = format!("SELECT {STAFF_COLUMNS} FROM staff WHERE email_index = $1");
        let row: Option<StaffTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&index[..])
            .fetch_optional(&self.read)
            .await?;
        row.map(staff).transpose()
    }

    async fn staff_members(&self) -> Result<Vec<StaffRow>> {
        let sql = format!("SELECT {STAFF_COLUMNS} FROM staff ORDER BY created_ms, id");
        let rows: Vec<StaffTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.read)
            .await?;
        rows.into_iter().map(staff).collect()
    }

    async fn staff_enrolment(&self, digest: &[u8; 32]) -> Result<Option<StaffEnrolmentRow>> {
        let row: Option<(Vec<u8>, Vec<u8>, i64, Option<i64>)> = sqlx::query_as(
            "SELECT digest, staff_id, expires_ms, used_ms FROM staff_enrolments WHERE digest = $1",
        )
        .bind(&digest[..])
        .fetch_optional(&self.read)
        .await?;
        row.map(|(digest, staff_id, expires_ms, used_ms)| {
            Ok(StaffEnrolmentRow {
                digest: (digest.try_into())
                    .map_err(|_| StoreError::Corrupt("enrolment digest is not 32 bytes"))?,
                staff_id: id_from_slice(&staff_id)?,
                expires_ms,
                used_ms,
            })
        })
        .transpose()
    }
}

pub(super) async fn apply(conn: &mut Conn, change: &Change) -> Applied {
    match change {
        Change::InsertStaff {
            staff: s,
            enrolment: e,
        } => {
            sqlx::query("INSERT INTO staff (id, email_index, email_sealed, role, created_ms) VALUES ($1, $2, $3, $4, $5)")
                .bind(&s.id[..]).bind(&s.email_index[..]).bind(&s.email_sealed).bind(&s.role).bind(s.created_ms)
                .execute(&mut *conn).await.map_err(duplicate)?;
            sqlx::query(
                "INSERT INTO staff_enrolments (digest, staff_id, expires_ms) VALUES ($1, $2, $3)",
            )
            .bind(&e.digest[..])
            .bind(&e.staff_id[..])
            .bind(e.expires_ms)
            .execute(&mut *conn)
            .await?;
            Ok(())
        }
        Change::CompleteEnrolment {
            digest,
            staff_id,
            password_hash,
            at_ms,
            factor,
            recovery_codes,
        } => {
            let spent = sqlx::query("UPDATE staff_enrolments SET used_ms = $1 WHERE digest = $2 AND staff_id = $3 AND used_ms IS NULL AND expires_ms > $1")
                .bind(at_ms).bind(&digest[..]).bind(&staff_id[..])
                .execute(&mut *conn).await?;
            changed_a_row(spent, JobError::Stale)?;
            sqlx::query("UPDATE staff SET password_hash = $1, enrolled_ms = $2 WHERE id = $3")
                .bind(password_hash)
                .bind(at_ms)
                .bind(&staff_id[..])
                .execute(&mut *conn)
                .await?;
            super::staff_sign_in::insert_factor(conn, factor).await?;
            for code in recovery_codes {
                sqlx::query("INSERT INTO staff_recovery_codes (digest, staff_id) VALUES ($1, $2)")
                    .bind(&code[..])
                    .bind(&staff_id[..])
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        }
        _ => super::staff_sign_in::apply(conn, change).await,
    }
}
