//! Erasure, and what it must keep. Erasing a person destroys everything, except the categories a
//! legal obligation requires the business to keep (invoices for tax law). The erasure itself
//! deletes everything else at once, in one quick transaction, and leaves what is kept readable
//! only for a legal-obligation purpose; right after, in the background, the kept part is
//! re-sealed under a fresh key and the old key destroyed, so every other value ever sealed under
//! it (in backups, in freed pages) is crypto-shredded. The sweep here also drops each kept
//! category when its retention period (counted from the erasure) ends.

use mamori_proto::RequestKind;
use mamori_proto::disclosures::VendorTaskKind;
use mamori_proto::outbox::{EventType, KeptUntil, SubjectErased};
use std::collections::BTreeSet;

use mamori_ledger::{Event, Outcome};
use mamori_policy::{Action, IdSet, Policy};
use mamori_store::{Change, JobError, SubjectRow};

use crate::error::{CoreError, Result};
use crate::fieldmap::SealedFields;
use crate::vault::{Actor, MAX_RECORDS, Vault, record_field};
use crate::{format_id, format_time};

const RETRIES: usize = 16;
// Every record of a subject must be re-sealed or dropped; this bounds one erasure's reading.
const ALL_RECORDS: i64 = MAX_RECORDS * 100;

/// A category an erasure keeps: why (the holding purposes) and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptCategory {
    pub category: usize,
    pub purposes: Vec<usize>,
    pub until_ms: i64,
    /// The keeping period that decided `until_ms`, to say it in words beside the date.
    pub period: mamori_policy::Retention,
}

/// What erasing a person would erase and keep, counted from `from_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasurePlan {
    /// Categories the person has data in that go at once.
    pub erased: IdSet,
    pub kept: Vec<KeptCategory>,
}

impl ErasurePlan {
    /// The plan for a person with data in `present`, erased at `from_ms`, seen at `now_ms`
    /// (a kept category whose hold has ended by then is erased too).
    pub fn new(policy: &Policy, present: IdSet, from_ms: i64, now_ms: i64) -> ErasurePlan {
        let mut kept = Vec::new();
        let mut erased = IdSet::EMPTY;
        for category in present.iter() {
            let purposes: Vec<usize> = policy
                .holding_purposes()
                .filter(|p| p.categories.contains(category))
                .map(|p| p.id)
                .collect();
            // Each obligation keeps for its own period (or the category's retention); the
            // longest decides.
            let (until_ms, period) = purposes
                .iter()
                .map(|&p| {
                    let period = policy.purposes[p]
                        .retention
                        .unwrap_or(policy.categories[category].retention);
                    (period.end_ms(from_ms), period)
                })
                .max_by_key(|(until, _)| *until)
                .unwrap_or((from_ms, policy.categories[category].retention));
            if purposes.is_empty() || until_ms <= now_ms {
                erased = erased.with(category);
            } else {
                kept.push(KeptCategory {
                    category,
                    purposes,
                    until_ms,
                    period,
                });
            }
        }
        ErasurePlan { erased, kept }
    }

    pub fn kept_set(&self) -> IdSet {
        self.kept
            .iter()
            .fold(IdSet::EMPTY, |s, k| s.with(k.category))
    }

    /// When the first kept category's hold ends (None: nothing kept).
    pub fn next_end_ms(&self) -> Option<i64> {
        self.kept.iter().map(|k| k.until_ms).min()
    }
}

/// The categories (known to the policy) a subject has fields or records in.
fn present_categories(policy: &Policy, map: &SealedFields, record_categories: &[String]) -> IdSet {
    let names = map
        .0
        .iter()
        .map(|(c, _, _)| c.as_str())
        .chain(record_categories.iter().map(String::as_str));
    names
        .filter_map(|n| policy.category(n))
        .fold(IdSet::EMPTY, |s, c| s.with(c.id))
}

/// The fields of kept categories only (sealed values are moved as they are, never opened).
fn kept_fields(policy: &Policy, map: &SealedFields, keep: IdSet) -> SealedFields {
    let mut kept = map.clone();
    kept.0
        .retain(|(c, _, _)| policy.category(c).is_some_and(|c| keep.contains(c.id)));
    kept
}

/// Record categories to delete: every category not kept, including ones the person has no
/// records in yet (so none written meanwhile survives) and ones no longer in the policy.
fn dropped_record_categories(
    policy: &Policy,
    record_categories: &[String],
    keep: IdSet,
) -> Vec<String> {
    let names: BTreeSet<String> = policy
        .categories
        .iter()
        .filter(|c| !keep.contains(c.id))
        .map(|c| c.name.clone())
        .chain(
            record_categories
                .iter()
                .filter(|c| policy.category(c).is_none())
                .cloned(),
        )
        .collect();
    names.into_iter().collect()
}

/// The change that leaves a subject only `plan`'s kept categories, or erases it entirely when
/// nothing is kept. Kept fields move as they are, sealed; `erased_ms` is the erasure's time
/// (a hold's periods count from it).
fn shrink(
    policy: &Policy,
    row: &SubjectRow,
    map: &SealedFields,
    record_categories: &[String],
    plan: &ErasurePlan,
    erased_ms: i64,
    rekey_requested_ms: Option<i64>,
) -> Change {
    let (Some(held_until_ms), Some(wrapped_dek)) = (plan.next_end_ms(), &row.wrapped_dek) else {
        return Change::EraseSubject {
            id: row.id,
            erased_ms,
        };
    };
    let keep = plan.kept_set();
    Change::HoldSubject {
        id: row.id,
        expected_version: row.version,
        erased_ms,
        held_until_ms,
        wrapped_dek: wrapped_dek.clone(),
        fields: kept_fields(policy, map, keep).encode(),
        drop_record_categories: dropped_record_categories(policy, record_categories, keep),
        rekey_requested_ms,
    }
}

/// Records re-sealed per transaction of a re-key.
const REKEY_CHUNK: usize = 500;

/// A ledger event of Mamori's own background work on a subject (no purpose: nobody reads).
fn system_event(
    actor: &str,
    action: &str,
    id: &[u8; 16],
    categories: Vec<String>,
    time_ms: i64,
) -> Event {
    Event {
        time_ms,
        actor: actor.to_string(),
        role: "system".to_string(),
        purpose: None,
        action: action.to_string(),
        subject: Some(format_id(id)),
        categories,
        recipient: None,
        outcome: Outcome::Allowed,
    }
}

impl Vault {
    /// The policy's categories the subject has records in.
    async fn record_categories(&self, id: &[u8; 16]) -> Result<Vec<String>> {
        let names: Vec<String> = self
            .policy
            .categories
            .iter()
            .map(|c| c.name.clone())
            .collect();
        Ok(self.store.record_categories(id, &names).await?)
    }

    /// What erasing the person now would erase and keep (for the confirmation page and the
    /// staff API). Reads only which categories hold data, never a value; ledgered.
    pub async fn erasure_plan(
        &self,
        actor: &Actor,
        purpose: &str,
        id: &[u8; 16],
    ) -> Result<ErasurePlan> {
        let all = self.policy.all_categories();
        let label = "subject.erase_plan";
        self.authorise(actor, purpose, Action::Delete, all, label, Some(id))
            .await?;
        let opened = self.live_subject(id, None).await;
        let (_, _, map) = self
            .or_ledger(opened, actor, purpose, label, id, all)
            .await?;
        let record_categories = self.record_categories(id).await?;
        let present = present_categories(&self.policy, &map, &record_categories);
        let now = self.now_ms();
        let plan = ErasurePlan::new(&self.policy, present, now, now);
        let event = self.event(actor, purpose, label, Some(id), present, Outcome::Allowed);
        self.ledger.submit(vec![], vec![event]).await??;
        Ok(plan)
    }

    /// Erases the subject: everything is deleted (and, with no hold, crypto-shredded at once)
    /// except the categories a legal obligation keeps, held until their retention ends and
    /// re-keyed right after (see the module). Returns the plan carried out.
    pub async fn erase_subject(
        &self,
        actor: &Actor,
        purpose: &str,
        id: &[u8; 16],
    ) -> Result<ErasurePlan> {
        self.erase_with(actor, purpose, id, None).await
    }

    /// "Delete my account": the person erases themselves, and the register of requests gets
    /// the fulfilled erasure request in the same transaction.
    pub async fn erase_own_account(
        &self,
        actor: &Actor,
        id: &[u8; 16],
    ) -> Result<crate::waiting_erasures::OwnErasure> {
        use crate::waiting_erasures::OwnErasure;
        let entry = self
            .self_service_entry(actor, id, RequestKind::Erasure)
            .await?;
        if self.holds_in_force().await?.touches(id) {
            let row = self.register_waiting_erasure(actor, id, entry).await?;
            return Ok(OwnErasure::Waiting(row));
        }
        let row = entry.0.clone();
        let plan = self
            .erase_with(actor, mamori_policy::RIGHTS_PURPOSE, id, Some(entry))
            .await?;
        Ok(OwnErasure::Erased(plan, row))
    }

    async fn erase_with(
        &self,
        actor: &Actor,
        purpose: &str,
        id: &[u8; 16],
        entry: Option<(mamori_store::RequestRow, Vec<Change>, Event)>,
    ) -> Result<ErasurePlan> {
        let all = self.policy.all_categories();
        self.authorise(
            actor,
            purpose,
            Action::Delete,
            all,
            "subject.erase",
            Some(id),
        )
        .await?;
        self.refuse_if_held(id).await?;
        self.erase_authorised(actor, purpose, id, entry).await
    }

    /// The erasure once decided: by [`Self::erase_with`], or replayed from the erasure journal
    /// (an erasure decided before a restore brought the person back).
    pub(crate) async fn erase_authorised(
        &self,
        actor: &Actor,
        purpose: &str,
        id: &[u8; 16],
        entry: Option<(mamori_store::RequestRow, Vec<Change>, Event)>,
    ) -> Result<ErasurePlan> {
        let all = self.policy.all_categories();
        let label = "subject.erase";
        for _ in 0..RETRIES {
            let opened = self.live_subject(id, None).await;
            let (row, _, map) = self
                .or_ledger(opened, actor, purpose, label, id, all)
                .await?;
            let record_categories = self.record_categories(id).await?;
            let present = present_categories(&self.policy, &map, &record_categories);
            let now = self.now_ms();
            let plan = ErasurePlan::new(&self.policy, present, now, now);
            let erase = shrink(
                &self.policy,
                &row,
                &map,
                &record_categories,
                &plan,
                now,
                Some(now),
            );
            let event = self.event(
                actor,
                purpose,
                label,
                Some(id),
                plan.erased,
                Outcome::Allowed,
            );
            let announcement = self.erased_announcement(id, &plan);
            let (mut changes, mut events) = (vec![erase, announcement], vec![event]);
            // Every vendor that received anything is asked to erase it, in the same commit —
            // what a legal obligation keeps, the business keeps, not its vendors.
            let (tasks, task_events) = self
                .vendor_tasks_for(id, VendorTaskKind::Erasure, all, None)
                .await?;
            changes.extend(tasks);
            events.extend(task_events);
            if let Some((_, entry_changes, entry_event)) = &entry {
                changes.extend(entry_changes.iter().cloned());
                events.push(entry_event.clone());
            }
            match self.ledger.submit(changes, events).await? {
                Ok(()) => {
                    self.journal_erasure(id, now);
                    if plan.next_end_ms().is_some() {
                        let vault = self.clone();
                        let id = *id;
                        tokio::spawn(async move {
                            if let Err(e) = vault.rekey_held(&id).await {
                                tracing::warn!(error = %e, code = e.code().as_str(), "re-keying an erased subject's kept data failed; the sweep retries");
                            }
                        });
                    }
                    return Ok(plan);
                }
                // Another erasure won the race: the person is erased either way.
                Err(JobError::Gone) => return Err(CoreError::NotFound),
                Err(JobError::Stale) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(JobError::Stale.into())
    }

    fn erased_announcement(&self, id: &[u8; 16], plan: &ErasurePlan) -> Change {
        let kept = (plan.kept.iter())
            .map(|k| KeptUntil {
                category: self.policy.categories[k.category].name.clone(),
                until: format_time(k.until_ms),
            })
            .collect();
        let subject = format_id(id);
        let erased = SubjectErased { subject, kept };
        self.announce(EventType::SubjectErased, Some(id), &erased)
    }

    /// Drops what held subjects keep once each hold ends; the last one ends the subject.
    /// Returns how many subjects changed. Values are never opened: kept fields are dropped
    /// from the sealed map as they are.
    pub async fn end_holds(&self, now: i64, limit: i64) -> Result<usize> {
        let mut changed = 0;
        for row in self.store.holds_ending(now, limit).await? {
            if self.end_hold(&row, now).await? {
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// Re-seals a held subject's kept fields and records under a fresh key and destroys the
    /// old one, so every other value ever sealed under it is crypto-shredded. Returns whether
    /// it did (false: not held, already done, or changed meanwhile — the sweep tries again).
    ///
    /// Records go [`REKEY_CHUNK`] per transaction, so a person with 10,000 kept invoices holds
    /// the one writer for a few milliseconds at a time, never for the whole re-key: erasures
    /// and everything else interleave. Until the last step the old key stays beside the new one
    /// (records not yet re-sealed open with it); an interrupted re-key resumes where it was.
    pub async fn rekey_held(&self, id: &[u8; 16]) -> Result<bool> {
        self.rekey_held_upto(id, usize::MAX).await
    }

    /// [`Vault::rekey_held`] that stops after `chunks` transactions of records, as a crash
    /// would (for tests of resuming).
    #[doc(hidden)]
    pub async fn rekey_held_upto(&self, id: &[u8; 16], chunks: usize) -> Result<bool> {
        let _one_at_a_time = self.rekeying.lock().await;
        let Some(row) = self.store.subject(id).await? else {
            return Ok(false);
        };
        let (true, Some(wrapped), Some(_)) =
            (row.is_held(), &row.wrapped_dek, row.rekey_requested_ms)
        else {
            return Ok(false);
        };
        let unwrap = |wrapped: &[u8]| self.unwrap_key(id, wrapped);
        let (old_key, new_key, new_wrapped, resuming) = match &row.previous_wrapped_dek {
            Some(previous) => (unwrap(previous)?, unwrap(wrapped)?, wrapped.clone(), true),
            None => {
                let old_key = unwrap(wrapped)?;
                let (new_key, new_wrapped) = self
                    .keyring
                    .new_subject_key(id)
                    .map_err(|e| CoreError::Internal(e.to_string()))?;
                if !self
                    .start_rekey(&row, &old_key, &new_key, &new_wrapped)
                    .await?
                {
                    return Ok(false);
                }
                (old_key, new_key, new_wrapped, false)
            }
        };
        let records = self.store.records(id, ALL_RECORDS).await?;
        for (n, chunk) in records.chunks(REKEY_CHUNK).enumerate() {
            if n == chunks {
                return Ok(false);
            }
            let mut resealed = Vec::with_capacity(chunk.len());
            for r in chunk {
                let aad_field = record_field(&r.id);
                if resuming && new_key.open(&r.category, &aad_field, &r.sealed).is_ok() {
                    continue;
                }
                let plain = old_key
                    .open(&r.category, &aad_field, &r.sealed)
                    .map_err(|_| CoreError::Integrity)?;
                resealed.push((r.id, new_key.seal(&r.category, &aad_field, &plain)));
            }
            let change = Change::RekeyRecords {
                id: *id,
                wrapped_dek: new_wrapped.clone(),
                records: resealed,
            };
            if !self.submit_unless_changed(vec![change], Vec::new()).await? {
                return Ok(false);
            }
        }
        let finish = Change::RekeyFinish {
            id: *id,
            wrapped_dek: new_wrapped,
        };
        let event = system_event(
            "mamori:erasure",
            "subject.rekey",
            id,
            Vec::new(),
            self.now_ms(),
        );
        self.submit_unless_changed(vec![finish], vec![event]).await
    }

    /// The new key becomes current (with the kept fields re-sealed under it); the old one
    /// stays beside it until the records are done.
    async fn start_rekey(
        &self,
        row: &SubjectRow,
        old_key: &mamori_crypto::SubjectKey,
        new_key: &mamori_crypto::SubjectKey,
        new_wrapped: &[u8],
    ) -> Result<bool> {
        let (Some(fields), Some(old_wrapped)) = (&row.fields, &row.wrapped_dek) else {
            return Ok(false);
        };
        let map = SealedFields::decode(fields).map_err(|_| CoreError::Integrity)?;
        let mut resealed_fields = SealedFields::default();
        for (c, f, sealed) in &map.0 {
            let plain = old_key
                .open(c, f, sealed)
                .map_err(|_| CoreError::Integrity)?;
            resealed_fields.set(c, f, Some(new_key.seal(c, f, &plain)));
        }
        let start = Change::RekeyStart {
            id: row.id,
            expected_version: row.version,
            wrapped_dek: new_wrapped.to_vec(),
            previous_wrapped_dek: old_wrapped.clone(),
            fields: resealed_fields.encode(),
        };
        // A step of the re-key: no event of its own, the finished re-key is ledgered once.
        self.submit_unless_changed(vec![start], Vec::new()).await
    }

    /// Background work on a subject, in a transaction of its own: false when the subject
    /// changed or went meanwhile (the sweep looks again).
    async fn submit_unless_changed(
        &self,
        changes: Vec<Change>,
        events: Vec<Event>,
    ) -> Result<bool> {
        match self.ledger.submit(changes, events).await? {
            Ok(()) => Ok(true),
            Err(JobError::Stale | JobError::Gone) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Re-keys every held subject still waiting for it (after a crash, or a lost race).
    pub async fn rekey_holds(&self, limit: i64) -> Result<usize> {
        let mut done = 0;
        for row in self.store.holds_to_rekey(limit).await? {
            if self.rekey_held(&row.id).await? {
                done += 1;
            }
        }
        Ok(done)
    }

    async fn end_hold(&self, row: &SubjectRow, now: i64) -> Result<bool> {
        let (true, Some(fields), Some(erased_ms)) = (row.is_held(), &row.fields, row.erased_ms)
        else {
            return Ok(false);
        };
        let map = SealedFields::decode(fields).map_err(|_| CoreError::Integrity)?;
        let record_categories = self.record_categories(&row.id).await?;
        let present = present_categories(&self.policy, &map, &record_categories);
        let plan = ErasurePlan::new(&self.policy, present, erased_ms, now);
        let change = shrink(
            &self.policy,
            row,
            &map,
            &record_categories,
            &plan,
            erased_ms,
            row.rekey_requested_ms,
        );
        let categories = self.policy.category_names(plan.erased);
        let event = system_event(
            "mamori:retention",
            "subject.hold_ended",
            &row.id,
            categories,
            self.now_ms(),
        );
        let announcement = self.erased_announcement(&row.id, &plan);
        self.submit_unless_changed(vec![change, announcement], vec![event])
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: i64 = 86_400_000;

    fn policy() -> Policy {
        Policy::parse("policy.toml", include_str!("../../../examples/policy.toml")).unwrap()
    }

    #[test]
    fn legal_obligation_categories_are_kept_for_their_retention() {
        let p = policy();
        let ids = |names: &[&str]| {
            names
                .iter()
                .fold(IdSet::EMPTY, |s, n| s.with(p.category(n).unwrap().id))
        };
        let present = ids(&["contact", "orders", "preferences", "support_tickets"]);
        let plan = ErasurePlan::new(&p, present, 0, 0);
        assert_eq!(plan.erased, ids(&["preferences", "support_tickets"]));
        assert_eq!(plan.kept_set(), ids(&["contact", "orders"]));
        let accounting = p.purpose("legal_accounting").unwrap().id;
        for k in &plan.kept {
            assert_eq!(
                k.purposes,
                vec![accounting],
                "the rights purpose holds nothing"
            );
        }
        // On the calendar: 7 years from 1 January 1970 is 1 January 1977 (two leap days on).
        let (three_years, seven_years) = ((3 * 365 + 1) * DAY_MS, (7 * 365 + 2) * DAY_MS);
        // The obligation's own `retention = "7y"` holds contact (retention 3y) for 7 years too.
        assert!(
            plan.kept.iter().all(|k| k.until_ms == seven_years),
            "{plan:?}"
        );
        assert_eq!(
            ErasurePlan::new(&p, present, 0, seven_years).next_end_ms(),
            None,
            "seven years on, nothing is kept"
        );

        // Without it, each category is kept for its own retention: contact goes first.
        let example = include_str!("../../../examples/policy.toml");
        let line = "retention = \"7y\"     # what an erasure keeps";
        assert!(example.contains(line));
        let p = Policy::parse("policy.toml", &example.replace(line, "# ")).unwrap();
        let plan = ErasurePlan::new(&p, present, 0, 0);
        assert_eq!(plan.next_end_ms(), Some(three_years), "contact ends first");
        let later = ErasurePlan::new(&p, present, 0, three_years);
        assert_eq!(later.kept_set(), ids(&["orders"]));
        assert!(later.erased.contains(p.category("contact").unwrap().id));
        assert_eq!(later.next_end_ms(), Some(seven_years));
    }
}
