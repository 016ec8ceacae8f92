//! Data-subject requests as objects: what was asked, by whom, under which law, by when it must
//! be answered, and how it ended. States and denial reasons are the Data Rights Protocol's, so
//! requests from authorised agents and from the privacy officer's inbox go through the same
//! steps. Every step is an access decision (the rights purpose), a ledger event and an outbox
//! event; nothing stored here is a personal value (reasons are codes, not free text).

use mamori_ledger::Outcome;
use mamori_policy::{IdSet, Jurisdiction};
use mamori_proto::ErrorCode;
use mamori_store::{Change, JobError};
// The register's rows as stored, shown to callers as they are (plain data; `Store` stays here).
pub use mamori_store::{RequestFilter, RequestRow};

/// Counts of the open queue stop here: beyond it a page says "1,000+".
pub const REQUEST_COUNT_CAP: i64 = 1_000;

use crate::error::{CoreError, Result};
use crate::outbox::EventType;
use crate::request_verification::verified_on_arrival;
use crate::vault::{Actor, Vault};
use crate::{format_id, format_time, new_id};

// Kinds, states, sources and reasons are the wire enums: a stored or typed value is always one
// of them, and `parse` is where text from outside becomes one (after the access decision).
pub use mamori_proto::{
    DenialReason, ExtensionReason, Request, RequestKind, RequestSource, RequestState,
};

const DAY_MS: i64 = 86_400_000;

/// How long before a deadline its reminder goes out.
pub const REMIND_BEFORE_MS: i64 = 3 * DAY_MS;

/// How often the server looks for deadlines coming up.
pub const REMIND_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// How long a jurisdiction allows, from receipt, and how far the one extension may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Days(i64),
    Months(u8),
}

impl Period {
    /// Reads `"30d"`, `"6w"` or `"1m"` (1 to 24 months, 1 to 730 days).
    pub fn parse(text: &str) -> Option<Period> {
        let text = text.trim();
        let unit = text.chars().last()?;
        let n: i64 = text[..text.len() - unit.len_utf8()].parse().ok()?;
        let period = match unit {
            'd' => Period::Days(n),
            'w' => Period::Days(n.checked_mul(7)?),
            'm' => Period::Months(u8::try_from(n).ok()?),
            _ => return None,
        };
        let sensible = match period {
            Period::Days(d) => (1..=730).contains(&d),
            Period::Months(m) => (1..=24).contains(&m),
        };
        sensible.then_some(period)
    }
}

/// The answer period and the extended period of a jurisdiction: GDPR one month (three with an
/// extension), CCPA 45 days (90), LGPD 15 days (none), APPI "without delay" — held here to 14
/// days (none).
pub fn periods(jurisdiction: Jurisdiction) -> (Period, Option<Period>) {
    match jurisdiction {
        Jurisdiction::Gdpr => (Period::Months(1), Some(Period::Months(3))),
        Jurisdiction::Ccpa => (Period::Days(45), Some(Period::Days(90))),
        Jurisdiction::Lgpd => (Period::Days(15), None),
        Jurisdiction::Appi => (Period::Days(14), None),
    }
}

/// The deadlines in force: the laws' periods above unless the operator's configuration sets
/// others (a stricter internal target, or a law's change before Mamori's next release).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadlines {
    by_law: Vec<(Jurisdiction, Period, Option<Period>)>,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            by_law: Jurisdiction::ALL
                .iter()
                .map(|(_, j)| {
                    let (due, extended) = periods(*j);
                    (*j, due, extended)
                })
                .collect(),
        }
    }
}

impl Deadlines {
    /// Sets one jurisdiction's answer period and extended period (None: no extension). The
    /// extended period must be longer than the answer period.
    pub fn set(
        &mut self,
        law: Jurisdiction,
        due: Period,
        extended: Option<Period>,
    ) -> std::result::Result<(), String> {
        if let Some(ext) = extended
            && add_period(0, ext) <= add_period(0, due)
        {
            return Err("the extended period must be longer than the answer period".into());
        }
        for entry in &mut self.by_law {
            if entry.0 == law {
                *entry = (law, due, extended);
            }
        }
        Ok(())
    }

    pub fn of(&self, law: Jurisdiction) -> (Period, Option<Period>) {
        self.by_law
            .iter()
            .find(|e| e.0 == law)
            .map_or_else(|| periods(law), |e| (e.1, e.2))
    }
}

/// `from` plus a period; a month later is the same day of the month, or the month's last day.
pub fn add_period(from_ms: i64, period: Period) -> i64 {
    match period {
        Period::Days(days) => from_ms + days * DAY_MS,
        Period::Months(months) => {
            let Ok(start) =
                time::OffsetDateTime::from_unix_timestamp_nanos(from_ms as i128 * 1_000_000)
            else {
                return from_ms + i64::from(months) * 31 * DAY_MS;
            };
            let index = start.year() * 12 + (start.month() as i32 - 1) + i32::from(months);
            let (year, month0) = (index.div_euclid(12), index.rem_euclid(12));
            let month = time::Month::try_from(month0 as u8 + 1).unwrap_or(time::Month::December);
            let day = start.day().min(time::util::days_in_month(month, year));
            let date = time::Date::from_calendar_date(year, month, day).unwrap_or(start.date());
            let moved = start.replace_date(date);
            (moved.unix_timestamp_nanos() / 1_000_000) as i64
        }
    }
}

fn jurisdiction(name: &str) -> Option<Jurisdiction> {
    Jurisdiction::ALL
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, j)| *j)
}

/// A request as staff and agents see it.
pub fn request_view(r: &RequestRow) -> Request {
    Request {
        id: format_id(&r.id),
        reference: crate::reference::format_reference(r.reference),
        kind: r.kind,
        subject: r.subject_id.as_ref().map(format_id),
        jurisdiction: r.jurisdiction.clone(),
        source: r.source,
        state: r.state,
        received_at: format_time(r.received_ms),
        due_at: format_time(r.due_ms),
        extension: r.extension,
        closed_at: r.closed_ms.map(format_time),
        reason: r.reason,
        waiting_for: r.waiting_for,
        verified_by: r.verified.map(|(by, _)| by),
        verified_at: r.verified.map(|(_, ms)| format_time(ms)),
    }
}

/// A new request: what, about whom (if known), under which law, how it arrived.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// As sent: checked after the access decision.
    pub kind: String,
    pub subject: Option<[u8; 16]>,
    pub jurisdiction: String,
    /// As sent: checked after the access decision.
    pub source: String,
    /// When it was received, if earlier than now (entered from the inbox); defaults to now.
    pub received_ms: Option<i64>,
}

fn unknown(code: mamori_proto::ErrorCode, field: &'static str, message: &str) -> CoreError {
    CoreError::invalid(code, field, message)
}

fn conflict(code: mamori_proto::ErrorCode, message: &str) -> CoreError {
    CoreError::Conflict {
        code,
        message: message.into(),
    }
}

impl Vault {
    /// Whether `role` may work the request register at all (what a console page offers; the
    /// access itself is still decided and ledgered when it happens).
    pub fn role_works_requests(&self, role: &str) -> bool {
        let rights = self.policy.purpose(mamori_policy::RIGHTS_PURPOSE);
        let role = self.policy.role(role);
        rights
            .zip(role)
            .is_some_and(|(p, r)| r.purposes.contains(p.id))
    }

    pub(crate) async fn request_access(
        &self,
        actor: &Actor,
        action: &str,
        subject: Option<&[u8; 16]>,
    ) -> Result<()> {
        let rights = self
            .policy
            .purpose(mamori_policy::RIGHTS_PURPOSE)
            .ok_or(CoreError::Denied(crate::access::Denial::UnknownPurpose))?;
        self.consent_access(actor, rights, action, subject).await
    }

    pub(crate) fn request_event(
        &self,
        actor: &Actor,
        action: &str,
        subject: Option<&[u8; 16]>,
    ) -> mamori_ledger::Event {
        self.event(
            actor,
            mamori_policy::RIGHTS_PURPOSE,
            action,
            subject,
            IdSet::EMPTY,
            Outcome::Allowed,
        )
    }

    /// A new open request received at `received_ms` (default `now`), due by its law's period.
    pub(crate) fn new_request_row(
        &self,
        new: NewRequest,
        (kind, source): (RequestKind, RequestSource),
        now: i64,
    ) -> RequestRow {
        let law = jurisdiction(&new.jurisdiction).unwrap_or(Jurisdiction::Gdpr);
        let received_ms = new.received_ms.unwrap_or(now);
        RequestRow {
            id: new_id(),
            kind,
            subject_id: new.subject,
            jurisdiction: new.jurisdiction,
            source,
            state: RequestState::Open,
            received_ms,
            due_ms: add_period(received_ms, self.deadlines.of(law).0),
            extension: None,
            closed_ms: None,
            reason: None,
            updated_ms: now,
            reference: crate::reference::new_reference(),
            waiting_for: None,
            verified: verified_on_arrival(source, received_ms),
        }
    }

    /// Records a request and its deadline. The subject, if named, must exist and not be erased.
    pub async fn open_request(&self, actor: &Actor, new: NewRequest) -> Result<RequestRow> {
        self.request_access(actor, "request.open", new.subject.as_ref())
            .await?;
        let kind = RequestKind::parse(&new.kind).ok_or_else(|| {
            unknown(
                ErrorCode::UnknownKind,
                "kind",
                "kind must be one of: access, portability, rectification, erasure, restriction, objection, opt_out_of_sale",
            )
        })?;
        jurisdiction(&new.jurisdiction).ok_or_else(|| {
            unknown(
                ErrorCode::UnknownJurisdiction,
                "jurisdiction",
                "jurisdiction must be one of: gdpr, ccpa, lgpd, appi",
            )
        })?;
        let source = RequestSource::parse(&new.source).ok_or_else(|| {
            unknown(
                ErrorCode::UnknownSource,
                "source",
                "source must be one of: privacy_center, staff, agent",
            )
        })?;
        let now = self.now_ms();
        let received_ms = new.received_ms.unwrap_or(now);
        if received_ms > now || received_ms < now - 366 * DAY_MS {
            return Err(unknown(
                ErrorCode::OutOfRange,
                "received_at",
                "received_at must be in the past year, not in the future",
            ));
        }
        if let Some(subject) = &new.subject {
            match self.store.subject(subject).await? {
                None => return Err(CoreError::NotFound),
                Some(row) if row.erased_ms.is_some() => {
                    return Err(conflict(
                        ErrorCode::SubjectErased,
                        "this person's data was already erased; there is nothing left to act on",
                    ));
                }
                Some(_) => {}
            }
        }
        let row = self.new_request_row(new, (kind, source), now);
        let announce = self.announce(
            EventType::RequestOpened,
            row.subject_id.as_ref(),
            &request_view(&row),
        );
        let event = self.request_event(actor, "request.open", row.subject_id.as_ref());
        self.ledger
            .submit(
                vec![Change::InsertRequest(row.clone()), announce],
                vec![event],
            )
            .await??;
        Ok(row)
    }

    /// Records a request the person made and had answered in the privacy center itself
    /// (downloading = access, correcting = rectification, "do not sell" = opt-out), so the
    /// register of requests is complete: opened and fulfilled at once, under the organisation's
    /// first jurisdiction. Only the person themselves (`self`) records these.
    pub(crate) async fn record_self_service(
        &self,
        actor: &Actor,
        subject: &[u8; 16],
        kind: RequestKind,
    ) -> Result<RequestRow> {
        let (row, changes, event) = self.self_service_entry(actor, subject, kind).await?;
        self.ledger.submit(changes, vec![event]).await??;
        Ok(row)
    }

    /// Enters a request the person just had answered in the privacy center, from inside the
    /// operation that answered it (so no caller can forget it). Only for the person
    /// (`self`): staff acting through the API open their own requests. Best effort: the
    /// action stands if the entry fails, and the failure is logged.
    pub(crate) async fn register_self_service(
        &self,
        actor: &Actor,
        subject: &[u8; 16],
        kind: RequestKind,
    ) {
        if actor.role != mamori_policy::SELF_ROLE {
            return;
        }
        if let Err(e) = self.record_self_service(actor, subject, kind).await {
            tracing::warn!(error = %e, kind = kind.as_str(), "a self-service request could not be recorded");
        }
    }

    /// The register entry for a self-service request, as changes and a ledger event to commit
    /// (with the action itself, where they can go in one transaction).
    pub(crate) async fn self_service_entry(
        &self,
        actor: &Actor,
        subject: &[u8; 16],
        kind: RequestKind,
    ) -> Result<(RequestRow, Vec<Change>, mamori_ledger::Event)> {
        if actor.role != mamori_policy::SELF_ROLE {
            return Err(CoreError::Denied(
                crate::access::Denial::PurposeNotAllowedForRole,
            ));
        }
        self.request_access(actor, "request.self_service", Some(subject))
            .await?;
        let law = self
            .policy
            .organisation
            .jurisdictions
            .first()
            .copied()
            .unwrap_or(Jurisdiction::Gdpr);
        let name = Jurisdiction::ALL
            .iter()
            .find(|(_, j)| *j == law)
            .map_or("gdpr", |(n, _)| n);
        let now = self.now_ms();
        let row = RequestRow {
            id: new_id(),
            kind,
            subject_id: Some(*subject),
            jurisdiction: name.into(),
            source: RequestSource::PrivacyCenter,
            state: RequestState::Fulfilled,
            received_ms: now,
            due_ms: add_period(now, self.deadlines.of(law).0),
            extension: None,
            closed_ms: Some(now),
            reason: None,
            updated_ms: now,
            reference: crate::reference::new_reference(),
            waiting_for: None,
            verified: Some((mamori_proto::VerifiedBy::PrivacyCenterSignIn, now)),
        };
        let announce = self.announce(
            EventType::RequestOpened,
            row.subject_id.as_ref(),
            &request_view(&row),
        );
        let event = self.request_event(actor, "request.self_service", Some(subject));
        Ok((
            row.clone(),
            vec![Change::InsertRequest(row), announce],
            event,
        ))
    }

    /// Announces `request.due_soon` once for every open request whose deadline is less than
    /// `REMIND_BEFORE_MS` away (again if an extension moves it), so the privacy officer's tools
    /// hear of it in time. Returns how many reminders went out.
    pub async fn send_due_reminders(&self) -> Result<usize> {
        let scheduler = Actor {
            id: "scheduler".into(),
            role: "system".into(),
        };
        let mut sent = 0;
        loop {
            let due = self
                .store
                .requests_to_remind(self.now_ms() + REMIND_BEFORE_MS, 500)
                .await?;
            if due.is_empty() {
                return Ok(sent);
            }
            for row in due {
                let mark = Change::MarkRequestReminded {
                    id: row.id,
                    due_ms: row.due_ms,
                };
                let announce = self.announce(
                    EventType::RequestDueSoon,
                    row.subject_id.as_ref(),
                    &request_view(&row),
                );
                let event =
                    self.request_event(&scheduler, "request.remind", row.subject_id.as_ref());
                match self
                    .ledger
                    .submit(vec![mark, announce], vec![event])
                    .await?
                {
                    Ok(()) => sent += 1,
                    // Closed, extended or reminded meanwhile: the next pass sees it as it is now.
                    Err(JobError::Stale) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }

    /// One request. Staff with the rights purpose, or the person it is about.
    pub async fn request(&self, actor: &Actor, id: &[u8; 16]) -> Result<RequestRow> {
        let row = self.store.request(id).await?;
        self.request_access(
            actor,
            "request.read",
            row.as_ref().and_then(|r| r.subject_id.as_ref()),
        )
        .await?;
        let row = row.ok_or(CoreError::NotFound)?;
        let event = self.request_event(actor, "request.read", row.subject_id.as_ref());
        self.ledger.submit(vec![], vec![event]).await??;
        Ok(row)
    }

    /// The queue: requests by due date (open ones unless a state is given), a page at a time.
    pub async fn list_requests(
        &self,
        actor: &Actor,
        filter: &RequestFilter,
    ) -> Result<Vec<RequestRow>> {
        self.request_access(actor, "request.list", filter.subject.as_ref())
            .await?;
        if let Some(state) = &filter.state
            && RequestState::parse(state).is_none()
        {
            return Err(unknown(
                ErrorCode::UnknownState,
                "state",
                "state must be one of: open, in_progress, fulfilled, denied, revoked, expired",
            ));
        }
        let rows = self.store.requests(filter).await?;
        let event = self.request_event(actor, "request.list", filter.subject.as_ref());
        self.ledger.submit(vec![], vec![event]).await??;
        Ok(rows)
    }

    /// How many requests are open: (all, overdue, due within `soon_ms` from now), each counted
    /// up to [`REQUEST_COUNT_CAP`] (a page shows "1,000+"). Decided and ledgered like a listing
    /// of the queue.
    pub async fn request_counts(&self, actor: &Actor, soon_ms: i64) -> Result<(i64, i64, i64)> {
        self.request_access(actor, "request.count", None).await?;
        let now = self.now_ms();
        let counts = (self.store)
            .open_request_counts(now, now + soon_ms, REQUEST_COUNT_CAP)
            .await?;
        let event = self.request_event(actor, "request.count", None);
        self.ledger.submit(vec![], vec![event]).await??;
        Ok(counts)
    }

    /// Extends the deadline once, as far as the jurisdiction allows, for a recorded reason.
    pub async fn extend_request(
        &self,
        actor: &Actor,
        id: &[u8; 16],
        reason: &str,
    ) -> Result<RequestRow> {
        let reason = ExtensionReason::parse(reason).ok_or_else(|| {
            unknown(
                ErrorCode::UnknownReason,
                "reason",
                "reason must be one of: complexity, number_of_requests",
            )
        })?;
        self.change_request(actor, id, "request.extend", |row| {
            let law = jurisdiction(&row.jurisdiction)
                .ok_or(CoreError::Internal("stored jurisdiction".into()))?;
            let Some(extended) = self.deadlines.of(law).1 else {
                return Err(conflict(
                    ErrorCode::NoExtension,
                    "the law of this request allows no extension of its deadline",
                ));
            };
            if row.extension.is_some() {
                return Err(conflict(
                    ErrorCode::AlreadyExtended,
                    "this request's deadline was already extended once",
                ));
            }
            row.due_ms = add_period(row.received_ms, extended);
            row.extension = Some(reason);
            Ok(())
        })
        .await
    }

    /// Moves a request to `state`: in_progress, or closed as fulfilled, denied (with a DRP
    /// reason), revoked or expired. A closed request stays closed.
    pub async fn set_request_state(
        &self,
        actor: &Actor,
        id: &[u8; 16],
        state: &str,
        reason: Option<&str>,
    ) -> Result<RequestRow> {
        let state = RequestState::parse(state)
            .filter(|s| *s != RequestState::Open)
            .ok_or_else(|| {
                unknown(
                    ErrorCode::UnknownState,
                    "state",
                    "state must be one of: in_progress, fulfilled, denied, revoked, expired",
                )
            })?;
        let reason = match (state, reason.map(DenialReason::parse)) {
            (RequestState::Denied, Some(Some(r))) => Some(r),
            (RequestState::Denied, _) => {
                return Err(unknown(
                    ErrorCode::DenialReasonRequired,
                    "reason",
                    "a denial needs a reason: suspected_fraud, insufficient_verification, no_match, claim_not_covered, outside_jurisdiction, too_many_requests or other",
                ));
            }
            (_, Some(_)) => {
                return Err(unknown(
                    ErrorCode::UnexpectedReason,
                    "reason",
                    "only a denial takes a reason",
                ));
            }
            (_, None) => None,
        };
        self.change_request(actor, id, "request.state", |row| {
            if state == RequestState::InProgress && row.state == RequestState::InProgress {
                return Err(conflict(
                    ErrorCode::RequestInProgress,
                    "this request is already in progress",
                ));
            }
            // One rule for every door (API, console, CLI): nobody is answered before they are
            // shown to be the person asked about; working and denying need no such proof.
            if state == RequestState::Fulfilled && row.verified.is_none() {
                return Err(conflict(
                    ErrorCode::NotVerified,
                    "verify who is asking first (POST /v1/requests/{id}/verification)",
                ));
            }
            row.state = state;
            if state.is_closed() {
                row.closed_ms = Some(self.now_ms());
                row.reason = reason;
            }
            Ok(())
        })
        .await
    }

    /// Reads, checks access, applies `step` to an open request, writes it conditionally on the
    /// state it was read in, announces it and ledgers it.
    pub(crate) async fn change_request(
        &self,
        actor: &Actor,
        id: &[u8; 16],
        action: &str,
        step: impl FnOnce(&mut RequestRow) -> Result<()>,
    ) -> Result<RequestRow> {
        let stored = self.store.request(id).await?;
        self.request_access(
            actor,
            action,
            stored.as_ref().and_then(|r| r.subject_id.as_ref()),
        )
        .await?;
        let stored = stored.ok_or(CoreError::NotFound)?;
        self.apply_request_change(actor, stored, action, step).await
    }

    /// Applies `step` to a request the caller may act on, conditionally on its state, with its
    /// announcement and ledger event.
    pub(crate) async fn apply_request_change(
        &self,
        actor: &Actor,
        stored: RequestRow,
        action: &str,
        step: impl FnOnce(&mut RequestRow) -> Result<()>,
    ) -> Result<RequestRow> {
        if stored.state.is_closed() {
            return Err(conflict(
                ErrorCode::RequestClosed,
                "this request is closed; open a new one",
            ));
        }
        let mut row = stored.clone();
        step(&mut row)?;
        row.updated_ms = self.now_ms();
        let announce = self.announce(
            EventType::RequestChanged,
            row.subject_id.as_ref(),
            &request_view(&row),
        );
        let event = self.request_event(actor, action, row.subject_id.as_ref());
        let change = Change::UpdateRequest {
            expected_state: stored.state,
            row: row.clone(),
        };
        match self
            .ledger
            .submit(vec![change, announce], vec![event])
            .await?
        {
            Ok(()) => Ok(row),
            Err(JobError::Stale) => Err(conflict(
                ErrorCode::ConcurrentUpdate,
                "someone acted on this request at the same time; reload it",
            )),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .unwrap();
        (t.unix_timestamp_nanos() / 1_000_000) as i64
    }

    #[test]
    fn a_month_is_a_calendar_month_clamped_to_its_last_day() {
        assert_eq!(
            add_period(at("2026-01-15T10:00:00Z"), Period::Months(1)),
            at("2026-02-15T10:00:00Z")
        );
        assert_eq!(
            add_period(at("2026-01-31T10:00:00Z"), Period::Months(1)),
            at("2026-02-28T10:00:00Z")
        );
        assert_eq!(
            add_period(at("2028-01-31T00:00:00Z"), Period::Months(1)),
            at("2028-02-29T00:00:00Z")
        );
        assert_eq!(
            add_period(at("2026-11-30T23:59:00Z"), Period::Months(3)),
            at("2027-02-28T23:59:00Z")
        );
        assert_eq!(
            add_period(at("2026-12-01T00:00:00Z"), Period::Days(45)),
            at("2027-01-15T00:00:00Z")
        );
    }

    #[test]
    fn each_law_has_its_period_and_extension() {
        assert_eq!(
            periods(Jurisdiction::Gdpr),
            (Period::Months(1), Some(Period::Months(3)))
        );
        assert_eq!(
            periods(Jurisdiction::Ccpa),
            (Period::Days(45), Some(Period::Days(90)))
        );
        assert_eq!(periods(Jurisdiction::Lgpd).1, None);
        assert_eq!(periods(Jurisdiction::Appi).1, None);
    }

    #[test]
    fn deadlines_can_be_configured() {
        assert_eq!(Period::parse("30d"), Some(Period::Days(30)));
        assert_eq!(Period::parse("2w"), Some(Period::Days(14)));
        assert_eq!(Period::parse("1m"), Some(Period::Months(1)));
        for bad in [
            "",
            "d",
            "0d",
            "-3d",
            "1y",
            "25m",
            "999999999999999999999d",
            "１d",
            "3日",
        ] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
        let mut d = Deadlines::default();
        assert_eq!(d.of(Jurisdiction::Gdpr), periods(Jurisdiction::Gdpr));
        d.set(Jurisdiction::Appi, Period::Days(7), Some(Period::Days(21)))
            .unwrap();
        assert_eq!(
            d.of(Jurisdiction::Appi),
            (Period::Days(7), Some(Period::Days(21)))
        );
        assert!(
            d.set(
                Jurisdiction::Gdpr,
                Period::Months(2),
                Some(Period::Days(30))
            )
            .is_err()
        );
        assert_eq!(
            d.of(Jurisdiction::Gdpr),
            periods(Jurisdiction::Gdpr),
            "unchanged on error"
        );
    }
}
