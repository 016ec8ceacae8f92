//! `/console/ledger/verify`: "verify now" — the whole ledger recomputed from the stored data
//! and every signed head checked (what `mamori ledger verify` does), in the background, with
//! its progress on the page (reloaded by hand: no script needed). One at a time per server;
//! the last verdict stays until the next (in memory: a restart forgets it).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use mamori_core::ledger_verify::Verdict;
use mamori_policy::AdminPermission;
use serde::Deserialize;

use super::home::{Frame, LangQuery, frame};
use super::ledger_words::{LedgerWords, ledger_words};
use super::{refusal_page, signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;

/// The server's ledger verification: running, or its last verdict.
#[derive(Default)]
pub struct LedgerChecks {
    state: std::sync::Mutex<CheckState>,
    done: Arc<AtomicU64>,
}

#[derive(Default, Clone)]
struct CheckState {
    running: bool,
    total: u64,
    /// (verified, what was found, when it finished).
    last: Option<(bool, String, i64)>,
}

#[derive(Template)]
#[template(path = "console_ledger_verify.html")]
struct VerifyPage {
    f: Frame,
    lw: LedgerWords,
    running: bool,
    done: u64,
    total: u64,
    last: Option<(bool, String, String)>,
}

fn may_audit(s: &AppState, role: &str) -> bool {
    (s.vault.policy.role(role)).is_some_and(|r| r.admin.contains(AdminPermission::Audit))
}

/// The verification's progress or last verdict.
pub async fn status(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let f = frame(&s, lang, &signed, "ledger");
    if !may_audit(&s, signed.session.role()) {
        let text = format!("{} (permission_not_granted)", f.w.refused_by_policy);
        return refusal_page(&s, f, text);
    }
    let state = s
        .ledger_checks
        .state
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let page = VerifyPage {
        lw: ledger_words(lang),
        f,
        running: state.running,
        done: s.ledger_checks.done.load(Ordering::Relaxed),
        total: state.total,
        last: (state.last).map(|(ok, what, at)| (ok, what, mamori_core::format_time(at))),
    };
    with_status(page.render(), StatusCode::OK)
}

#[derive(Deserialize)]
pub struct StartForm {
    csrf: String,
    lang: Option<String>,
}

/// Starts a verification (unless one runs), decided and ledgered as the person's.
pub async fn start(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<StartForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let lang = page_language(
        &s.vault.policy,
        form.as_ref().ok().and_then(|f| f.lang.as_deref()),
    );
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let f = frame(&s, lang, &signed, "ledger");
    if !form.is_ok_and(|axum::Form(form)| signed.form_is_ours(&s, &headers, &form.csrf)) {
        let text = f.w.bad_form.to_string();
        return refusal_page(&s, f, text);
    }
    if !may_audit(&s, signed.session.role()) {
        let text = format!("{} (permission_not_granted)", f.w.refused_by_policy);
        return refusal_page(&s, f, text);
    }
    let actor = match s.vault.staff_actor(&signed.session, "ledger.verify").await {
        Ok(actor) => actor,
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    {
        let mut state = s
            .ledger_checks
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if !state.running {
            state.running = true;
            state.total = s.vault.ledger_size();
            s.ledger_checks.done.store(0, Ordering::Relaxed);
            let s = s.clone();
            tokio::spawn(async move {
                let done = s.ledger_checks.done.clone();
                let verdict = s.vault.verify_ledger_now(&actor, &done).await;
                let last = match verdict {
                    Ok(Verdict::Ok { leaves, heads, .. }) => (true, format!("{leaves} · {heads}")),
                    Ok(Verdict::Failed(why)) => (false, why),
                    Err(e) => (false, e.to_string()),
                };
                let mut state = s
                    .ledger_checks
                    .state
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                state.running = false;
                state.last = Some((last.0, last.1, s.vault.now_ms()));
            });
        }
    }
    Redirect::to(&format!("/console/ledger/verify?lang={}", lang.code())).into_response()
}
