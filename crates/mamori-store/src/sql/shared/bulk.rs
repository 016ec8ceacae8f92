//! Batches made only of inserts (bulk import, bursts of creates) as multi-row INSERTs.

use std::collections::HashSet;

use super::*;

impl Backend {
    /// Multi-row inserts for a batch made only of subject, index and response inserts. Jobs
    /// whose blind index is taken earlier in the batch, or (with `look_up_taken`, one lookup per
    /// index) already in the table, are left out with `IndexTaken`; the rest go in as multi-row
    /// INSERTs that skip rather than fail on a conflict (see `Dialect::insert_quietly`).
    /// Returns None if a row still did not go in: the caller rolls back.
    pub(super) async fn apply_bulk(
        conn: &mut Conn,
        jobs: &[Vec<Change>],
        look_up_taken: bool,
    ) -> std::result::Result<Option<Vec<JobOutcome>>, sqlx::Error> {
        let taken = if look_up_taken {
            Self::taken_indexes(conn, jobs).await?
        } else {
            HashSet::new()
        };
        let mut seen = HashSet::new();
        let mut outcomes = Vec::with_capacity(jobs.len());
        let (mut subjects, mut indexes, mut responses) = (Vec::new(), Vec::new(), Vec::new());
        for job in jobs {
            let keys: Vec<(i64, IndexDigest)> = job.iter().filter_map(index_key).collect();
            if keys.iter().any(|k| taken.contains(k) || seen.contains(k)) {
                outcomes.push(Err(JobError::IndexTaken));
                continue;
            }
            seen.extend(keys);
            outcomes.push(Ok(()));
            for change in job {
                match change {
                    Change::InsertSubject { .. } => subjects.push(change),
                    Change::PutIndex { .. } => indexes.push(change),
                    Change::InsertSurveyResponse { .. } => responses.push(change),
                    _ => {}
                }
            }
        }
        // In key order, each B-tree page is visited once per batch instead of at random.
        indexes.sort_by_key(|c| index_key(c).unwrap_or_default());
        // Anonymous survey responses have random ids, so a clash means another writer or a
        // one-in-2^122 collision; either way the batch goes job by job.
        let all_in = insert_all(conn, SUBJECTS, &subjects).await?
            && insert_all(conn, INDEXES, &indexes).await?
            && insert_all(conn, RESPONSES, &responses).await?;
        if !all_in {
            return Ok(None);
        }
        for change in jobs.iter().flatten() {
            if let Change::SaveImportProgress(_) = change {
                apply(conn, change).await.map_err(|e| match e {
                    ApplyError::Db(e) => e,
                    ApplyError::Job(_) => sqlx::Error::Protocol("import progress".into()),
                })?;
            }
        }
        Ok(Some(outcomes))
    }

    /// The blind-index keys of `jobs` that already exist, looked up per kind in chunks.
    async fn taken_indexes(
        conn: &mut Conn,
        jobs: &[Vec<Change>],
    ) -> std::result::Result<HashSet<(i64, IndexDigest)>, sqlx::Error> {
        let mut wanted: Vec<(i64, IndexDigest)> =
            jobs.iter().flatten().filter_map(index_key).collect();
        wanted.sort_unstable();
        let mut taken = HashSet::new();
        for kind in [IndexKind::Email, IndexKind::Phone, IndexKind::ExternalId] {
            let digests: Vec<&IndexDigest> = wanted
                .iter()
                .filter(|(k, _)| *k == kind as i64)
                .map(|(_, d)| d)
                .collect();
            for chunk in digests.chunks(BULK_ROWS) {
                let mut qb: QueryBuilder<Db> =
                    QueryBuilder::new("SELECT digest FROM lookup_index WHERE kind = ");
                qb.push_bind(kind as i64).push(" AND digest IN (");
                let mut list = qb.separated(", ");
                for d in chunk {
                    list.push_bind(d.to_vec());
                }
                qb.push(")");
                let found: Vec<Vec<u8>> = qb.build_query_scalar().fetch_all(&mut *conn).await?;
                for digest in found {
                    if let Ok(d) = IndexDigest::try_from(digest.as_slice()) {
                        taken.insert((kind as i64, d));
                    }
                }
            }
        }
        Ok(taken)
    }
}

const SUBJECTS: &str = "subjects (id, created_ms, version, wrapped_dek, fields)";
const INDEXES: &str = "lookup_index (kind, digest, subject_id)";
const RESPONSES: &str = "survey_responses (id, survey_id, day, answers, coded, texts)";

/// Inserts `changes` (all of the kind `table_columns` names) as multi-row INSERTs that skip
/// conflicting rows; false if one did not go in.
async fn insert_all(
    conn: &mut Conn,
    table_columns: &str,
    changes: &[&Change],
) -> std::result::Result<bool, sqlx::Error> {
    let insert = format!("{} {table_columns} ", DIALECT.insert_quietly);
    for chunk in changes.chunks(BULK_ROWS) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(&insert);
        qb.push_values(chunk, |mut b, change| match change {
            Change::InsertSubject {
                id,
                created_ms,
                wrapped_dek,
                fields,
            } => {
                b.push_bind(id.to_vec())
                    .push_bind(*created_ms)
                    .push_bind(1i64)
                    .push_bind(wrapped_dek.clone())
                    .push_bind(fields.clone());
            }
            Change::PutIndex {
                kind,
                digest,
                subject_id,
            } => {
                b.push_bind(*kind as i64)
                    .push_bind(digest.to_vec())
                    .push_bind(subject_id.to_vec());
            }
            Change::InsertSurveyResponse {
                id,
                survey_id,
                day,
                answers,
                coded,
                texts,
            } => {
                b.push_bind(id.to_vec())
                    .push_bind(survey_id.to_vec())
                    .push_bind(*day)
                    .push_bind(answers.clone())
                    .push_bind(coded.clone())
                    .push_bind(texts.clone());
            }
            _ => {}
        });
        qb.push(DIALECT.quietly);
        if qb.build().execute(&mut *conn).await?.rows_affected() != chunk.len() as u64 {
            return Ok(false);
        }
    }
    Ok(true)
}
