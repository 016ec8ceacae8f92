//! The console's home (what needs attention) and the person's own sessions.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_core::staff::{StaffSession, TrainingStatus};
use mamori_policy::AdminPermission;
use mamori_policy::Language;
use serde::Deserialize;

use super::words::{Words, words};
use super::{Signed, signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;

/// What every signed-in page shows at its top.
pub(crate) struct Frame {
    pub(crate) lang: &'static str,
    pub(crate) w: Words,
    pub(crate) organisation: String,
    pub(crate) csrf: String,
    pub(crate) email: String,
    pub(crate) role: String,
    /// Which link of the navigation is this page.
    pub(crate) here: &'static str,
    /// Where passkeys work (None: they do not here).
    pub(crate) passkey_origin: Option<String>,
}

pub(crate) fn frame(s: &AppState, lang: Language, signed: &Signed, here: &'static str) -> Frame {
    Frame {
        lang: lang.code(),
        w: words(lang),
        organisation: s.vault.policy.organisation.name.clone(),
        csrf: signed.csrf.clone(),
        email: signed.session.staff.email.clone(),
        role: signed.session.role().to_string(),
        here,
        passkey_origin: super::passkey_origin(s),
    }
}

/// Requests needing attention, counted.
struct RequestCounts {
    open: String,
    overdue: String,
    due_soon: String,
}

/// A count as the page shows it: "1000+" once it reached the cap.
fn shown_count(n: i64) -> String {
    if n >= mamori_core::requests::REQUEST_COUNT_CAP {
        format!("{}+", mamori_core::requests::REQUEST_COUNT_CAP)
    } else {
        n.to_string()
    }
}

/// How the installation runs, as the home page tells it: ids, counts and times only.
struct Operations {
    /// Events in the ledger, when its latest head was signed, and whether it matches it.
    ledger: Option<(u64, String)>,
    ledger_ok: bool,
    /// The newest backup's time, or why there is none; and whether it is overdue.
    backup: String,
    backup_overdue: bool,
    /// Webhook subscriptions failing (for roles that manage webhooks).
    failing_webhooks: Option<usize>,
}

async fn operations(s: &AppState, w: &Words, session: &StaffSession) -> Operations {
    let now = s.vault.now_ms();
    let ledger = (s.vault.latest_head())
        .map(|h| (h.head.size, mamori_core::format_time(h.head.timestamp_ms)));
    let backup = s.vault.backups.as_ref().map(|b| b.state(now));
    let manages_webhooks = (s.vault.policy.role(session.role()))
        .is_some_and(|r| r.admin.contains(AdminPermission::Webhooks));
    // Read through the vault like the Keys and connections page (decided and ledgered).
    let failing_webhooks = match manages_webhooks && session.training.allows_acting() {
        true => match s.vault.staff_actor(session, "webhook.list").await {
            Ok(actor) => (s.vault.list_webhooks(&actor).await.ok()).map(|hooks| {
                (hooks.iter())
                    .filter(|h| {
                        h.attempts > 0 || h.last_status.is_some_and(|c| !(200..300).contains(&c))
                    })
                    .count()
            }),
            Err(_) => None,
        },
        false => None,
    };
    Operations {
        ledger,
        ledger_ok: s.vault.writer_state().integrity_problem.is_none(),
        backup: match &backup {
            None => w.backup_none_scheduled.to_string(),
            Some(b) => (b.last_good_ms.map(mamori_core::format_time))
                .unwrap_or_else(|| w.backup_none_yet.to_string()),
        },
        backup_overdue: backup.is_some_and(|b| b.overdue),
        failing_webhooks,
    }
}

#[derive(Template)]
#[template(path = "console_home.html")]
struct HomePage {
    f: Frame,
    operations: Operations,
    requests: Option<RequestCounts>,
    /// What the person's training status says, and whether it asks them to act.
    training: (String, bool),
}

/// The home page's line on training: its words and whether the person must take it now.
pub(crate) fn training_line(lang: Language, status: TrainingStatus) -> (String, bool) {
    let w = words(lang);
    match status {
        TrainingStatus::NotRequired => (w.training_not_required.to_string(), false),
        TrainingStatus::Current { expires_ms } => {
            // ISO 8601 dates read the same in all three languages.
            let time = mamori_core::format_time(expires_ms);
            let until = time.get(..10).unwrap_or_default();
            (format!("{}{}{until}", w.training_current, w.colon), false)
        }
        TrainingStatus::Required => (w.training_required.to_string(), true),
        TrainingStatus::Expired => (w.training_expired.to_string(), true),
    }
}

#[derive(Deserialize)]
pub struct LangQuery {
    pub(crate) lang: Option<String>,
}

const WEEK_MS: i64 = 7 * 86_400_000;

pub async fn home(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let session = &signed.session;
    let works = s.vault.role_works_requests(session.role()) && session.training.allows_acting();
    let requests = if works {
        let counted = match s.vault.staff_actor(session, "request.count").await {
            Ok(actor) => s.vault.request_counts(&actor, WEEK_MS).await,
            Err(e) => Err(e),
        };
        match counted {
            Ok((open, overdue, due_soon)) => Some(RequestCounts {
                open: shown_count(open),
                overdue: shown_count(overdue),
                due_soon: shown_count(due_soon),
            }),
            Err(e) => return crate::problem::ApiError::from(e).into_response(),
        }
    } else {
        None
    };
    let page = HomePage {
        operations: operations(&s, &words(lang), session).await,
        training: training_line(lang, session.training),
        f: frame(&s, lang, &signed, "home"),
        requests,
    };
    with_status(page.render(), StatusCode::OK)
}
