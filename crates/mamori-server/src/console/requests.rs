//! `/console/requests`: the register of requests by due date, and one request to work — start it,
//! extend its deadline once with a reason, fulfil it (an erasure request by erasing the person),
//! or deny it with a reason. Every step is the vault's (decided, ledgered, announced to webhooks
//! and DRP agents as over the API).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_core::requests::{RequestFilter, RequestRow};
use mamori_policy::{AdminPermission, Language};
use mamori_proto::{DenialReason, ExtensionReason, RequestKind, RequestState};
use serde::Deserialize;

use super::home::{Frame, frame};
use super::request_words::label;
use super::{Signed, signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;

/// A request as the register shows it.
pub(crate) struct Line {
    id: String,
    reference: String,
    kind: String,
    state: String,
    source: String,
    jurisdiction: String,
    received: String,
    due: String,
    overdue: bool,
    waiting: Option<String>,
    open: bool,
    extended: bool,
    erasure_of: Option<String>,
    /// An access or portability request about a known person: it can be fulfilled with the
    /// export.
    exportable: bool,
    /// How and when the requester was verified, in words (None: not yet).
    verified: Option<String>,
}

fn date(ms: i64) -> String {
    mamori_core::format_time(ms)
        .get(..10)
        .unwrap_or_default()
        .to_string()
}

fn line(lang: Language, r: &RequestRow, now: i64) -> Line {
    Line {
        id: mamori_core::format_id(&r.id),
        reference: mamori_core::reference::format_reference(r.reference),
        kind: label(lang, r.kind.as_str()),
        state: label(lang, r.state.as_str()),
        source: label(lang, r.source.as_str()),
        jurisdiction: r.jurisdiction.to_uppercase(),
        received: date(r.received_ms),
        due: date(r.due_ms),
        overdue: !r.state.is_closed() && r.due_ms < now,
        waiting: r.waiting_for.map(|w| label(lang, w.as_str())),
        open: !r.state.is_closed(),
        extended: r.extension.is_some(),
        erasure_of: (r.kind == RequestKind::Erasure)
            .then(|| r.subject_id.as_ref().map(mamori_core::format_id))
            .flatten(),
        exportable: matches!(r.kind, RequestKind::Access | RequestKind::Portability)
            && r.subject_id.is_some(),
        verified: (r.verified)
            .map(|(by, at)| format!("{} · {}", label(lang, by.as_str()), date(at))),
    }
}

/// (value, words) for a select.
fn choices(lang: Language, codes: &[&'static str]) -> Vec<(&'static str, String)> {
    codes.iter().map(|c| (*c, label(lang, c))).collect()
}

#[derive(Template)]
#[template(path = "console_requests.html")]
struct RegisterPage {
    f: Frame,
    lines: Vec<Line>,
    states: Vec<(&'static str, String)>,
    kinds: Vec<(&'static str, String)>,
    ow: super::request_open::OpenWords,
    state: String,
    due: String,
    reference: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct RegisterQuery {
    lang: Option<String>,
    state: Option<String>,
    /// `overdue`, `week` (due within seven days), or anything else for any due date.
    #[serde(default)]
    due: String,
    /// A request's short reference, as the person quotes it (`R-7F3K-92QD`).
    #[serde(default)]
    reference: String,
}

pub async fn register(
    State(s): State<AppState>,
    Query(q): Query<RegisterQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    match signed_in(&s, &headers, lang).await {
        Ok(signed) => register_page(&s, lang, &signed, &q, None).await,
        Err(answer) => answer,
    }
}

/// The register (open and in-progress requests, or those in `state`), with the form to record
/// a request received another way; `error` says what went wrong with that form (422).
pub(super) async fn register_page(
    s: &AppState,
    lang: Language,
    signed: &Signed,
    q: &RegisterQuery,
    error: Option<String>,
) -> Response {
    let state = q
        .state
        .clone()
        .filter(|st| RequestState::parse(st).is_some());
    let now = s.vault.now_ms();
    let reference = match q.reference.trim() {
        "" => Ok(None),
        text => mamori_core::reference::parse_reference(text)
            .map(Some)
            .ok_or(()),
    };
    let mut page = RegisterPage {
        f: frame(s, lang, signed, "requests"),
        lines: vec![],
        states: choices(lang, &["fulfilled", "denied", "revoked", "expired"]),
        kinds: choices(
            lang,
            &RequestKind::ALL
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>(),
        ),
        ow: super::request_open::open_words(lang),
        state: state.clone().unwrap_or_default(),
        due: q.due.clone(),
        reference: q.reference.trim().chars().take(20).collect(),
        error: None,
    };
    let Ok(reference) = reference else {
        page.error = Some(page.f.w.bad_value.to_string());
        return with_status(page.render(), StatusCode::UNPROCESSABLE_ENTITY);
    };
    let filter = RequestFilter {
        state,
        due_before: match q.due.as_str() {
            "overdue" => Some(now),
            "week" => Some(now + 7 * 86_400_000),
            _ => None,
        },
        reference,
        limit: 200,
        ..Default::default()
    };
    let listed = match s.vault.staff_actor(&signed.session, "request.list").await {
        Ok(actor) => s.vault.list_requests(&actor, &filter).await,
        Err(e) => Err(e),
    };
    match listed {
        Ok(rows) => page.lines = rows.iter().map(|r| line(lang, r, now)).collect(),
        Err(CoreError::Denied(d)) => {
            page.error = Some(format!("{} ({})", page.f.w.refused_by_policy, d.code()));
            return with_status(page.render(), StatusCode::FORBIDDEN);
        }
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    }
    let code = match error {
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    page.error = error;
    with_status(page.render(), code)
}

#[derive(Template)]
#[template(path = "console_request.html")]
struct RequestPage {
    f: Frame,
    r: Line,
    vw: super::request_words::VerifyWords,
    checks: Vec<(&'static str, String)>,
    extension_reasons: Vec<(&'static str, String)>,
    denial_reasons: Vec<(&'static str, String)>,
    status: Option<&'static str>,
    error: Option<String>,
    tw: super::vendor_words::VendorWords,
    /// What the person's vendors were asked to do, for roles granted `vendors`.
    vendor_tasks: Option<Vec<super::vendors::TaskLine>>,
}

/// The vendors' tasks about the request's person, for roles granted `vendors` (others are not
/// shown the section, and nothing is asked on their behalf).
async fn vendor_tasks_of(
    s: &AppState,
    lang: Language,
    actor: &mamori_core::Actor,
    row: &RequestRow,
) -> Option<Vec<super::vendors::TaskLine>> {
    let role = s.vault.policy.role(&actor.role)?;
    let subject = row
        .subject_id
        .filter(|_| role.admin.contains(AdminPermission::Vendors))?;
    let tasks = s.vault.subject_vendor_tasks(actor, &subject).await.ok()?;
    Some(super::vendors::task_lines(lang, &tasks))
}

async fn request_page(
    s: &AppState,
    lang: Language,
    signed: &Signed,
    id: &str,
    said: (Option<&'static str>, Option<String>),
) -> Response {
    let f = super::with_confirm_by_passkey(s, signed, frame(s, lang, signed, "requests")).await;
    let refused = |f: &Frame, e: CoreError| match e {
        CoreError::Denied(d) => Some(format!("{} ({})", f.w.refused_by_policy, d.code())),
        _ => None,
    };
    let Some(raw) = mamori_core::parse_id(id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let read = match s.vault.staff_actor(&signed.session, "request.read").await {
        Ok(actor) => match s.vault.request(&actor, &raw).await {
            Ok(row) => Ok((vendor_tasks_of(s, lang, &actor, &row).await, row)),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    let (vendor_tasks, row) = match read {
        Ok(row) => row,
        Err(CoreError::NotFound) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => match refused(&f, e) {
            Some(text) => return super::refusal_page(s, f, text),
            None => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
    };
    let page = RequestPage {
        vw: super::request_words::verify_words(lang),
        checks: choices(
            lang,
            &(mamori_core::request_verification::STAFF_CHECKS.iter())
                .map(|c| c.as_str())
                .collect::<Vec<_>>(),
        ),
        r: line(lang, &row, s.vault.now_ms()),
        extension_reasons: choices(
            lang,
            &ExtensionReason::ALL
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>(),
        ),
        denial_reasons: choices(
            lang,
            &DenialReason::ALL
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>(),
        ),
        status: said.0,
        error: said.1,
        tw: super::vendor_words::vendor_words(lang),
        vendor_tasks,
        f,
    };
    let code = if page.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    with_status(page.render(), code)
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

pub async fn one(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    match signed_in(&s, &headers, lang).await {
        Ok(signed) => request_page(&s, lang, &signed, &id, (None, None)).await,
        Err(answer) => answer,
    }
}

#[derive(Deserialize)]
pub struct StepForm {
    csrf: String,
    lang: Option<String>,
    step: String,
    reason: Option<String>,
    /// How the requester was verified (the verify step).
    how: Option<String>,
    /// A code proving the factor again, for the sensitive step (erasure).
    code: Option<String>,
    /// Or a passkey's answer (the script fills these in).
    passkey_token: Option<String>,
    passkey_answer: Option<String>,
}

/// One step on a request: start, extend, fulfil, erase (and fulfil) or deny.
pub async fn step(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<axum::Form<StepForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let lang = page_language(
        &s.vault.policy,
        form.as_ref().ok().and_then(|f| f.lang.as_deref()),
    );
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let w = super::words::words(lang);
    let form = match form {
        Ok(axum::Form(f)) if signed.form_is_ours(&s, &headers, &f.csrf) => f,
        _ => return request_page(&s, lang, &signed, &id, (None, Some(w.bad_form.into()))).await,
    };
    let Some(raw) = mamori_core::parse_id(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let done = if form.step == "erase" || form.step == "export" {
        let action = format!("subject.{}", form.step);
        let proof = Proof::of(&form.code, &form.passkey_token, &form.passkey_answer);
        match sensitive_actor(&s, &signed, proof, &action).await {
            // The export is the answer itself: a download; the page shows the request after.
            Ok(Some(actor)) if form.step == "export" => {
                match export_and_fulfil(&s, &actor, &raw).await {
                    Ok(download) => return download,
                    Err(e) => Err(e),
                }
            }
            Ok(Some(actor)) => work(&s, &actor, &raw, &form).await,
            Ok(None) => {
                return request_page(&s, lang, &signed, &id, (None, Some(w.wrong_code.into())))
                    .await;
            }
            Err(e) => Err(e),
        }
    } else {
        match s.vault.staff_actor(&signed.session, "request.state").await {
            Ok(actor) => work(&s, &actor, &raw, &form).await,
            Err(e) => Err(e),
        }
    };
    let said = match done {
        Ok(()) => (Some(w.request_updated), None),
        Err(CoreError::Denied(d)) => (
            None,
            Some(format!("{} ({})", w.refused_by_policy, d.code())),
        ),
        Err(CoreError::Invalid { code, .. } | CoreError::Conflict { code, .. }) => {
            (None, Some(format!("{} ({code})", w.step_refused)))
        }
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    request_page(&s, lang, &signed, &id, said).await
}

/// What a sensitive step's form proves the factor again with, if anything.
pub(crate) enum Proof<'a> {
    None,
    Code(&'a str),
    Passkey { token: &'a str, answer: &'a str },
}

impl<'a> Proof<'a> {
    pub(crate) fn of(
        code: &'a Option<String>,
        token: &'a Option<String>,
        answer: &'a Option<String>,
    ) -> Proof<'a> {
        if let Some((token, answer)) = super::passkeys::answer(token, answer) {
            return Proof::Passkey { token, answer };
        }
        match code
            .as_deref()
            .filter(|c| !c.trim().is_empty() && c.len() <= 64)
        {
            Some(code) => Proof::Code(code),
            None => Proof::None,
        }
    }
}

/// The actor for a sensitive step: the code or passkey given (if any) proves the factor again
/// first; `None` when that proof failed (counted towards the lock-out).
pub(crate) async fn sensitive_actor(
    s: &AppState,
    signed: &Signed,
    proof: Proof<'_>,
    action: &str,
) -> mamori_core::Result<Option<mamori_core::Actor>> {
    let mut session = signed.session.clone();
    let proved = match (proof, s.passkeys.as_deref()) {
        (Proof::None, _) => None,
        (Proof::Code(code), _) => Some(s.vault.reauthenticate_staff(&session, code).await?),
        (Proof::Passkey { token, answer }, Some(rp)) => Some(
            (s.vault)
                .reauthenticate_staff_with_passkey(rp, &session, token, answer)
                .await?,
        ),
        (Proof::Passkey { .. }, None) => return Ok(None),
    };
    if let Some(proved) = proved {
        if proved.is_err() {
            return Ok(None);
        }
        let again = s.vault.staff_session(&signed.token).await?;
        session = again.ok_or(CoreError::Integrity)?;
    }
    s.vault
        .staff_actor_for_sensitive(&session, action)
        .await
        .map(Some)
}

/// A request is answered only once its requester is verified. The vault refuses to mark an
/// unverified request fulfilled at every door; the console also checks before the export or the
/// erasure it does first, so that nothing is read or erased for an unverified requester.
async fn ensure_verified(
    s: &AppState,
    actor: &mamori_core::Actor,
    id: &[u8; 16],
) -> mamori_core::Result<()> {
    match s.vault.request(actor, id).await?.verified {
        Some(_) => Ok(()),
        None => Err(CoreError::Conflict {
            code: mamori_proto::ErrorCode::NotVerified,
            message: "verify who is asking first".into(),
        }),
    }
}

/// Fulfils an access or portability request with the export: everything held about the
/// person, read for the rights purpose (each read decided and ledgered), as a JSON download;
/// the request is closed as fulfilled (announced, and DRP agents told, as for any step).
async fn export_and_fulfil(
    s: &AppState,
    actor: &mamori_core::Actor,
    id: &[u8; 16],
) -> mamori_core::Result<Response> {
    ensure_verified(s, actor, id).await?;
    let row = s.vault.request(actor, id).await?;
    let exportable = matches!(row.kind, RequestKind::Access | RequestKind::Portability);
    let subject = row.subject_id.filter(|_| exportable).ok_or_else(|| {
        CoreError::invalid(
            mamori_proto::ErrorCode::InvalidValue,
            "step",
            "not an access or portability request about a known person",
        )
    })?;
    let export = (s.vault)
        .export_subject(actor, mamori_policy::RIGHTS_PURPOSE, &subject)
        .await?;
    let body = serde_json::to_vec_pretty(&export.document())
        .map_err(|_| CoreError::Internal("the export could not be written".into()))?;
    (s.vault)
        .set_request_state(actor, id, "fulfilled", None)
        .await?;
    let reference = mamori_core::reference::format_reference(row.reference);
    let disposition = format!("attachment; filename=\"export-{reference}.json\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}

async fn work(
    s: &AppState,
    actor: &mamori_core::Actor,
    id: &[u8; 16],
    form: &StepForm,
) -> mamori_core::Result<()> {
    let reason = form.reason.as_deref();
    if matches!(form.step.as_str(), "fulfil" | "erase") {
        ensure_verified(s, actor, id).await?;
    }
    match form.step.as_str() {
        "verify" => s
            .vault
            .verify_request(actor, id, form.how.as_deref().unwrap_or_default())
            .await
            .map(drop),
        "start" => s
            .vault
            .set_request_state(actor, id, "in_progress", None)
            .await
            .map(drop),
        "extend" => s
            .vault
            .extend_request(actor, id, reason.unwrap_or_default())
            .await
            .map(drop),
        "fulfil" => s
            .vault
            .set_request_state(actor, id, "fulfilled", None)
            .await
            .map(drop),
        "deny" => s
            .vault
            .set_request_state(actor, id, "denied", Some(reason.unwrap_or_default()))
            .await
            .map(drop),
        "erase" => {
            let row = s.vault.request(actor, id).await?;
            let subject = row.subject_id.filter(|_| row.kind == RequestKind::Erasure);
            let subject = subject.ok_or_else(|| {
                CoreError::invalid(
                    mamori_proto::ErrorCode::InvalidValue,
                    "step",
                    "not an erasure request about a known person",
                )
            })?;
            s.vault
                .erase_subject(actor, mamori_policy::RIGHTS_PURPOSE, &subject)
                .await?;
            s.vault
                .set_request_state(actor, id, "fulfilled", None)
                .await
                .map(drop)
        }
        _ => Err(CoreError::invalid(
            mamori_proto::ErrorCode::InvalidValue,
            "step",
            "unknown step",
        )),
    }
}
