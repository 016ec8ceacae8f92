//! `/console/enrol`: the page a new member of staff opens from their one-time link. One form sets
//! the password (NIST SP 800-63B lengths) and the authenticator app (the QR code drawn here, as
//! SVG); the answer shows the recovery codes once.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_core::staff::TotpSetup;
use mamori_crypto::passwords::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use mamori_policy::Language;
use serde::Deserialize;

use super::words::{Words, words};
use super::{csrf_token, form_is_ours, with_status};
use crate::AppState;
use crate::privacy::page_language;
use crate::privacy_center::with_cookie;

/// The form's TOTP part: what the app scans or is typed, and the sealed secret carried back.
struct Setup {
    token: String,
    pending: String,
    secret: String,
    qr_svg: String,
}

#[derive(Template)]
#[template(path = "console_enrol.html")]
struct EnrolPage {
    lang: &'static str,
    w: Words,
    organisation: String,
    csrf: String,
    setup: Option<Setup>,
    recovery_codes: Vec<String>,
    status: Option<&'static str>,
    error: Option<&'static str>,
    passkey_origin: Option<String>,
}

/// The QR code of an `otpauth://` URI as inline SVG (our own drawing: no text of the URI in it).
fn qr_svg(uri: &str) -> String {
    let Ok(code) = qrcode::QrCode::new(uri.as_bytes()) else {
        return String::new();
    };
    let svg = (code.render::<qrcode::render::svg::Color>())
        .min_dimensions(200, 200)
        .build();
    match svg.find("<svg") {
        Some(start) => svg[start..].to_string(),
        None => String::new(),
    }
}

fn setup(token: String, t: TotpSetup) -> Setup {
    Setup {
        token,
        qr_svg: qr_svg(&t.uri),
        pending: t.pending,
        secret: t.secret,
    }
}

fn page(s: &AppState, lang: Language, csrf: String) -> EnrolPage {
    EnrolPage {
        lang: lang.code(),
        w: words(lang),
        organisation: s.vault.policy.organisation.name.clone(),
        csrf,
        setup: None,
        recovery_codes: vec![],
        status: None,
        error: None,
        passkey_origin: super::passkey_origin(s),
    }
}

#[derive(Deserialize)]
pub struct EnrolQuery {
    token: Option<String>,
    lang: Option<String>,
}

/// The form, if the link still works; otherwise the page saying to ask for a new one.
pub async fn form(
    State(s): State<AppState>,
    Query(q): Query<EnrolQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let (csrf, set) = csrf_token(&s, &headers);
    let mut p = page(&s, lang, csrf);
    let token = q.token.filter(|t| t.len() <= 100).unwrap_or_default();
    match s.vault.enrolment_setup(&token, None).await {
        Ok(Some(t)) => p.setup = Some(setup(token, t)),
        Ok(None) => p.error = Some(p.w.invalid_link),
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    }
    let status = match p.setup {
        Some(_) => StatusCode::OK,
        None => StatusCode::NOT_FOUND,
    };
    with_cookie(with_status(p.render(), status), set)
}

#[derive(Deserialize)]
pub struct EnrolForm {
    csrf: String,
    lang: Option<String>,
    token: String,
    #[serde(default)]
    pending: String,
    password: String,
    confirm: String,
    #[serde(default)]
    code: String,
    /// A passkey's answer instead of the app's code (the script fills these in).
    passkey_token: Option<String>,
    passkey_answer: Option<String>,
}

/// What is wrong with the passwords as typed, before anything is asked of the vault.
fn password_refusal(w: &Words, form: &EnrolForm) -> Option<&'static str> {
    let chars = form.password.chars().count();
    if form.password != form.confirm {
        Some(w.mismatch)
    } else if chars < PASSWORD_MIN_CHARS {
        Some(w.too_short)
    } else if chars > PASSWORD_MAX_CHARS {
        Some(w.too_long)
    } else if mamori_crypto::passwords::password_problem(&form.password).is_some() {
        Some(w.too_simple)
    } else {
        None
    }
}

/// Activates the account; a refusal shows the form again with the same secret (the app the
/// person already set up keeps working).
pub async fn submit(
    State(s): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    form: Result<axum::Form<EnrolForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (csrf, set) = csrf_token(&s, &headers);
    let Ok(axum::Form(form)) = form else {
        let mut p = page(&s, page_language(&s.vault.policy, None), csrf);
        p.error = Some(p.w.bad_form);
        return with_cookie(with_status(p.render(), StatusCode::BAD_REQUEST), set);
    };
    let lang = page_language(&s.vault.policy, form.lang.as_deref());
    let mut p = page(&s, lang, csrf);
    if !form_is_ours(&s, &headers, &form.csrf) {
        p.error = Some(p.w.bad_form);
        return with_cookie(with_status(p.render(), StatusCode::FORBIDDEN), set);
    }
    // Each attempt hashes a password: limited per address like sign-in; wrong links count.
    if s.limits.shut_out_for(peer.ip()).is_some() || !s.limits.allow_signin(peer.ip()) {
        p.error = Some(super::words::words(lang).slow_down);
        return with_cookie(with_status(p.render(), StatusCode::TOO_MANY_REQUESTS), set);
    }
    let refusal = password_refusal(&p.w, &form);
    let passkey = super::passkeys::answer(&form.passkey_token, &form.passkey_answer);
    let vault = &s.vault;
    let outcome = match (passkey, s.passkeys.as_deref()) {
        _ if refusal.is_some() || form.token.len() > 100 => None,
        (Some((ceremony, answer)), Some(rp)) => Some(
            vault
                .enrol_staff_with_passkey(rp, &form.token, &form.password, ceremony, answer)
                .await,
        ),
        _ => Some(
            vault
                .enrol_staff(&form.token, &form.password, &form.pending, &form.code)
                .await,
        ),
    };
    match outcome {
        Some(Ok(done)) => {
            p.status = Some(p.w.enrolled);
            p.recovery_codes = done.recovery_codes;
            return with_status(p.render(), StatusCode::OK);
        }
        Some(Err(CoreError::Missing { .. })) => {
            s.limits.record_failed_auth(peer.ip());
            p.error = Some(p.w.invalid_link);
            return with_status(p.render(), StatusCode::NOT_FOUND);
        }
        Some(Err(CoreError::Invalid { .. })) if passkey.is_some() => {
            p.error = Some(p.w.passkey_failed)
        }
        Some(Err(CoreError::Invalid { .. })) => p.error = Some(p.w.wrong_code),
        Some(Err(e)) => return crate::problem::ApiError::from(e).into_response(),
        None => p.error = refusal.or(Some(p.w.invalid_link)),
    }
    // Shown again, with the secret the form carried (or a new one if it was not ours).
    let token = if form.token.len() <= 100 {
        form.token
    } else {
        String::new()
    };
    match s.vault.enrolment_setup(&token, Some(&form.pending)).await {
        Ok(Some(t)) => p.setup = Some(setup(token, t)),
        Ok(None) => p.error = Some(p.w.invalid_link),
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    }
    with_status(p.render(), StatusCode::UNPROCESSABLE_ENTITY)
}
