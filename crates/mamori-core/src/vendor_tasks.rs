//! Erasure, correction and opt-out reach vendors. When a person is erased, corrects data, or
//! withdraws from a purpose, every vendor that received the data concerned (by the disclosure
//! records) gets a task in the same transaction as the change: a row, an outbox event for the
//! webhooks (`vendor.erasure_requested`, `vendor.correction_requested`,
//! `vendor.optout_requested`) and a ledger event naming the vendor. The vendor confirms with a
//! request signed by its own secret (Standard Webhooks form, so its webhook library signs it);
//! until then a reminder goes out weekly. Ids, names, codes and times only, throughout.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mamori_ledger::{Event, Outcome};
use mamori_policy::{AdminPermission, IdSet};
use mamori_proto::ErrorCode;
use mamori_proto::disclosures::{VendorTask, VendorTaskKind};
use mamori_proto::outbox::{EventType, VendorTaskEvent};
use mamori_store::{Change, DisclosureRow, JobError, VendorTaskRow};

use crate::access::{Denial, Permission};
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};
use crate::{format_id, format_time, new_id, parse_id};

const DAY_MS: i64 = 24 * 3600 * 1000;
/// A vendor has a month to confirm (GDPR Art. 12(3), 19: without undue delay, within a month).
pub const TASK_DUE_MS: i64 = 30 * DAY_MS;
/// Unconfirmed tasks are reminded weekly, until confirmed.
pub const REMIND_EVERY_MS: i64 = 7 * DAY_MS;
/// How far a confirmation's timestamp may be from the server's clock.
const SIGNATURE_TOLERANCE_MS: i64 = 5 * 60 * 1000;
const VENDORS: Permission = Permission::Admin(AdminPermission::Vendors);
/// Tasks listed at most.
pub const MAX_TASKS: i64 = 1_000;

/// A confirmation as it arrived: the Standard Webhooks headers and the exact body signed.
pub struct SignedConfirmation<'a> {
    pub message_id: &'a str,
    pub timestamp: &'a str,
    pub signature: &'a str,
    pub body: &'a [u8],
}

fn event_type(kind: VendorTaskKind) -> EventType {
    match kind {
        VendorTaskKind::Erasure => EventType::VendorErasureRequested,
        VendorTaskKind::Correction => EventType::VendorCorrectionRequested,
        VendorTaskKind::Optout => EventType::VendorOptoutRequested,
    }
}

fn names(list: &str) -> Vec<String> {
    list.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The wire form of a task (`now_ms` decides whether it is overdue).
pub fn task_view(row: &VendorTaskRow, now_ms: i64) -> VendorTask {
    VendorTask {
        id: format_id(&row.id),
        vendor: row.vendor.clone(),
        subject: format_id(&row.subject_id),
        kind: VendorTaskKind::parse(&row.kind).unwrap_or(VendorTaskKind::Erasure),
        purpose: row.purpose.clone(),
        categories: names(&row.categories),
        disclosures: names(&row.disclosures),
        created_at: format_time(row.created_ms),
        due_at: format_time(row.due_ms),
        reminders: row.reminders,
        confirmed_at: row.confirmed_ms.map(format_time),
        overdue: row.confirmed_ms.is_none() && row.due_ms < now_ms,
    }
}

fn task_event(row: &VendorTaskRow, reminder: i64) -> VendorTaskEvent {
    let view = task_view(row, row.created_ms);
    VendorTaskEvent {
        confirm_path: format!("/v1/vendor-tasks/{}/confirm", view.id),
        task: view.id,
        vendor: view.vendor,
        subject: view.subject,
        kind: view.kind,
        purpose: view.purpose,
        categories: view.categories,
        disclosures: view.disclosures,
        due_at: view.due_at,
        reminder,
    }
}

/// A ledger event of a vendor's task (Mamori's own doing, or the vendor's), naming the vendor.
fn task_ledger_event(actor: &str, role: &str, action: &str, row: &VendorTaskRow, at: i64) -> Event {
    Event {
        time_ms: at,
        actor: actor.to_string(),
        role: role.to_string(),
        purpose: row.purpose.clone(),
        action: action.to_string(),
        subject: Some(format_id(&row.subject_id)),
        categories: names(&row.categories),
        recipient: Some(row.vendor.clone()),
        outcome: Outcome::Allowed,
    }
}

/// Which disclosures a change reaches: those of the categories affected, or (for an opt-out)
/// those made for the purpose withdrawn from.
fn reached(
    kind: VendorTaskKind,
    d: &DisclosureRow,
    affected: &[String],
    purpose: Option<&str>,
) -> bool {
    match kind {
        VendorTaskKind::Optout => Some(d.purpose.as_str()) == purpose,
        _ => names(&d.categories).iter().any(|c| affected.contains(c)),
    }
}

impl Vault {
    /// The tasks a change about person `id` opens, one per vendor that received data it
    /// reaches (none for a vendor with the same task still open): rows, outbox events, and
    /// ledger events, to commit with the change itself.
    pub(crate) async fn vendor_tasks_for(
        &self,
        id: &[u8; 16],
        kind: VendorTaskKind,
        affected: IdSet,
        purpose: Option<&str>,
    ) -> Result<(Vec<Change>, Vec<Event>)> {
        let disclosures = self.store.subject_disclosures(id).await?;
        if disclosures.is_empty() {
            return Ok((vec![], vec![]));
        }
        let affected = self.policy.category_names(affected);
        let open = self.store.subject_vendor_tasks(id).await?;
        let mut by_vendor: BTreeMap<&str, Vec<&DisclosureRow>> = BTreeMap::new();
        for d in disclosures
            .iter()
            .filter(|d| reached(kind, d, &affected, purpose))
        {
            by_vendor.entry(&d.vendor).or_default().push(d);
        }
        let now = self.now_ms();
        let (mut changes, mut events) = (vec![], vec![]);
        for (vendor, received) in by_vendor {
            let pending = open.iter().any(|t| {
                t.vendor == vendor
                    && t.confirmed_ms.is_none()
                    && t.kind == kind.as_str()
                    && t.purpose.as_deref() == purpose
            });
            if pending {
                continue;
            }
            let mut categories: Vec<String> = received
                .iter()
                .flat_map(|d| names(&d.categories))
                .filter(|c| kind == VendorTaskKind::Optout || affected.contains(c))
                .collect();
            categories.sort();
            categories.dedup();
            let ids: Vec<String> = received.iter().map(|d| format_id(&d.id)).collect();
            let row = VendorTaskRow {
                id: new_id(),
                vendor: vendor.to_string(),
                subject_id: *id,
                kind: kind.as_str().to_string(),
                purpose: purpose.map(str::to_string),
                categories: categories.join(","),
                disclosures: ids.join(","),
                created_ms: now,
                due_ms: now + TASK_DUE_MS,
                next_reminder_ms: now + REMIND_EVERY_MS,
                reminders: 0,
                confirmed_ms: None,
            };
            changes.push(self.announce(event_type(kind), Some(id), &task_event(&row, 0)));
            events.push(task_ledger_event(
                "system",
                "system",
                "vendor.task_open",
                &row,
                now,
            ));
            changes.push(Change::InsertVendorTask(row));
        }
        Ok((changes, events))
    }

    /// Tasks, newest first (`admin = ["vendors"]`; ledgered `vendor.task_list`).
    pub async fn vendor_tasks(&self, by: &Actor, open_only: bool) -> Result<Vec<VendorTask>> {
        self.grant_and_ledger(by, VENDORS, "vendor.task_list")
            .await?;
        let rows = self.store.vendor_tasks(open_only, MAX_TASKS).await?;
        let now = self.now_ms();
        Ok(rows.iter().map(|r| task_view(r, now)).collect())
    }

    /// One person's tasks, oldest first (`admin = ["vendors"]`; ledgered about the person).
    pub async fn subject_vendor_tasks(&self, by: &Actor, id: &[u8; 16]) -> Result<Vec<VendorTask>> {
        let granted = self.grant(by, VENDORS, "vendor.task_list").await?;
        let rows = self.store.subject_vendor_tasks(id).await?;
        self.ledger
            .submit(vec![], vec![granted.event_about(id)])
            .await??;
        let now = self.now_ms();
        Ok(rows.iter().map(|r| task_view(r, now)).collect())
    }

    /// A vendor's confirmation secret (`whsec_<base64>`), to hand to the vendor
    /// (`admin = ["vendors"]`; ledgered `vendor.secret_read`, naming the vendor).
    pub async fn vendor_secret(&self, by: &Actor, vendor: &str) -> Result<String> {
        let granted = self.grant(by, VENDORS, "vendor.secret_read").await?;
        let Some(v) = self.policy.vendor(vendor) else {
            return Err(CoreError::invalid(
                ErrorCode::UnknownVendor,
                "vendor",
                "name a vendor of the policy's register (`[vendors.NAME]`)",
            ));
        };
        let mut event = granted.event();
        event.recipient = Some(v.id.clone());
        self.ledger.submit(vec![], vec![event]).await??;
        let secret = self.keyring.vendor_secret(&v.id);
        Ok(format!("whsec_{}", STANDARD.encode(*secret)))
    }

    /// Sends the reminders due: one `vendor.task_reminder` per unconfirmed task a week after
    /// it opened or was last reminded. Returns how many went out.
    pub async fn remind_vendor_tasks(&self) -> Result<usize> {
        let now = self.now_ms();
        let mut sent = 0;
        for row in self.store.vendor_tasks_to_remind(now, 100).await? {
            let change = Change::MarkVendorTaskReminded {
                id: row.id,
                expected_reminders: row.reminders,
                next_ms: now + REMIND_EVERY_MS,
            };
            let announce = self.announce(
                EventType::VendorTaskReminder,
                Some(&row.subject_id),
                &task_event(&row, row.reminders + 1),
            );
            let event = task_ledger_event("system", "system", "vendor.task_remind", &row, now);
            match self
                .ledger
                .submit(vec![change, announce], vec![event])
                .await?
            {
                Ok(()) => sent += 1,
                // Confirmed meanwhile, or another server reminded it first.
                Err(JobError::Stale) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(sent)
    }
}

/// Why a confirmation is refused before its task is looked at.
fn unsigned() -> CoreError {
    CoreError::Denied(Denial::VendorSignatureInvalid)
}

impl Vault {
    /// A vendor confirms a task (`vendor_task.confirm`): the signature must be the named
    /// vendor's, fresh, over this body; the task must exist and be that vendor's. Every
    /// outcome is ledgered; confirming twice answers the first confirmation.
    pub async fn confirm_vendor_task(
        &self,
        task: &str,
        signed: &SignedConfirmation<'_>,
    ) -> Result<VendorTask> {
        let ask: mamori_proto::disclosures::ConfirmVendorTask = serde_json::from_slice(signed.body)
            .map_err(|_| {
                CoreError::invalid(
                    ErrorCode::InvalidBody,
                    "vendor",
                    "send {\"vendor\": NAME} as JSON",
                )
            })?;
        let vendor = self.policy.vendor(&ask.vendor).map(|v| v.id.clone());
        let actor = format!("vendor:{}", vendor.as_deref().unwrap_or("(unknown)"));
        let task_id = parse_id(task);
        let row = match task_id {
            Some(id) => self.store.vendor_task(&id).await?,
            None => None,
        };
        let now = self.now_ms();
        let refusal = self.confirmation_refusal(vendor.as_deref(), signed, task_id, row.as_ref());
        if let Some(e) = refusal {
            self.ledger_refused_confirmation(vendor, row.as_ref(), &e)
                .await?;
            return Err(e);
        }
        let Some(mut row) = row else {
            return Err(CoreError::NotFound);
        };
        let event = task_ledger_event(&actor, "vendor", "vendor_task.confirm", &row, now);
        if row.confirmed_ms.is_some() {
            self.ledger.submit(vec![], vec![event]).await??;
            return Ok(task_view(&row, now));
        }
        row.confirmed_ms = Some(now);
        let change = Change::ConfirmVendorTask {
            id: row.id,
            confirmed_ms: now,
        };
        let announce = self.announce(
            EventType::VendorTaskConfirmed,
            Some(&row.subject_id),
            &task_event(&row, row.reminders),
        );
        match self
            .ledger
            .submit(vec![change, announce], vec![event])
            .await?
        {
            Ok(()) => Ok(task_view(&row, now)),
            // Confirmed by a concurrent request: answer what is stored.
            Err(JobError::Stale) => {
                let stored = self
                    .store
                    .vendor_task(&row.id)
                    .await?
                    .ok_or(CoreError::NotFound)?;
                Ok(task_view(&stored, now))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Why a confirmation is refused, in the order that reveals nothing to a caller without
    /// the vendor's secret: the vendor, its signature, then the task.
    fn confirmation_refusal(
        &self,
        vendor: Option<&str>,
        signed: &SignedConfirmation<'_>,
        task_id: Option<[u8; 16]>,
        row: Option<&VendorTaskRow>,
    ) -> Option<CoreError> {
        let Some(vendor) = vendor else {
            return Some(CoreError::Denied(Denial::UnknownVendor));
        };
        if !self.signed_by(vendor, signed) {
            return Some(unsigned());
        }
        if task_id.is_none() {
            let why = "expected a task id (UUID) from the event";
            return Some(CoreError::invalid(ErrorCode::InvalidId, "id", why));
        }
        match row {
            None => Some(CoreError::Missing {
                code: ErrorCode::VendorTaskNotFound,
                message: "no such task".into(),
            }),
            Some(r) if r.vendor != vendor => Some(CoreError::Denied(Denial::VendorTaskOtherVendor)),
            Some(_) => None,
        }
    }

    /// The refused confirmation's ledger event: the vendor it claimed to be (if one of the
    /// register), the person only when the task is that vendor's.
    async fn ledger_refused_confirmation(
        &self,
        vendor: Option<String>,
        row: Option<&VendorTaskRow>,
        e: &CoreError,
    ) -> Result<()> {
        let actor = Actor {
            id: format!("vendor:{}", vendor.as_deref().unwrap_or("(unknown)")),
            role: "vendor".into(),
        };
        let reason = e.code().as_str().into();
        let outcome = Outcome::Denied { reason };
        let mut event =
            crate::admin::admin_event(&actor, "vendor_task.confirm", outcome, self.now_ms());
        event.subject = row
            .filter(|r| Some(&r.vendor) == vendor.as_ref())
            .map(|r| format_id(&r.subject_id));
        event.recipient = vendor;
        self.ledger.submit(vec![], vec![event]).await??;
        Ok(())
    }

    /// Whether the Standard Webhooks signature is the vendor's, over this id, time and body,
    /// and the time is within five minutes of now.
    fn signed_by(&self, vendor: &str, signed: &SignedConfirmation<'_>) -> bool {
        let Ok(seconds) = signed.timestamp.parse::<i64>() else {
            return false;
        };
        if (seconds.saturating_mul(1000) - self.now_ms()).abs() > SIGNATURE_TOLERANCE_MS
            || signed.message_id.is_empty()
            || signed.message_id.len() > 256
        {
            return false;
        }
        let secret = self.keyring.vendor_secret(vendor);
        let mac = mamori_crypto::KeyedMac::new(secret.as_ref());
        let mut content = Vec::with_capacity(signed.body.len() + 80);
        content.extend_from_slice(signed.message_id.as_bytes());
        content.push(b'.');
        content.extend_from_slice(signed.timestamp.as_bytes());
        content.push(b'.');
        content.extend_from_slice(signed.body);
        signed.signature.split(' ').take(8).any(|candidate| {
            (candidate.strip_prefix("v1,"))
                .and_then(|b64| STANDARD.decode(b64).ok())
                .is_some_and(|tag| mac.verify(&content, &tag))
        })
    }
}
