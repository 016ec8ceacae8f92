//! `/console/admin/keys`: for roles with `admin = ["api_keys"]`, the API keys (never their
//! secrets), creating one — a sensitive step, since a key acts with its role's rights: a factor
//! proved lately, and the token shown once — and revoking one.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_core::apikeys::ApiKeyInfo;
use mamori_policy::Language;
use serde::Deserialize;

use super::forms::{Posted, console_form, posted, refusal_line};
use super::home::{Frame, frame};
use super::keys_words::{KeysWords, keys_words};
use super::requests::{Proof, sensitive_actor};
use super::{Signed, signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;

#[derive(Template)]
#[template(path = "console_keys.html")]
struct KeysPage {
    f: Frame,
    kw: KeysWords,
    keys: Vec<ApiKeyInfo>,
    /// Roles a key can carry.
    roles: Vec<String>,
    status: Option<&'static str>,
    error: Option<String>,
    /// The new key's token, shown this once.
    token: Option<String>,
}

impl KeysPage {
    fn date(&self, ms: i64) -> String {
        mamori_core::format_time(ms)
    }
}

/// What a step said: a status, an error, a new token.
type Said = (Option<&'static str>, Option<String>, Option<String>);

async fn keys_page(s: &AppState, lang: Language, signed: &Signed, said: Said) -> Response {
    let f = super::with_confirm_by_passkey(s, signed, frame(s, lang, signed, "system")).await;
    let listed = match s.vault.staff_actor(&signed.session, "apikey.list").await {
        Ok(actor) => s.vault.list_api_keys(&actor).await,
        Err(e) => Err(e),
    };
    let keys = match listed {
        Ok(keys) => keys,
        Err(CoreError::Denied(d)) => {
            let text = format!("{} ({})", f.w.refused_by_policy, d.code());
            return super::refusal_page(s, f, text);
        }
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let code = if said.1.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let roles = (s.vault.policy.roles.iter())
        .filter(|r| r.key_refusal().is_none())
        .map(|r| r.name.clone())
        .collect();
    let page = KeysPage {
        f,
        kw: keys_words(lang),
        keys,
        roles,
        status: said.0,
        error: said.1,
        token: said.2,
    };
    with_status(page.render(), code)
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
        Ok(signed) => keys_page(&s, lang, &signed, (None, None, None)).await,
        Err(answer) => answer,
    }
}

#[derive(Deserialize)]
pub struct CreateForm {
    csrf: String,
    lang: Option<String>,
    name: String,
    role: String,
    code: Option<String>,
    passkey_token: Option<String>,
    passkey_answer: Option<String>,
}

pub async fn create(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<CreateForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Posted::Ours(lang, signed, form) => (lang, signed, form),
        Posted::NotOurs(lang, signed) => {
            let bad = Some(super::words::words(lang).bad_form.into());
            return keys_page(&s, lang, &signed, (None, bad, None)).await;
        }
        Posted::Answer(answer) => return answer,
    };
    let w = super::words::words(lang);
    let proof = Proof::of(&form.code, &form.passkey_token, &form.passkey_answer);
    let created = match sensitive_actor(&s, &signed, proof, "apikey.create").await {
        Ok(Some(actor)) => s.vault.create_api_key(&actor, &form.role, &form.name).await,
        Ok(None) => {
            return keys_page(&s, lang, &signed, (None, Some(w.wrong_code.into()), None)).await;
        }
        Err(e) => Err(e),
    };
    let said = match created {
        Ok((_, token)) => (Some(keys_words(lang).created), None, Some(token)),
        Err(e) => match refusal_line(&w, &e) {
            Some(text) => (None, Some(text), None),
            None => return crate::problem::ApiError::from(e).into_response(),
        },
    };
    keys_page(&s, lang, &signed, said).await
}

#[derive(Deserialize)]
pub struct RevokeForm {
    csrf: String,
    lang: Option<String>,
    key: String,
}

/// Revokes a key (decided and ledgered); not a sensitive step, since it only takes rights away.
pub async fn revoke(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<RevokeForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Posted::Ours(lang, signed, form) => (lang, signed, form),
        Posted::NotOurs(lang, signed) => {
            let bad = Some(super::words::words(lang).bad_form.into());
            return keys_page(&s, lang, &signed, (None, bad, None)).await;
        }
        Posted::Answer(answer) => return answer,
    };
    let w = super::words::words(lang);
    let revoked = match s.vault.staff_actor(&signed.session, "apikey.revoke").await {
        Ok(actor) => s.vault.revoke_api_key(&actor, &form.key).await,
        Err(e) => Err(e),
    };
    let said = match revoked {
        Ok(()) => (Some(keys_words(lang).revoked), None, None),
        Err(e) => match refusal_line(&w, &e) {
            Some(text) => (None, Some(text), None),
            None => return crate::problem::ApiError::from(e).into_response(),
        },
    };
    keys_page(&s, lang, &signed, said).await
}

console_form!(CreateForm, RevokeForm);
