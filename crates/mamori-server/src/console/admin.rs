//! `/console/admin/staff`: for roles with `admin = ["staff"]`, everyone on the staff (address,
//! role, whether they enrolled) and the invitation form. Inviting is sensitive (it grants a role):
//! it needs a factor proved lately, like erasing. The one-time link is shown once.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_core::staff::StaffInfo;
use mamori_policy::Language;
use serde::Deserialize;

use super::forms::{Posted, console_form, posted};
use super::home::{Frame, frame};
use super::requests::{Proof, sensitive_actor};
use super::{Signed, refusal_page, signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;

#[derive(Template)]
#[template(path = "console_staff.html")]
struct StaffPage {
    f: Frame,
    sw: super::staff_words::StaffWords,
    staff: Vec<StaffInfo>,
    roles: Vec<String>,
    link: Option<String>,
    status: Option<&'static str>,
    error: Option<String>,
    /// The signed-in person's own staff id (they cannot disable themselves).
    me: String,
}

impl StaffPage {
    /// A member's sign-in methods in the page's words (the kinds, each once).
    fn factors_of(&self, m: &StaffInfo) -> String {
        let mut kinds: Vec<&str> = vec![];
        for kind in &m.factors {
            let word = match kind.as_str() {
                "passkey" => self.f.w.passkey_heading,
                _ => self.f.w.authenticator_app,
            };
            if !kinds.contains(&word) {
                kinds.push(word);
            }
        }
        kinds.join(", ")
    }

    /// A member's training status in the page's words.
    fn training_of(&self, m: &StaffInfo) -> &'static str {
        use mamori_core::staff::TrainingStatus;
        match m.training {
            Some(TrainingStatus::NotRequired) | None => self.f.w.training_not_asked,
            Some(TrainingStatus::Current { .. }) => self.f.w.training_ok,
            Some(TrainingStatus::Required) => self.f.w.training_missing,
            Some(TrainingStatus::Expired) => self.f.w.training_lapsed,
        }
    }
}

async fn staff_page(
    s: &AppState,
    lang: Language,
    signed: &Signed,
    said: (Option<&'static str>, Option<String>, Option<String>),
) -> Response {
    let f = super::with_confirm_by_passkey(s, signed, frame(s, lang, signed, "admin")).await;
    let listed = match s.vault.staff_actor(&signed.session, "staff.list").await {
        Ok(actor) => s.vault.list_staff(&actor).await,
        Err(e) => Err(e),
    };
    let staff = match listed {
        Ok(staff) => staff,
        Err(CoreError::Denied(d)) => {
            let text = format!("{} ({})", f.w.refused_by_policy, d.code());
            return refusal_page(s, f, text);
        }
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let code = if said.1.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = StaffPage {
        sw: super::staff_words::staff_words(lang),
        me: signed.session.staff.id.clone(),
        f,
        staff,
        roles: s
            .vault
            .policy
            .roles
            .iter()
            .map(|r| r.name.clone())
            .collect(),
        status: said.0,
        error: said.1,
        link: said.2,
    };
    with_status(page.render(), code)
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

pub async fn staff(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    match signed_in(&s, &headers, lang).await {
        Ok(signed) => staff_page(&s, lang, &signed, (None, None, None)).await,
        Err(answer) => answer,
    }
}

#[derive(Deserialize)]
pub struct InviteForm {
    csrf: String,
    lang: Option<String>,
    email: String,
    role: String,
    code: Option<String>,
    passkey_token: Option<String>,
    passkey_answer: Option<String>,
}

/// Where links point: the configured public URL, else the address the browser used.
fn base_url(s: &AppState, headers: &HeaderMap) -> String {
    let public = s.public_url.trim_end_matches('/');
    if !public.is_empty() {
        return public.to_string();
    }
    let host = (headers.get(header::HOST).and_then(|h| h.to_str().ok())).unwrap_or("localhost");
    format!("{}://{host}", if s.tls { "https" } else { "http" })
}

pub async fn invite(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<InviteForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Posted::Ours(lang, signed, form) => (lang, signed, form),
        Posted::NotOurs(lang, signed) => {
            let bad = Some(super::words::words(lang).bad_form.into());
            return staff_page(&s, lang, &signed, (None, bad, None)).await;
        }
        Posted::Answer(answer) => return answer,
    };
    let w = super::words::words(lang);
    let proof = Proof::of(&form.code, &form.passkey_token, &form.passkey_answer);
    let actor = match sensitive_actor(&s, &signed, proof, "staff.invite").await {
        Ok(Some(actor)) => actor,
        Ok(None) => {
            return staff_page(&s, lang, &signed, (None, Some(w.wrong_code.into()), None)).await;
        }
        Err(CoreError::Denied(d)) => {
            let text = format!("{} ({})", w.refused_by_policy, d.code());
            return staff_page(&s, lang, &signed, (None, Some(text), None)).await;
        }
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let said = match s.vault.invite_staff(&actor, &form.email, &form.role).await {
        Ok(invited) => {
            let link = format!(
                "{}/console/enrol?token={}",
                base_url(&s, &headers),
                invited.token
            );
            (Some(w.invited), None, Some(link))
        }
        Err(CoreError::Conflict { .. }) => (None, Some(w.already_staff.to_string()), None),
        Err(CoreError::Invalid { .. }) => (None, Some(w.bad_value.to_string()), None),
        Err(CoreError::Denied(d)) => (
            None,
            Some(format!("{} ({})", w.refused_by_policy, d.code())),
            None,
        ),
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    staff_page(&s, lang, &signed, said).await
}

#[derive(Deserialize)]
pub struct DisableForm {
    csrf: String,
    lang: Option<String>,
    staff: String,
}

/// Disables a member of staff (decided and ledgered): their sign-in and sessions end.
pub async fn disable(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<DisableForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Posted::Ours(lang, signed, form) => (lang, signed, form),
        Posted::NotOurs(lang, signed) => {
            let bad = Some(super::words::words(lang).bad_form.into());
            return staff_page(&s, lang, &signed, (None, bad, None)).await;
        }
        Posted::Answer(answer) => return answer,
    };
    let w = super::words::words(lang);
    let disabled = match s.vault.staff_actor(&signed.session, "staff.disable").await {
        Ok(actor) => s.vault.disable_staff(&actor, &form.staff).await,
        Err(e) => Err(e),
    };
    let said = match disabled {
        Ok(_) => (Some(w.staff_disabled), None, None),
        Err(CoreError::Denied(d)) => {
            let text = format!("{} ({})", w.refused_by_policy, d.code());
            (None, Some(text), None)
        }
        Err(CoreError::Invalid { .. } | CoreError::Missing { .. } | CoreError::Conflict { .. }) => {
            (None, Some(w.bad_value.to_string()), None)
        }
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    staff_page(&s, lang, &signed, said).await
}

#[derive(Deserialize)]
pub struct ResetForm {
    csrf: String,
    lang: Option<String>,
    staff: String,
    code: Option<String>,
    passkey_token: Option<String>,
    passkey_answer: Option<String>,
}

/// Starts a member of staff over (a sensitive step, like inviting: it hands out a way in); the
/// new one-time link is shown once.
pub async fn reset(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<ResetForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Posted::Ours(lang, signed, form) => (lang, signed, form),
        Posted::NotOurs(lang, signed) => {
            let bad = Some(super::words::words(lang).bad_form.into());
            return staff_page(&s, lang, &signed, (None, bad, None)).await;
        }
        Posted::Answer(answer) => return answer,
    };
    let w = super::words::words(lang);
    let proof = Proof::of(&form.code, &form.passkey_token, &form.passkey_answer);
    let reset = match sensitive_actor(&s, &signed, proof, "staff.reset").await {
        Ok(Some(actor)) => s.vault.reset_staff(&actor, &form.staff).await,
        Ok(None) => {
            return staff_page(&s, lang, &signed, (None, Some(w.wrong_code.into()), None)).await;
        }
        Err(e) => Err(e),
    };
    let said = match reset {
        Ok(started) => {
            let base = base_url(&s, &headers);
            let link = format!("{base}/console/enrol?token={}", started.token);
            let done = super::staff_words::staff_words(lang).reset_done;
            (Some(done), None, Some(link))
        }
        Err(CoreError::Denied(d)) => {
            let text = format!("{} ({})", w.refused_by_policy, d.code());
            (None, Some(text), None)
        }
        Err(CoreError::Invalid { .. } | CoreError::Missing { .. } | CoreError::Conflict { .. }) => {
            (None, Some(w.bad_value.to_string()), None)
        }
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    staff_page(&s, lang, &signed, said).await
}

console_form!(InviteForm, DisableForm, ResetForm);
