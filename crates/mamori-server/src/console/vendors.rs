//! `/console/admin/vendors`: for roles with `admin = ["vendors"]`, the vendor register as the
//! policy declares it (role, purposes, countries, contract, last review — with lapsed contracts
//! and failed or missing reviews marked), and what vendors were asked to do after erasures,
//! corrections and opt-outs, with whether each confirmed. The request page shows the same
//! tasks for its person.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_policy::Language;
use mamori_policy::vendors::{ReviewResult, Vendor, VendorRole};
use mamori_proto::disclosures::{VendorTask, VendorTaskKind};
use serde::Deserialize;

use super::home::{Frame, frame};
use super::vendor_words::{VendorWords, vendor_words};
use super::{Signed, signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;

/// A vendor of the register, in words.
pub(crate) struct RegisterLine {
    id: String,
    name: String,
    role: &'static str,
    purposes: String,
    countries: String,
    contract: String,
    lapsed: bool,
    review: String,
    review_wanting: bool,
}

/// A task, in words.
pub(crate) struct TaskLine {
    pub(crate) vendor: String,
    pub(crate) kind: &'static str,
    pub(crate) subject: String,
    pub(crate) asked: String,
    pub(crate) due: String,
    pub(crate) state: String,
    pub(crate) overdue: bool,
}

#[derive(Template)]
#[template(path = "console_vendors.html")]
struct VendorsPage {
    f: Frame,
    tw: VendorWords,
    register: Vec<RegisterLine>,
    tasks: Vec<TaskLine>,
}

fn day(text: &str) -> String {
    text.get(..10).unwrap_or_default().to_string()
}

fn role_word(vw: &VendorWords, role: VendorRole) -> &'static str {
    match role {
        VendorRole::Processor => vw.processor,
        VendorRole::SubProcessor => vw.sub_processor,
        VendorRole::IndependentController => vw.independent_controller,
        VendorRole::JointController => vw.joint_controller,
    }
}

fn register_line(s: &AppState, vw: &VendorWords, v: &Vendor, today: time::Date) -> RegisterLine {
    let policy = &s.vault.policy;
    let purposes = (v.purposes.iter()).map(|p| policy.purposes[p].name.clone());
    let contract = match v.contract.end {
        Some(end) => format!("{} ({} {end})", v.contract.reference, vw.until),
        None => format!("{} ({})", v.contract.reference, vw.open_ended),
    };
    let (review, review_wanting) = match &v.review {
        None => (vw.no_review.to_string(), true),
        Some(r) => {
            let result = match r.result {
                ReviewResult::Passed => vw.passed,
                ReviewResult::PassedWithActions => vw.passed_with_actions,
                ReviewResult::Failed => vw.failed,
            };
            (
                format!("{} ({result})", r.on),
                r.result == ReviewResult::Failed,
            )
        }
    };
    RegisterLine {
        id: v.id.clone(),
        name: v.name.clone(),
        role: role_word(vw, v.role),
        purposes: purposes.collect::<Vec<_>>().join(", "),
        countries: v.countries.join(", "),
        contract,
        lapsed: !v.contract_current(today),
        review,
        review_wanting,
    }
}

/// Tasks in words, for this page and the request page.
pub(crate) fn task_lines(lang: Language, tasks: &[VendorTask]) -> Vec<TaskLine> {
    let vw = vendor_words(lang);
    (tasks.iter())
        .map(|t| TaskLine {
            vendor: t.vendor.clone(),
            kind: match t.kind {
                VendorTaskKind::Erasure => vw.erase,
                VendorTaskKind::Correction => vw.correct,
                VendorTaskKind::Optout => vw.stop_using,
            },
            subject: t.subject.clone(),
            asked: day(&t.created_at),
            due: day(&t.due_at),
            state: match (&t.confirmed_at, t.overdue) {
                (Some(at), _) => format!("{} {}", vw.confirmed, day(at)),
                (None, true) => vw.overdue.to_string(),
                (None, false) => vw.waiting.to_string(),
            },
            overdue: t.overdue,
        })
        .collect()
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

pub async fn page(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    vendors_page(&s, lang, &signed).await
}

async fn vendors_page(s: &AppState, lang: Language, signed: &Signed) -> Response {
    let f = frame(s, lang, signed, "system");
    let listed = match s
        .vault
        .staff_actor(&signed.session, "vendor.task_list")
        .await
    {
        Ok(actor) => s.vault.vendor_tasks(&actor, false).await,
        Err(e) => Err(e),
    };
    let tasks = match listed {
        Ok(tasks) => tasks,
        Err(CoreError::Denied(d)) => {
            let text = format!("{} ({})", f.w.refused_by_policy, d.code());
            return super::refusal_page(s, f, text);
        }
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let vw = vendor_words(lang);
    let today = time::OffsetDateTime::from_unix_timestamp(s.vault.now_ms() / 1000)
        .map_or(time::Date::MIN, |t| t.date());
    let register = (s.vault.policy.vendors.iter())
        .map(|v| register_line(s, &vw, v, today))
        .collect();
    let page = VendorsPage {
        f,
        register,
        tasks: task_lines(lang, &tasks),
        tw: vw,
    };
    with_status(page.render(), StatusCode::OK)
}
