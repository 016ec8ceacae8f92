//! Legal holds: a person, a category (for everyone), or a category of one person, kept past
//! its retention and despite erasure requests until the hold is lifted or ends. Placed, lifted and
//! listed through the one door (`admin = ["retention"]`), each ledgered; the reason is a code from
//! a closed list. A held person's erasure is refused (409 `subject_under_legal_hold`) and the
//! retention sweep leaves what a hold covers alone.

use std::collections::HashSet;

use mamori_ledger::Event;
use mamori_policy::AdminPermission;
use mamori_proto::ErrorCode;
use mamori_proto::holds::{HoldReason, LegalHold};
use mamori_store::{Change, LegalHoldRow};

use crate::access::Permission;
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};
use crate::{format_id, new_id};

/// What a new hold covers.
#[derive(Debug, Clone)]
pub struct HoldRequest {
    pub subject: Option<[u8; 16]>,
    pub category: Option<String>,
    pub reason: HoldReason,
    /// Absent: until lifted.
    pub until_ms: Option<i64>,
}

/// The holds in force, as the sweep and erasures ask about them.
#[derive(Debug, Default)]
pub(crate) struct HoldsInForce {
    people: HashSet<[u8; 16]>,
    categories: HashSet<String>,
    people_categories: HashSet<([u8; 16], String)>,
}

impl HoldsInForce {
    /// Whether anything of `id` is held (the person, or one of their categories).
    pub(crate) fn touches(&self, id: &[u8; 16]) -> bool {
        self.people.contains(id) || self.people_categories.iter().any(|(p, _)| p == id)
    }

    /// Whether `category` of `id` is held.
    pub(crate) fn keeps(&self, id: &[u8; 16], category: &str) -> bool {
        self.people.contains(id)
            || self.categories.contains(category)
            || self
                .people_categories
                .contains(&(*id, category.to_string()))
    }

    /// Whether `category` is held for everyone.
    pub(crate) fn keeps_everyones(&self, category: &str) -> bool {
        self.categories.contains(category)
    }
}

fn view(row: &LegalHoldRow) -> LegalHold {
    LegalHold {
        id: format_id(&row.id),
        subject: row.subject_id.as_ref().map(format_id),
        category: row.category.clone(),
        reason: HoldReason::parse(&row.reason).unwrap_or(HoldReason::Litigation),
        until: row.until_ms.map(crate::format_time),
        placed_at: crate::format_time(row.created_ms),
    }
}

/// A person's open requests read to find their waiting erasure.
const OPEN_READ: i64 = 1_000;

/// What holds keep of one person.
#[derive(Debug, Clone, Default)]
pub struct HoldsOnPerson {
    pub holds: Vec<LegalHold>,
    /// The reference of the person's own erasure request, if a hold keeps it waiting.
    pub waiting_erasure: Option<String>,
}

const RETENTION: Permission = Permission::Admin(AdminPermission::Retention);

impl Vault {
    /// Places a hold. The person must exist and not be erased; the category must be the policy's.
    pub async fn place_legal_hold(&self, actor: &Actor, hold: &HoldRequest) -> Result<LegalHold> {
        let invalid =
            |field: &str, why: &str| CoreError::invalid(ErrorCode::InvalidValue, field, why);
        if hold.subject.is_none() && hold.category.is_none() {
            return Err(invalid(
                "subject",
                "a hold needs a subject, a category, or both",
            ));
        }
        if let Some(category) = &hold.category
            && self.policy.category(category).is_none()
        {
            return Err(invalid("category", "not a category of the policy"));
        }
        if hold.until_ms.is_some_and(|until| until <= self.now_ms()) {
            return Err(invalid("until", "a hold must end in the future"));
        }
        let granted = self.grant(actor, RETENTION, "hold.place").await?;
        if let Some(id) = &hold.subject {
            let row = self.store.subject(id).await?;
            if row.is_none_or(|r| r.erased_ms.is_some()) {
                return Err(CoreError::NotFound);
            }
        }
        let row = LegalHoldRow {
            id: new_id(),
            subject_id: hold.subject,
            category: hold.category.clone(),
            reason: hold.reason.as_str().to_string(),
            until_ms: hold.until_ms,
            created_ms: self.now_ms(),
            lifted_ms: None,
        };
        let mut event: Event = granted.event();
        event.subject = hold.subject.as_ref().map(format_id);
        event.categories = hold.category.iter().cloned().collect();
        let change = Change::InsertLegalHold(row.clone());
        self.ledger.submit(vec![change], vec![event]).await??;
        Ok(view(&row))
    }

    /// Lifts a hold in force.
    pub async fn lift_legal_hold(&self, actor: &Actor, id: &[u8; 16]) -> Result<()> {
        let granted = self.grant(actor, RETENTION, "hold.lift").await?;
        let missing = || CoreError::Missing {
            code: ErrorCode::HoldNotFound,
            message: "no legal hold in force has this id".into(),
        };
        let row = self.store.legal_hold(id).await?.ok_or_else(missing)?;
        let mut event: Event = granted.event();
        event.subject = row.subject_id.as_ref().map(format_id);
        let change = Change::LiftLegalHold {
            id: *id,
            lifted_ms: self.now_ms(),
        };
        match self.ledger.submit(vec![change], vec![event]).await? {
            Ok(()) => {}
            Err(_) => return Err(missing()),
        }
        // Erasures the hold kept waiting go ahead now; the hourly sweep retries on failure.
        if let Err(e) = self.carry_out_waiting_erasures().await {
            tracing::warn!(error = %e, code = e.code().as_str(), "carrying out erasures a legal hold kept waiting failed; the sweep retries");
        }
        Ok(())
    }

    /// The holds in force (a ledgered read).
    pub async fn legal_holds(&self, actor: &Actor) -> Result<Vec<LegalHold>> {
        self.grant_and_ledger(actor, RETENTION, "hold.list").await?;
        let rows = self.store.legal_holds(self.now_ms()).await?;
        Ok(rows.iter().map(view).collect())
    }

    /// What holds keep of the person, as they see it on My data: holds on them, on one of their
    /// categories, or on a category for everyone; and their own erasure, if one waits. Decided
    /// for the person alone and ledgered.
    pub async fn holds_on(&self, actor: &Actor, id: &[u8; 16]) -> Result<HoldsOnPerson> {
        self.request_access(actor, "hold.read", Some(id)).await?;
        let holds = (self.store.legal_holds(self.now_ms()).await?.iter())
            .filter(|h| h.subject_id.is_none_or(|s| s == *id))
            .map(view)
            .collect();
        let open = mamori_store::RequestFilter {
            state: None,
            due_before: None,
            after: None,
            subject: Some(*id),
            reference: None,
            limit: OPEN_READ,
        };
        let waiting_erasure = (self.store.requests(&open).await?.into_iter())
            .find(|r| r.waiting_for.is_some())
            .map(|r| crate::reference::format_reference(r.reference));
        let event = self.request_event(actor, "hold.read", Some(id));
        self.ledger.submit(vec![], vec![event]).await??;
        Ok(HoldsOnPerson {
            holds,
            waiting_erasure,
        })
    }

    pub(crate) async fn holds_in_force(&self) -> Result<HoldsInForce> {
        let mut holds = HoldsInForce::default();
        for row in self.store.legal_holds(self.now_ms()).await? {
            match (row.subject_id, row.category) {
                (Some(id), None) => holds.people.insert(id),
                (None, Some(category)) => holds.categories.insert(category),
                (Some(id), Some(category)) => holds.people_categories.insert((id, category)),
                (None, None) => false,
            };
        }
        Ok(holds)
    }

    /// Refuses to erase someone a hold covers.
    pub(crate) async fn refuse_if_held(&self, id: &[u8; 16]) -> Result<()> {
        if self.holds_in_force().await?.touches(id) {
            return Err(CoreError::Conflict {
                code: ErrorCode::SubjectUnderLegalHold,
                message:
                    "a legal hold keeps this person's data; the erasure waits until it is lifted"
                        .into(),
            });
        }
        Ok(())
    }
}
