//! The same disclosure for many people at once (a campaign, a sync with a vendor), with the
//! checks of a single one. Opening the batch decides what does not depend on the person — the
//! role, the purpose and categories, the vendor register — and refuses the whole batch if any
//! id is unknown, before anything leaves. Then each part of the audience is answered in order:
//! per person, the person's consent where the purpose rests on it, erased people refused with
//! their code, and for everyone else the data, a disclosure record and a ledger event naming
//! the vendor — committed part by part, so what the caller has read is recorded.

use std::collections::HashMap;

use mamori_ledger::{Event, Outcome};
use mamori_policy::{Action, IdSet};
use mamori_proto::ErrorCode;
use mamori_proto::disclosures::{BatchOutcome, Disclose};
use mamori_store::{Change, DisclosureRow, SubjectRow};

use crate::access::{self, Denial, NoConsent};
use crate::error::{CoreError, Result};
use crate::fieldmap::SealedFields;
use crate::vault::{Actor, Vault};
use crate::{format_id, new_id};

/// People per batch at most.
pub const MAX_BATCH: usize = 10_000;
const ACTION: &str = "subject.disclose";

/// A batch decided for its role, purpose, categories and vendor.
#[derive(Clone)]
pub struct DisclosureBatch {
    actor: Actor,
    vendor: String,
    purpose: String,
    categories: IdSet,
    /// What the role sees of them; None while it depends on each person's consent.
    visible: Option<IdSet>,
}

impl DisclosureBatch {
    pub fn category_names(&self, vault: &Vault) -> Vec<String> {
        vault
            .policy
            .category_names(self.visible.unwrap_or(self.categories))
    }
}

impl Vault {
    /// Step one: decides everything but the person, and checks every id is known. Refusals
    /// are ledgered (naming the vendor) and nothing leaves.
    pub async fn open_disclosure_batch(
        &self,
        actor: &Actor,
        ask: &Disclose,
        ids: &[[u8; 16]],
    ) -> Result<DisclosureBatch> {
        if ids.is_empty() || ids.len() > MAX_BATCH {
            let why = format!("give 1 to {MAX_BATCH} subject ids per batch");
            return Err(CoreError::invalid(
                ErrorCode::TooManySubjects,
                "subjects",
                why,
            ));
        }
        let categories = self.disclosure_categories(&ask.categories)?;
        let recipient = self.policy.vendor(&ask.vendor).map(|v| v.id.clone());
        let decided = access::decide(
            &self.policy,
            &actor.role,
            &ask.purpose,
            Action::View,
            categories,
            &NoConsent,
        );
        let visible = match decided {
            Ok(allowed) => Some(allowed.categories),
            Err(Denial::ConsentRequired) => None,
            Err(denial) => return Err(self.refuse_batch(actor, ask, categories, denial).await?),
        };
        if let Err(denial) = self.vendor_may_receive(actor, &ask.vendor, &ask.purpose, categories) {
            return Err(self.refuse_batch(actor, ask, categories, denial).await?);
        }
        let known: std::collections::HashSet<[u8; 16]> =
            self.store.existing_among(ids).await?.into_iter().collect();
        if let Some(i) = ids.iter().position(|id| !known.contains(id)) {
            return Err(CoreError::invalid(
                ErrorCode::UnknownSubjects,
                format!("subjects[{i}]"),
                "every id must be a subject of this Mamori; nothing was disclosed",
            ));
        }
        Ok(DisclosureBatch {
            actor: actor.clone(),
            vendor: recipient.unwrap_or_default(),
            purpose: ask.purpose.clone(),
            categories,
            visible,
        })
    }

    /// The batch's refusal, ledgered once (no person: nobody's data was read).
    async fn refuse_batch(
        &self,
        actor: &Actor,
        ask: &Disclose,
        categories: IdSet,
        denial: Denial,
    ) -> Result<CoreError> {
        let known_purpose = self.policy.purpose(&ask.purpose).is_some();
        let purpose = if known_purpose {
            ask.purpose.as_str()
        } else {
            "(unknown)"
        };
        let outcome = Outcome::Denied {
            reason: denial.code().to_string(),
        };
        let mut event = self.event(actor, purpose, ACTION, None, categories, outcome);
        event.recipient = Some(
            self.policy
                .vendor(&ask.vendor)
                .map_or("(unknown)", |v| &v.id)
                .to_string(),
        );
        self.ledger.submit(vec![], vec![event]).await??;
        Ok(CoreError::Denied(denial))
    }

    /// Step two, part by part: each person's outcome in the order given, committed with a
    /// disclosure record and a ledger event per person before it is returned.
    pub async fn disclosure_batch_part(
        &self,
        batch: &DisclosureBatch,
        ids: &[[u8; 16]],
    ) -> Result<Vec<BatchOutcome>> {
        let rows: HashMap<[u8; 16], SubjectRow> = (self.store.subjects_among(ids).await?)
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let now = self.now_ms();
        let (mut outcomes, mut disclosures, mut events) = (vec![], vec![], vec![]);
        for id in ids {
            let decided = match rows.get(id) {
                None => Err(ErrorCode::SubjectNotFound),
                Some(row) if row.erased_ms.is_some() => Err(ErrorCode::SubjectErased),
                Some(row) => self.visible_for(batch, id).await?.map(|v| (row, v)),
            };
            let (row, visible) = match decided {
                Ok(found) => found,
                Err(code) => {
                    events.push(self.batch_event(batch, id, batch.categories, Some(code), now));
                    outcomes.push(refused(id, code));
                    continue;
                }
            };
            let data = self.open_row(row, visible, &batch.actor.role)?;
            let disclosure = DisclosureRow {
                id: new_id(),
                subject_id: *id,
                vendor: batch.vendor.clone(),
                purpose: batch.purpose.clone(),
                categories: self.policy.category_names(visible).join(","),
                records: String::new(),
                actor: batch.actor.id.clone(),
                at_ms: now,
            };
            events.push(self.batch_event(batch, id, visible, None, now));
            outcomes.push(BatchOutcome {
                subject: format_id(id),
                disclosure: Some(format_id(&disclosure.id)),
                data: Some(data),
                refused: None,
            });
            disclosures.push(disclosure);
        }
        self.ledger
            .submit(vec![Change::RecordDisclosures(disclosures)], events)
            .await??;
        Ok(outcomes)
    }

    /// What the role sees of this person for the batch's purpose, or why nothing.
    async fn visible_for(
        &self,
        batch: &DisclosureBatch,
        id: &[u8; 16],
    ) -> Result<std::result::Result<IdSet, ErrorCode>> {
        if let Some(visible) = batch.visible {
            return Ok(Ok(visible));
        }
        let consent = self.subject_consent(id).await?;
        let decided = access::decide(
            &self.policy,
            &batch.actor.role,
            &batch.purpose,
            Action::View,
            batch.categories,
            &consent,
        );
        Ok(decided.map(|a| a.categories).map_err(Denial::code))
    }

    /// The person's data in `visible`, as the role sees it.
    fn open_row(
        &self,
        row: &SubjectRow,
        visible: IdSet,
        role: &str,
    ) -> Result<mamori_proto::subjects::Data> {
        let (Some(wrapped), Some(fields)) = (&row.wrapped_dek, &row.fields) else {
            return Err(CoreError::Integrity);
        };
        let key = self.unwrap_key(&row.id, wrapped)?;
        let map = SealedFields::decode(fields).map_err(|_| CoreError::Integrity)?;
        self.open_view(&key, &map, visible, role)
    }

    fn batch_event(
        &self,
        batch: &DisclosureBatch,
        id: &[u8; 16],
        categories: IdSet,
        refused: Option<ErrorCode>,
        now: i64,
    ) -> Event {
        let outcome = match refused {
            None => Outcome::Allowed,
            Some(code) => Outcome::Denied {
                reason: code.as_str().to_string(),
            },
        };
        let mut event = self.event(
            &batch.actor,
            &batch.purpose,
            ACTION,
            Some(id),
            categories,
            outcome,
        );
        event.time_ms = now;
        event.recipient = Some(batch.vendor.clone());
        event
    }
}

fn refused(id: &[u8; 16], code: ErrorCode) -> BatchOutcome {
    BatchOutcome {
        subject: format_id(id),
        disclosure: None,
        data: None,
        refused: Some(code),
    }
}
