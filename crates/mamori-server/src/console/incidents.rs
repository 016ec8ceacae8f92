//! `/console/incidents`: the incident register for roles with `admin = ["incidents"]` — the
//! incidents, newest first, and a form to open one; `/console/incidents/{id}`: one incident, its
//! timeline, and a form to add to it against the version shown. Every read and step goes through
//! the vault (decided, ledgered); titles and notes are shown here and nowhere else.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_policy::Language;
use mamori_proto::ErrorCode;
use mamori_proto::incidents::{
    AddEntry, Contain, ContainmentAction, EntryKind, Extension, Incident, IncidentDetail,
    IncidentKind, IncidentSeverity, IncidentStatus, OpenIncident,
};
use serde::Deserialize;

use super::forms::{Posted, console_form, posted, refusal_line};
use super::home::{Frame, frame};
use super::incident_words::{
    IncidentWords, action_name, entry_name, incident_words, kind_name, severity_name, status_name,
};
use super::{Signed, signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;

/// What a page says after a step: a status line, or an error line.
type Said = (Option<&'static str>, Option<String>);

#[derive(Template)]
#[template(path = "console_incidents.html")]
struct ListPage {
    f: Frame,
    iw: IncidentWords,
    incidents: Vec<Incident>,
    /// (scenario id, its title in the page's language)
    scenarios: Vec<(&'static str, &'static str)>,
    kinds: Vec<(&'static str, &'static str)>,
    severities: Vec<(&'static str, &'static str)>,
    lang: Language,
    status: Option<&'static str>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "console_incident.html")]
struct OnePage {
    f: Frame,
    iw: IncidentWords,
    d: IncidentDetail,
    deadlines: Vec<mamori_proto::incidents::Deadline>,
    n: super::incident_notices::NoticesBox,
    statuses: Vec<(&'static str, &'static str)>,
    severities: Vec<(&'static str, &'static str)>,
    actions: Vec<(&'static str, &'static str)>,
    lang: Language,
    status: Option<&'static str>,
    error: Option<String>,
    /// A webhook's new signing secret after a rotation step, shown this once.
    secret: Option<String>,
}

/// The names the templates show.
trait Names {
    fn lang(&self) -> Language;
    fn kind(&self, k: &IncidentKind) -> &'static str {
        kind_name(*k, self.lang())
    }
    fn severity(&self, s: &IncidentSeverity) -> &'static str {
        severity_name(*s, self.lang())
    }
    fn state(&self, s: &IncidentStatus) -> &'static str {
        status_name(*s, self.lang())
    }
    fn entry(&self, e: &EntryKind) -> &'static str {
        entry_name(*e, self.lang())
    }
}

impl Names for ListPage {
    fn lang(&self) -> Language {
        self.lang
    }
}

impl Names for OnePage {
    fn lang(&self) -> Language {
        self.lang
    }
}

impl OnePage {
    /// When the duty applies, in the page's language.
    fn condition(&self, x: &mamori_proto::incidents::Deadline) -> &'static str {
        (mamori_policy::breach_duties::shipped().duty(&x.jurisdiction, &x.recipient))
            .map_or("", |d| d.when.get(self.lang))
    }

    fn recipient(&self, code: &str) -> &'static str {
        super::incident_words::recipient_name(code, self.lang)
    }

    fn is_closed(&self) -> bool {
        self.d.incident.status == IncidentStatus::Closed
    }
}

fn options<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    name: fn(T, Language) -> &'static str,
    lang: Language,
) -> Vec<(&'static str, &'static str)> {
    all.iter().map(|v| (code(*v), name(*v, lang))).collect()
}

/// A refusal the page cannot show as a line (a role without the permission: the refusal page).
fn refused(s: &AppState, f: Frame, e: CoreError) -> Response {
    match e {
        CoreError::Denied(d) => {
            let text = format!("{} ({})", f.w.refused_by_policy, d.code());
            super::refusal_page(s, f, text)
        }
        e => crate::problem::ApiError::from(e).into_response(),
    }
}

async fn list_page(s: &AppState, lang: Language, signed: &Signed, said: Said) -> Response {
    let f = frame(s, lang, signed, "incidents");
    let read = match s.vault.staff_actor(&signed.session, "incident.list").await {
        Ok(actor) => s.vault.incidents(&actor).await,
        Err(e) => Err(e),
    };
    let incidents = match read {
        Ok(incidents) => incidents,
        Err(e) => return refused(s, f, e),
    };
    let code = if said.1.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ListPage {
        f,
        iw: incident_words(lang),
        incidents,
        scenarios: (mamori_policy::drills::scenarios().iter())
            .map(|x| (x.id.as_str(), x.title.get(lang)))
            .collect(),
        kinds: options(IncidentKind::ALL, IncidentKind::as_str, kind_name, lang),
        severities: options(
            IncidentSeverity::ALL,
            IncidentSeverity::as_str,
            severity_name,
            lang,
        ),
        lang,
        status: said.0,
        error: said.1,
    };
    with_status(page.render(), code)
}

pub(super) async fn one_page(
    s: &AppState,
    lang: Language,
    signed: &Signed,
    id: &str,
    said: Said,
) -> Response {
    page_with_secret(s, lang, signed, id, said, None).await
}

async fn page_with_secret(
    s: &AppState,
    lang: Language,
    signed: &Signed,
    id: &str,
    said: Said,
    secret: Option<String>,
) -> Response {
    let f = frame(s, lang, signed, "incidents");
    let Some(id) = mamori_core::parse_id(id) else {
        return refused(
            s,
            f,
            CoreError::Missing {
                code: ErrorCode::IncidentNotFound,
                message: "no incident has this id".into(),
            },
        );
    };
    let read = match s.vault.staff_actor(&signed.session, "incident.read").await {
        Ok(actor) => s.vault.incident(&actor, &id).await,
        Err(e) => Err(e),
    };
    let more = async {
        let d = read?;
        let deadlines = deadlines_of(s, signed, &id).await?;
        let n = super::incident_notices::notices_box(s, signed, &id, lang).await?;
        Ok((d, deadlines, n))
    };
    let (d, deadlines, n) = match more.await {
        Ok(found) => found,
        Err(e) => return refused(s, f, e),
    };
    let code = if said.1.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = OnePage {
        f,
        iw: incident_words(lang),
        d,
        deadlines,
        n,
        statuses: options(
            IncidentStatus::ALL,
            IncidentStatus::as_str,
            status_name,
            lang,
        ),
        actions: options(
            ContainmentAction::ALL,
            ContainmentAction::as_str,
            action_name,
            lang,
        ),
        severities: options(
            IncidentSeverity::ALL,
            IncidentSeverity::as_str,
            severity_name,
            lang,
        ),
        lang,
        status: said.0,
        error: said.1,
        secret,
    };
    with_status(page.render(), code)
}

/// The policy's laws' duties for the incident (a ledgered read of its own).
async fn deadlines_of(
    s: &AppState,
    signed: &Signed,
    id: &[u8; 16],
) -> mamori_core::Result<Vec<mamori_proto::incidents::Deadline>> {
    let actor = s
        .vault
        .staff_actor(&signed.session, "incident.deadlines")
        .await?;
    Ok(s.vault
        .incident_deadlines(&actor, id, None)
        .await?
        .deadlines)
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

pub async fn list(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    match signed_in(&s, &headers, lang).await {
        Ok(signed) => list_page(&s, lang, &signed, (None, None)).await,
        Err(answer) => answer,
    }
}

pub async fn one(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    match signed_in(&s, &headers, lang).await {
        Ok(signed) => one_page(&s, lang, &signed, &id, (None, None)).await,
        Err(answer) => answer,
    }
}

#[derive(Deserialize)]
pub struct OpenForm {
    csrf: String,
    lang: Option<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    detected: String,
}

#[derive(Deserialize)]
pub struct EntryForm {
    csrf: String,
    lang: Option<String>,
    version: i64,
    #[serde(default)]
    note: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    extend: String,
    #[serde(default)]
    until: String,
}

#[derive(Deserialize)]
pub struct ContainForm {
    csrf: String,
    lang: Option<String>,
    version: i64,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
pub struct DrillForm {
    csrf: String,
    lang: Option<String>,
    #[serde(default)]
    scenario: String,
}

console_form!(OpenForm, EntryForm, ContainForm, DrillForm);

pub(super) fn bad(field: &str) -> CoreError {
    CoreError::invalid(ErrorCode::InvalidValue, field, "not accepted")
}

/// A field left empty is no choice.
fn chosen(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|t| !t.is_empty())
}

/// A time typed in a `datetime-local` field, read as UTC.
pub(super) fn detected_ms(text: &str) -> mamori_core::Result<Option<i64>> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let t = time::PrimitiveDateTime::parse(text.trim(), &format).map_err(|_| bad("detected"))?;
    Ok(Some(t.assume_utc().unix_timestamp() * 1000))
}

pub async fn open(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<OpenForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Posted::Ours(lang, signed, form) => (lang, signed, form),
        Posted::NotOurs(lang, signed) => {
            let bad_form = Some(super::words::words(lang).bad_form.into());
            return list_page(&s, lang, &signed, (None, bad_form)).await;
        }
        Posted::Answer(answer) => return answer,
    };
    let opened = async {
        let open = OpenIncident {
            title: form.title.clone(),
            kind: IncidentKind::parse(&form.kind).ok_or_else(|| bad("kind"))?,
            severity: IncidentSeverity::parse(&form.severity).ok_or_else(|| bad("severity"))?,
            detected_at: None,
        };
        let detected = detected_ms(&form.detected)?;
        let actor = s
            .vault
            .staff_actor(&signed.session, "incident.open")
            .await?;
        s.vault.open_incident(&actor, &open, detected, false).await
    };
    match opened.await {
        Ok(i) => {
            one_page(
                &s,
                lang,
                &signed,
                &i.id,
                (Some(incident_words(lang).opened), None),
            )
            .await
        }
        Err(e) => match refusal_line(&super::words::words(lang), &e) {
            Some(line) => list_page(&s, lang, &signed, (None, Some(line))).await,
            None => crate::problem::ApiError::from(e).into_response(),
        },
    }
}

pub async fn add(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<axum::Form<EntryForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Posted::Ours(lang, signed, form) => (lang, signed, form),
        Posted::NotOurs(lang, signed) => {
            let bad_form = Some(super::words::words(lang).bad_form.into());
            return one_page(&s, lang, &signed, &id, (None, bad_form)).await;
        }
        Posted::Answer(answer) => return answer,
    };
    let iw = incident_words(lang);
    let added = async {
        let incident = mamori_core::parse_id(&id).ok_or_else(|| bad("id"))?;
        let add = AddEntry {
            version: form.version,
            note: chosen(&form.note).map(str::to_string),
            status: chosen(&form.status)
                .map(|t| IncidentStatus::parse(t).ok_or_else(|| bad("status")))
                .transpose()?,
            severity: chosen(&form.severity)
                .map(|t| IncidentSeverity::parse(t).ok_or_else(|| bad("severity")))
                .transpose()?,
            link: None,
            extend: extension(&form.extend, &form.until)?,
        };
        let actor = s
            .vault
            .staff_actor(&signed.session, "incident.note")
            .await?;
        s.vault.add_incident_entry(&actor, &incident, &add).await
    };
    let said = said_of(added.await.map(|_| iw.added), &iw, lang);
    match said {
        Ok(said) => one_page(&s, lang, &signed, &id, said).await,
        Err(answer) => *answer,
    }
}

/// A deadline the form extends (`gdpr:authority`) to a `datetime-local` time, read as UTC.
fn extension(duty: &str, until: &str) -> mamori_core::Result<Option<Extension>> {
    let Some(duty) = chosen(duty) else {
        return Ok(None);
    };
    let (jurisdiction, recipient) = duty.split_once(':').ok_or_else(|| bad("extend"))?;
    let until = detected_ms(until)?.ok_or_else(|| bad("until"))?;
    Ok(Some(Extension {
        jurisdiction: jurisdiction.into(),
        recipient: recipient.into(),
        until: mamori_core::format_time(until),
    }))
}

/// What the incident page says after a step on its timeline: done, someone else changed it
/// first, it is closed, or the vault's refusal (the API's problem for anything else).
pub(super) fn said_of(
    done: mamori_core::Result<&'static str>,
    iw: &IncidentWords,
    lang: Language,
) -> Result<Said, Box<Response>> {
    Ok(match done {
        Ok(text) => (Some(text), None),
        Err(CoreError::Conflict {
            code: ErrorCode::ConcurrentUpdate,
            ..
        }) => (None, Some(iw.stale.to_string())),
        Err(CoreError::Conflict {
            code: ErrorCode::IncidentClosed,
            ..
        }) => (None, Some(iw.closed.to_string())),
        Err(e) => match refusal_line(&super::words::words(lang), &e) {
            Some(line) => (None, Some(line)),
            None => return Err(Box::new(crate::problem::ApiError::from(e).into_response())),
        },
    })
}

pub async fn contain(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<axum::Form<ContainForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Posted::Ours(lang, signed, form) => (lang, signed, form),
        Posted::NotOurs(lang, signed) => {
            let bad_form = Some(super::words::words(lang).bad_form.into());
            return one_page(&s, lang, &signed, &id, (None, bad_form)).await;
        }
        Posted::Answer(answer) => return answer,
    };
    let iw = incident_words(lang);
    let done = async {
        let incident = mamori_core::parse_id(&id).ok_or_else(|| bad("id"))?;
        let contain = Contain {
            version: form.version,
            action: ContainmentAction::parse(&form.action).ok_or_else(|| bad("action"))?,
            target: form.target.trim().to_string(),
            note: chosen(&form.note).map(str::to_string),
        };
        let actor = s
            .vault
            .staff_actor(&signed.session, "incident.containment")
            .await?;
        s.vault.contain_incident(&actor, &incident, &contain).await
    };
    let (done, secret) = match done.await {
        Ok(detail) => (Ok(iw.contained), detail.new_secret),
        Err(e) => (Err(e), None),
    };
    match said_of(done, &iw, lang) {
        Ok(said) => page_with_secret(&s, lang, &signed, &id, said, secret).await,
        Err(answer) => *answer,
    }
}

pub async fn drill(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<DrillForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Posted::Ours(lang, signed, form) => (lang, signed, form),
        Posted::NotOurs(lang, signed) => {
            let bad_form = Some(super::words::words(lang).bad_form.into());
            return list_page(&s, lang, &signed, (None, bad_form)).await;
        }
        Posted::Answer(answer) => return answer,
    };
    let started = match s.vault.staff_actor(&signed.session, "incident.open").await {
        Ok(actor) => s.vault.start_drill(&actor, &form.scenario, lang).await,
        Err(e) => Err(e),
    };
    match started {
        Ok(i) => {
            one_page(
                &s,
                lang,
                &signed,
                &i.id,
                (Some(incident_words(lang).opened), None),
            )
            .await
        }
        Err(e) => match refusal_line(&super::words::words(lang), &e) {
            Some(line) => list_page(&s, lang, &signed, (None, Some(line))).await,
            None => crate::problem::ApiError::from(e).into_response(),
        },
    }
}
