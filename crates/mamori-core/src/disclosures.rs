//! Disclosures to vendors through the one door: the access decision for the purpose and the
//! categories (the role may use the purpose and view them; consent where the purpose rests on
//! it), then the vendor register's own conditions — the role may disclose to the vendor, the
//! vendor serves the purpose and may receive each category, its contract is current and its
//! last review did not fail. One ledger event either way (`subject.disclose`, naming the vendor
//! as recipient), and on success a record of what left, to whom, when — which tells the person
//! and, after an erasure, which vendors to ask to erase too.

use mamori_ledger::Outcome;
use mamori_policy::vendors::ReviewResult;
use mamori_policy::{Action, IdSet};
use mamori_proto::ErrorCode;
use mamori_proto::disclosures::{Disclose, Disclosed};
use mamori_store::{Change, DisclosureRow};

use crate::access::Denial;
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};
use crate::{format_id, format_time, new_id};

const ACTION: &str = "subject.disclose";

impl Vault {
    /// Discloses `ask.categories` of a person to `ask.vendor` for `ask.purpose`.
    pub async fn disclose(
        &self,
        actor: &Actor,
        id: &[u8; 16],
        ask: &Disclose,
    ) -> Result<Disclosed> {
        let categories = self.disclosure_categories(&ask.categories)?;
        let known = self.policy.vendor(&ask.vendor);
        // An unknown vendor's name is the caller's text: the ledger does not copy it.
        let recipient = known.map_or("(unknown)", |v| v.id.as_str()).to_string();
        let allowed = self.authorise_for(
            actor,
            &ask.purpose,
            Action::View,
            categories,
            ACTION,
            Some(id),
            Some(&recipient),
        );
        let visible = allowed.await?.categories;
        if let Err(denial) = self.vendor_may_receive(actor, &ask.vendor, &ask.purpose, categories) {
            let outcome = Outcome::Denied {
                reason: denial.code().to_string(),
            };
            let mut event = self.event(actor, &ask.purpose, ACTION, Some(id), categories, outcome);
            event.recipient = Some(recipient);
            self.ledger.submit(vec![], vec![event]).await??;
            return Err(CoreError::Denied(denial));
        }
        let opened = match self.live_subject(id, Some(&ask.purpose)).await {
            // An erased person (held data included) is told apart from one never known.
            Err(CoreError::NotFound | CoreError::Denied(Denial::KeptUnderLegalHold))
                if self.was_erased(id).await? =>
            {
                Err(CoreError::Conflict {
                    code: ErrorCode::SubjectErased,
                    message: "this person was erased: nothing of theirs may be disclosed".into(),
                })
            }
            other => other,
        };
        let (_, key, map) =
            (self.refused_to(opened, actor, &ask.purpose, id, visible, &recipient)).await?;
        let data = self.open_view(&key, &map, visible, &actor.role);
        let data = (self.refused_to(data, actor, &ask.purpose, id, visible, &recipient)).await?;
        let row = DisclosureRow {
            id: new_id(),
            subject_id: *id,
            vendor: recipient.clone(),
            purpose: ask.purpose.clone(),
            categories: self.policy.category_names(visible).join(","),
            actor: actor.id.clone(),
            at_ms: self.now_ms(),
        };
        let mut event = self.event(
            actor,
            &ask.purpose,
            ACTION,
            Some(id),
            visible,
            Outcome::Allowed,
        );
        event.recipient = Some(recipient);
        (self
            .ledger
            .submit(vec![Change::RecordDisclosure(row.clone())], vec![event]))
        .await??;
        Ok(Disclosed {
            id: format_id(&row.id),
            vendor: row.vendor,
            purpose: row.purpose,
            categories: self.policy.category_names(visible),
            disclosed_at: format_time(row.at_ms),
            data,
        })
    }

    /// The categories asked for, by name: at least one, each declared.
    pub(crate) fn disclosure_categories(&self, names: &[String]) -> Result<IdSet> {
        let invalid =
            |message: &str| CoreError::invalid(ErrorCode::UnknownCategory, "categories", message);
        if names.is_empty() || names.len() > 64 {
            return Err(invalid("name 1–64 categories of the policy"));
        }
        names.iter().try_fold(IdSet::EMPTY, |set, name| {
            let category = self.policy.category(name);
            category
                .map(|c| set.with(c.id))
                .ok_or_else(|| invalid("every category must be declared in the policy"))
        })
    }

    /// The vendor register's conditions, after the access decision allowed the read.
    pub(crate) fn vendor_may_receive(
        &self,
        actor: &Actor,
        vendor: &str,
        purpose: &str,
        categories: IdSet,
    ) -> std::result::Result<(), Denial> {
        let v = self.policy.vendor(vendor).ok_or(Denial::UnknownVendor)?;
        let role = self
            .policy
            .role(&actor.role)
            .ok_or(Denial::PurposeNotAllowedForRole)?;
        if !role.disclose.iter().any(|d| d == vendor) {
            return Err(Denial::VendorNotAllowedForRole);
        }
        let purpose = self.policy.purpose(purpose).ok_or(Denial::UnknownPurpose)?;
        if !v.purposes.contains(purpose.id) || !v.categories.is_superset_of(categories) {
            return Err(Denial::VendorDoesNotServe);
        }
        let failed = v
            .review
            .as_ref()
            .is_some_and(|r| r.result == ReviewResult::Failed);
        if !v.contract_current(self.today_date()) || failed {
            return Err(Denial::VendorNotContracted);
        }
        Ok(())
    }

    /// Passes `attempt` through; if it failed, first ledgers the refusal naming the vendor.
    async fn refused_to<T>(
        &self,
        attempt: Result<T>,
        actor: &Actor,
        purpose: &str,
        id: &[u8; 16],
        categories: IdSet,
        recipient: &str,
    ) -> Result<T> {
        let Err(e) = attempt else {
            return attempt;
        };
        let outcome = Outcome::Denied {
            reason: e.code().as_str().into(),
        };
        let mut event = self.event(actor, purpose, ACTION, Some(id), categories, outcome);
        event.recipient = Some(recipient.to_string());
        self.ledger.submit(vec![], vec![event]).await??;
        Err(e)
    }

    async fn was_erased(&self, id: &[u8; 16]) -> Result<bool> {
        Ok((self.store.subject(id).await?).is_some_and(|r| r.erased_ms.is_some()))
    }

    /// Today's date (UTC) by the vault's clock.
    pub(crate) fn today_date(&self) -> time::Date {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.now_ms()) * 1_000_000)
            .map_or(time::Date::MIN, |t| t.date())
    }
}

/// One disclosure as the person it concerned sees it: the vendor's name and countries, the
/// purpose and categories (policy names; the page labels them), the day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonDisclosure {
    pub vendor: String,
    pub countries: Vec<String>,
    pub purpose: String,
    pub categories: Vec<String>,
    pub day: String,
    /// When (RFC 3339).
    pub at: String,
}

impl Vault {
    /// What was disclosed about the person, oldest first: decided for the person alone and
    /// ledgered (`disclosure.read`).
    pub async fn disclosures_for_person(
        &self,
        actor: &Actor,
        id: &[u8; 16],
    ) -> Result<Vec<PersonDisclosure>> {
        self.request_access(actor, "disclosure.read", Some(id))
            .await?;
        let rows = self.store.subject_disclosures(id).await?;
        let event = self.request_event(actor, "disclosure.read", Some(id));
        self.ledger.submit(vec![], vec![event]).await??;
        Ok((rows.into_iter())
            .map(|r| {
                // A vendor since removed from the register is still named by its id.
                let vendor = self.policy.vendor(&r.vendor);
                PersonDisclosure {
                    vendor: vendor.map_or_else(|| r.vendor.clone(), |v| v.name.clone()),
                    countries: vendor.map(|v| v.countries.clone()).unwrap_or_default(),
                    purpose: r.purpose,
                    categories: r.categories.split(',').map(str::to_string).collect(),
                    day: format_time(r.at_ms)
                        .get(..10)
                        .unwrap_or_default()
                        .to_string(),
                    at: format_time(r.at_ms),
                }
            })
            .collect())
    }
}
