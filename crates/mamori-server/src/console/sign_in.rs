//! `/console/sign-in` and `/console/sign-out`. One form: address, password and a code from the
//! authenticator app (or a recovery code). The answer to a refusal is the same whatever was
//! wrong; the address's attempts are limited in memory, the account's in the vault (lock-out).

use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use mamori_policy::Language;
use serde::Deserialize;

use super::words::{Words, words};
use super::{STAFF_COOKIE, csrf_token, form_is_ours, signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;
use crate::privacy_center::session::set_cookie_at;
use crate::privacy_center::with_cookie;

#[derive(Template)]
#[template(path = "console_sign_in.html")]
struct SignInPage {
    lang: &'static str,
    w: Words,
    organisation: String,
    csrf: String,
    status: Option<&'static str>,
    error: Option<&'static str>,
    passkey_origin: Option<String>,
}

fn page(s: &AppState, lang: Language, csrf: String) -> SignInPage {
    SignInPage {
        passkey_origin: super::passkey_origin(s),
        lang: lang.code(),
        w: words(lang),
        organisation: s.vault.policy.organisation.name.clone(),
        csrf,
        status: None,
        error: None,
    }
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

pub async fn form(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let (csrf, set) = csrf_token(&s, &headers);
    with_cookie(
        with_status(page(&s, lang, csrf).render(), StatusCode::OK),
        set,
    )
}

#[derive(Deserialize)]
pub struct SignInForm {
    csrf: String,
    lang: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    /// A passkey's answer instead (the script fills these in).
    passkey_token: Option<String>,
    passkey_answer: Option<String>,
}

fn refused(
    s: &AppState,
    lang: Language,
    csrf: String,
    why: fn(&Words) -> &'static str,
    status: StatusCode,
) -> Response {
    let mut p = page(s, lang, csrf);
    p.error = Some(why(&p.w));
    with_status(p.render(), status)
}

pub async fn submit(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    form: Result<axum::Form<SignInForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (csrf, set) = csrf_token(&s, &headers);
    let Ok(axum::Form(form)) = form else {
        let lang = page_language(&s.vault.policy, None);
        let r = refused(&s, lang, csrf, |w| w.bad_form, StatusCode::BAD_REQUEST);
        return with_cookie(r, set);
    };
    let lang = page_language(&s.vault.policy, form.lang.as_deref());
    if !form_is_ours(&s, &headers, &form.csrf) {
        let r = refused(&s, lang, csrf, |w| w.bad_form, StatusCode::FORBIDDEN);
        return with_cookie(r, set);
    }
    if s.limits.shut_out_for(peer.ip()).is_some() || !s.limits.allow_signin(peer.ip()) {
        return refused(
            &s,
            lang,
            csrf,
            |w| w.slow_down,
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let too_long = form.email.len() > 320 || form.password.len() > 1024 || form.code.len() > 64;
    let passkey = super::passkeys::answer(&form.passkey_token, &form.passkey_answer);
    let outcome = match (passkey, s.passkeys.as_deref()) {
        (Some((token, answer)), Some(rp)) => {
            (s.vault)
                .sign_in_staff_with_passkey(rp, token, answer)
                .await
        }
        (None, _) if !too_long => {
            (s.vault)
                .sign_in_staff(&form.email, &form.password, &form.code)
                .await
        }
        _ => Ok(Err(mamori_core::staff::SignInRefused::Wrong)),
    };
    match outcome {
        Ok(Ok(signed)) => {
            // A new session id at every sign-in: nothing set before it (fixation) carries over.
            let cookie = set_cookie_at(STAFF_COOKIE, &signed.token, 8 * 3600, "/console");
            let home = Redirect::to(&format!("/console?lang={}", lang.code())).into_response();
            with_cookie(home, Some(cookie))
        }
        Ok(Err(_)) => {
            s.limits.record_failed_auth(peer.ip());
            refused(&s, lang, csrf, |w| w.refused, StatusCode::UNAUTHORIZED)
        }
        Err(e) => crate::problem::ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
pub struct SignOutForm {
    csrf: String,
    lang: Option<String>,
}

/// Ends this session (ledgered) and forgets its cookie.
pub async fn sign_out(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<SignOutForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let lang = page_language(
        &s.vault.policy,
        form.as_ref().ok().and_then(|f| f.lang.as_deref()),
    );
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let (csrf, set) = csrf_token(&s, &headers);
    let ours = form
        .as_ref()
        .is_ok_and(|f| signed.form_is_ours(&s, &headers, &f.csrf));
    if !ours {
        let r = refused(&s, lang, csrf, |w| w.bad_form, StatusCode::FORBIDDEN);
        return with_cookie(r, set);
    }
    if let Err(e) = s.vault.end_staff_session(&signed.session, None).await {
        return crate::problem::ApiError::from(e).into_response();
    }
    let mut p = page(&s, lang, csrf);
    p.status = Some(p.w.signed_out);
    let forget = set_cookie_at(STAFF_COOKIE, "", 0, "/console");
    with_cookie(
        with_cookie(with_status(p.render(), StatusCode::OK), Some(forget)),
        set,
    )
}
