//! `/console/admin/policy`: for roles with `admin = ["policy"]`, the published versions, whether
//! the policy in force is the latest of them, what changed between any two (by default: what a
//! publish would announce), and publishing the policy in force — a sensitive step, like erasing.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_core::policy_compare::{PolicyComparison, PolicySide};
use mamori_core::publish::Published;
use mamori_policy::Language;
use serde::Deserialize;

use super::home::{Frame, frame};
use super::policy_words::{PolicyWords, change_text, policy_words};
use super::requests::{Proof, sensitive_actor};
use super::{Signed, signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;

/// A version as a choice of the compare form.
struct Choice {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "console_policy.html")]
struct PolicyPage {
    f: Frame,
    pw: PolicyWords,
    /// Published versions, newest first: number, date, hash prefix, who.
    versions: Vec<[String; 4]>,
    choices: Vec<Choice>,
    from: String,
    to: String,
    /// The changes in the page's language, each with whether it widens.
    changes: Vec<(bool, String)>,
    in_force_is_latest: bool,
    compared: bool,
    status: Option<&'static str>,
    error: Option<String>,
}

impl PolicyPage {
    fn any_widens(&self) -> bool {
        self.changes.iter().any(|(widens, _)| *widens)
    }
}

#[derive(Deserialize)]
pub struct PolicyQuery {
    lang: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// `in_force`, or a version number (`3` or `v3`); None for anything else.
fn side(value: &str) -> Option<PolicySide> {
    if value == "in_force" {
        return Some(PolicySide::InForce);
    }
    let number = value.strip_prefix('v').unwrap_or(value);
    number
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .map(PolicySide::Published)
}

fn side_value(side: PolicySide) -> String {
    match side {
        PolicySide::InForce => "in_force".into(),
        PolicySide::Published(n) => n.to_string(),
    }
}

fn page(f: Frame, lang: Language, c: PolicyComparison) -> PolicyPage {
    let pw = policy_words(lang);
    let mut choices: Vec<Choice> = (c.versions.iter().rev())
        .map(|v| Choice {
            value: v.version.to_string(),
            label: format!("v{}", v.version),
        })
        .collect();
    choices.insert(
        0,
        Choice {
            value: "in_force".into(),
            label: pw.in_force.into(),
        },
    );
    PolicyPage {
        versions: (c.versions.iter().rev())
            .map(|v| {
                [
                    format!("v{}", v.version),
                    mamori_core::format_time(v.published_ms),
                    hex::encode(&v.hash[..8]),
                    v.actor.clone(),
                ]
            })
            .collect(),
        choices,
        from: c.from.map(side_value).unwrap_or_default(),
        to: side_value(c.to),
        changes: (c.changes.iter())
            .map(|ch| (ch.widens, change_text(lang, ch)))
            .collect(),
        in_force_is_latest: c.in_force_is_latest,
        compared: c.from.is_some(),
        f,
        pw,
        status: None,
        error: None,
    }
}

/// The page comparing `from` with `to`; a problem names itself above the default comparison.
async fn policy_page(
    s: &AppState,
    lang: Language,
    signed: &Signed,
    sides: (Option<PolicySide>, Option<PolicySide>),
    said: (Option<&'static str>, Option<String>),
) -> Response {
    let f = super::with_confirm_by_passkey(s, signed, frame(s, lang, signed, "system")).await;
    let compared = match s.vault.staff_actor(&signed.session, "policy.compare").await {
        Ok(actor) => match s.vault.compare_policies(&actor, sides.0, sides.1).await {
            Err(CoreError::Invalid { .. }) => {
                let error = Some(policy_words(lang).no_such_version.to_string());
                let compared = s.vault.compare_policies(&actor, None, None).await;
                return policy_answer(s, f, lang, compared, (said.0, error));
            }
            other => other,
        },
        Err(e) => Err(e),
    };
    policy_answer(s, f, lang, compared, said)
}

fn policy_answer(
    s: &AppState,
    f: Frame,
    lang: Language,
    compared: mamori_core::Result<PolicyComparison>,
    said: (Option<&'static str>, Option<String>),
) -> Response {
    match compared {
        Ok(c) => {
            let code = if said.1.is_some() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            };
            let mut p = page(f, lang, c);
            (p.status, p.error) = said;
            with_status(p.render(), code)
        }
        Err(CoreError::Denied(d)) => {
            let text = format!("{} ({})", f.w.refused_by_policy, d.code());
            super::refusal_page(s, f, text)
        }
        Err(e) => crate::problem::ApiError::from(e).into_response(),
    }
}

pub async fn show(
    State(s): State<AppState>,
    Query(q): Query<PolicyQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let (from, to) = (given(&q.from), given(&q.to));
    let sides = (from.map(side), to.map(side));
    if sides.0 == Some(None) || sides.1 == Some(None) {
        let error = Some(policy_words(lang).no_such_version.to_string());
        return policy_page(&s, lang, &signed, (None, None), (None, error)).await;
    }
    let sides = (sides.0.flatten(), sides.1.flatten());
    policy_page(&s, lang, &signed, sides, (None, None)).await
}

/// `GET /console/admin/policy/records`: the records of processing as a page to print, decided
/// and ledgered as through the API.
pub async fn records(
    State(s): State<AppState>,
    Query(q): Query<PolicyQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let made = async {
        let actor = s
            .vault
            .staff_actor(&signed.session, "policy.records")
            .await?;
        s.vault.records_of_processing(&actor, lang).await
    };
    match made.await {
        Ok(records) => crate::api::records_page(records),
        Err(CoreError::Denied(d)) => {
            let f = frame(&s, lang, &signed, "system");
            let text = format!("{} ({})", f.w.refused_by_policy, d.code());
            super::refusal_page(&s, f, text)
        }
        Err(e) => crate::problem::ApiError::from(e).into_response(),
    }
}

/// A query value, unless absent or empty (an empty select means the default).
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

#[derive(Deserialize)]
pub struct PublishForm {
    csrf: String,
    lang: Option<String>,
    code: Option<String>,
    passkey_token: Option<String>,
    passkey_answer: Option<String>,
}

/// Publishes the policy in force: decided, ledgered, and only with a factor proved lately.
pub async fn publish(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<PublishForm>, axum::extract::rejection::FormRejection>,
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
    let none = (None, None);
    let form = match form {
        Ok(axum::Form(f)) if signed.form_is_ours(&s, &headers, &f.csrf) => f,
        _ => return policy_page(&s, lang, &signed, none, (None, Some(w.bad_form.into()))).await,
    };
    let proof = Proof::of(&form.code, &form.passkey_token, &form.passkey_answer);
    let published = match sensitive_actor(&s, &signed, proof, "policy.publish").await {
        Ok(Some(actor)) => s.vault.publish_policy(&actor, &s.vault.policy.source).await,
        Ok(None) => {
            let said = (None, Some(w.wrong_code.into()));
            return policy_page(&s, lang, &signed, none, said).await;
        }
        Err(e) => Err(e),
    };
    let said = match published {
        Ok(Published::New { .. } | Published::Unchanged { .. }) => {
            (Some(policy_words(lang).published), None)
        }
        Err(CoreError::Denied(d)) => (
            None,
            Some(format!("{} ({})", w.refused_by_policy, d.code())),
        ),
        Err(CoreError::Conflict { .. } | CoreError::Invalid { .. }) => {
            (None, Some(w.bad_value.to_string()))
        }
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    policy_page(&s, lang, &signed, none, said).await
}
