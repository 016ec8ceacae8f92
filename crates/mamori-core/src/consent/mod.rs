//! Consent per purpose and channel. No record means not granted (privacy by default); the latest
//! decision wins and takes effect for the next access decision. Every change and every check is
//! ledgered; the history is append-only, the current state is derived in the same transaction.

use mamori_ledger::{HeadSigner, Outcome, jws};
use mamori_policy::{Channel, IdSet, Jurisdiction, LegalBasis, Policy, Purpose, Sensitivity};
use mamori_proto::ErrorCode;
pub use mamori_proto::consent::ConsentReason;
use mamori_store::Change;
// A person's consent state as stored, shown to callers as it is (plain data).
pub use mamori_store::ConsentRow;

use std::collections::HashMap;
use std::sync::Arc;

use crate::access::ConsentView;
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};
use crate::versions::{Scopes, parse_version};
use crate::{format_time, new_id};

mod history;
mod opt_out;
mod receipts;

pub use history::*;
pub use receipts::*;

/// Subject ids per audience-filter call.
pub const MAX_AUDIENCE: usize = 100_000;

/// How a consent was collected.
pub const SOURCES: [&str; 5] = ["portal", "api", "import", "gpc", "agent"];

/// A change a caller asks for.
#[derive(Debug, Clone)]
pub struct ConsentChange {
    pub purpose: String,
    pub channel: Option<String>,
    pub granted: bool,
    pub source: Option<String>,
    pub notice_version: Option<String>,
}

/// The answer to "may we, for this purpose and channel?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentAnswer {
    pub allowed: bool,
    pub reason: ConsentReason,
    pub notice_version: Option<String>,
    pub updated_at: Option<String>,
    /// For a change: the signed consent receipt (JWS compact, EdDSA with the ledger key).
    pub receipt: Option<String>,
    /// The purpose's categories the consent covers (all of them for another legal basis).
    pub covers: IdSet,
    /// Categories added to the purpose after the notice the person agreed to: denied until
    /// they agree again.
    pub reconsent: IdSet,
}

impl ConsentAnswer {
    fn none(reason: ConsentReason) -> ConsentAnswer {
        ConsentAnswer {
            allowed: false,
            reason,
            notice_version: None,
            updated_at: None,
            receipt: None,
            covers: IdSet::EMPTY,
            reconsent: IdSet::EMPTY,
        }
    }
}

/// An authorised, ledgered audience-filter call (see [`Vault::open_audience`]).
#[derive(Debug, Clone)]
pub struct Audience {
    purpose: String,
    channel: String,
}

/// Per purpose (by id), the categories a subject's consent covers, as the access decision sees
/// them: the union over the channels granted, each limited to the notice it was given under.
pub struct SubjectConsent(Vec<IdSet>);

impl ConsentView for SubjectConsent {
    fn covered(&self, purpose: usize) -> IdSet {
        self.0.get(purpose).copied().unwrap_or_default()
    }
}

/// The outbox event announcing a recorded consent decision (ids and states only). A notice
/// version is announced only if it is one of Mamori's (`v<N>`): an older system's label, kept in
/// the history by an import, is free text and stays out of the feed.
pub(crate) fn consent_changed(row: &ConsentRow, now: i64) -> Change {
    let notice_version = row
        .notice_version
        .as_deref()
        .filter(|v| crate::versions::parse_version(v).is_some());
    let data = mamori_proto::outbox::ConsentChanged {
        subject: crate::format_id(&row.subject_id),
        purpose: row.purpose.clone(),
        channel: row.channel.clone(),
        granted: row.granted,
        source: row.source.clone(),
        notice_version: notice_version.map(str::to_string),
        decided_at: format_time(row.created_ms),
        receipt_id: crate::format_id(&row.id),
    };
    let kind = crate::outbox::EventType::ConsentChanged;
    crate::outbox::announce(kind, Some(&row.subject_id), &data, now)
}

/// `version` if it names a notice Mamori published (`v1` up to the latest), else the refusal.
fn published(version: &str, latest: Option<&str>) -> Result<String> {
    let latest = latest.and_then(crate::versions::parse_version).unwrap_or(0);
    match crate::versions::parse_version(version) {
        Some(n) if n <= latest => Ok(format!("v{n}")),
        _ => Err(CoreError::invalid(
            ErrorCode::UnknownNoticeVersion,
            "notice_version",
            "name a published notice version (v1, v2, …; see `mamori policy versions`), or leave \
             it out for the one in force",
        )),
    }
}

pub fn channel_name(channel: Channel) -> &'static str {
    Channel::ALL
        .iter()
        .find(|(_, c)| *c == channel)
        .map_or("", |(name, _)| name)
}

fn channel_of(purpose: &Purpose, channel: Option<&str>) -> Result<String> {
    let declared: Vec<&str> = purpose.channels.iter().map(|c| channel_name(*c)).collect();
    match channel {
        None if declared.is_empty() => Ok(String::new()),
        None => Err(CoreError::invalid(
            ErrorCode::MissingChannel,
            "channel",
            format!(
                "purpose `{}` is consented per channel; give one of: {}",
                purpose.name,
                declared.join(", ")
            ),
        )),
        Some(c) if declared.contains(&c) => Ok(c.to_string()),
        Some(_) if declared.is_empty() => Err(CoreError::invalid(
            ErrorCode::UnknownChannel,
            "channel",
            format!(
                "purpose `{}` declares no channels; leave channel out",
                purpose.name
            ),
        )),
        Some(_) => Err(CoreError::invalid(
            ErrorCode::UnknownChannel,
            "channel",
            format!(
                "purpose `{}` declares the channels: {}",
                purpose.name,
                declared.join(", ")
            ),
        )),
    }
}

fn consent_purpose<'p>(policy: &'p Policy, name: &str) -> Result<&'p Purpose> {
    let purpose = policy.purpose(name).ok_or_else(|| {
        CoreError::invalid(
            ErrorCode::UnknownPurpose,
            "purpose",
            "this purpose is not declared in the policy",
        )
    })?;
    if purpose.legal_basis != LegalBasis::Consent {
        return Err(CoreError::invalid(
            ErrorCode::NotConsentBased,
            "purpose",
            format!(
                "purpose `{}` rests on {}, not on consent; there is nothing to grant or withdraw",
                purpose.name,
                purpose.legal_basis.name()
            ),
        ));
    }
    Ok(purpose)
}

impl Vault {
    /// A consent receipt in the shape of the Kantara Consent Receipt v1.1 (the fields ISO/IEC
    /// 27560 records), plus Mamori's `granted`/`channel`/`noticeVersion`, signed as a JWS with
    /// the ledger key (`kid` = its public key, base64url). Ids and policy names only.
    fn consent_receipt(&self, row: &ConsentRow, purpose: &Purpose) -> String {
        let org = &self.policy.organisation;
        let jurisdictions: Vec<String> = org
            .jurisdictions
            .iter()
            .filter_map(|j| Jurisdiction::ALL.iter().find(|(_, x)| x == j))
            .map(|(name, _)| name.to_ascii_uppercase())
            .collect();
        let categories: Vec<&mamori_policy::Category> = purpose
            .categories
            .iter()
            .map(|c| &self.policy.categories[c])
            .collect();
        let sensitive: Vec<&str> = categories
            .iter()
            .filter(|c| c.sensitivity != Sensitivity::Personal)
            .map(|c| c.name.as_str())
            .collect();
        let payload = serde_json::json!({
            "version": "KI-CR-v1.1.0",
            "jurisdiction": jurisdictions.join(", "),
            "consentTimestamp": row.created_ms / 1000,
            "collectionMethod": row.source,
            "consentReceiptID": crate::format_id(&row.id),
            "language": "en",
            "piiPrincipalId": crate::format_id(&row.subject_id),
            "piiControllers": [{"piiController": org.name, "contact": org.contact, "email": org.contact}],
            "policyUrl": org.policy_url.clone().unwrap_or_else(|| "/privacy".into()),
            "services": [{
                "service": purpose.name,
                "purposes": [{
                    "purpose": purpose.label.get(mamori_policy::Language::En),
                    "purposeCategory": [purpose.name],
                    "consentType": "EXPLICIT",
                    "piiCategory": categories.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
                    "primaryPurpose": false,
                    "termination": "until withdrawn",
                    "thirdPartyDisclosure": purpose.sale_or_share,
                }],
            }],
            "sensitive": !sensitive.is_empty(),
            "spiCat": sensitive,
            "granted": row.granted,
            "channel": row.channel,
            "noticeVersion": row.notice_version,
        });
        let signer = HeadSigner::from_seed(&self.keyring.ledger_signing_seed());
        // The key's RFC 7638 thumbprint, as `GET /v1/ledger/keys` publishes it.
        let header = serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": signer.key_id()});
        jws::sign_compact(&signer, &header, payload.to_string().as_bytes())
    }

    /// The published versions, loaded again if one of `rows` names a version not yet seen.
    async fn scopes_for(&self, rows: &[&ConsentRow]) -> Result<Arc<Scopes>> {
        let named = rows
            .iter()
            .map(|r| r.notice_version.as_deref().and_then(parse_version));
        self.scopes.get(&self.policy, &*self.store, named).await
    }

    /// The consent the access decision should see for `subject`.
    pub async fn subject_consent(&self, subject: &[u8; 16]) -> Result<SubjectConsent> {
        let rows = self.consent_state(subject).await?;
        let granted: Vec<&ConsentRow> = rows.iter().filter(|row| row.granted).collect();
        let mut covered = vec![IdSet::EMPTY; self.policy.purposes.len()];
        if granted.is_empty() {
            return Ok(SubjectConsent(covered));
        }
        let scopes = self.scopes_for(&granted).await?;
        for row in granted {
            if let Some(p) = self.policy.purpose(&row.purpose) {
                let now = scopes.covered(p, row.notice_version.as_deref(), row.created_ms);
                covered[p.id] = IdSet(covered[p.id].0 | now.0);
            }
        }
        Ok(SubjectConsent(covered))
    }

    /// Only roles that may use a purpose may record or read consent for it.
    pub(crate) async fn consent_access(
        &self,
        actor: &Actor,
        purpose: &Purpose,
        action: &str,
        subject: Option<&[u8; 16]>,
    ) -> Result<()> {
        // A person signed in to the privacy center decides their own consents, for any purpose,
        // and only their own; every other role needs the purpose.
        let is_self = actor.role == mamori_policy::SELF_ROLE;
        let role_may = !is_self
            && self
                .policy
                .role(&actor.role)
                .is_some_and(|r| r.purposes.contains(purpose.id));
        let own =
            is_self && subject.is_some() && crate::access::owns(&actor.role, &actor.id, subject);
        if role_may || own {
            return Ok(());
        }
        let denial = if is_self {
            crate::access::Denial::NotOwnRecord
        } else {
            crate::access::Denial::PurposeNotAllowedForRole
        };
        let outcome = Outcome::Denied {
            reason: denial.code().as_str().into(),
        };
        let event = self.event(actor, &purpose.name, action, subject, IdSet::EMPTY, outcome);
        self.ledger.submit(vec![], vec![event]).await??;
        Err(CoreError::Denied(denial))
    }

    /// Grants or withdraws consent; durable (with its ledger event) when this returns.
    pub async fn set_consent(
        &self,
        actor: &Actor,
        subject: &[u8; 16],
        change: &ConsentChange,
    ) -> Result<ConsentAnswer> {
        let (purpose, channel) = self.validate_consent_change(actor, subject, change).await?;
        self.record_consent(actor, subject, purpose, channel, change)
            .await
    }

    /// Checks a change's input and that the caller's role may use its purpose (a refusal is
    /// ledgered); returns the purpose and the channel key.
    pub(crate) async fn validate_consent_change(
        &self,
        actor: &Actor,
        subject: &[u8; 16],
        change: &ConsentChange,
    ) -> Result<(&Purpose, String)> {
        let (purpose, channel) = self.parse_consent_change(change)?;
        let action = if change.granted {
            "consent.grant"
        } else {
            "consent.withdraw"
        };
        self.consent_access(actor, purpose, action, Some(subject))
            .await?;
        Ok((purpose, channel))
    }

    fn parse_consent_change(&self, change: &ConsentChange) -> Result<(&Purpose, String)> {
        let purpose = consent_purpose(&self.policy, &change.purpose)?;
        let channel = channel_of(purpose, change.channel.as_deref())?;
        let source = change.source.as_deref().unwrap_or("api");
        if !SOURCES.contains(&source) {
            return Err(CoreError::invalid(
                ErrorCode::InvalidSource,
                "source",
                format!("source must be one of: {}", SOURCES.join(", ")),
            ));
        }
        if let Some(v) = &change.notice_version
            && (v.is_empty() || v.len() > 64 || v.chars().any(char::is_control))
        {
            return Err(CoreError::invalid(
                ErrorCode::InvalidValue,
                "notice_version",
                "a notice version is 1 to 64 printable characters",
            ));
        }
        Ok((purpose, channel))
    }

    /// A withdrawal made by the person (an unsubscribe link): the input is checked, but no role
    /// permission is needed to say no.
    pub(crate) async fn withdraw_unchecked(
        &self,
        actor: &Actor,
        subject: &[u8; 16],
        change: &ConsentChange,
    ) -> Result<ConsentAnswer> {
        debug_assert!(!change.granted);
        let (purpose, channel) = self.parse_consent_change(change)?;
        self.record_consent(actor, subject, purpose, channel, change)
            .await
    }

    /// Writes one consent decision (already validated and authorised) with its ledger event.
    async fn record_consent(
        &self,
        actor: &Actor,
        subject: &[u8; 16],
        purpose: &Purpose,
        channel: String,
        change: &ConsentChange,
    ) -> Result<ConsentAnswer> {
        let action = if change.granted {
            "consent.grant"
        } else {
            "consent.withdraw"
        };
        let source = change.source.as_deref().unwrap_or("api");
        // Unless told otherwise, the person saw the notice published now; a version named must
        // be one Mamori published.
        let current = self.current_notice_version().await?;
        let notice_version = match &change.notice_version {
            Some(v) => Some(published(v, current.as_deref())?),
            None => current,
        };
        if change.granted
            && let Some(v) = &notice_version
        {
            self.check_notice_describes(purpose, v).await?;
        }
        let row = ConsentRow {
            id: new_id(),
            subject_id: *subject,
            purpose: purpose.name.clone(),
            channel,
            granted: change.granted,
            source: source.to_string(),
            notice_version,
            actor: actor.id.clone(),
            created_ms: self.now_ms(),
            state_mac: None,
        };
        let mut row = row;
        self.seal_state(&mut row);
        let event = self.event(
            actor,
            &purpose.name,
            action,
            Some(subject),
            IdSet::EMPTY,
            Outcome::Allowed,
        );
        let answer = ConsentAnswer {
            receipt: Some(self.consent_receipt(&row, purpose)),
            ..self.answer_for(purpose, &row).await?
        };
        let announcement = consent_changed(&row, self.now_ms());
        let (mut changes, mut events) =
            (vec![Change::RecordConsent(row), announcement], vec![event]);
        if !change.granted {
            // Vendors that received data for the purpose are asked to stop, in the same commit.
            let kind = mamori_proto::disclosures::VendorTaskKind::Optout;
            let all = self.policy.all_categories();
            let (tasks, task_events) =
                (self.vendor_tasks_for(subject, kind, all, Some(&purpose.name))).await?;
            changes.extend(tasks);
            events.extend(task_events);
        }
        self.ledger.submit(changes, events).await??;
        Ok(answer)
    }

    /// A grant can only be given under a published notice that described the purpose; a
    /// version Mamori did not publish (an older system's label) is taken as given.
    pub(crate) async fn check_notice_describes(
        &self,
        purpose: &Purpose,
        version: &str,
    ) -> Result<()> {
        let Some(n) = parse_version(version) else {
            return Ok(());
        };
        let scopes = self
            .scopes
            .get(&self.policy, &*self.store, [Some(n)])
            .await?;
        match scopes.described(purpose, version) {
            Some(true) => Ok(()),
            None => Err(CoreError::invalid(
                ErrorCode::UnknownNoticeVersion,
                "notice_version",
                "no notice was published under this version; see `mamori policy versions`",
            )),
            Some(false) => Err(CoreError::invalid(
                ErrorCode::NotInNotice,
                "notice_version",
                format!(
                    "purpose `{}` is not described in that notice version, so nobody can have \
                     agreed to it there; publish the policy (`mamori policy publish`) and ask again",
                    purpose.name
                ),
            )),
        }
    }

    /// The answer a stored decision gives now: what it covers of the purpose as it stands.
    async fn answer_for(&self, purpose: &Purpose, row: &ConsentRow) -> Result<ConsentAnswer> {
        let covers = if row.granted {
            let scopes = self.scopes_for(&[row]).await?;
            scopes.covered(purpose, row.notice_version.as_deref(), row.created_ms)
        } else {
            IdSet::EMPTY
        };
        let reason = match (row.granted, covers.is_empty()) {
            (false, _) => ConsentReason::Withdrawn,
            (true, true) => ConsentReason::ReconsentRequired,
            (true, false) => ConsentReason::Granted,
        };
        Ok(ConsentAnswer {
            allowed: !covers.is_empty(),
            reason,
            notice_version: row.notice_version.clone(),
            updated_at: Some(format_time(row.created_ms)),
            receipt: None,
            covers,
            reconsent: if row.granted {
                purpose.categories.minus(covers)
            } else {
                IdSet::EMPTY
            },
        })
    }

    /// Audience filtering, step one: checks the request (at most [`MAX_AUDIENCE`] ids, a
    /// consent-based purpose and one of its channels, a role that may use it) and ledgers the
    /// call — one event for the whole audience — before any answer is given.
    pub async fn open_audience(
        &self,
        actor: &Actor,
        purpose_name: &str,
        channel: Option<&str>,
        count: usize,
    ) -> Result<Audience> {
        if count > MAX_AUDIENCE {
            return Err(CoreError::invalid(
                ErrorCode::TooManySubjects,
                "subjects",
                format!("give at most {MAX_AUDIENCE} subject ids per call"),
            ));
        }
        let purpose = consent_purpose(&self.policy, purpose_name)?;
        let channel = channel_of(purpose, channel)?;
        self.consent_access(actor, purpose, "consent.filter", None)
            .await?;
        let event = self.event(
            actor,
            &purpose.name,
            "consent.filter",
            None,
            IdSet::EMPTY,
            Outcome::Allowed,
        );
        self.ledger.submit(vec![], vec![event]).await??;
        Ok(Audience {
            purpose: purpose.name.clone(),
            channel,
        })
    }

    /// Step two, any number of times: of `subjects`, those with a current grant (erased
    /// subjects have none), in the order given.
    pub async fn audience_part(
        &self,
        audience: &Audience,
        subjects: &[[u8; 16]],
    ) -> Result<Vec<[u8; 16]>> {
        let granted = self
            .store
            .consented_among(
                subjects,
                &audience.purpose,
                &audience.channel,
                self.state_check(),
            )
            .await?;
        let granted = match granted {
            Ok(granted) => granted,
            Err(tampered) => {
                // Ledgers the failure and answers 500 integrity_failure, never a grant.
                self.check_state(&[tampered]).await?;
                return Err(CoreError::Integrity);
            }
        };
        let allowed: std::collections::HashSet<[u8; 16]> = granted.into_iter().collect();
        Ok(subjects
            .iter()
            .filter(|id| allowed.contains(*id))
            .copied()
            .collect())
    }

    /// Whether `subject` may be processed for `purpose` (on `channel`), and why.
    pub async fn check_consent(
        &self,
        actor: &Actor,
        subject: &[u8; 16],
        purpose_name: &str,
        channel: Option<&str>,
    ) -> Result<ConsentAnswer> {
        let purpose = self.policy.purpose(purpose_name).ok_or_else(|| {
            CoreError::invalid(
                ErrorCode::UnknownPurpose,
                "purpose",
                "this purpose is not declared in the policy",
            )
        })?;
        self.consent_access(actor, purpose, "consent.check", Some(subject))
            .await?;
        let answer = if purpose.legal_basis != LegalBasis::Consent {
            ConsentAnswer {
                allowed: true,
                covers: purpose.categories,
                ..ConsentAnswer::none(ConsentReason::NotConsentBased)
            }
        } else {
            let channel = channel_of(purpose, channel)?;
            let rows = self.consent_state(subject).await?;
            let row = rows
                .iter()
                .find(|r| r.purpose == purpose.name && r.channel == channel);
            match row {
                None => ConsentAnswer::none(ConsentReason::NoRecord),
                Some(r) => self.answer_for(purpose, r).await?,
            }
        };
        let event = self.event(
            actor,
            &purpose.name,
            "consent.check",
            Some(subject),
            IdSet::EMPTY,
            Outcome::Allowed,
        );
        // A check reads a yes/no, not a personal value, at campaign rates: its event joins the
        // next group commit instead of holding the answer until the fsync (docs/SECURITY.md).
        self.ledger.submit_detached(vec![event]).await?;
        Ok(answer)
    }
}
