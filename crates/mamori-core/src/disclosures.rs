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
use mamori_store::{Change, DisclosureRow, RecordRow, SubjectRow};

use crate::access::Denial;
use crate::error::{CoreError, Result};
use crate::vault::{Actor, RecordView, Vault};
use crate::{format_id, format_time, new_id};
use mamori_crypto::SubjectKey;

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
        let record_ids = disclosure_record_ids(&ask.records)?;
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
        let register = (self.vendor_may_receive(actor, &ask.vendor, &ask.purpose, categories))
            .map_err(CoreError::Denied);
        (self.refused_to(register, actor, &ask.purpose, id, categories, &recipient)).await?;
        let opened = match self.live_subject(id, Some(&ask.purpose)).await {
            // An erased person (held data included) is told apart from one never known.
            Err(CoreError::NotFound | CoreError::Denied(Denial::KeptUnderLegalHold))
                if self.was_erased(id).await? =>
            {
                Err(erased())
            }
            other => other,
        };
        let (subject, key, map) =
            (self.refused_to(opened, actor, &ask.purpose, id, visible, &recipient)).await?;
        let data = self.open_view(&key, &map, visible, &actor.role);
        let data = (self.refused_to(data, actor, &ask.purpose, id, visible, &recipient)).await?;
        let records = self.disclosed_records(&subject, &key, &record_ids, visible, actor);
        let records = records.await;
        let records =
            (self.refused_to(records, actor, &ask.purpose, id, visible, &recipient)).await?;
        let row = DisclosureRow {
            id: new_id(),
            subject_id: *id,
            vendor: recipient.clone(),
            purpose: ask.purpose.clone(),
            categories: self.policy.category_names(visible).join(","),
            records: (records.iter().map(|r| r.id.as_str()))
                .collect::<Vec<_>>()
                .join(","),
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
            records: records.into_iter().map(Into::into).collect(),
        })
    }

    /// The person's records `ids`, opened and masked per role, in the order asked: each must
    /// be theirs and of a category disclosed (`unknown_records` otherwise — which of them is
    /// not said, so ids cannot be probed for another person's records).
    async fn disclosed_records(
        &self,
        subject: &SubjectRow,
        key: &SubjectKey,
        ids: &[[u8; 16]],
        visible: IdSet,
        actor: &Actor,
    ) -> Result<Vec<RecordView>> {
        let rows = self.store.records_among(&subject.id, ids).await?;
        let disclosed = |r: &RecordRow| {
            (self.policy.category(&r.category)).is_some_and(|c| visible.contains(c.id))
        };
        if rows.len() != ids.len() || !rows.iter().all(disclosed) {
            return Err(CoreError::invalid(
                ErrorCode::UnknownRecords,
                "records",
                "each record must be the person's and of a category disclosed",
            ));
        }
        let role = (self.policy.role(&actor.role))
            .ok_or(CoreError::Denied(Denial::PurposeNotAllowedForRole))?;
        let previous = self.previous_key(subject)?;
        let opened = self.open_records(&[Some(key), previous.as_ref()], rows, visible, role);
        // Only an erasure re-keys or removes records: one committed since the key was read
        // is told as such.
        let mut opened = match opened {
            Err(_) if self.erased_since(subject).await? => return Err(erased()),
            other => other?,
        };
        let position = |r: &RecordView| ids.iter().position(|id| format_id(id) == r.id);
        opened.sort_by_key(position);
        Ok(opened)
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

/// Refused: the person was erased.
fn erased() -> CoreError {
    CoreError::Conflict {
        code: ErrorCode::SubjectErased,
        message: "this person was erased: nothing of theirs may be disclosed".into(),
    }
}

/// The record ids asked for (0–100), parsed, each once.
fn disclosure_record_ids(texts: &[String]) -> Result<Vec<[u8; 16]>> {
    if texts.len() > 100 {
        return Err(CoreError::invalid(
            ErrorCode::UnknownRecords,
            "records",
            "name at most 100 records",
        ));
    }
    let mut ids: Vec<[u8; 16]> = Vec::with_capacity(texts.len());
    for (i, text) in texts.iter().enumerate() {
        let id = crate::parse_id(text).ok_or_else(|| {
            let at = format!("records[{i}]");
            CoreError::invalid(
                ErrorCode::InvalidId,
                at,
                "record ids are as the API returns them",
            )
        })?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
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
