//! Passkey ceremonies in flight, factors added or removed after enrolment, and staff disabled
//! or started over.

use super::*;

/// staff_id, kind, sealed, expires_ms.
type ChallengeTuple = (Option<Vec<u8>>, String, Vec<u8>, i64);

pub(super) async fn passkey_challenge(
    pool: &sqlx::Pool<Db>,
    digest: &[u8; 32],
    now_ms: i64,
) -> Result<Option<PasskeyChallengeRow>> {
    let row: Option<ChallengeTuple> = sqlx::query_as(
        "SELECT staff_id, kind, sealed, expires_ms FROM staff_passkey_challenges \
         WHERE digest = $1 AND expires_ms > $2",
    )
    .bind(&digest[..])
    .bind(now_ms)
    .fetch_optional(pool)
    .await?;
    row.map(|(staff_id, kind, sealed, expires_ms)| {
        Ok(PasskeyChallengeRow {
            digest: *digest,
            staff_id: staff_id.map(|id| id_from_slice(&id)).transpose()?,
            kind,
            sealed,
            expires_ms,
        })
    })
    .transpose()
}

pub(super) async fn apply(conn: &mut Conn, change: &Change) -> Applied {
    match change {
        Change::IssuePasskeyChallenge {
            challenge: c,
            now_ms,
        } => {
            // Ceremonies nobody finished go as new ones start: the table stays small.
            sqlx::query("DELETE FROM staff_passkey_challenges WHERE expires_ms <= $1")
                .bind(now_ms)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "INSERT INTO staff_passkey_challenges (digest, staff_id, kind, sealed, expires_ms) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&c.digest[..])
            .bind(c.staff_id.map(|id| id.to_vec()))
            .bind(&c.kind)
            .bind(&c.sealed)
            .bind(c.expires_ms)
            .execute(&mut *conn)
            .await
            .map_err(duplicate)?;
            Ok(())
        }
        Change::TakePasskeyChallenge { digest, at_ms } => {
            let taken = sqlx::query(
                "DELETE FROM staff_passkey_challenges WHERE digest = $1 AND expires_ms > $2",
            )
            .bind(&digest[..])
            .bind(at_ms)
            .execute(&mut *conn)
            .await?;
            changed_a_row(taken, JobError::Stale)
        }
        Change::AddStaffFactor(factor) => super::staff_sign_in::insert_factor(conn, factor).await,
        Change::DisableStaff { staff_id, at_ms } => {
            let disabled = sqlx::query(
                "UPDATE staff SET disabled_ms = $1 WHERE id = $2 AND disabled_ms IS NULL",
            )
            .bind(at_ms)
            .bind(&staff_id[..])
            .execute(&mut *conn)
            .await?;
            changed_a_row(disabled, JobError::Stale)?;
            sqlx::query(
                "UPDATE staff_sessions SET ended_ms = $1 WHERE staff_id = $2 AND ended_ms IS NULL",
            )
            .bind(at_ms)
            .bind(&staff_id[..])
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "UPDATE staff_enrolments SET used_ms = $1 WHERE staff_id = $2 AND used_ms IS NULL",
            )
            .bind(at_ms)
            .bind(&staff_id[..])
            .execute(&mut *conn)
            .await?;
            Ok(())
        }
        Change::RemoveStaffFactor {
            staff_id,
            factor_id,
        } => {
            let removed = sqlx::query(
                "DELETE FROM staff_factors WHERE id = $1 AND staff_id = $2 \
                 AND (SELECT COUNT(*) FROM staff_factors WHERE staff_id = $2) > 1",
            )
            .bind(&factor_id[..])
            .bind(&staff_id[..])
            .execute(&mut *conn)
            .await?;
            changed_a_row(removed, JobError::Stale)
        }
        Change::ResetStaff { enrolment, at_ms } => reset_staff(conn, enrolment, *at_ms).await,
        _ => Err(misrouted()),
    }
}

async fn reset_staff(conn: &mut Conn, enrolment: &StaffEnrolmentRow, at_ms: i64) -> Applied {
    let id = &enrolment.staff_id[..];
    let reset = sqlx::query(
        "UPDATE staff SET password_hash = NULL, enrolled_ms = NULL, disabled_ms = NULL, \
         failures = 0, locked_until_ms = NULL WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    changed_a_row(reset, JobError::Stale)?;
    for forget in [
        "DELETE FROM staff_factors WHERE staff_id = $1",
        "DELETE FROM staff_recovery_codes WHERE staff_id = $1",
    ] {
        sqlx::query(forget).bind(id).execute(&mut *conn).await?;
    }
    for end in [
        "UPDATE staff_sessions SET ended_ms = $1 WHERE staff_id = $2 AND ended_ms IS NULL",
        "UPDATE staff_enrolments SET used_ms = $1 WHERE staff_id = $2 AND used_ms IS NULL",
    ] {
        sqlx::query(end)
            .bind(at_ms)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("INSERT INTO staff_enrolments (digest, staff_id, expires_ms) VALUES ($1, $2, $3)")
        .bind(&enrolment.digest[..])
        .bind(id)
        .bind(enrolment.expires_ms)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
