//! One batch of the writer: its transaction, each job under a savepoint (or all in bulk), then
//! the ledger's leaves and signed head, then one commit.

use super::*;

impl Backend {
    /// The batch transaction, once no other writer (another process on this database) is
    /// between reading the ledger's end and appending to it.
    async fn begin_write(&self) -> Result<Tx> {
        let mut tx = self.write.begin_with(DIALECT.begin).await?;
        if !DIALECT.take_turns.is_empty() {
            sqlx::query(DIALECT.take_turns).execute(&mut *tx).await?;
        }
        Ok(tx)
    }

    /// Hashes of the stored leaves from `from` on: those another process appended.
    async fn leaves_since(tx: &mut Tx, from: u64) -> Result<Vec<[u8; 32]>> {
        let hashes: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT leaf_hash FROM ledger_leaves WHERE idx >= $1 ORDER BY idx")
                .bind(from as i64)
                .fetch_all(&mut **tx)
                .await?;
        hashes.iter().map(|h| hash_from_slice(h)).collect()
    }

    /// Applies each job under its own savepoint; a job that conflicts is rolled back alone.
    async fn apply_each(conn: &mut Conn, jobs: &[Vec<Change>]) -> Result<Vec<JobOutcome>> {
        let mut outcomes = Vec::with_capacity(jobs.len());
        for job in jobs {
            // Events with no changes (the detached consent-check events of every group
            // commit) have nothing to roll back: no savepoint, two round trips fewer.
            if job.is_empty() {
                outcomes.push(Ok(()));
                continue;
            }
            let mut sp = conn.begin().await?;
            let mut outcome = Ok(());
            for change in job {
                match apply(&mut sp, change).await {
                    Ok(()) => {}
                    Err(ApplyError::Job(e)) => {
                        outcome = Err(e);
                        break;
                    }
                    Err(ApplyError::Db(e)) => return Err(e.into()),
                }
            }
            match outcome {
                Ok(()) => sp.commit().await?,
                Err(_) => sp.rollback().await?,
            }
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// One attempt at [`Storage::commit_batch`].
    pub(super) async fn commit_batch_once(
        &self,
        jobs: &[Vec<Change>],
        tree_size: u64,
        finish: &mut Finish<'_>,
    ) -> Result<Vec<JobOutcome>> {
        if jobs.iter().all(|job| job.is_empty())
            && let Some(outcomes) = self.commit_events_only(jobs.len(), tree_size, finish)?
        {
            return Ok(outcomes);
        }
        let (mut tx, outcomes) = self.begin_and_apply(jobs).await?;
        let foreign = Self::leaves_since(&mut tx, tree_size).await?;
        let (leaves, head) = finish(&outcomes, &foreign);
        Self::append_leaves(&mut tx, &leaves).await?;
        if !leaves.is_empty() {
            sqlx::query(
                "INSERT INTO tree_heads (size, timestamp_ms, root, signature, key_id) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(head.head.size as i64)
            .bind(head.head.timestamp_ms)
            .bind(&head.head.root[..])
            .bind(&head.signature[..])
            .bind(&head.key_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        if jobs.iter().flatten().any(Change::destroys_key_material) {
            self.scrub_freed_pages();
        }
        Ok(outcomes)
    }

    async fn append_leaves(tx: &mut Tx, leaves: &[LeafRow]) -> Result<()> {
        let insert = format!(
            "{} ledger_leaves (idx, data, leaf_hash, subject_id) ",
            DIALECT.insert_quietly
        );
        for chunk in statement_sized_chunks(leaves) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(&insert);
            qb.push_values(chunk, |mut b, leaf| {
                b.push_bind(leaf.index as i64)
                    .push_bind(leaf.data.clone())
                    .push_bind(leaf.hash.to_vec())
                    .push_bind(leaf.subject_id.map(|s| s.to_vec()));
            });
            // DO NOTHING + a count check, not a failing INSERT: same safety, no statement
            // journal (a taken index: `LEAF_INDEX_TAKEN`).
            qb.push(DIALECT.quietly);
            if qb.build().execute(&mut **tx).await?.rows_affected() != chunk.len() as u64 {
                return Err(crate::LEAF_INDEX_TAKEN);
            }
        }
        Ok(())
    }

    /// Opens the batch transaction and applies the jobs: in bulk when they are all inserts
    /// and none conflicts, else job by job.
    async fn begin_and_apply(&self, jobs: &[Vec<Change>]) -> Result<(Tx, Vec<JobOutcome>)> {
        let mut tx = self.begin_write().await?;
        if jobs.len() >= BULK_MIN_JOBS && jobs.iter().flatten().all(is_bulk_insertable) {
            // Optimistic first (a clean batch pays no lookups), then with lookups, then
            // (only if another writer raced us) job by job.
            for look_up_taken in [false, true] {
                if let Some(outcomes) = Self::apply_bulk(&mut tx, jobs, look_up_taken).await? {
                    return Ok((tx, outcomes));
                }
                tx.rollback().await?;
                tx = self.begin_write().await?;
            }
        }
        let outcomes = Self::apply_each(&mut tx, jobs).await?;
        Ok((tx, outcomes))
    }
}
