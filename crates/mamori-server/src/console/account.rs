//! `/console/sessions`, the person's own account: where they are signed in (ending the other
//! sessions), and their sign-in methods — adding a passkey, removing a method but the last.
//! Changing methods needs a factor proved in the last five minutes; every change is ledgered.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_core::staff::{FactorInfo, StaffSessionInfo};
use mamori_policy::Language;
use serde::Deserialize;

use super::home::{Frame, LangQuery, frame};
use super::words::{Words, words};
use super::{Signed, signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;

#[derive(Template)]
#[template(path = "console_sessions.html")]
struct SessionsPage {
    f: Frame,
    sessions: Vec<StaffSessionInfo>,
    factors: Vec<FactorInfo>,
    status: Option<&'static str>,
    error: Option<&'static str>,
}

pub async fn sessions(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    sessions_page(&s, lang, &signed, (None, None), StatusCode::OK).await
}

type Said = (Option<&'static str>, Option<&'static str>);

async fn sessions_page(
    s: &AppState,
    lang: Language,
    signed: &Signed,
    (status, error): Said,
    code: StatusCode,
) -> Response {
    let listed = match s.vault.staff_sessions(&signed.session).await {
        Ok(sessions) => (s.vault.own_staff_factors(&signed.session).await).map(|f| (sessions, f)),
        Err(e) => Err(e),
    };
    let (sessions, factors) = match listed {
        Ok(listed) => listed,
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let page = SessionsPage {
        f: frame(s, lang, signed, "sessions"),
        sessions,
        factors,
        status,
        error,
    };
    with_status(page.render(), code)
}

/// The form's language, the session, and the form if it came from this session's page.
async fn posted<F: FormToken>(
    s: &AppState,
    headers: &HeaderMap,
    form: Result<axum::Form<F>, axum::extract::rejection::FormRejection>,
) -> Result<(Language, Signed, F), Response> {
    let lang = page_language(&s.vault.policy, form.as_ref().ok().and_then(|f| f.lang()));
    let signed = signed_in(s, headers, lang).await?;
    match form {
        Ok(axum::Form(f)) if signed.form_is_ours(s, headers, f.csrf()) => Ok((lang, signed, f)),
        _ => {
            let said = (None, Some(words(lang).bad_form));
            Err(sessions_page(s, lang, &signed, said, StatusCode::FORBIDDEN).await)
        }
    }
}

trait FormToken {
    fn csrf(&self) -> &str;
    fn lang(&self) -> Option<&str>;
}

#[derive(Deserialize)]
pub struct EndForm {
    csrf: String,
    lang: Option<String>,
    session: String,
}

impl FormToken for EndForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
    fn lang(&self) -> Option<&str> {
        self.lang.as_deref()
    }
}

/// Ends one of the person's other sessions (ledgered).
pub async fn end_session(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<EndForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Ok(posted) => posted,
        Err(answer) => return answer,
    };
    let w = words(lang);
    let ended = (s.vault).end_staff_session(&signed.session, Some(&form.session));
    match ended.await {
        Ok(()) => {
            let said = (Some(w.session_ended), None);
            sessions_page(&s, lang, &signed, said, StatusCode::OK).await
        }
        Err(_) => {
            let said = (None, Some(w.bad_form));
            sessions_page(&s, lang, &signed, said, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize)]
pub struct FactorForm {
    csrf: String,
    lang: Option<String>,
    /// The method to remove; or, for a new passkey, the script's fields.
    remove: Option<String>,
    passkey_token: Option<String>,
    passkey_answer: Option<String>,
}

impl FormToken for FactorForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
    fn lang(&self) -> Option<&str> {
        self.lang.as_deref()
    }
}

fn said_for(
    w: &Words,
    done: Result<&'static str, CoreError>,
) -> Result<(Said, StatusCode), CoreError> {
    match done {
        Ok(status) => Ok(((Some(status), None), StatusCode::OK)),
        Err(CoreError::Denied(_)) => Ok(((None, Some(w.reauth_first)), StatusCode::FORBIDDEN)),
        Err(CoreError::Conflict { .. }) => Ok(((None, Some(w.last_factor)), StatusCode::CONFLICT)),
        Err(CoreError::Missing { .. } | CoreError::Invalid { .. }) => Ok((
            (None, Some(w.passkey_failed)),
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(e) => Err(e),
    }
}

/// Adds a passkey (the script's answer) or removes a sign-in method.
pub async fn factors(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<FactorForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Ok(posted) => posted,
        Err(answer) => return answer,
    };
    let w = words(lang);
    let passkey = super::passkeys::answer(&form.passkey_token, &form.passkey_answer);
    let done = match (passkey, s.passkeys.as_deref(), form.remove.as_deref()) {
        (Some((token, answer)), Some(rp), _) => (s.vault)
            .add_passkey(rp, &signed.session, token, answer)
            .await
            .map(|()| w.factor_added),
        (None, _, Some(id)) if id.len() <= 64 => (s.vault)
            .remove_own_staff_factor(&signed.session, id)
            .await
            .map(|()| w.factor_removed),
        _ => Err(CoreError::invalid(
            mamori_proto::ErrorCode::InvalidValue,
            "remove",
            "nothing to change",
        )),
    };
    match said_for(&w, done) {
        Ok((said, code)) => sessions_page(&s, lang, &signed, said, code).await,
        Err(e) => crate::problem::ApiError::from(e).into_response(),
    }
}
