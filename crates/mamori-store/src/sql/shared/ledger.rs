//! The ledger: leaves, signed heads, and the subject index (segments of (subject, leaf) entries,
//! built from the leaves and merged in the background).

use mamori_ledger::SignedTreeHead;

use super::*;
use rows::HEAD_COLUMNS;

#[async_trait]
impl LedgerStore for Backend {
    async fn leaves(&self, from: u64, limit: i64) -> Result<Vec<LeafRow>> {
        let rows: Vec<rows::Leaf> = sqlx::query_as(
            "SELECT idx, data, leaf_hash, subject_id FROM ledger_leaves WHERE idx >= $1 ORDER BY idx LIMIT $2",
        )
        .bind(from as i64)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        convert(rows)
    }

    async fn leaf_hashes(&self, from: u64, limit: i64) -> Result<Vec<[u8; 32]>> {
        let hashes: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT leaf_hash FROM ledger_leaves WHERE idx >= $1 ORDER BY idx LIMIT $2",
        )
        .bind(from as i64)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        hashes.iter().map(|h| hash_from_slice(h)).collect()
    }

    fn stream_leaves(&self, from: u64) -> tokio::sync::mpsc::Receiver<Result<Vec<LeafRow>>> {
        self.stream_leaves_impl(from)
    }

    async fn heads(&self) -> Result<Vec<SignedTreeHead>> {
        let sql = format!("SELECT {HEAD_COLUMNS} FROM tree_heads ORDER BY size");
        let rows: Vec<rows::Head> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.read)
            .await?;
        convert(rows)
    }

    async fn subject_leaves(&self, subject: &Id, before: u64, limit: i64) -> Result<Vec<LeafRow>> {
        let before = before.min(i64::MAX as u64) as i64;
        // Read the indexed bound first: a segment registered meanwhile only makes a leaf show
        // up twice (deduplicated below), never go missing.
        let upto: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(last_idx), -1) FROM subject_leaf_segments WHERE level >= 0",
        )
        .fetch_one(&self.read)
        .await?;
        let tail: Vec<rows::Leaf> = sqlx::query_as(
            "SELECT idx, data, leaf_hash FROM ledger_leaves WHERE idx > $1 AND idx < $2 AND subject_id = $3 ORDER BY idx DESC LIMIT $4",
        )
        .bind(upto)
        .bind(before)
        .bind(&subject[..])
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        // The page's leaf numbers first (integers, sorted), then only those leaves.
        let indexed: Vec<rows::Leaf> = sqlx::query_as(
            "SELECT idx, data, leaf_hash FROM ledger_leaves WHERE idx IN (SELECT idx FROM subject_leaves \
             WHERE segment IN (SELECT segment FROM subject_leaf_segments WHERE level >= 0) AND subject_id = $1 AND idx < $2 \
             ORDER BY idx DESC LIMIT $3)",
        )
        .bind(&subject[..])
        .bind(before)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        let mut leaves = std::collections::BTreeMap::new();
        for leaf in convert::<_, LeafRow>(tail)?
            .into_iter()
            .chain(convert(indexed)?)
        {
            let leaf = LeafRow {
                subject_id: Some(*subject),
                ..leaf
            };
            leaves.insert(std::cmp::Reverse(leaf.index), leaf);
        }
        Ok(leaves.into_values().take(limit.max(0) as usize).collect())
    }

    async fn leaf_segments(&self) -> Result<Vec<LeafSegment>> {
        let rows: Vec<rows::Segment> = sqlx::query_as(
            "SELECT segment, level, entries, first_idx, last_idx FROM subject_leaf_segments ORDER BY segment",
        )
        .fetch_all(&self.read)
        .await?;
        convert(rows)
    }

    async fn leaf_keys(&self, idxs: &[i64]) -> Result<Vec<LeafKey>> {
        let mut keys = Vec::with_capacity(idxs.len());
        for some in idxs.chunks(10_000) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                "SELECT subject_id, idx FROM ledger_leaves WHERE subject_id IS NOT NULL AND idx IN (",
            );
            let mut list = qb.separated(", ");
            for idx in some {
                list.push_bind(*idx);
            }
            qb.push(")");
            let rows: Vec<(Vec<u8>, i64)> = qb.build_query_as().fetch_all(&self.read).await?;
            for (subject, idx) in rows {
                keys.push(LeafKey {
                    subject: id_from_slice(&subject)?,
                    idx,
                });
            }
        }
        Ok(keys)
    }

    async fn latest_head(&self) -> Result<Option<SignedTreeHead>> {
        let sql = format!("SELECT {HEAD_COLUMNS} FROM tree_heads ORDER BY size DESC LIMIT 1");
        let row: Option<rows::Head> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_optional(&self.read)
            .await?;
        convert_one(row)
    }
}

/// The subject index's segments: new leaves indexed, segments merged, merged ones dropped.
pub(super) async fn apply(conn: &mut Conn, change: &Change) -> Applied {
    match change {
        Change::IndexSubjectLeaves {
            first_idx,
            last_idx,
        } => index_leaves(conn, *first_idx, *last_idx).await,
        Change::BeginSegmentMerge { target } => {
            sqlx::query("INSERT INTO subject_leaf_segments (segment, level, entries, first_idx, last_idx) VALUES ($1, -1, 0, -1, -1)")
                .bind(target).execute(&mut *conn).await.map_err(duplicate)?;
            Ok(())
        }
        Change::MergeSegmentChunk {
            sources,
            target,
            keys,
        } => merge_chunk(conn, sources, *target, keys).await,
        Change::FinishSegmentMerge {
            sources,
            target,
            level,
        } => finish_merge(conn, sources, *target, *level).await,
        Change::DropSegmentEntries { segment, limit } => drop_entries(conn, *segment, *limit).await,
        Change::ForgetSegment { segment } => {
            sqlx::query("DELETE FROM subject_leaf_segments WHERE segment = $1 AND level < 0")
                .bind(segment)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }
        _ => Err(misrouted()),
    }
}

async fn index_leaves(conn: &mut Conn, first_idx: i64, last_idx: i64) -> Applied {
    let upto: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(last_idx), -1) FROM subject_leaf_segments WHERE level >= 0",
    )
    .fetch_one(&mut *conn)
    .await?;
    if upto != first_idx - 1 {
        return Err(ApplyError::Job(JobError::Stale));
    }
    let segment: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(segment), 0) + 1 FROM subject_leaf_segments")
            .fetch_one(&mut *conn)
            .await?;
    let entries = sqlx::query("INSERT INTO subject_leaves (segment, subject_id, idx) SELECT $1, subject_id, idx FROM ledger_leaves \
                               WHERE idx >= $2 AND idx <= $3 AND subject_id IS NOT NULL ORDER BY subject_id, idx")
        .bind(segment).bind(first_idx).bind(last_idx).execute(&mut *conn).await?.rows_affected();
    sqlx::query("INSERT INTO subject_leaf_segments (segment, level, entries, first_idx, last_idx) VALUES ($1, 0, $2, $3, $4)")
        .bind(segment).bind(entries as i64).bind(first_idx).bind(last_idx).execute(&mut *conn).await?;
    Ok(())
}

async fn merge_chunk(conn: &mut Conn, sources: &[i64], target: i64, keys: &KeyRange) -> Applied {
    let building =
        sqlx::query("SELECT 1 FROM subject_leaf_segments WHERE segment = $1 AND level = -1")
            .bind(target)
            .fetch_optional(&mut *conn)
            .await?;
    if building.is_none() {
        return Err(ApplyError::Job(JobError::Gone));
    }
    let mut qb: QueryBuilder<Db> =
        QueryBuilder::new("INSERT INTO subject_leaves (segment, subject_id, idx) SELECT ");
    qb.push_bind(target)
        .push(", subject_id, idx FROM subject_leaves WHERE segment IN (");
    let mut list = qb.separated(", ");
    for source in sources {
        list.push_bind(*source);
    }
    qb.push(")");
    if let Some(from) = keys.from {
        qb.push(" AND (subject_id, idx) >= (")
            .push_bind(from.subject.to_vec())
            .push(", ")
            .push_bind(from.idx)
            .push(")");
    }
    if let Some(to) = keys.to {
        qb.push(" AND (subject_id, idx) < (")
            .push_bind(to.subject.to_vec())
            .push(", ")
            .push_bind(to.idx)
            .push(")");
    }
    qb.push(" ORDER BY subject_id, idx");
    qb.build().execute(&mut *conn).await?;
    Ok(())
}

async fn finish_merge(conn: &mut Conn, sources: &[i64], target: i64, level: i64) -> Applied {
    let mut qb: QueryBuilder<Db> = QueryBuilder::new("UPDATE subject_leaf_segments SET level = ");
    qb.push_bind(level).push(", entries = s.entries, first_idx = s.first_idx, last_idx = s.last_idx FROM \
                              (SELECT SUM(entries) AS entries, MIN(first_idx) AS first_idx, MAX(last_idx) AS last_idx FROM subject_leaf_segments WHERE segment IN (");
    let mut list = qb.separated(", ");
    for source in sources {
        list.push_bind(*source);
    }
    qb.push(")) AS s WHERE segment = ")
        .push_bind(target)
        .push(" AND level = -1");
    changed_a_row(qb.build().execute(&mut *conn).await?, JobError::Gone)?;
    let mut qb: QueryBuilder<Db> =
        QueryBuilder::new("UPDATE subject_leaf_segments SET level = -2 WHERE segment IN (");
    let mut list = qb.separated(", ");
    for source in sources {
        list.push_bind(*source);
    }
    qb.push(")");
    qb.build().execute(&mut *conn).await?;
    Ok(())
}

/// Drops the segment's first `limit` entries in key order, as one range of the primary key (a
/// `LIMIT` subquery in the DELETE is a scan of the whole segment on PostgreSQL).
async fn drop_entries(conn: &mut Conn, segment: i64, limit: i64) -> Applied {
    let past: Option<(Vec<u8>, i64)> = sqlx::query_as("SELECT subject_id, idx FROM subject_leaves WHERE segment = $1 ORDER BY subject_id, idx LIMIT 1 OFFSET $2")
        .bind(segment).bind(limit).fetch_optional(&mut *conn).await?;
    let done =
        match past {
            Some((subject, idx)) => sqlx::query(
                "DELETE FROM subject_leaves WHERE segment = $1 AND (subject_id, idx) < ($2, $3)",
            )
            .bind(segment)
            .bind(subject)
            .bind(idx)
            .execute(&mut *conn)
            .await?,
            None => {
                sqlx::query("DELETE FROM subject_leaves WHERE segment = $1")
                    .bind(segment)
                    .execute(&mut *conn)
                    .await?
            }
        };
    changed_a_row(done, JobError::Gone)
}
