//! Retention of live data: each category's `retention` in the policy, enforced. A person's field
//! categories are kept for their retention after the person was last active (created, updated,
//! a record added); each record for its category's retention after it was made. The sweep
//! (inside `serve`, and `mamori retention sweep [--dry-run]`) drops what has expired: fields are
//! removed from the sealed map (with their blind indexes) without opening them, records deleted,
//! and a person with nothing left unexpired is erased as a whole — data key destroyed, the erasure
//! journal told. Each is ledgered and announced as `subject.retention_erased`; a dry run only
//! counts, per category, and never reads a value.

use std::collections::{BTreeMap, BTreeSet};

use mamori_ledger::{Event, Outcome};
use mamori_policy::{AdminPermission, IdSet, LegalBasis, RetentionStart};
use mamori_proto::disclosures::VendorTaskKind;
use mamori_proto::outbox::{EventType, SubjectRetentionErased};
use mamori_store::{Change, InactiveSubject};

use crate::access::Permission;
use crate::error::Result;
use crate::fieldmap::SealedFields;
use crate::format_id;
use crate::ledger::Item;
use crate::vault::{Actor, Vault};

/// Where a pass of the field sweep finds people.
enum Source {
    /// Inactive since this time.
    Inactive(i64),
    /// Every consent to one of `purposes` withdrawn before `cutoff`; those inactive since
    /// `inactive_before` were seen by the first pass.
    Withdrawn {
        purposes: Vec<String>,
        cutoff: i64,
        inactive_before: i64,
    },
}

/// What every pass of the field sweep shares.
struct FieldSweep<'a> {
    actor: &'a Actor,
    cutoffs: &'a BTreeMap<&'a str, i64>,
    holds: &'a crate::legal_holds::HoldsInForce,
    report: &'a mut RetentionReport,
    dry_run: bool,
}

/// Subjects (or subjects' records) handled per commit.
const SWEEP_PAGE: i64 = 500;

/// What a sweep erased, or (dry run) would erase, per category.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionReport {
    pub dry_run: bool,
    /// People erased as a whole: nothing of them was left unexpired.
    pub people_erased: u64,
    /// Per category: people whose fields of it expired, and records of it that expired.
    pub categories: BTreeMap<String, CategoryCount>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CategoryCount {
    pub people: u64,
    pub records: u64,
}

impl RetentionReport {
    pub fn is_empty(&self) -> bool {
        self.people_erased == 0 && self.categories.is_empty()
    }
}

/// The actor of scheduled sweeps in the ledger.
fn sweeper() -> Actor {
    Actor {
        id: "retention".into(),
        role: "system".into(),
    }
}

impl Vault {
    /// `mamori retention sweep`: decided by the policy (`admin = ["retention"]`) and ledgered.
    pub async fn sweep_retention(&self, actor: &Actor, dry_run: bool) -> Result<RetentionReport> {
        let action = if dry_run {
            "retention.sweep_dry_run"
        } else {
            "retention.sweep"
        };
        let permission = Permission::Admin(AdminPermission::Retention);
        let granted = self.grant(actor, permission, action).await?;
        self.ledger.submit(vec![], vec![granted.event()]).await??;
        self.sweep(actor, dry_run).await
    }

    /// The sweep `serve` runs on its own (as `retention`, role `system`); each erasure is
    /// ledgered on its own.
    pub async fn scheduled_retention_sweep(&self) -> Result<RetentionReport> {
        self.sweep(&sweeper(), false).await
    }

    /// Each category's cutoff now: anything of it dated before is past its retention.
    fn cutoffs(&self) -> BTreeMap<&str, i64> {
        let now = self.now_ms();
        (self.policy.categories.iter())
            .map(|c| (c.name.as_str(), c.retention.cutoff_ms(now)))
            .collect()
    }

    async fn sweep(&self, actor: &Actor, dry_run: bool) -> Result<RetentionReport> {
        let cutoffs = self.cutoffs();
        let holds = self.holds_in_force().await?;
        let mut report = RetentionReport {
            dry_run,
            ..RetentionReport::default()
        };
        // Fields: people inactive since the latest cutoff, then (for categories kept until a
        // consent is withdrawn) people whose consents were withdrawn before their cutoff.
        let latest = cutoffs.values().copied().max().unwrap_or(i64::MIN);
        let mut sweep = FieldSweep {
            actor,
            cutoffs: &cutoffs,
            holds: &holds,
            report: &mut report,
            dry_run,
        };
        self.sweep_fields(&mut sweep, Source::Inactive(latest))
            .await?;
        for category in (self.policy.categories.iter())
            .filter(|c| c.retention_from == RetentionStart::ConsentWithdrawn)
        {
            let purposes = (self.consent_purposes_of(category.id).iter())
                .map(|p| p.name.clone())
                .collect();
            let cutoff = cutoffs[category.name.as_str()];
            let source = Source::Withdrawn {
                purposes,
                cutoff,
                inactive_before: latest,
            };
            self.sweep_fields(&mut sweep, source).await?;
        }
        // Records: each category's on their own clock.
        for (category, cutoff) in &cutoffs {
            if holds.keeps_everyones(category) {
                continue;
            }
            let mut after = None;
            loop {
                let page = (self.store)
                    .expired_records(category, *cutoff, after, SWEEP_PAGE)
                    .await?;
                let Some((last, _)) = page.last() else { break };
                after = Some(*last);
                let mut items = Vec::new();
                for (subject, records) in page.iter().filter(|(s, _)| !holds.keeps(s, category)) {
                    report
                        .categories
                        .entry(category.to_string())
                        .or_default()
                        .records += *records as u64;
                    let change = Change::DropExpiredRecords {
                        subject_id: *subject,
                        category: category.to_string(),
                        before_ms: *cutoff,
                    };
                    let mut item =
                        self.retention_item(actor, subject, vec![change], &[category], false);
                    if !dry_run {
                        self.tell_vendors(&mut item, subject, &[category]).await?;
                    }
                    items.push(item);
                }
                self.commit_sweep(items, dry_run).await?;
                if (page.len() as i64) < SWEEP_PAGE {
                    break;
                }
            }
        }
        Ok(report)
    }

    /// One pass over the people `source` lists, a page per commit.
    async fn sweep_fields(&self, sweep: &mut FieldSweep<'_>, source: Source) -> Result<()> {
        let mut after = None;
        loop {
            let page = match &source {
                Source::Inactive(before) => {
                    (self.store.inactive_subjects(*before, after, SWEEP_PAGE)).await?
                }
                Source::Withdrawn {
                    purposes, cutoff, ..
                } => {
                    (self.store)
                        .consent_withdrawn_subjects(purposes, *cutoff, after, SWEEP_PAGE)
                        .await?
                }
            };
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            let mut items = Vec::new();
            for subject in &page {
                // The first pass already looked at everyone inactive.
                if let Source::Withdrawn {
                    inactive_before, ..
                } = &source
                    && subject.active_ms < *inactive_before
                {
                    continue;
                }
                if let Some(item) = self.expire_fields(sweep, subject).await? {
                    items.push(item);
                }
            }
            self.commit_sweep(items, sweep.dry_run).await?;
            if (page.len() as i64) < SWEEP_PAGE {
                return Ok(());
            }
        }
        Ok(())
    }

    /// The consent-based purposes covering category `id`.
    fn consent_purposes_of(&self, id: usize) -> Vec<&mamori_policy::Purpose> {
        (self.policy.purposes.iter())
            .filter(|p| p.legal_basis == LegalBasis::Consent && p.categories.contains(id))
            .collect()
    }

    /// When each of `categories` (kept until a consent is withdrawn) started its retention for
    /// this person: the last change of their consents to the purposes covering it, none while
    /// one is granted (it does not expire), their last activity if they never answered.
    async fn consent_clocks<'c>(
        &self,
        subject: &InactiveSubject,
        categories: &[&'c str],
    ) -> Result<BTreeMap<&'c str, Option<i64>>> {
        let mut clocks = BTreeMap::new();
        if categories.is_empty() {
            return Ok(clocks);
        }
        let rows = self.consent_state(&subject.id).await?;
        for category in categories {
            let Some(c) = self.policy.category(category) else {
                continue;
            };
            let purposes = self.consent_purposes_of(c.id);
            let covering: Vec<_> = (rows.iter())
                .filter(|r| purposes.iter().any(|p| p.name == r.purpose))
                .collect();
            let clock = if covering.is_empty() {
                Some(subject.active_ms)
            } else if covering.iter().any(|r| r.granted) {
                None
            } else {
                covering.iter().map(|r| r.created_ms).max()
            };
            clocks.insert(*category, clock);
        }
        Ok(clocks)
    }

    /// What expired of one person's fields, counted in the report: their erasure (nothing left
    /// unexpired), the expired categories dropped from the map, or nothing.
    async fn expire_fields(
        &self,
        sweep: &mut FieldSweep<'_>,
        subject: &InactiveSubject,
    ) -> Result<Option<Item>> {
        let (actor, cutoffs, holds) = (sweep.actor, sweep.cutoffs, sweep.holds);
        let report = &mut *sweep.report;
        // What a legal hold covers never expires while it is in force.
        let expired = |category: &str, at: i64| {
            cutoffs.get(category).is_some_and(|c| at < *c) && !holds.keeps(&subject.id, category)
        };
        let Some(fields) = &subject.fields else {
            return Ok(None);
        };
        let map = SealedFields::decode(fields)?;
        let held: BTreeSet<&str> = map.0.iter().map(|(c, _, _)| c.as_str()).collect();
        let by_consent: Vec<&str> = (held.iter().copied())
            .filter(|c| {
                (self.policy.category(c))
                    .is_some_and(|c| c.retention_from == RetentionStart::ConsentWithdrawn)
            })
            .collect();
        let clocks = self.consent_clocks(subject, &by_consent).await?;
        let gone: Vec<&str> = (held.iter().copied())
            .filter(|c| match clocks.get(c) {
                Some(clock) => clock.is_some_and(|at| expired(c, at)),
                None => expired(c, subject.active_ms),
            })
            .collect();
        // Someone whose fields all went earlier is looked at until their records go too.
        if gone.is_empty() && !held.is_empty() {
            return Ok(None);
        }
        let records = self.store.newest_records(&subject.id).await?;
        let complete =
            gone.len() == held.len() && records.iter().all(|(c, newest)| expired(c, *newest));
        if gone.is_empty() && !complete {
            return Ok(None);
        }
        let mut categories: Vec<&str> = gone.clone();
        if complete {
            report.people_erased += 1;
            categories.extend(records.iter().map(|(c, _)| c.as_str()));
            categories.sort_unstable();
            categories.dedup();
        }
        for category in &categories {
            report
                .categories
                .entry(category.to_string())
                .or_default()
                .people += 1;
        }
        let id = subject.id;
        let changes = if complete {
            vec![Change::EraseSubject {
                id,
                erased_ms: self.now_ms(),
            }]
        } else {
            self.fields_dropped(subject, &map, &gone)
        };
        let mut item = self.retention_item(actor, &id, changes, &categories, complete);
        if !sweep.dry_run {
            self.tell_vendors(&mut item, &id, &categories).await?;
        }
        Ok(Some(item))
    }

    /// Vendors that received what expired are asked to erase it too, in the same commit: a
    /// processor keeps nothing past the business's own retention (GDPR Art. 28(3)(g)).
    async fn tell_vendors(&self, item: &mut Item, id: &[u8; 16], expired: &[&str]) -> Result<()> {
        if self.policy.vendors.is_empty() {
            return Ok(());
        }
        let categories = (expired.iter().filter_map(|c| self.policy.category(c)))
            .fold(IdSet::EMPTY, |set, c| set.with(c.id));
        let asked = self.vendor_tasks_for(id, VendorTaskKind::Erasure, categories, None);
        let (changes, events) = asked.await?;
        item.changes.extend(changes);
        item.events.extend(events);
        Ok(())
    }

    /// The person's map without the `gone` categories, and their lookup fields' indexes dropped.
    fn fields_dropped(
        &self,
        subject: &InactiveSubject,
        map: &SealedFields,
        gone: &[&str],
    ) -> Vec<Change> {
        let kept = (map.0.iter())
            .filter(|(c, _, _)| !gone.contains(&c.as_str()))
            .cloned()
            .collect();
        let mut changes = vec![Change::UpdateFields {
            id: subject.id,
            expected_version: subject.version,
            fields: SealedFields(kept).encode(),
            active_ms: None,
        }];
        for category in gone {
            for field in self
                .policy
                .category(category)
                .map_or(&[][..], |c| &c.fields)
            {
                if let (true, Some((_, kind))) = (field.lookup, Self::lookup_kind(&field.kind)) {
                    changes.push(Change::DropIndex {
                        kind,
                        subject_id: subject.id,
                    });
                }
            }
        }
        changes
    }

    fn retention_item(
        &self,
        actor: &Actor,
        id: &[u8; 16],
        mut changes: Vec<Change>,
        categories: &[&str],
        complete: bool,
    ) -> Item {
        let categories: Vec<String> = categories.iter().map(|c| c.to_string()).collect();
        let announced = SubjectRetentionErased {
            subject: format_id(id),
            categories: categories.clone(),
            complete,
        };
        changes.push(self.announce(EventType::SubjectRetentionErased, Some(id), &announced));
        let event = Event {
            time_ms: self.now_ms(),
            actor: actor.id.clone(),
            role: actor.role.clone(),
            purpose: None,
            action: "subject.retention_erased".into(),
            subject: Some(format_id(id)),
            categories,
            recipient: None,
            outcome: Outcome::Allowed,
        };
        Item {
            changes,
            events: vec![event],
        }
    }

    /// Commits a page of the sweep (each person on their own: one conflict — a person who
    /// changed meanwhile — leaves only that one for the next sweep), and notes erasures in the
    /// erasure journal. A dry run commits nothing.
    async fn commit_sweep(&self, items: Vec<Item>, dry_run: bool) -> Result<()> {
        if dry_run || items.is_empty() {
            return Ok(());
        }
        let erased: Vec<Option<[u8; 16]>> = (items.iter())
            .map(|item| match item.changes.first() {
                Some(Change::EraseSubject { id, .. }) => Some(*id),
                _ => None,
            })
            .collect();
        let outcomes = self.ledger.submit_all(items).await?;
        let now = self.now_ms();
        let journaled: Vec<([u8; 16], i64)> = (outcomes.iter().zip(erased))
            .filter_map(|(outcome, id)| Some((id.filter(|_| outcome.is_ok())?, now)))
            .collect();
        self.journal_erasures(&journaled);
        Ok(())
    }
}
