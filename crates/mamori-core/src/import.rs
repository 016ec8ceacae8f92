//! Bulk import: many subjects through the same parse → decide → seal → ledger path as
//! `POST /v1/subjects`, one transaction per batch. Sealing is spread over every core; the batch,
//! its ledger events and the import's checkpoint commit together, so a resumed import neither
//! skips nor repeats a row.

use mamori_ledger::Outcome;
use mamori_policy::{Action, IdSet};
use mamori_store::{Change, ImportProgress};

use crate::access::{self, Denial, NoConsent};
use crate::error::{CoreError, Result};
use crate::ledger::Item;
use crate::vault::{Actor, DataInput, Vault};

/// One row of an import file, already split into the API's shape.
#[derive(Debug, Clone)]
pub struct ImportRow {
    /// Where the row is in the file (1-based line or record number), for the rejects file.
    pub line: u64,
    pub external_id: Option<String>,
    pub data: DataInput,
}

/// A row that was not imported, and why. Never holds the row's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub line: u64,
    pub code: mamori_proto::ErrorCode,
    pub field: Option<String>,
    pub message: String,
}

impl Rejection {
    fn from_error(line: u64, e: &CoreError) -> Rejection {
        let field = match e {
            CoreError::Invalid { field, .. } => field.clone(),
            _ => None,
        };
        Rejection {
            line,
            code: e.code(),
            field,
            message: e.to_string(),
        }
    }
}

#[derive(Debug, Default)]
pub struct BatchReport {
    pub imported: u64,
    /// The new subjects' ids, in file order.
    pub ids: Vec<[u8; 16]>,
    pub rejected: Vec<Rejection>,
}

/// A batch sealed and decided, ready to commit.
pub struct PreparedBatch {
    items: Vec<Item>,
    /// Per item: the file line and new id if the row was allowed, else None.
    lines: Vec<Option<(u64, [u8; 16])>>,
    rejected: Vec<Rejection>,
}

const LABEL: &str = "subject.create";

impl Vault {
    /// Where an earlier run of the import `import_id` stopped (rows of the file already done).
    pub async fn import_resume_point(&self, import_id: &[u8; 32]) -> Result<u64> {
        let progress = self.store.import_progress(import_id).await?;
        Ok(progress.map_or(0, |p| p.rows_done.max(0) as u64))
    }

    /// Imports one batch: [`Vault::prepare_import`] then [`Vault::commit_import`]. Callers that
    /// want to seal the next batch while this one commits call the two halves themselves.
    pub async fn import_batch(
        &self,
        actor: &Actor,
        purpose: &str,
        import_id: [u8; 32],
        rows_done: u64,
        rows: Vec<ImportRow>,
    ) -> Result<BatchReport> {
        let prepared = self
            .prepare_import(actor, purpose, import_id, rows_done, rows)
            .await?;
        self.commit_import(prepared).await
    }

    /// Parses, decides and seals one batch (on every core). `rows_done` is the file position
    /// after this batch; it is saved in the same transaction as the batch. Row-independent
    /// denials (unknown purpose, purpose not allowed for the role) stop the import with an error
    /// after ledgering the denial once; anything about one row rejects that row only.
    pub async fn prepare_import(
        &self,
        actor: &Actor,
        purpose: &str,
        import_id: [u8; 32],
        rows_done: u64,
        rows: Vec<ImportRow>,
    ) -> Result<PreparedBatch> {
        self.check_import_purpose(actor, purpose).await?;
        let prepared = self.prepare_parallel(rows).await?;
        let mut batch = PreparedBatch {
            items: Vec::with_capacity(prepared.len() + 1),
            lines: Vec::with_capacity(prepared.len()),
            rejected: vec![],
        };
        for (line, result) in prepared {
            let (id, categories, changes) = match result {
                Ok(p) => p,
                Err(e) => {
                    batch.rejected.push(Rejection::from_error(line, &e));
                    continue;
                }
            };
            let decision = access::decide(
                &self.policy,
                &actor.role,
                purpose,
                Action::Create,
                categories,
                &NoConsent,
            );
            let (changes, outcome) = match decision {
                Ok(_) => (changes, Outcome::Allowed),
                Err(denial) => {
                    batch
                        .rejected
                        .push(Rejection::from_error(line, &CoreError::Denied(denial)));
                    let reason = denial.code().to_string();
                    (vec![], Outcome::Denied { reason })
                }
            };
            let allowed = matches!(outcome, Outcome::Allowed);
            let subject = allowed.then_some(&id);
            let event = self.event(actor, purpose, LABEL, subject, categories, outcome);
            batch.items.push(Item {
                changes,
                events: vec![event],
            });
            batch.lines.push(allowed.then_some((line, id)));
        }
        batch.items.push(Item {
            changes: vec![Change::SaveImportProgress(ImportProgress {
                id: import_id,
                rows_done: rows_done as i64,
                updated_ms: self.now_ms(),
            })],
            events: vec![],
        });
        Ok(batch)
    }

    /// Commits a prepared batch, its ledger events and the checkpoint in one transaction.
    pub async fn commit_import(&self, batch: PreparedBatch) -> Result<BatchReport> {
        let mut report = BatchReport {
            rejected: batch.rejected,
            ..BatchReport::default()
        };
        let outcomes = self.ledger.submit_all(batch.items).await?;
        for (line, outcome) in batch.lines.into_iter().zip(outcomes) {
            match (line, outcome) {
                (Some((_, id)), Ok(())) => {
                    report.imported += 1;
                    report.ids.push(id);
                }
                (Some((line, _)), Err(e)) => report
                    .rejected
                    .push(Rejection::from_error(line, &CoreError::from(e))),
                (None, _) => {}
            }
        }
        report.rejected.sort_by_key(|r| r.line);
        Ok(report)
    }

    /// Refuses the whole import if no row could pass: the purpose is unknown or the role may not
    /// use it, or it needs consent a new subject cannot have given. The refusal is ledgered like any other denial.
    async fn check_import_purpose(&self, actor: &Actor, purpose: &str) -> Result<()> {
        let any_category = self.policy.all_categories();
        match access::decide(
            &self.policy,
            &actor.role,
            purpose,
            Action::Create,
            IdSet::EMPTY,
            &NoConsent,
        ) {
            Err(
                d @ (Denial::UnknownPurpose
                | Denial::PurposeNotAllowedForRole
                | Denial::ConsentRequired),
            ) => {
                let shown = if d == Denial::UnknownPurpose {
                    "(unknown)"
                } else {
                    purpose
                };
                let outcome = Outcome::Denied {
                    reason: d.code().as_str().into(),
                };
                let event = self.event(actor, shown, LABEL, None, any_category, outcome);
                self.ledger.submit(vec![], vec![event]).await??;
                Err(CoreError::Denied(d))
            }
            _ => Ok(()),
        }
    }

    /// Parses, seals and blind-indexes rows on every core. Order is kept.
    async fn prepare_parallel(&self, rows: Vec<ImportRow>) -> Result<Vec<(u64, Prepared)>> {
        let vault = self.clone();
        tokio::task::spawn_blocking(move || {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            let chunk = rows.len().div_ceil(threads).max(1);
            std::thread::scope(|scope| {
                let handles: Vec<_> = rows
                    .chunks(chunk)
                    .map(|part| {
                        let vault = &vault;
                        scope.spawn(move || {
                            part.iter()
                                .map(|r| {
                                    let p = vault.prepare_create(r.external_id.as_deref(), &r.data);
                                    (r.line, p)
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().expect("sealing thread panicked"))
                    .collect()
            })
        })
        .await
        .map_err(|e| CoreError::Internal(format!("import worker failed: {e}")))
    }
}

type Prepared = Result<([u8; 16], IdSet, Vec<Change>)>;
