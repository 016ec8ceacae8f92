//! The retention sweep's reads: inactive live subjects, and records past a category's retention.

use super::*;

/// (id, version, last active, fields) as the sweep reads a person.
type InactiveTuple = (Vec<u8>, i64, i64, Option<Vec<u8>>);

fn inactive((id, version, active_ms, fields): InactiveTuple) -> Result<InactiveSubject> {
    Ok(InactiveSubject {
        id: id_from_slice(&id)?,
        version,
        active_ms,
        fields,
    })
}

#[async_trait]
impl RetentionStore for Backend {
    async fn inactive_subjects(
        &self,
        before_ms: i64,
        after: Option<Id>,
        limit: i64,
    ) -> Result<Vec<InactiveSubject>> {
        // One pass over the table in id order; held (erased) subjects are not live.
        let rows: Vec<InactiveTuple> = sqlx::query_as(
            "SELECT id, version, COALESCE(active_ms, created_ms), fields FROM subjects \
             WHERE id > $1 AND erased_ms IS NULL AND COALESCE(active_ms, created_ms) < $2 \
             ORDER BY id LIMIT $3",
        )
        .bind(after.map_or_else(Vec::new, |id| id.to_vec()))
        .bind(before_ms)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(inactive).collect()
    }

    async fn consent_withdrawn_subjects(
        &self,
        purposes: &[String],
        before_ms: i64,
        after: Option<Id>,
        limit: i64,
    ) -> Result<Vec<InactiveSubject>> {
        if purposes.is_empty() {
            return Ok(vec![]);
        }
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "SELECT s.id, s.version, COALESCE(s.active_ms, s.created_ms), s.fields FROM subjects s \
             JOIN (SELECT subject_id FROM consent_state WHERE purpose IN (",
        );
        let mut list = qb.separated(", ");
        for purpose in purposes {
            list.push_bind(purpose.clone());
        }
        qb.push(") GROUP BY subject_id HAVING MAX(granted) = 0 AND MAX(updated_ms) < ")
            .push_bind(before_ms)
            .push(") w ON w.subject_id = s.id WHERE s.erased_ms IS NULL AND s.id > ")
            .push_bind(after.map_or_else(Vec::new, |id| id.to_vec()))
            .push(" ORDER BY s.id LIMIT ")
            .push_bind(limit);
        let rows: Vec<InactiveTuple> = qb.build_query_as().fetch_all(&self.read).await?;
        rows.into_iter().map(inactive).collect()
    }

    async fn newest_records(&self, subject: &Id) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT category, MAX(created_ms) FROM records WHERE subject_id = $1 GROUP BY category",
        )
        .bind(&subject[..])
        .fetch_all(&self.read)
        .await?)
    }

    async fn expired_records(
        &self,
        category: &str,
        before_ms: i64,
        after: Option<Id>,
        limit: i64,
    ) -> Result<Vec<(Id, i64)>> {
        let rows: Vec<(Vec<u8>, i64)> = sqlx::query_as(
            "SELECT r.subject_id, COUNT(*) FROM records r JOIN subjects s ON s.id = r.subject_id \
             WHERE r.category = $1 AND r.created_ms < $2 AND r.subject_id > $3 AND s.erased_ms IS NULL \
             GROUP BY r.subject_id ORDER BY r.subject_id LIMIT $4",
        )
        .bind(category)
        .bind(before_ms)
        .bind(after.map_or_else(Vec::new, |id| id.to_vec()))
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        (rows.into_iter())
            .map(|(id, n)| Ok((id_from_slice(&id)?, n)))
            .collect()
    }
}

pub(super) async fn apply(conn: &mut Conn, change: &Change) -> Applied {
    let Change::DropExpiredRecords {
        subject_id,
        category,
        before_ms,
    } = change
    else {
        return Err(misrouted());
    };
    sqlx::query("DELETE FROM records WHERE subject_id = $1 AND category = $2 AND created_ms < $3")
        .bind(&subject_id[..])
        .bind(category)
        .bind(before_ms)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
