//! `/console/customers`: find one customer by e-mail, phone or external id (blind index), for a
//! purpose the role may use, and see the purpose-scoped, masked view. No browsing or listing:
//! the value is posted (never in an address), each lookup and view is an access decision and a
//! ledger event, and a refusal is shown with its reason.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_crypto::LookupKind;
use mamori_policy::Language;
use serde::Deserialize;

use super::home::{Frame, frame};
use super::{Signed, signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;

/// A category of the view, by its label, with its fields' labels and values.
struct Shown {
    label: String,
    fields: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "console_customers.html")]
struct CustomersPage {
    f: Frame,
    /// The role's purposes: (name, label).
    purposes: Vec<(String, String)>,
    chosen: String,
    kind: String,
    found: Option<(String, Vec<Shown>)>,
    status: Option<&'static str>,
    error: Option<String>,
}

fn page(s: &AppState, lang: Language, signed: &Signed) -> CustomersPage {
    let policy = &s.vault.policy;
    let purposes = (policy.role(signed.session.role()).map(|r| r.purposes))
        .unwrap_or(mamori_policy::IdSet::EMPTY)
        .iter()
        .map(|p| &policy.purposes[p])
        .map(|p| (p.name.clone(), p.label.get(lang).to_string()))
        .collect();
    CustomersPage {
        f: frame(s, lang, signed, "customers"),
        purposes,
        chosen: String::new(),
        kind: "email".into(),
        found: None,
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
    match signed_in(&s, &headers, lang).await {
        Ok(signed) => with_status(page(&s, lang, &signed).render(), StatusCode::OK),
        Err(answer) => answer,
    }
}

#[derive(Deserialize)]
pub struct FindForm {
    csrf: String,
    lang: Option<String>,
    kind: String,
    value: String,
    purpose: String,
}

/// The view as the page shows it: categories and fields by their labels in `lang`.
fn shown(s: &AppState, lang: Language, view: &mamori_core::vault::DataView) -> Vec<Shown> {
    let policy = &s.vault.policy;
    (view.iter())
        .filter_map(|(category, fields)| {
            let c = policy.category(category)?;
            let fields = (fields.iter())
                .map(|(name, value)| {
                    let label = c
                        .field(name)
                        .map_or(name.as_str(), |(_, f)| f.label.get(lang));
                    let value = match value {
                        serde_json::Value::String(text) => text.clone(),
                        other => other.to_string(),
                    };
                    (label.to_string(), value)
                })
                .collect();
            Some(Shown {
                label: c.label.get(lang).to_string(),
                fields,
            })
        })
        .collect()
}

/// Looks the customer up and shows them for the chosen purpose, or says why not.
pub async fn find(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<FindForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let lang = page_language(
        &s.vault.policy,
        form.as_ref().ok().and_then(|f| f.lang.as_deref()),
    );
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let mut p = page(&s, lang, &signed);
    let form = match form {
        Ok(axum::Form(f)) if signed.form_is_ours(&s, &headers, &f.csrf) => f,
        _ => {
            p.error = Some(p.f.w.bad_form.to_string());
            return with_status(p.render(), StatusCode::FORBIDDEN);
        }
    };
    let kind = match form.kind.as_str() {
        "phone" => LookupKind::Phone,
        "external_id" => LookupKind::ExternalId,
        _ => LookupKind::Email,
    };
    (p.chosen, p.kind) = (form.purpose.clone(), form.kind.clone());
    let looked_up = match s.vault.staff_actor(&signed.session, "subject.lookup").await {
        Ok(actor) => (s
            .vault
            .lookup(&actor, &form.purpose, kind, &form.value)
            .await)
            .map(|ids| (actor, ids)),
        Err(e) => Err(e),
    };
    let (actor, ids) = match looked_up {
        Ok(found) => found,
        Err(e) => return refused(p, e),
    };
    let Some(id) = ids.first().and_then(|i| mamori_core::parse_id(i)) else {
        p.status = Some(p.f.w.no_customer);
        return with_status(p.render(), StatusCode::NOT_FOUND);
    };
    match s.vault.read_subject(&actor, &form.purpose, &id).await {
        Ok(view) => {
            p.found = Some((view.id.clone(), shown(&s, lang, &view.data)));
            with_status(p.render(), StatusCode::OK)
        }
        Err(e) => refused(p, e),
    }
}

/// A refusal or a bad value, said on the page (with the ledger's reason code).
fn refused(mut p: CustomersPage, e: CoreError) -> Response {
    let (status, text) = match &e {
        CoreError::Denied(d) => (
            StatusCode::FORBIDDEN,
            format!("{} ({})", p.f.w.refused_by_policy, d.code()),
        ),
        CoreError::Invalid { .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            p.f.w.bad_value.to_string(),
        ),
        CoreError::NotFound => (StatusCode::NOT_FOUND, p.f.w.no_customer.to_string()),
        _ => return crate::problem::ApiError::from(e).into_response(),
    };
    p.error = Some(text);
    with_status(p.render(), status)
}
