//! Notices to the people an incident affected. Preparing them (`incident.notices`, the
//! `incidents` permission) computes the impact of a scope like `impact.rs` and queues one
//! notice per person not noticed yet: ids, category names and times. Sending them is a
//! background job: each person's address is read through the access decision as the preparer,
//! for the purpose they named (`incident.notice`, ledgered allowed or denied), the notice is
//! written in the person's language and handed to the mailer. A notice moves only from the
//! state it was read in and is marked `sending` before it is handed over, so it goes out at
//! most once: one left `sending` by a server that stopped is marked `uncertain`, never sent
//! again by itself. A drill's notices are written and never sent, and no address is read.

use std::collections::{BTreeMap, BTreeSet};

use mamori_policy::{Action, FieldType, IdSet, Language};
use mamori_proto::ErrorCode;
use mamori_proto::incident_notices::{
    JurisdictionCount, NoticeAdvice, NoticeCount, NoticeState, NoticeSummary,
};
use mamori_proto::incidents::{CategoryCount, EntryKind, IncidentStatus};
use mamori_store::{Change, IncidentEntryRow, IncidentRow, JobError, NoticeRow, NoticeRunRow};

use super::impact::ImpactWindow;
use super::{INCIDENTS, free_text, not_found, status_of};
use crate::admin::Granted;
use crate::error::{CoreError, Result};
use crate::format_id;
use crate::mail::Recipient;
use crate::vault::{Actor, DataView, Vault};
use mamori_policy::value::{normalise_email, normalise_phone};

/// Advice is a paragraph, per language.
const ADVICE_MAX: usize = 2_000;
/// Appends tried before giving up when others keep adding to the timeline.
const APPEND_TRIES: usize = 5;

fn time_ms(text: &str) -> i64 {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or_default()
}

impl Vault {
    /// The e-mail fields (category, field) and their categories, and the field a person's
    /// language is in (the first enum field whose values are all language codes), if any.
    pub(super) fn notice_fields(&self) -> NoticeFields {
        let mut fields = NoticeFields {
            emails: vec![],
            categories: IdSet::EMPTY,
            phones: vec![],
            language: None,
            country: None,
        };
        for c in &self.policy.categories {
            for f in &c.fields {
                match &f.kind {
                    FieldType::Email => {
                        fields.emails.push((c.name.clone(), f.name.clone()));
                        fields.categories = fields.categories.with(c.id);
                    }
                    FieldType::Phone => fields.phones.push((c.id, c.name.clone(), f.name.clone())),
                    FieldType::Enum(values)
                        if fields.language.is_none()
                            && values.iter().all(|v| Language::parse(v).is_some()) =>
                    {
                        fields.language = Some((c.id, c.name.clone(), f.name.clone()))
                    }
                    FieldType::Country if fields.country.is_none() => {
                        fields.country = Some((c.id, c.name.clone(), f.name.clone()))
                    }
                    _ => {}
                }
            }
        }
        fields
    }

    fn notice_language(&self, code: Option<&str>) -> Result<Language> {
        let languages = &self.policy.organisation.languages;
        match code {
            None => Ok(languages.first().copied().unwrap_or(Language::En)),
            Some(code) => Language::parse(code)
                .filter(|l| languages.contains(l))
                .ok_or_else(|| {
                    CoreError::invalid(
                        ErrorCode::InvalidValue,
                        "language",
                        "one of the policy's languages",
                    )
                }),
        }
    }

    fn checked_advice(&self, advice: Option<&NoticeAdvice>) -> Result<Option<NoticeAdvice>> {
        let Some(a) = advice else { return Ok(None) };
        let one = |field: &str, text: &Option<String>, lang: Language| -> Result<Option<String>> {
            let Some(text) = text else { return Ok(None) };
            if !self.policy.organisation.languages.contains(&lang) {
                return Err(CoreError::invalid(
                    ErrorCode::InvalidValue,
                    field,
                    "advice only in the policy's languages",
                ));
            }
            free_text(field, text, ADVICE_MAX).map(Some)
        };
        Ok(Some(NoticeAdvice {
            en: one("advice.en", &a.en, Language::En)?,
            ja: one("advice.ja", &a.ja, Language::Ja)?,
            fr: one("advice.fr", &a.fr, Language::Fr)?,
        }))
    }

    /// Prepares notices to the people the window's accesses reached and queues them. Refused
    /// unless the caller's role may read addresses for `purpose`.
    pub async fn prepare_notices(
        &self,
        actor: &Actor,
        id: &[u8; 16],
        purpose: &str,
        window: &ImpactWindow,
        advice: Option<&NoticeAdvice>,
        language: Option<&str>,
    ) -> Result<NoticeSummary> {
        self.check_window(window).await?;
        let language = self.notice_language(language)?;
        let advice = self.checked_advice(advice)?;
        let emails = self.notice_fields().categories;
        if emails.is_empty() {
            return Err(CoreError::invalid(
                ErrorCode::InvalidValue,
                "purpose",
                "the policy holds no e-mail address a notice could go to",
            ));
        }
        let granted = self.grant(actor, INCIDENTS, "incident.notices").await?;
        let label = "incident.notices";
        (self.authorise(actor, purpose, Action::View, emails, label, None)).await?;
        let row = self.store.incident(id).await?.ok_or_else(not_found)?;
        if status_of(&row.status) == IncidentStatus::Closed {
            return Err(CoreError::Conflict {
                code: ErrorCode::IncidentClosed,
                message: "the incident is closed; open a new one".into(),
            });
        }
        self.actor_roles(&window.actors).await?;
        let impact = self.scan_window(window).await?;
        self.mark_milestone(id, super::drills::IMPACT).await?;
        let known: BTreeSet<[u8; 16]> = (self.store.incident_notices(id).await?.iter())
            .map(|n| n.subject_id)
            .collect();
        let now = self.now_ms();
        let notices: Vec<NoticeRow> = (impact.subjects.iter())
            .filter_map(|p| Some((crate::parse_id(&p.subject)?, p)))
            .filter(|(s, _)| !known.contains(s))
            .map(|(subject_id, p)| NoticeRow {
                incident_id: *id,
                subject_id,
                state: NoticeState::Pending.as_str().into(),
                categories: p.categories.join(","),
                first_ms: time_ms(&p.first_at),
                last_ms: time_ms(&p.last_at),
                attempts: 0,
                changed_ms: now,
                sent_ms: None,
                jurisdiction: None,
            })
            .collect();
        let added = notices.len() as u64;
        let run = NoticeRunRow {
            incident_id: *id,
            actor: actor.id.clone(),
            role: actor.role.clone(),
            purpose: purpose.to_string(),
            language: language.code().into(),
            advice_sealed: (advice.as_ref())
                .map(|a| self.seal_note("incident-advice", id, 0, &json(a))),
            prepared_ms: now,
        };
        let prepare = Change::PrepareNotices { run, notices };
        self.append_with(id, actor, EntryKind::Notices, prepare, granted)
            .await?;
        let mut summary = self.notice_summary(&row).await?;
        summary.added = added;
        Ok(summary)
    }

    /// Commits `change` with a timeline entry of `kind`, after whatever others added meanwhile.
    async fn append_with(
        &self,
        id: &[u8; 16],
        actor: &Actor,
        kind: EntryKind,
        change: Change,
        granted: Granted,
    ) -> Result<()> {
        let mut event = Some(granted.event());
        for _ in 0..APPEND_TRIES {
            let now = self.store.incident(id).await?.ok_or_else(not_found)?;
            let entry = IncidentEntryRow {
                incident_id: *id,
                seq: now.version + 1,
                at_ms: self.now_ms(),
                actor: actor.id.clone(),
                kind: kind.as_str().into(),
                status: None,
                severity: None,
                link_kind: None,
                link_id: None,
                note_sealed: None,
                until_ms: None,
            };
            let changes = vec![change.clone(), Change::AppendIncidentEntry(entry)];
            let events = event.take().into_iter().collect();
            match self.ledger.submit(changes, events).await? {
                Ok(()) => return Ok(()),
                Err(JobError::Stale) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(super::changed_since(0))
    }

    /// Where an incident's notices stand (a ledgered read).
    pub async fn incident_notices(&self, actor: &Actor, id: &[u8; 16]) -> Result<NoticeSummary> {
        self.grant_and_ledger(actor, INCIDENTS, "incident.notices.read")
            .await?;
        let row = self.store.incident(id).await?.ok_or_else(not_found)?;
        self.notice_summary(&row).await
    }

    async fn notice_summary(&self, row: &IncidentRow) -> Result<NoticeSummary> {
        let notices = self.store.incident_notices(&row.id).await?;
        let mut states: BTreeMap<&str, u64> = BTreeMap::new();
        let mut categories: BTreeMap<&str, u64> = BTreeMap::new();
        let mut laws: BTreeMap<&str, u64> = BTreeMap::new();
        for n in &notices {
            *states.entry(n.state.as_str()).or_default() += 1;
            *laws
                .entry(n.jurisdiction.as_deref().unwrap_or("unknown"))
                .or_default() += 1;
            for c in n.categories.split(',').filter(|c| !c.is_empty()) {
                *categories.entry(c).or_default() += 1;
            }
        }
        Ok(NoticeSummary {
            incident: format_id(&row.id),
            drill: row.drill,
            added: 0,
            people: notices.len() as u64,
            by_state: (NoticeState::ALL.iter())
                .filter_map(|s| {
                    let people = *states.get(s.as_str())?;
                    Some(NoticeCount { state: *s, people })
                })
                .collect(),
            by_category: (categories.into_iter())
                .map(|(c, people)| CategoryCount {
                    category: c.to_string(),
                    people,
                })
                .collect(),
            by_jurisdiction: (laws.into_iter())
                .map(|(law, people)| JurisdictionCount {
                    jurisdiction: law.to_string(),
                    people,
                })
                .collect(),
        })
    }
}

fn json(advice: &NoticeAdvice) -> String {
    serde_json::to_string(advice).unwrap_or_default()
}

/// Where a notice's address and language are found.
pub(super) struct NoticeFields {
    pub(super) emails: Vec<(String, String)>,
    pub(super) categories: IdSet,
    pub(super) language: Option<(usize, String, String)>,
    /// Phone numbers, for a person without an e-mail address (a text message).
    pub(super) phones: Vec<(usize, String, String)>,
    /// The field the person's country is in (for the law covering them).
    pub(super) country: Option<(usize, String, String)>,
}

impl NoticeFields {
    /// The person's e-mail address, language and law (by country), from what the decision let
    /// the preparer see.
    pub(super) fn find(
        &self,
        view: &DataView,
    ) -> (Option<Recipient>, Option<Language>, Option<&'static str>) {
        let value = |c: &str, f: &str| view.get(c)?.get(f)?.as_str().map(str::to_string);
        // A value the preparer's role sees masked is no address: it fails the field's form.
        let email = (self.emails.iter())
            .filter_map(|(c, f)| value(c, f))
            .find_map(|v| normalise_email(&v).ok());
        let phone = || {
            (self.phones.iter())
                .filter_map(|(_, c, f)| value(c, f))
                .find_map(|v| normalise_phone(&v).ok())
        };
        let address = (email.map(Recipient::Email)).or_else(|| phone().map(Recipient::Phone));
        let language = (self.language.as_ref())
            .and_then(|(_, c, f)| value(c, f))
            .and_then(|code| Language::parse(&code));
        let law = (self.country.as_ref())
            .and_then(|(_, c, f)| value(c, f))
            .and_then(|code| mamori_policy::breach_duties::law_of_country(&code));
        (address, language, law)
    }
}
