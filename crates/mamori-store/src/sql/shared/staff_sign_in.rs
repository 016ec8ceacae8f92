//! Staff sign-in: second factors, recovery codes, sessions and failed attempts.

use super::*;

type SessionTuple = (Vec<u8>, Vec<u8>, Vec<u8>, i64, i64, i64, Option<i64>);

const SESSION_COLUMNS: &str = "digest, id, staff_id, created_ms, seen_ms, verified_ms, ended_ms";

fn digest32(bytes: Vec<u8>, what: &'static str) -> Result<[u8; 32]> {
    bytes.try_into().map_err(|_| StoreError::Corrupt(what))
}

fn session(row: SessionTuple) -> Result<StaffSessionRow> {
    let (digest, id, staff_id, created_ms, seen_ms, verified_ms, ended_ms) = row;
    Ok(StaffSessionRow {
        digest: digest32(digest, "staff session digest is not 32 bytes")?,
        id: id_from_slice(&id)?,
        staff_id: id_from_slice(&staff_id)?,
        created_ms,
        seen_ms,
        verified_ms,
        ended_ms,
    })
}

#[async_trait]
impl StaffSignInStore for Backend {
    async fn staff_factors(&self, staff_id: &Id) -> Result<Vec<StaffFactorRow>> {
        let rows: Vec<(Vec<u8>, String, Vec<u8>, i64, i64)> = sqlx::query_as(
            "SELECT id, kind, sealed, last_used, created_ms FROM staff_factors \
             WHERE staff_id = $1 ORDER BY created_ms, id",
        )
        .bind(&staff_id[..])
        .fetch_all(&self.read)
        .await?;
        (rows.into_iter())
            .map(|(id, kind, sealed, last_used, created_ms)| {
                Ok(StaffFactorRow {
                    id: id_from_slice(&id)?,
                    staff_id: *staff_id,
                    kind,
                    sealed,
                    last_used,
                    created_ms,
                })
            })
            .collect()
    }

    async fn unused_recovery_codes(&self, staff_id: &Id) -> Result<Vec<[u8; 32]>> {
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
            "SELECT digest FROM staff_recovery_codes WHERE staff_id = $1 AND used_ms IS NULL",
        )
        .bind(&staff_id[..])
        .fetch_all(&self.read)
        .await?;
        (rows.into_iter())
            .map(|(d,)| digest32(d, "recovery code digest is not 32 bytes"))
            .collect()
    }

    async fn staff_session(&self, digest: &[u8; 32]) -> Result<Option<StaffSessionRow>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM staff_sessions WHERE digest = $1");
        let row: Option<SessionTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&digest[..])
            .fetch_optional(&self.read)
            .await?;
        row.map(session).transpose()
    }

    async fn open_staff_sessions(&self, staff_id: &Id) -> Result<Vec<StaffSessionRow>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM staff_sessions WHERE staff_id = $1 \
             AND ended_ms IS NULL ORDER BY created_ms DESC, id"
        );
        let rows: Vec<SessionTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&staff_id[..])
            .fetch_all(&self.read)
            .await?;
        rows.into_iter().map(session).collect()
    }

    async fn staff_training_to_remind(
        &self,
        before_ms: i64,
        limit: i64,
    ) -> Result<Vec<StaffTrainingRow>> {
        let rows: Vec<(Vec<u8>, String, String, i64, i64, i64)> = sqlx::query_as(
            "SELECT staff_id, role, scope, policy_version, passed_ms, expires_ms FROM staff_training \
             WHERE reminded_ms IS NULL AND expires_ms < $1 ORDER BY expires_ms LIMIT $2",
        )
        .bind(before_ms)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        (rows.into_iter())
            .map(|(id, role, scope, policy_version, passed_ms, expires_ms)| {
                Ok(StaffTrainingRow {
                    staff_id: id_from_slice(&id)?,
                    role,
                    scope,
                    policy_version,
                    passed_ms,
                    expires_ms,
                    reminded_ms: None,
                })
            })
            .collect()
    }

    async fn passkey_challenge(
        &self,
        digest: &[u8; 32],
        now_ms: i64,
    ) -> Result<Option<PasskeyChallengeRow>> {
        super::staff_passkeys::passkey_challenge(&self.read, digest, now_ms).await
    }

    async fn staff_training(&self, staff_id: &Id, role: &str) -> Result<Option<StaffTrainingRow>> {
        let row: Option<(String, i64, i64, i64, Option<i64>)> = sqlx::query_as(
            "SELECT scope, policy_version, passed_ms, expires_ms, reminded_ms FROM staff_training \
             WHERE staff_id = $1 AND role = $2",
        )
        .bind(&staff_id[..])
        .bind(role)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(
            |(scope, policy_version, passed_ms, expires_ms, reminded_ms)| StaffTrainingRow {
                staff_id: *staff_id,
                role: role.to_string(),
                scope,
                policy_version,
                passed_ms,
                expires_ms,
                reminded_ms,
            },
        ))
    }
}

pub(super) async fn insert_factor(conn: &mut Conn, f: &StaffFactorRow) -> Applied {
    sqlx::query(
        "INSERT INTO staff_factors (id, staff_id, kind, sealed, last_used, created_ms) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&f.id[..])
    .bind(&f.staff_id[..])
    .bind(&f.kind)
    .bind(&f.sealed)
    .bind(f.last_used)
    .bind(f.created_ms)
    .execute(&mut *conn)
    .await
    .map_err(duplicate)?;
    Ok(())
}

/// Spends the factor a sign-in used; Stale when another sign-in took it first.
async fn spend(conn: &mut Conn, staff_id: &Id, factor: &FactorUse, at_ms: i64) -> Applied {
    let done = match factor {
        FactorUse::Totp { factor_id, step } => {
            sqlx::query(
                "UPDATE staff_factors SET last_used = $1 \
                 WHERE id = $2 AND staff_id = $3 AND last_used < $1",
            )
            .bind(step)
            .bind(&factor_id[..])
            .bind(&staff_id[..])
            .execute(&mut *conn)
            .await?
        }
        // A passkey without a counter (0, synced passkeys) is kept from replay by its
        // single-use challenge instead.
        FactorUse::Passkey {
            factor_id,
            counter,
            sealed,
        } => {
            sqlx::query(
                "UPDATE staff_factors SET last_used = $1, sealed = $4 \
                 WHERE id = $2 AND staff_id = $3 AND (last_used < $1 OR $1 = 0)",
            )
            .bind(counter)
            .bind(&factor_id[..])
            .bind(&staff_id[..])
            .bind(sealed)
            .execute(&mut *conn)
            .await?
        }
        FactorUse::Recovery { digest } => {
            sqlx::query(
                "UPDATE staff_recovery_codes SET used_ms = $1 \
                 WHERE digest = $2 AND staff_id = $3 AND used_ms IS NULL",
            )
            .bind(at_ms)
            .bind(&digest[..])
            .bind(&staff_id[..])
            .execute(&mut *conn)
            .await?
        }
    };
    changed_a_row(done, JobError::Stale)
}

/// A passed training replaces the person's record for the role (and its reminder).
async fn record_training(conn: &mut Conn, t: &StaffTrainingRow) -> Applied {
    sqlx::query(
        "INSERT INTO staff_training (staff_id, role, scope, policy_version, passed_ms, \
             expires_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (staff_id, role) DO UPDATE \
             SET scope = $3, policy_version = $4, passed_ms = $5, expires_ms = $6, \
             reminded_ms = NULL",
    )
    .bind(&t.staff_id[..])
    .bind(&t.role)
    .bind(&t.scope)
    .bind(t.policy_version)
    .bind(t.passed_ms)
    .bind(t.expires_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A factor proved again: spent like a sign-in's, and the session notes when.
async fn reauthenticated(
    conn: &mut Conn,
    digest: &[u8; 32],
    staff_id: &Id,
    factor: &FactorUse,
    at_ms: i64,
) -> Applied {
    spend(conn, staff_id, factor, at_ms).await?;
    let done = sqlx::query(
        "UPDATE staff_sessions SET verified_ms = $1, seen_ms = $1 \
         WHERE digest = $2 AND staff_id = $3 AND ended_ms IS NULL",
    )
    .bind(at_ms)
    .bind(&digest[..])
    .bind(&staff_id[..])
    .execute(&mut *conn)
    .await?;
    changed_a_row(done, JobError::Stale)
}

/// The reminder before a training expires went out.
async fn training_reminded(conn: &mut Conn, staff_id: &Id, role: &str, at_ms: i64) -> Applied {
    sqlx::query("UPDATE staff_training SET reminded_ms = $1 WHERE staff_id = $2 AND role = $3")
        .bind(at_ms)
        .bind(&staff_id[..])
        .bind(role)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A sign-in: the factor spent, the failures cleared, the session opened.
async fn signed_in(conn: &mut Conn, s: &StaffSessionRow, factor: &FactorUse) -> Applied {
    spend(conn, &s.staff_id, factor, s.created_ms).await?;
    sqlx::query("UPDATE staff SET failures = 0, locked_until_ms = NULL WHERE id = $1")
        .bind(&s.staff_id[..])
        .execute(&mut *conn)
        .await?;
    let sql = format!(
        "INSERT INTO staff_sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&s.digest[..])
        .bind(&s.id[..])
        .bind(&s.staff_id[..])
        .bind(s.created_ms)
        .bind(s.seen_ms)
        .bind(s.verified_ms)
        .bind(s.ended_ms)
        .execute(&mut *conn)
        .await
        .map_err(duplicate)?;
    Ok(())
}

pub(super) async fn apply(conn: &mut Conn, change: &Change) -> Applied {
    match change {
        Change::StaffSignedIn { session, factor } => signed_in(conn, session, factor).await,
        Change::RecordTraining(t) => record_training(conn, t).await,
        Change::MarkTrainingReminded {
            staff_id,
            role,
            at_ms,
        } => training_reminded(conn, staff_id, role, *at_ms).await,
        Change::StaffReauthenticated {
            digest,
            staff_id,
            factor,
            at_ms,
        } => reauthenticated(conn, digest, staff_id, factor, *at_ms).await,
        Change::StaffSignInFailed {
            staff_id,
            lock_until_ms,
        } => {
            let query = match lock_until_ms {
                Some(until) => {
                    sqlx::query("UPDATE staff SET failures = 0, locked_until_ms = $1 WHERE id = $2")
                        .bind(*until)
                }
                None => sqlx::query("UPDATE staff SET failures = failures + 1 WHERE id = $1"),
            };
            query.bind(&staff_id[..]).execute(&mut *conn).await?;
            Ok(())
        }
        Change::TouchStaffSession {
            digest,
            seen_ms,
            verified_ms,
        } => {
            sqlx::query(
                "UPDATE staff_sessions SET seen_ms = $1, verified_ms = COALESCE($2, verified_ms) \
                 WHERE digest = $3 AND ended_ms IS NULL",
            )
            .bind(seen_ms)
            .bind(verified_ms)
            .bind(&digest[..])
            .execute(&mut *conn)
            .await?;
            Ok(())
        }
        Change::EndStaffSessions {
            staff_id,
            session_id,
            at_ms,
        } => {
            sqlx::query(
                "UPDATE staff_sessions SET ended_ms = $1 WHERE staff_id = $2 \
                 AND ($3 IS NULL OR id = $3) AND ended_ms IS NULL",
            )
            .bind(at_ms)
            .bind(&staff_id[..])
            .bind(session_id.as_ref().map(|id| id.to_vec()))
            .execute(&mut *conn)
            .await?;
            Ok(())
        }
        _ => Err(misrouted()),
    }
}
