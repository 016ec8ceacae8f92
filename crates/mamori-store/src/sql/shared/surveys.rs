//! Surveys: definitions, unlinkable responses, invitations (and the blind-signature issuer that
//! keeps them unlinkable), and differentially private releases.

use super::*;
use rows::SURVEY_COLUMNS;

#[async_trait]
impl SurveyStore for Backend {
    async fn survey(&self, slug: &str) -> Result<Option<SurveyRow>> {
        let sql = format!("SELECT {SURVEY_COLUMNS} FROM surveys WHERE slug = $1");
        let row: Option<rows::Survey> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(slug)
            .fetch_optional(&self.read)
            .await?;
        convert_one(row)
    }

    async fn surveys(&self) -> Result<Vec<SurveyRow>> {
        let sql = format!("SELECT {SURVEY_COLUMNS} FROM surveys ORDER BY slug");
        let rows: Vec<rows::Survey> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.read)
            .await?;
        convert(rows)
    }

    async fn survey_answers(&self, survey_id: &Id) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT answers FROM survey_responses WHERE survey_id = $1 ORDER BY id",
        )
        .bind(&survey_id[..])
        .fetch_all(&self.read)
        .await?)
    }

    async fn survey_codes(&self, survey_id: &Id) -> Result<Vec<Vec<u8>>> {
        self.survey_codes_impl(survey_id).await
    }

    async fn survey_texts(&self, survey_id: &Id, limit: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT texts FROM survey_responses WHERE survey_id = $1 AND texts IS NOT NULL ORDER BY id LIMIT $2",
        )
        .bind(&survey_id[..])
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }

    async fn survey_texts_page(
        &self,
        survey_id: &Id,
        after: Option<Id>,
        limit: i64,
    ) -> Result<Vec<(Id, String)>> {
        let rows: Vec<(Vec<u8>, String)> = sqlx::query_as(
            "SELECT id, texts FROM survey_responses WHERE survey_id = $1 AND texts IS NOT NULL AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(&survey_id[..])
        .bind(after.unwrap_or([0; 16]).to_vec())
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(id, texts)| Ok((id_from_slice(&id)?, texts)))
            .collect()
    }

    async fn survey_issuer(&self, survey_id: &Id) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        Ok(sqlx::query_as(
            "SELECT public_key, sealed_secret FROM survey_issuers WHERE survey_id = $1",
        )
        .bind(&survey_id[..])
        .fetch_optional(&self.read)
        .await?)
    }

    async fn survey_invitation(&self, survey_id: &Id, subject_id: &Id) -> Result<Option<bool>> {
        let claimed: Option<i64> = sqlx::query_scalar(
            "SELECT claimed FROM survey_invitations WHERE survey_id = $1 AND subject_id = $2",
        )
        .bind(&survey_id[..])
        .bind(&subject_id[..])
        .fetch_optional(&self.read)
        .await?;
        Ok(claimed.map(|c| c != 0))
    }

    async fn survey_invitation_by_code(
        &self,
        survey_id: &Id,
        code_digest: &[u8; 32],
    ) -> Result<Option<bool>> {
        let claimed: Option<i64> = sqlx::query_scalar(
            "SELECT claimed FROM survey_invitations WHERE survey_id = $1 AND code_digest = $2",
        )
        .bind(&survey_id[..])
        .bind(&code_digest[..])
        .fetch_optional(&self.read)
        .await?;
        Ok(claimed.map(|c| c != 0))
    }

    async fn survey_invitation_counts(&self, survey_id: &Id) -> Result<(i64, i64)> {
        Ok(sqlx::query_as(
            "SELECT COUNT(*), COUNT(NULLIF(claimed, 0)) FROM survey_invitations WHERE survey_id = $1",
        )
        .bind(&survey_id[..])
        .fetch_one(&self.read)
        .await?)
    }

    async fn survey_releases(&self, survey_id: &Id) -> Result<Vec<SurveyReleaseRow>> {
        let rows: Vec<rows::SurveyRelease> = sqlx::query_as(
            "SELECT id, survey_id, created_ms, actor, epsilon_micro, result FROM survey_releases WHERE survey_id = $1 ORDER BY created_ms, id",
        )
        .bind(&survey_id[..])
        .fetch_all(&self.read)
        .await?;
        convert(rows)
    }
}

pub(super) async fn apply(conn: &mut Conn, change: &Change) -> Applied {
    match change {
        Change::InsertSurvey(v) => {
            sqlx::query(
                "INSERT INTO surveys (id, slug, definition, created_ms) VALUES ($1, $2, $3, $4)",
            )
            .bind(&v.id[..])
            .bind(&v.slug)
            .bind(&v.definition)
            .bind(v.created_ms)
            .execute(&mut *conn)
            .await
            .map_err(duplicate)?;
            Ok(())
        }
        Change::CloseSurvey { id, closed_ms } => {
            let done = sqlx::query(
                "UPDATE surveys SET closed_ms = $1 WHERE id = $2 AND closed_ms IS NULL",
            )
            .bind(closed_ms)
            .bind(&id[..])
            .execute(&mut *conn)
            .await?;
            changed_a_row(done, JobError::Gone)
        }
        Change::InsertSurveyResponse {
            id,
            survey_id,
            day,
            answers,
            coded,
            texts,
        } => {
            sqlx::query("INSERT INTO survey_responses (id, survey_id, day, answers, coded, texts) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&id[..]).bind(&survey_id[..]).bind(day).bind(answers).bind(&coded[..]).bind(texts)
                .execute(&mut *conn).await.map_err(duplicate)?;
            Ok(())
        }
        Change::InsertSurveyIssuer {
            survey_id,
            public_key,
            sealed_secret,
        } => {
            sqlx::query("INSERT INTO survey_issuers (survey_id, public_key, sealed_secret) VALUES ($1, $2, $3)")
                .bind(&survey_id[..]).bind(&public_key[..]).bind(&sealed_secret[..])
                .execute(&mut *conn).await.map_err(duplicate)?;
            Ok(())
        }
        Change::InsertSurveyRelease {
            release: r,
            budget_micro,
        } => {
            // Only while the survey's privacy budget covers it: the sum and the insert are one
            // statement, so two releases at once cannot both spend the last of it.
            let done = sqlx::query("INSERT INTO survey_releases (id, survey_id, created_ms, actor, epsilon_micro, result) \
                                    SELECT $1, $2, $3, $4, $5, $6 WHERE \
                                    (SELECT COALESCE(SUM(epsilon_micro), 0) FROM survey_releases WHERE survey_id = $2) + $5 <= $7")
                .bind(&r.id[..]).bind(&r.survey_id[..]).bind(r.created_ms).bind(&r.actor).bind(r.epsilon_micro).bind(&r.result).bind(budget_micro)
                .execute(&mut *conn).await.map_err(duplicate)?;
            changed_a_row(done, JobError::Gone)
        }
        _ => Err(misrouted()),
    }
}

/// Invitations: sent (or re-sent while unclaimed), claimed once, participation marked, tokens
/// spent once.
pub(super) async fn apply_invitation(conn: &mut Conn, change: &Change) -> Applied {
    match change {
        Change::InviteToSurvey {
            survey_id,
            subject_id,
            code_digest,
            day,
        } => {
            require_live(conn, subject_id).await?;
            let done = sqlx::query("INSERT INTO survey_invitations (survey_id, subject_id, code_digest, day, claimed) VALUES ($1, $2, $3, $4, 0) \
                                    ON CONFLICT (survey_id, subject_id) DO UPDATE SET code_digest = excluded.code_digest, day = excluded.day \
                                    WHERE survey_invitations.claimed = 0")
                .bind(&survey_id[..]).bind(&subject_id[..]).bind(&code_digest[..]).bind(day)
                .execute(&mut *conn).await.map_err(duplicate)?;
            changed_a_row(done, JobError::Gone)
        }
        Change::ClaimSurveyInvitation {
            survey_id,
            code_digest,
        } => {
            let done = sqlx::query("UPDATE survey_invitations SET claimed = 1 WHERE survey_id = $1 AND code_digest = $2 AND claimed = 0")
                .bind(&survey_id[..]).bind(&code_digest[..]).execute(&mut *conn).await?;
            changed_a_row(done, JobError::Gone)
        }
        Change::MarkSurveyParticipant {
            survey_id,
            subject_id,
        } => {
            sqlx::query("INSERT INTO survey_participants (survey_id, subject_id) VALUES ($1, $2)")
                .bind(&survey_id[..])
                .bind(&subject_id[..])
                .execute(&mut *conn)
                .await
                .map_err(duplicate)?;
            Ok(())
        }
        Change::SpendSurveyToken { survey_id, digest } => {
            sqlx::query("INSERT INTO survey_spent_tokens (survey_id, digest) VALUES ($1, $2)")
                .bind(&survey_id[..])
                .bind(&digest[..])
                .execute(&mut *conn)
                .await
                .map_err(duplicate)?;
            Ok(())
        }
        _ => Err(misrouted()),
    }
}
