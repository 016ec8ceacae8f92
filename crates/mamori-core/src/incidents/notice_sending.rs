//! Sending the notices an incident's response prepared (a background job), and showing a person
//! theirs in the privacy center. See `notices.rs` for the at-most-once rule.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{StreamExt, stream};
use std::collections::hash_map::Entry;

use mamori_ledger::Outcome;
use mamori_policy::{Action, IdSet, Language};
use mamori_proto::incident_notices::{NoticeAdvice, NoticeState};
use mamori_proto::incidents::{EntryKind, IncidentKind, LinkKind};
use mamori_store::{Change, IncidentRow, JobError, NoticeRow, NoticeRunRow};

use super::notice_words::{self, NoticeFacts};
use super::notices::NoticeFields;
use crate::access::{self, Denial};
use crate::admin::Granted;
use crate::error::{CoreError, Result};
use crate::mail::{Delivery, Mail, Mailer, Recipient, TextSender};
use crate::vault::{Actor, Vault};
use crate::{format_time, jobs::Ran};

/// A notice `sending` this long has lost its server (the mailer gives up after 20 s).
pub const SENDING_STALE_MS: i64 = 10 * 60_000;
/// Notices looked at per run.
const BATCH: i64 = 200;
/// Notices handed over at once: at most this many are left `uncertain` by a crash.
pub const IN_FLIGHT: usize = 16;
/// A mailer refusing this many times marks the notice `failed`.
const ATTEMPTS_MAX: i64 = 5;

/// Where a person reads their notices again (the privacy center's My data page), and how a
/// person with a phone number but no e-mail address is told (a text message with that link).
#[derive(Clone)]
pub struct NoticeLinks {
    pub privacy_center: String,
    pub texts: Option<Arc<dyn TextSender>>,
}

/// A notice as its person reads it in the privacy center.
#[derive(Debug, Clone)]
pub struct PersonNotice {
    pub subject: String,
    pub body: String,
}

/// What the notices of one incident share.
struct Context {
    incident: IncidentRow,
    run: NoticeRunRow,
    advice: NoticeAdvice,
    steps: Vec<&'static str>,
}

fn scheduler() -> Actor {
    Actor {
        id: "scheduler".into(),
        role: "system".into(),
    }
}

fn day(ms: i64) -> String {
    format_time(ms).chars().take(10).collect()
}

impl Vault {
    /// One run of the job: sends up to a batch of due notices through `mailer`. More if the
    /// batch was full; stops at the mailer's first refusal (it is tried again next run).
    pub async fn send_incident_notices(
        &self,
        mailer: &dyn Mailer,
        links: &NoticeLinks,
    ) -> Result<Ran> {
        let now = self.now_ms();
        let due = self
            .store
            .notices_due(now - SENDING_STALE_MS, BATCH)
            .await?;
        // After a failure the transport may be down: sending into an outage would use up
        // notices (each one tried may or may not go out), so ask first.
        if due.iter().any(|n| n.state == NoticeState::Pending.as_str()) && !mailer.ready().await {
            return Ok(Ran::Done);
        }
        let mut contexts: HashMap<[u8; 16], Context> = HashMap::new();
        for n in &due {
            if let Entry::Vacant(slot) = contexts.entry(n.incident_id) {
                slot.insert(self.notice_context(&n.incident_id).await?);
            }
        }
        // Several in flight, so the ledger commits them together; the first refusal stops the
        // ones not started yet.
        let stop = AtomicBool::new(false);
        let failure = Mutex::new(None);
        stream::iter(&due)
            .for_each_concurrent(IN_FLIGHT, |n| async {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let context = &contexts[&n.incident_id];
                match self.send_one(n, context, mailer, links).await {
                    Ok(true) => {}
                    Ok(false) => stop.store(true, Ordering::Relaxed),
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    }
                }
            })
            .await;
        if let Some(e) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        if stop.into_inner() {
            return Ok(Ran::Done);
        }
        Ok(if due.len() as i64 == BATCH {
            Ran::More
        } else {
            Ran::Done
        })
    }

    async fn notice_context(&self, id: &[u8; 16]) -> Result<Context> {
        let incident = self.store.incident(id).await?.ok_or(CoreError::Integrity)?;
        let run = self
            .store
            .notice_run(id)
            .await?
            .ok_or(CoreError::Integrity)?;
        let advice = match &run.advice_sealed {
            Some(sealed) => {
                let text = self.open_note("incident-advice", id, 0, sealed)?;
                serde_json::from_str(&text).map_err(|_| CoreError::Integrity)?
            }
            None => NoticeAdvice::default(),
        };
        let entries = self.store.incident_entries(id).await?;
        let steps = (entries.iter())
            .filter(|e| e.kind == EntryKind::Containment.as_str())
            .map(|e| match e.link_kind.as_deref().and_then(LinkKind::parse) {
                Some(LinkKind::ApiKey) => "revoke_api_key",
                Some(LinkKind::Staff) => "disable_staff",
                _ => "other",
            })
            .collect();
        Ok(Context {
            incident,
            run,
            advice,
            steps,
        })
    }

    /// Moves a notice from the state it was read in, with `event` (Duplicate: another server
    /// moved it first, which is not an error).
    async fn move_notice(
        &self,
        n: &NoticeRow,
        from: NoticeState,
        to: NoticeState,
        attempts: i64,
        event: Option<mamori_ledger::Event>,
    ) -> Result<bool> {
        let to = (to, None);
        self.move_notice_as(n, from, to, attempts, event).await
    }

    /// [`Vault::move_notice`], noting the person's law once their address was read.
    async fn move_notice_as(
        &self,
        n: &NoticeRow,
        from: NoticeState,
        (to, jurisdiction): (NoticeState, Option<&str>),
        attempts: i64,
        event: Option<mamori_ledger::Event>,
    ) -> Result<bool> {
        let change = Change::MoveNotice {
            jurisdiction: jurisdiction.map(str::to_string),
            incident_id: n.incident_id,
            subject_id: n.subject_id,
            from: from.as_str().into(),
            to: to.as_str().into(),
            at_ms: self.now_ms(),
            attempts,
            sent: to == NoticeState::Sent,
        };
        match self
            .ledger
            .submit(vec![change], event.into_iter().collect())
            .await?
        {
            Ok(()) => Ok(true),
            Err(JobError::Duplicate) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    fn scheduled_event(&self, action: &str, n: &NoticeRow) -> mamori_ledger::Event {
        Granted::scheduled(&scheduler(), action, self.now_ms()).event_about(&n.subject_id)
    }

    /// Handles one due notice; false when the mailer refused or did not answer: the pass stops
    /// there, and the rest wait for the next pass rather than pile onto a gateway in trouble.
    async fn send_one(
        &self,
        n: &NoticeRow,
        c: &Context,
        mailer: &dyn Mailer,
        links: &NoticeLinks,
    ) -> Result<bool> {
        let state = NoticeState::parse(&n.state).unwrap_or(NoticeState::Uncertain);
        if state == NoticeState::Sending {
            // Its server stopped while handing it over: it may have gone out.
            let event = self.scheduled_event("incident.notice.uncertain", n);
            self.move_notice(n, state, NoticeState::Uncertain, n.attempts, Some(event))
                .await?;
            return Ok(true);
        }
        if c.incident.drill {
            // Written to prove it can be, never sent; no address is read.
            let _ = self.notice_text(n, c, self.notice_language_of(&c.run), links);
            let event = self.scheduled_event("incident.notice.draft", n);
            self.move_notice(n, state, NoticeState::Drafted, n.attempts, Some(event))
                .await?;
            return Ok(true);
        }
        let Some((to, lang, read, law)) = self.notice_address(n, c).await? else {
            return Ok(true);
        };
        let (subject, body) = self.notice_text(n, c, lang, links);
        let text = self.notice_sms(c, lang, links);
        // Marked before it is handed over, with the read of the address: a crash from here on
        // leaves it `sending`, never to be sent again by itself.
        let sending = NoticeState::Sending;
        let marked =
            (self.move_notice_as(n, state, (sending, law), n.attempts, Some(read.clone()))).await?;
        if !marked {
            // Another server took it first; the address was read all the same.
            self.ledger.submit(vec![], vec![read]).await??;
            return Ok(true);
        }
        let attempts = n.attempts + 1;
        let delivered = match to {
            Recipient::Email(to) => mailer.deliver(Mail { to, subject, body }).await,
            Recipient::Phone(to) => match &links.texts {
                Some(texts) => texts.deliver_text(&to, &text).await,
                None => Delivery::Refused,
            },
        };
        match delivered {
            Delivery::Accepted => {
                let event = self.scheduled_event("incident.notice.sent", n);
                self.move_notice(n, sending, NoticeState::Sent, attempts, Some(event))
                    .await?;
                Ok(true)
            }
            Delivery::Unknown => {
                let event = self.scheduled_event("incident.notice.uncertain", n);
                (self.move_notice(n, sending, NoticeState::Uncertain, attempts, Some(event)))
                    .await?;
                Ok(false)
            }
            Delivery::Refused => {
                let next = match attempts >= ATTEMPTS_MAX {
                    true => NoticeState::Failed,
                    false => NoticeState::Pending,
                };
                let event = self.scheduled_event("incident.notice.refused", n);
                self.move_notice(n, NoticeState::Sending, next, attempts, Some(event))
                    .await?;
                Ok(false)
            }
        }
    }

    fn notice_language_of(&self, run: &NoticeRunRow) -> Language {
        Language::parse(&run.language).unwrap_or(Language::En)
    }

    /// Reads the person's address (and language) as the preparer, through the decision, with
    /// the allowed event to commit when the notice is marked `sending`. None when there is
    /// nothing to send: the notice is then marked why (denied, erased, no address), ledgered.
    async fn notice_address(
        &self,
        n: &NoticeRow,
        c: &Context,
    ) -> Result<
        Option<(
            Recipient,
            Language,
            mamori_ledger::Event,
            Option<&'static str>,
        )>,
    > {
        let preparer = Actor {
            id: c.run.actor.clone(),
            role: c.run.role.clone(),
        };
        let purpose = c.run.purpose.as_str();
        let fields = self.notice_fields();
        let categories = self.notice_read(&fields, &preparer.role, purpose);
        let label = "incident.notice";
        let pending = NoticeState::Pending;
        let subject = Some(&n.subject_id);
        if let Err(e) =
            (self.authorise(&preparer, purpose, Action::View, categories, label, subject)).await
        {
            return match e {
                CoreError::Denied(_) => {
                    self.move_notice(n, pending, NoticeState::Denied, n.attempts, None)
                        .await?;
                    Ok(None)
                }
                other => Err(other),
            };
        }
        let opened = match self.live_subject(&n.subject_id, Some(purpose)).await {
            Ok(opened) => opened,
            // Erased: only what a legal obligation keeps is left, and it is not for this.
            Err(CoreError::NotFound | CoreError::Denied(Denial::KeptUnderLegalHold)) => {
                let outcome = Outcome::Denied {
                    reason: "subject_not_found".into(),
                };
                let event = self.event(&preparer, purpose, label, subject, categories, outcome);
                self.move_notice(n, pending, NoticeState::Erased, n.attempts, Some(event))
                    .await?;
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let (_, key, map) = opened;
        let view = self.open_view(&key, &map, categories, &preparer.role)?;
        let allowed = self.event(
            &preparer,
            purpose,
            label,
            subject,
            categories,
            Outcome::Allowed,
        );
        let (address, language, law) = fields.find(&view);
        let Some(address) = address else {
            let to = (NoticeState::NoAddress, law);
            (self.move_notice_as(n, pending, to, n.attempts, Some(allowed))).await?;
            return Ok(None);
        };
        let language = language
            .filter(|l| self.policy.organisation.languages.contains(l))
            .unwrap_or_else(|| self.notice_language_of(&c.run));
        Ok(Some((address, language, allowed, law)))
    }

    /// The address's categories, and the phone numbers', the language's and the country's too
    /// where the preparer may read them.
    fn notice_read(&self, fields: &NoticeFields, role: &str, purpose: &str) -> IdSet {
        let extras = (fields.phones.iter())
            .chain(fields.language.iter())
            .chain(fields.country.iter());
        let nobody = access::NoConsent;
        extras.fold(fields.categories, |read, (category, _, _)| {
            let more = read.with(*category);
            match access::decide(&self.policy, role, purpose, Action::View, more, &nobody) {
                Ok(_) => more,
                Err(_) => read,
            }
        })
    }

    /// The short text a person reached only by phone gets.
    fn notice_sms(&self, c: &Context, lang: Language, links: &NoticeLinks) -> String {
        let org = &self.policy.organisation;
        let facts = NoticeFacts {
            organisation: &org.name,
            contact: &org.contact,
            kind: IncidentKind::parse(&c.incident.kind).unwrap_or(IncidentKind::Other),
            detected_day: "",
            first_day: "",
            last_day: "",
            categories: vec![],
            steps: vec![],
            advice: None,
            privacy_center: &links.privacy_center,
        };
        notice_words::text_message(&facts, lang)
    }

    fn notice_text(
        &self,
        n: &NoticeRow,
        c: &Context,
        lang: Language,
        links: &NoticeLinks,
    ) -> (String, String) {
        let categories = (n.categories.split(','))
            .filter_map(|name| self.policy.category(name))
            .map(|cat| cat.label.get(lang))
            .collect();
        let advice = match lang {
            Language::En => c.advice.en.as_deref(),
            Language::Ja => c.advice.ja.as_deref(),
            Language::Fr => c.advice.fr.as_deref(),
        };
        let org = &self.policy.organisation;
        let facts = NoticeFacts {
            organisation: &org.name,
            contact: &org.contact,
            kind: IncidentKind::parse(&c.incident.kind).unwrap_or(IncidentKind::Other),
            detected_day: &day(c.incident.detected_ms),
            first_day: &day(n.first_ms),
            last_day: &day(n.last_ms),
            categories,
            steps: c.steps.clone(),
            advice,
            privacy_center: &links.privacy_center,
        };
        notice_words::notice(&facts, lang)
    }

    /// The notices of real incidents that concerned the signed-in person, in `lang`: decided
    /// for the person alone and ledgered (`incident.notice.read`).
    pub async fn notices_for_person(
        &self,
        actor: &Actor,
        id: &[u8; 16],
        lang: Language,
        links: &NoticeLinks,
    ) -> Result<Vec<PersonNotice>> {
        self.request_access(actor, "incident.notice.read", Some(id))
            .await?;
        let mut out = vec![];
        for n in self.store.subject_notices(id).await? {
            let c = self.notice_context(&n.incident_id).await?;
            if c.incident.drill {
                continue;
            }
            let (subject, body) = self.notice_text(&n, &c, lang, links);
            out.push(PersonNotice { subject, body });
        }
        let event = self.request_event(actor, "incident.notice.read", Some(id));
        self.ledger.submit(vec![], vec![event]).await??;
        Ok(out)
    }
}
