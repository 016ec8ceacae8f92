//! Who may come in: API keys, sign-in challenges, privacy-center sessions.

use super::*;
use rows::API_KEY_COLUMNS;

#[async_trait]
impl AccessStore for Backend {
    async fn api_key_by_digest(&self, digest: &[u8; 32]) -> Result<Option<ApiKeyRow>> {
        let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE digest = $1");
        let row: Option<rows::ApiKey> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&digest[..])
            .fetch_optional(&self.read)
            .await?;
        convert_one(row)
    }

    async fn api_keys(&self) -> Result<Vec<ApiKeyRow>> {
        let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY created_ms, id");
        let rows: Vec<rows::ApiKey> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.read)
            .await?;
        convert(rows)
    }

    async fn challenge(&self, id: &Id) -> Result<Option<ChallengeRow>> {
        let row: Option<rows::Challenge> = sqlx::query_as(
            "SELECT id, subject_id, code_digest, created_ms, expires_ms, attempts, used_ms FROM signin_challenges WHERE id = $1",
        )
        .bind(&id[..])
        .fetch_optional(&self.read)
        .await?;
        convert_one(row)
    }

    async fn challenges_since(&self, subject: &Id, since_ms: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM signin_challenges WHERE subject_id = $1 AND created_ms >= $2",
        )
        .bind(&subject[..])
        .bind(since_ms)
        .fetch_one(&self.read)
        .await?)
    }

    async fn session(&self, digest: &[u8; 32]) -> Result<Option<SessionRow>> {
        let row: Option<rows::Session> = sqlx::query_as(
            "SELECT digest, subject_id, created_ms, expires_ms, revoked_ms FROM sessions WHERE digest = $1",
        )
        .bind(&digest[..])
        .fetch_optional(&self.read)
        .await?;
        convert_one(row)
    }
}

pub(super) async fn apply(conn: &mut Conn, change: &Change) -> Applied {
    match change {
        Change::InsertApiKey(k) => {
            sqlx::query("INSERT INTO api_keys (id, name, role, digest, created_ms) VALUES ($1, $2, $3, $4, $5)")
                .bind(&k.id[..]).bind(&k.name).bind(&k.role).bind(&k.digest[..]).bind(k.created_ms)
                .execute(&mut *conn).await.map_err(duplicate)?;
            Ok(())
        }
        Change::RevokeApiKey { id, revoked_ms } => {
            let done = sqlx::query(
                "UPDATE api_keys SET revoked_ms = $1 WHERE id = $2 AND revoked_ms IS NULL",
            )
            .bind(revoked_ms)
            .bind(&id[..])
            .execute(&mut *conn)
            .await?;
            changed_a_row(done, JobError::Gone)
        }
        Change::InsertChallenge(c) => {
            sqlx::query("INSERT INTO signin_challenges (id, subject_id, code_digest, created_ms, expires_ms, attempts, used_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(&c.id[..]).bind(c.subject_id.map(|s| s.to_vec())).bind(&c.code_digest[..]).bind(c.created_ms).bind(c.expires_ms).bind(c.attempts).bind(c.used_ms)
                .execute(&mut *conn).await.map_err(duplicate)?;
            Ok(())
        }
        Change::ChallengeAttempt { id, max } => {
            let done = sqlx::query("UPDATE signin_challenges SET attempts = attempts + 1 WHERE id = $1 AND used_ms IS NULL AND attempts < $2")
                .bind(&id[..]).bind(max).execute(&mut *conn).await?;
            changed_a_row(done, JobError::Gone)
        }
        Change::UseChallenge { id, used_ms } => {
            let done = sqlx::query(
                "UPDATE signin_challenges SET used_ms = $1 WHERE id = $2 AND used_ms IS NULL",
            )
            .bind(used_ms)
            .bind(&id[..])
            .execute(&mut *conn)
            .await?;
            changed_a_row(done, JobError::Gone)
        }
        Change::InsertSession(x) => {
            sqlx::query("INSERT INTO sessions (digest, subject_id, created_ms, expires_ms, revoked_ms) VALUES ($1, $2, $3, $4, $5)")
                .bind(&x.digest[..]).bind(&x.subject_id[..]).bind(x.created_ms).bind(x.expires_ms).bind(x.revoked_ms)
                .execute(&mut *conn).await.map_err(duplicate)?;
            Ok(())
        }
        Change::RevokeSession { digest, revoked_ms } => {
            sqlx::query(
                "UPDATE sessions SET revoked_ms = $1 WHERE digest = $2 AND revoked_ms IS NULL",
            )
            .bind(revoked_ms)
            .bind(&digest[..])
            .execute(&mut *conn)
            .await?;
            Ok(())
        }
        _ => Err(misrouted()),
    }
}
