//! People: their sealed rows, blind indexes, records, legal holds and re-keying, imports; and
//! what every erasure forgets.

use super::*;
use rows::{RECORD_COLUMNS, SUBJECT_COLUMNS};

/// Ids per `IN (…)` list: well under SQLite's bound on parameters.
const IN_LIST: usize = 1_000;

#[async_trait]
impl SubjectStore for Backend {
    async fn subject(&self, id: &Id) -> Result<Option<SubjectRow>> {
        self.subject_impl(id).await
    }

    async fn find_by_index(&self, kind: IndexKind, digest: &IndexDigest) -> Result<Option<Id>> {
        let row: Option<rows::IdOnly> = sqlx::query_as(
            "SELECT subject_id AS id FROM lookup_index WHERE kind = $1 AND digest = $2",
        )
        .bind(kind as i64)
        .bind(&digest[..])
        .fetch_optional(&self.read)
        .await?;
        convert_one(row)
    }

    async fn records(&self, subject: &Id, limit: i64) -> Result<Vec<RecordRow>> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE subject_id = $1 ORDER BY created_ms, id LIMIT $2"
        );
        let rows: Vec<rows::Record> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&subject[..])
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        convert(rows)
    }

    // Built from the column list and fixed clauses only (never from input).
    async fn records_among(&self, subject: &Id, ids: &[Id]) -> Result<Vec<RecordRow>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE subject_id = "
        ));
        qb.push_bind(subject.to_vec()).push(" AND id IN (");
        let mut list = qb.separated(", ");
        for id in ids {
            list.push_bind(id.to_vec());
        }
        qb.push(")");
        let rows: Vec<rows::Record> = qb.build_query_as().fetch_all(&self.read).await?;
        convert(rows)
    }

    async fn record_categories(&self, subject: &Id, categories: &[String]) -> Result<Vec<String>> {
        let mut present = Vec::new();
        for category in categories {
            let hit = sqlx::query(
                "SELECT 1 FROM records WHERE subject_id = $1 AND category = $2 LIMIT 1",
            )
            .bind(&subject[..])
            .bind(category)
            .fetch_optional(&self.read)
            .await?;
            if hit.is_some() {
                present.push(category.clone());
            }
        }
        Ok(present)
    }

    async fn subjects_among(&self, ids: &[Id]) -> Result<Vec<SubjectRow>> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IN_LIST) {
            let select = format!("SELECT {SUBJECT_COLUMNS} FROM subjects WHERE id IN (");
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(select);
            let mut list = qb.separated(", ");
            for id in chunk {
                list.push_bind(id.to_vec());
            }
            qb.push(")");
            let rows: Vec<rows::Subject> = qb.build_query_as().fetch_all(&self.read).await?;
            found.extend(convert(rows)?);
        }
        Ok(found)
    }

    async fn existing_among(&self, ids: &[Id]) -> Result<Vec<Id>> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IN_LIST) {
            let mut qb: QueryBuilder<Db> =
                QueryBuilder::new("SELECT id FROM subjects WHERE id IN (");
            let mut list = qb.separated(", ");
            for id in chunk {
                list.push_bind(id.to_vec());
            }
            qb.push(")");
            let rows: Vec<(Vec<u8>,)> = qb.build_query_as().fetch_all(&self.read).await?;
            for (id,) in rows {
                found.push(id_from_slice(&id)?);
            }
        }
        Ok(found)
    }

    async fn count_subjects(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM subjects WHERE erased_ms IS NULL")
                .fetch_one(&self.read)
                .await?,
        )
    }

    async fn erased_subjects(&self, after: Option<Id>, limit: i64) -> Result<Vec<(Id, i64)>> {
        let rows: Vec<(Vec<u8>, i64)> = sqlx::query_as(
            "SELECT id, erased_ms FROM subjects WHERE erased_ms IS NOT NULL AND id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after.map_or_else(Vec::new, |id| id.to_vec()))
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        (rows.into_iter())
            .map(|(id, ms)| Ok((id_from_slice(&id)?, ms)))
            .collect()
    }

    async fn records_newest(&self, subject: &Id, limit: i64) -> Result<Vec<RecordRow>> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE subject_id = $1 ORDER BY created_ms DESC, id DESC LIMIT $2"
        );
        let rows: Vec<rows::Record> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&subject[..])
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        convert(rows)
    }

    async fn records_of_kind(
        &self,
        subject: &Id,
        category: &str,
        before: Option<(i64, Id)>,
        limit: i64,
    ) -> Result<Vec<RecordRow>> {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE subject_id = "
        ));
        qb.push_bind(subject.to_vec())
            .push(" AND category = ")
            .push_bind(category.to_string());
        if let Some((at, id)) = before {
            qb.push(" AND (created_ms < ")
                .push_bind(at)
                .push(" OR (created_ms = ")
                .push_bind(at)
                .push(" AND id < ")
                .push_bind(id.to_vec())
                .push("))");
        }
        qb.push(" ORDER BY created_ms DESC, id DESC LIMIT ")
            .push_bind(limit);
        let rows: Vec<rows::Record> = qb.build_query_as().fetch_all(&self.read).await?;
        convert(rows)
    }

    async fn record_counts(&self, subject: &Id) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT category, COUNT(*) FROM records WHERE subject_id = $1 GROUP BY category",
        )
        .bind(&subject[..])
        .fetch_all(&self.read)
        .await?)
    }

    async fn holds_to_rekey(&self, limit: i64) -> Result<Vec<SubjectRow>> {
        let sql = format!(
            "SELECT {SUBJECT_COLUMNS} FROM subjects WHERE rekey_requested_ms IS NOT NULL ORDER BY rekey_requested_ms LIMIT $1"
        );
        let rows: Vec<rows::Subject> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        convert(rows)
    }

    async fn holds_ending(&self, before_ms: i64, limit: i64) -> Result<Vec<SubjectRow>> {
        let sql = format!(
            "SELECT {SUBJECT_COLUMNS} FROM subjects WHERE held_until_ms IS NOT NULL AND held_until_ms < $1 ORDER BY held_until_ms LIMIT $2"
        );
        let rows: Vec<rows::Subject> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(before_ms)
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        convert(rows)
    }

    async fn purge_erased(&self, limit: i64) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM records WHERE id IN (SELECT r.id FROM records r JOIN subjects s ON s.id = r.subject_id WHERE s.erased_ms IS NOT NULL AND s.wrapped_dek IS NULL LIMIT $1)",
        )
        .bind(limit)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected())
    }

    async fn import_progress(&self, id: &[u8; 32]) -> Result<Option<ImportProgress>> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT rows_done, updated_ms FROM imports WHERE id = $1")
                .bind(&id[..])
                .fetch_optional(&self.read)
                .await?;
        Ok(row.map(|(rows_done, updated_ms)| ImportProgress {
            id: *id,
            rows_done,
            updated_ms,
        }))
    }
}

/// Everything that points at a person besides their sealed data, for every erasure (full, or
/// keeping what a legal obligation holds): lookup indexes (so the same person can come back as
/// someone new), the consent state (the history stays, as proof of what was agreed), survey
/// invitations and participation (responses were never linked), sign-in challenges, and
/// sessions (revoked). A table added later that names a subject must be cleared here or listed
/// as kept, with why, in `KEPT_AFTER_ERASURE`: a test over the schema fails otherwise.
async fn forget_person(conn: &mut Conn, id: &Id, erased_ms: i64) -> Applied {
    for table in FORGOTTEN_AT_ERASURE {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE subject_id = $1"
        )))
        .bind(&id[..])
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("UPDATE sessions SET revoked_ms = $1 WHERE subject_id = $2 AND revoked_ms IS NULL")
        .bind(erased_ms)
        .bind(&id[..])
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(super) async fn apply(conn: &mut Conn, change: &Change) -> Applied {
    match change {
        Change::InsertSubject {
            id,
            created_ms,
            wrapped_dek,
            fields,
        } => {
            sqlx::query("INSERT INTO subjects (id, created_ms, version, wrapped_dek, fields) VALUES ($1, $2, 1, $3, $4)")
                .bind(&id[..]).bind(created_ms).bind(&wrapped_dek[..]).bind(&fields[..])
                .execute(&mut *conn).await.map_err(duplicate)?;
            Ok(())
        }
        Change::UpdateFields {
            id,
            expected_version,
            fields,
            active_ms,
        } => {
            let done = sqlx::query("UPDATE subjects SET fields = $1, version = version + 1, active_ms = COALESCE($4, active_ms) WHERE id = $2 AND version = $3 AND erased_ms IS NULL")
                .bind(&fields[..]).bind(&id[..]).bind(expected_version).bind(active_ms)
                .execute(&mut *conn).await?;
            changed_a_row(done, JobError::Stale)
        }
        Change::EraseSubject { id, erased_ms } => {
            let done = sqlx::query("UPDATE subjects SET wrapped_dek = NULL, previous_wrapped_dek = NULL, fields = NULL, held_until_ms = NULL, rekey_requested_ms = NULL, erased_ms = COALESCE(erased_ms, $1), version = version + 1 \
                                    WHERE id = $2 AND wrapped_dek IS NOT NULL")
                .bind(erased_ms).bind(&id[..])
                .execute(&mut *conn).await?;
            changed_a_row(done, JobError::Gone)?;
            forget_person(conn, id, *erased_ms).await
        }
        Change::HoldSubject { .. } => hold(conn, change).await,
        Change::PutIndex {
            kind,
            digest,
            subject_id,
        } => {
            sqlx::query("INSERT INTO lookup_index (kind, digest, subject_id) VALUES ($1, $2, $3)")
                .bind(*kind as i64)
                .bind(&digest[..])
                .bind(&subject_id[..])
                .execute(&mut *conn)
                .await
                .map_err(|e| ApplyError::from(e, JobError::IndexTaken))?;
            Ok(())
        }
        Change::DropIndex { kind, subject_id } => {
            sqlx::query("DELETE FROM lookup_index WHERE kind = $1 AND subject_id = $2")
                .bind(*kind as i64)
                .bind(&subject_id[..])
                .execute(&mut *conn)
                .await?;
            Ok(())
        }
        Change::InsertRecord(r) => {
            require_live(conn, &r.subject_id).await?;
            sqlx::query("INSERT INTO records (id, subject_id, category, created_ms, sealed) VALUES ($1, $2, $3, $4, $5)")
                .bind(&r.id[..]).bind(&r.subject_id[..]).bind(&r.category).bind(r.created_ms).bind(&r.sealed[..])
                .execute(&mut *conn).await.map_err(duplicate)?;
            sqlx::query("UPDATE subjects SET active_ms = $1 WHERE id = $2 AND (active_ms IS NULL OR active_ms < $1)")
                .bind(r.created_ms).bind(&r.subject_id[..])
                .execute(&mut *conn).await?;
            Ok(())
        }
        Change::SaveImportProgress(p) => {
            sqlx::query("INSERT INTO imports (id, rows_done, updated_ms) VALUES ($1, $2, $3) \
                         ON CONFLICT (id) DO UPDATE SET rows_done = excluded.rows_done, updated_ms = excluded.updated_ms")
                .bind(&p.id[..]).bind(p.rows_done).bind(p.updated_ms)
                .execute(&mut *conn).await?;
            Ok(())
        }
        _ => Err(misrouted()),
    }
}

/// An erasure that keeps what a legal obligation holds, re-sealed, and drops the rest.
async fn hold(conn: &mut Conn, change: &Change) -> Applied {
    let Change::HoldSubject {
        id,
        expected_version,
        erased_ms,
        held_until_ms,
        wrapped_dek,
        fields,
        drop_record_categories,
        rekey_requested_ms,
    } = change
    else {
        return Err(misrouted());
    };
    let done = sqlx::query("UPDATE subjects SET wrapped_dek = $1, fields = $2, erased_ms = COALESCE(erased_ms, $3), held_until_ms = $4, rekey_requested_ms = $5, version = version + 1 \
                            WHERE id = $6 AND version = $7 AND wrapped_dek IS NOT NULL")
        .bind(&wrapped_dek[..]).bind(&fields[..]).bind(erased_ms).bind(held_until_ms).bind(rekey_requested_ms).bind(&id[..]).bind(expected_version)
        .execute(&mut *conn).await?;
    changed_a_row(done, JobError::Stale)?;
    for category in drop_record_categories {
        sqlx::query("DELETE FROM records WHERE subject_id = $1 AND category = $2")
            .bind(&id[..])
            .bind(category)
            .execute(&mut *conn)
            .await?;
    }
    // Whoever keeps the invoices holds the subject id; everything else that points at the
    // person goes, as for a full erasure.
    forget_person(conn, id, *erased_ms).await
}

/// A held subject's kept part re-sealed under a fresh key: start, records in chunks, finish.
pub(super) async fn apply_rekey(conn: &mut Conn, change: &Change) -> Applied {
    match change {
        Change::RekeyStart {
            id,
            expected_version,
            wrapped_dek,
            previous_wrapped_dek,
            fields,
        } => {
            let done = sqlx::query("UPDATE subjects SET wrapped_dek = $1, previous_wrapped_dek = $2, fields = $3, version = version + 1 \
                                    WHERE id = $4 AND version = $5 AND wrapped_dek IS NOT NULL AND erased_ms IS NOT NULL AND previous_wrapped_dek IS NULL")
                .bind(&wrapped_dek[..]).bind(&previous_wrapped_dek[..]).bind(&fields[..]).bind(&id[..]).bind(expected_version)
                .execute(&mut *conn).await?;
            changed_a_row(done, JobError::Stale)
        }
        Change::RekeyRecords {
            id,
            wrapped_dek,
            records,
        } => {
            let current: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subjects WHERE id = $1 AND wrapped_dek = $2 AND previous_wrapped_dek IS NOT NULL")
                .bind(&id[..]).bind(&wrapped_dek[..]).fetch_one(&mut *conn).await?;
            if current == 0 {
                return Err(ApplyError::Job(JobError::Stale));
            }
            // Many rows per statement (VALUES columns are column1, column2 on both backends).
            for chunk in records.chunks(400) {
                let mut qb: QueryBuilder<Db> =
                    QueryBuilder::new("UPDATE records SET sealed = v.column2 FROM (VALUES ");
                let mut rows = qb.separated(", ");
                for (record, sealed) in chunk {
                    rows.push("(")
                        .push_bind_unseparated(record.to_vec())
                        .push_unseparated(", ")
                        .push_bind_unseparated(sealed.clone())
                        .push_unseparated(")");
                }
                qb.push(") AS v WHERE records.id = v.column1 AND records.subject_id = ")
                    .push_bind(id.to_vec());
                qb.build().execute(&mut *conn).await?;
            }
            Ok(())
        }
        Change::RekeyFinish { id, wrapped_dek } => {
            let done = sqlx::query("UPDATE subjects SET previous_wrapped_dek = NULL, rekey_requested_ms = NULL, version = version + 1 \
                                    WHERE id = $1 AND wrapped_dek = $2 AND previous_wrapped_dek IS NOT NULL")
                .bind(&id[..]).bind(&wrapped_dek[..]).execute(&mut *conn).await?;
            changed_a_row(done, JobError::Stale)
        }
        _ => Err(misrouted()),
    }
}
