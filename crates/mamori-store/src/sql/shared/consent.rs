//! Consent: the current state per purpose and channel (with its MAC) and the history of every
//! decision; and the published versions of the policy the decisions were made under.

use super::*;
use rows::{CONSENT_EVENT_COLUMNS, CONSENT_STATE_COLUMNS};

#[async_trait]
impl ConsentStore for Backend {
    async fn consents(&self, subject: &Id) -> Result<Vec<ConsentRow>> {
        self.consents_impl(subject).await
    }

    async fn consent_history(&self, subject: &Id) -> Result<Vec<ConsentRow>> {
        let sql = format!(
            "SELECT {CONSENT_EVENT_COLUMNS} FROM consent_events WHERE subject_id = $1 ORDER BY created_ms, id"
        );
        let rows: Vec<rows::ConsentEvent> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&subject[..])
            .fetch_all(&self.read)
            .await?;
        convert(rows)
    }

    async fn latest_consent_event(
        &self,
        subject: &Id,
        purpose: &str,
        channel: &str,
    ) -> Result<Option<Id>> {
        let row: Option<rows::IdOnly> = sqlx::query_as(
            "SELECT id FROM consent_events WHERE subject_id = $1 AND purpose = $2 AND channel = $3 ORDER BY created_ms DESC, id DESC LIMIT 1",
        )
        .bind(&subject[..])
        .bind(purpose)
        .bind(channel)
        .fetch_optional(&self.read)
        .await?;
        convert_one(row)
    }

    async fn consented_among(
        &self,
        subjects: &[Id],
        purpose: &str,
        channel: &str,
        check: StateCheck,
    ) -> Result<std::result::Result<Vec<Id>, ConsentRow>> {
        self.consented_among_impl(subjects, purpose, channel, check)
            .await
    }

    async fn unsealed_consent_state(&self) -> Result<Option<Vec<ConsentRow>>> {
        let marker = sqlx::query("SELECT pending FROM consent_state_unsealed")
            .fetch_optional(&self.read)
            .await?;
        if marker.is_none() {
            return Ok(None);
        }
        let sql = format!("SELECT {CONSENT_STATE_COLUMNS} FROM consent_state WHERE mac IS NULL");
        let rows: Vec<rows::ConsentState> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.read)
            .await?;
        convert(rows).map(Some)
    }
}

#[async_trait]
impl PolicyStore for Backend {
    async fn policy_versions(&self) -> Result<Vec<PolicyVersion>> {
        let rows: Vec<rows::Policy> = sqlx::query_as(
            "SELECT version, hash, published_ms, actor, policy FROM policy_versions ORDER BY version",
        )
        .fetch_all(&self.read)
        .await?;
        convert(rows)
    }

    async fn latest_policy_version(&self) -> Result<Option<(i64, [u8; 32])>> {
        let row: Option<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT version, hash FROM policy_versions ORDER BY version DESC LIMIT 1",
        )
        .fetch_optional(&self.read)
        .await?;
        row.map(|(version, hash)| Ok((version, hash_from_slice(&hash)?)))
            .transpose()
    }
}

pub(super) async fn apply(conn: &mut Conn, change: &Change) -> Applied {
    match change {
        Change::RecordConsent(c) => {
            require_live(conn, &c.subject_id).await?;
            sqlx::query("INSERT INTO consent_events (id, subject_id, purpose, channel, granted, source, notice_version, actor, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .bind(&c.id[..]).bind(&c.subject_id[..]).bind(&c.purpose).bind(&c.channel).bind(c.granted as i64)
                .bind(&c.source).bind(&c.notice_version).bind(&c.actor).bind(c.created_ms)
                .execute(&mut *conn).await.map_err(duplicate)?;
            sqlx::query("INSERT INTO consent_state (subject_id, purpose, channel, granted, source, notice_version, updated_ms, mac) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                         ON CONFLICT (subject_id, purpose, channel) DO UPDATE SET granted = excluded.granted, source = excluded.source, notice_version = excluded.notice_version, updated_ms = excluded.updated_ms, mac = excluded.mac \
                         WHERE excluded.updated_ms >= consent_state.updated_ms")
                .bind(&c.subject_id[..]).bind(&c.purpose).bind(&c.channel).bind(c.granted as i64)
                .bind(&c.source).bind(&c.notice_version).bind(c.created_ms).bind(c.state_mac.map(|m| m.to_vec()))
                .execute(&mut *conn).await?;
            Ok(())
        }
        Change::SealConsentState(rows) => {
            for c in rows {
                sqlx::query("UPDATE consent_state SET mac = $1 WHERE subject_id = $2 AND purpose = $3 AND channel = $4 AND mac IS NULL")
                    .bind(c.state_mac.map(|m| m.to_vec())).bind(&c.subject_id[..]).bind(&c.purpose).bind(&c.channel)
                    .execute(&mut *conn).await?;
            }
            sqlx::query("DELETE FROM consent_state_unsealed")
                .execute(&mut *conn)
                .await?;
            Ok(())
        }
        Change::PublishPolicy(v) => {
            // The version is chosen by the publisher (one more than the latest it saw) so the
            // events announcing it can name it; a concurrent publish makes this a conflict.
            sqlx::query("INSERT INTO policy_versions (version, hash, published_ms, actor, policy) VALUES ($1, $2, $3, $4, $5)")
                .bind(v.version).bind(&v.hash[..]).bind(v.published_ms).bind(&v.actor).bind(&v.policy)
                .execute(&mut *conn).await.map_err(duplicate)?;
            Ok(())
        }
        _ => Err(misrouted()),
    }
}
