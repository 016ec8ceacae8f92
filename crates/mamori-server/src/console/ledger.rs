//! `/console/ledger`: recent ledger events for auditors (`admin = ["audit"]`), filtered by
//! actor, subject, purpose and outcome, newest first, a page at a time, under the signed head.
//! Ids and states only: the ledger never holds a personal value.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_core::audit::EventFilter;
use serde::Deserialize;

use super::home::{Frame, frame};
use super::{refusal_page, signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;

const PAGE: usize = 50;

struct Row {
    leaf: u64,
    time: String,
    actor: String,
    role: String,
    action: String,
    purpose: String,
    subject: String,
    outcome: String,
    allowed: bool,
}

#[derive(Template)]
#[template(path = "console_ledger.html")]
struct LedgerPage {
    f: Frame,
    lw: super::ledger_words::LedgerWords,
    q: LedgerQuery,
    rows: Vec<Row>,
    /// (size, root prefix, signed at) of the latest signed head.
    head: Option<(u64, String, String)>,
    older: Option<u64>,
    error: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct LedgerQuery {
    lang: Option<String>,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    outcome: String,
    /// Days (YYYY-MM-DD, UTC): events from the start of `from` to the end of `to`.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    before: Option<u64>,
}

impl LedgerQuery {
    /// The filter, or None when the subject is not an id.
    fn filter(&self) -> Option<EventFilter> {
        let subject = match self.subject.trim() {
            "" => None,
            text => Some(mamori_core::parse_id(text)?),
        };
        let text = |t: &str| Some(t.trim().to_string()).filter(|t| !t.is_empty() && t.len() <= 100);
        let day = |t: &str| match t.trim() {
            "" => Some(None),
            t => super::forms::day_start_ms(t).map(Some),
        };
        let since_ms = day(&self.from)?;
        let until_ms = day(&self.to)?.map(|start| start + super::forms::DAY_MS);
        Some(EventFilter {
            actor: text(&self.actor),
            subject,
            purpose: text(&self.purpose),
            allowed: match self.outcome.as_str() {
                "allowed" => Some(true),
                "denied" => Some(false),
                _ => None,
            },
            before: self.before,
            since_ms,
            until_ms,
        })
    }
}

pub async fn events(
    State(s): State<AppState>,
    Query(q): Query<LedgerQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let f = frame(&s, lang, &signed, "ledger");
    let head = (s.vault.ledger_head()).map(|h| {
        let root = hex::encode(&h.root[..8]);
        (h.size, root, mamori_core::format_time(h.timestamp_ms))
    });
    let mut page = LedgerPage {
        lw: super::ledger_words::ledger_words(lang),
        f,
        q: LedgerQuery::default(),
        rows: vec![],
        head,
        older: None,
        error: None,
    };
    let Some(filter) = q.filter() else {
        page.error = Some(page.f.w.bad_value);
        page.q = q;
        return with_status(page.render(), StatusCode::UNPROCESSABLE_ENTITY);
    };
    let read = match s.vault.staff_actor(&signed.session, "ledger.read").await {
        Ok(actor) => s.vault.audit_events(&actor, &filter, PAGE).await,
        Err(e) => Err(e),
    };
    let events = match read {
        Ok(events) => events,
        Err(CoreError::Denied(d)) => {
            let text = format!("{} ({})", page.f.w.refused_by_policy, d.code());
            return refusal_page(&s, page.f, text);
        }
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    page.older = (events.len() == PAGE)
        .then(|| events.last().map(|(i, _)| *i))
        .flatten();
    page.rows = (events.into_iter())
        .map(|(leaf, e)| {
            let allowed = e.is_allowed();
            let outcome = match &e.outcome {
                mamori_ledger::Outcome::Allowed => page.f.w.allowed.to_string(),
                mamori_ledger::Outcome::Denied { reason } => {
                    format!("{} ({reason})", page.f.w.denied)
                }
            };
            Row {
                leaf,
                time: mamori_core::format_time(e.time_ms),
                actor: e.actor,
                role: e.role,
                action: e.action,
                purpose: e.purpose.unwrap_or_default(),
                subject: e.subject.unwrap_or_default(),
                outcome,
                allowed,
            }
        })
        .collect();
    page.q = q;
    with_status(page.render(), StatusCode::OK)
}
