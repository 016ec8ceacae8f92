//! The first half of each passkey ceremony, for the console's one script
//! (`/console/passkeys.js`): `POST /console/passkeys/{enrol,sign-in,reauthenticate,add}` with the
//! page's form token answers `{token, options}` for `navigator.credentials`. The script then
//! posts the answer with the page's own form (enrolment, sign-in, a sensitive step), so every
//! outcome is an ordinary page. Errors are problem+json; nothing echoes the input.

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mamori_core::staff::PasskeyCeremony;
use mamori_proto::ErrorCode;
use serde::Deserialize;

use super::{form_is_ours, signed_in};
use crate::AppState;
use crate::privacy::page_language;
use crate::problem::ApiError;

/// The longest answer a browser sends for one passkey (attestation "none": well under this).
pub(crate) const ANSWER_MAX: usize = 16 * 1024;

/// The passkey fields a page's form carries back, when the script filled them in.
pub(crate) fn answer<'a>(
    token: &'a Option<String>,
    answer: &'a Option<String>,
) -> Option<(&'a str, &'a str)> {
    let token = token
        .as_deref()
        .filter(|t| !t.is_empty() && t.len() <= 100)?;
    let answer = answer
        .as_deref()
        .filter(|a| !a.is_empty() && a.len() <= ANSWER_MAX)?;
    Some((token, answer))
}

fn problem(status: StatusCode, code: ErrorCode, detail: &str) -> Response {
    ApiError::Plain {
        status,
        code,
        detail: detail.into(),
        field: None,
    }
    .into_response()
}

fn not_ours() -> Response {
    let detail = "this request did not come from the console's page: reload it";
    problem(StatusCode::FORBIDDEN, ErrorCode::FormNotOurs, detail)
}

fn unavailable() -> Response {
    let detail = "passkeys need the console at a host name (public_url); use the authenticator app";
    problem(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::PasskeysUnavailable,
        detail,
    )
}

fn ceremony(c: PasskeyCeremony) -> Response {
    let body = serde_json::json!({ "token": c.token, "options": c.options });
    ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

#[derive(Deserialize)]
pub struct CeremonyForm {
    csrf: String,
    /// The enrolment link's token (enrolment only).
    link: Option<String>,
}

type Form = Result<axum::Form<CeremonyForm>, axum::extract::rejection::FormRejection>;

/// Starts enrolling a passkey from a one-time link (limited per address: each start keeps a
/// ceremony's state; an unknown link counts as a failure).
pub async fn enrol(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    form: Form,
) -> Response {
    let Ok(axum::Form(form)) = form else {
        return not_ours();
    };
    if !form_is_ours(&s, &headers, &form.csrf) {
        return not_ours();
    }
    if let Some(retry_after) = s.limits.shut_out_for(peer.ip()) {
        return ApiError::RateLimited { retry_after }.into_response();
    }
    if !s.limits.allow_signin(peer.ip()) {
        return ApiError::RateLimited { retry_after: 60 }.into_response();
    }
    let Some(rp) = s.passkeys.clone() else {
        return unavailable();
    };
    let link = form.link.filter(|l| l.len() <= 100).unwrap_or_default();
    match s.vault.start_passkey_enrolment(&rp, &link).await {
        Ok(Some(c)) => ceremony(c),
        Ok(None) => {
            s.limits.record_failed_auth(peer.ip());
            let detail = "this enrolment link is unknown, used or expired: ask for a new one";
            problem(
                StatusCode::NOT_FOUND,
                ErrorCode::EnrolmentLinkInvalid,
                detail,
            )
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Starts a sign-in with a passkey (limited per address like the sign-in form).
pub async fn sign_in(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    form: Form,
) -> Response {
    let Ok(axum::Form(form)) = form else {
        return not_ours();
    };
    if !form_is_ours(&s, &headers, &form.csrf) {
        return not_ours();
    }
    if let Some(retry_after) = s.limits.shut_out_for(peer.ip()) {
        return ApiError::RateLimited { retry_after }.into_response();
    }
    if !s.limits.allow_signin(peer.ip()) {
        return ApiError::RateLimited { retry_after: 60 }.into_response();
    }
    let Some(rp) = s.passkeys.clone() else {
        return unavailable();
    };
    match s.vault.start_passkey_sign_in(&rp).await {
        Ok(c) => ceremony(c),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Starts proving one of the signed-in person's passkeys again.
pub async fn reauthenticate(State(s): State<AppState>, headers: HeaderMap, form: Form) -> Response {
    let lang = page_language(&s.vault.policy, None);
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(_) => return ApiError::Unauthorized.into_response(),
    };
    let ours = form.is_ok_and(|axum::Form(f)| signed.form_is_ours(&s, &headers, &f.csrf));
    if !ours {
        return not_ours();
    }
    let Some(rp) = s.passkeys.clone() else {
        return unavailable();
    };
    match s
        .vault
        .start_passkey_reauthentication(&rp, &signed.session)
        .await
    {
        Ok(Some(c)) => ceremony(c),
        Ok(None) => {
            let detail = "you have no passkey: confirm with a code from your app";
            problem(StatusCode::NOT_FOUND, ErrorCode::NoPasskey, detail)
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Starts adding a passkey to the signed-in person's account (a factor proved lately).
pub async fn add(State(s): State<AppState>, headers: HeaderMap, form: Form) -> Response {
    let lang = page_language(&s.vault.policy, None);
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(_) => return ApiError::Unauthorized.into_response(),
    };
    let ours = form.is_ok_and(|axum::Form(f)| signed.form_is_ours(&s, &headers, &f.csrf));
    if !ours {
        return not_ours();
    }
    let Some(rp) = s.passkeys.clone() else {
        return unavailable();
    };
    match s.vault.start_adding_passkey(&rp, &signed.session).await {
        Ok(c) => ceremony(c),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The console's one script: runs a passkey ceremony for a button and posts its form.
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/console-passkeys.js"),
    )
        .into_response()
}
