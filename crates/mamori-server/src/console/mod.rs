//! The staff console (`/console`): enrolment from a one-time link (password and an authenticator
//! app), sign-in with both, server-side sessions, and the pages staff work from. Every page works
//! without JavaScript. Before sign-in a form is bound to the browser's pre-session cookie; after,
//! to the session itself (a form made for one session is worth nothing in another).

mod account;
mod admin;
mod agents;
mod customers;
mod enrol;
mod forms;
mod holds;
mod home;
mod incident_notices;
mod incident_words;
mod incidents;
mod keys;
mod keys_words;
mod ledger;
mod ledger_proof;
pub(crate) mod ledger_verify;
mod ledger_words;
mod passkeys;
mod policy;
mod policy_words;
mod posture;
mod report;
mod report_words;
mod request_open;
mod request_words;
mod requests;
mod sign_in;
mod staff_words;
mod survey_admin;
mod survey_invite;
mod survey_release;
mod survey_words;
mod surveys;
mod system;
mod training;
mod vendor_words;
mod vendors;
mod webhooks;
pub(crate) mod words;

use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use mamori_core::staff::StaffSession;
use mamori_policy::Language;

use crate::AppState;
use crate::privacy::html_page_with_script;
use crate::privacy_center::session::{
    cookie, form_token_for, random_token, same, same_origin, set_cookie_at,
};

/// The console's pre-session cookie (Path=/console: the privacy center's stays its own).
const CONSOLE_CSRF: &str = "mamori_console_csrf";
/// The staff session cookie: HttpOnly, SameSite=Strict, Secure under TLS, Path=/console.
const STAFF_COOKIE: &str = "mamori_staff";

type SetCookie = Option<(header::HeaderName, header::HeaderValue)>;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(home::home))
        .route("/console/enrol", get(enrol::form).post(enrol::submit))
        .route("/console/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/console/sign-out", post(sign_in::sign_out))
        .route("/console/passkeys.js", get(passkeys::script))
        .route("/console/passkeys/enrol", post(passkeys::enrol))
        .route("/console/passkeys/sign-in", post(passkeys::sign_in))
        .route(
            "/console/passkeys/reauthenticate",
            post(passkeys::reauthenticate),
        )
        .route(
            "/console/sessions",
            get(account::sessions).post(account::end_session),
        )
        .route("/console/factors", post(account::factors))
        .route("/console/passkeys/add", post(passkeys::add))
        .merge(work_routes())
}

/// The pages staff work in, once signed in.
fn work_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/console/customers",
            get(customers::form).post(customers::find),
        )
        .route(
            "/console/requests",
            get(requests::register).post(request_open::open),
        )
        .route("/console/ledger", get(ledger::events))
        .route(
            "/console/ledger/consistency",
            get(ledger_proof::consistency_check),
        )
        .route(
            "/console/ledger/verify",
            get(ledger_verify::status).post(ledger_verify::start),
        )
        .route("/console/ledger/{leaf}", get(ledger_proof::leaf))
        .route("/console/admin/system", get(system::system))
        .route("/console/admin/policy", get(policy::show))
        .route("/console/admin/policy/records", get(policy::records))
        .route("/console/admin/keys", get(keys::list).post(keys::create))
        .route("/console/admin/keys/revoke", post(keys::revoke))
        .route(
            "/console/admin/webhooks",
            get(webhooks::list).post(webhooks::add),
        )
        .route("/console/admin/webhooks/remove", post(webhooks::remove))
        .route("/console/admin/webhooks/replay", post(webhooks::replay))
        .route("/console/admin/webhooks/pause", post(webhooks::pause))
        .route("/console/admin/agents", get(agents::list).post(agents::add))
        .route("/console/admin/vendors", get(vendors::page))
        .route("/console/admin/agents/remove", post(agents::remove))
        .route("/console/admin/agents/pause", post(agents::pause))
        .route("/console/admin/holds", get(holds::list).post(holds::place))
        .route("/console/admin/holds/lift", post(holds::lift))
        .route("/console/admin/report", get(report::report))
        .route("/console/admin/posture", get(posture::show))
        .route("/console/admin/policy/publish", post(policy::publish))
        .route(
            "/console/surveys",
            get(surveys::list).post(survey_admin::create),
        )
        .route("/console/surveys/{slug}/close", post(survey_admin::close))
        .route("/console/surveys/{slug}", get(surveys::one))
        .route(
            "/console/surveys/{slug}/release",
            post(survey_release::release),
        )
        .route(
            "/console/surveys/{slug}/invitations",
            post(survey_invite::invite),
        )
        .route(
            "/console/admin/staff",
            get(admin::staff).post(admin::invite),
        )
        .route("/console/admin/staff/disable", post(admin::disable))
        .route("/console/admin/staff/reset", post(admin::reset))
        .route(
            "/console/requests/{id}",
            get(requests::one).post(requests::step),
        )
        .route(
            "/console/training",
            get(training::course).post(training::submit),
        )
        .merge(incident_routes())
}

/// The incident register's pages.
fn incident_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/console/incidents",
            get(incidents::list).post(incidents::open),
        )
        .route(
            "/console/incidents/{id}",
            get(incidents::one).post(incidents::add),
        )
        .route(
            "/console/incidents/{id}/containment",
            post(incidents::contain),
        )
        .route(
            "/console/incidents/{id}/notices",
            post(incident_notices::notify),
        )
        .route(
            "/console/incidents/{id}/draft",
            get(incident_notices::draft),
        )
        .route("/console/drills", post(incidents::drill))
}

/// The form token for a page before sign-in, and the cookie to set if the browser has none.
fn csrf_token(s: &AppState, headers: &HeaderMap) -> (String, SetCookie) {
    match cookie(headers, CONSOLE_CSRF).filter(|t| t.len() == 43) {
        Some(browser) => (form_token_for(s, &browser, false), None),
        None => {
            let browser = random_token();
            let set = set_cookie_at(CONSOLE_CSRF, &browser, 86_400, "/console");
            (form_token_for(s, &browser, false), Some(set))
        }
    }
}

fn cross_site(s: &AppState, headers: &HeaderMap) -> bool {
    (headers.get(header::ORIGIN))
        .is_some_and(|o| !same_origin(s, headers, o.to_str().unwrap_or("")))
}

/// Whether a form posted before sign-in came from our page in this browser.
fn form_is_ours(s: &AppState, headers: &HeaderMap, token: &str) -> bool {
    let browser = cookie(headers, CONSOLE_CSRF).filter(|t| t.len() == 43);
    !cross_site(s, headers) && browser.is_some_and(|b| same(&form_token_for(s, &b, false), token))
}

/// A signed-in page's session and its form token.
pub(crate) struct Signed {
    pub(crate) session: StaffSession,
    pub(crate) csrf: String,
    /// The session cookie's token (to read the session again after a re-authentication).
    pub(crate) token: String,
}

impl Signed {
    /// Whether a form posted in this session came from our page.
    fn form_is_ours(&self, s: &AppState, headers: &HeaderMap, token: &str) -> bool {
        !cross_site(s, headers) && same(&self.csrf, token)
    }
}

/// The live session the browser holds, or the answer sending it to sign in.
async fn signed_in(s: &AppState, headers: &HeaderMap, lang: Language) -> Result<Signed, Response> {
    let to_sign_in =
        || Redirect::to(&format!("/console/sign-in?lang={}", lang.code())).into_response();
    let Some(token) = cookie(headers, STAFF_COOKIE).filter(|t| t.len() == 43) else {
        return Err(to_sign_in());
    };
    match s.vault.staff_session(&token).await {
        Ok(Some(session)) => Ok(Signed {
            csrf: form_token_for(s, &token, true),
            session,
            token,
        }),
        Ok(None) => Err(to_sign_in()),
        Err(e) => Err(crate::problem::ApiError::from(e).into_response()),
    }
}

/// A page that only says why the person cannot go on (a refusal with its reason).
#[derive(askama::Template)]
#[template(path = "console_refused.html")]
struct RefusedPage {
    f: home::Frame,
    error: String,
}

fn refusal_page(_s: &AppState, f: home::Frame, error: String) -> Response {
    with_status(RefusedPage { f, error }.render(), StatusCode::FORBIDDEN)
}

/// Where passkeys work, for the pages' buttons (None: not at this `public_url`).
fn passkey_origin(s: &AppState) -> Option<String> {
    s.passkeys.as_ref().map(|rp| rp.origin().to_string())
}

/// A page with a sensitive step offers "confirm with a passkey" only to people who have one.
async fn with_confirm_by_passkey(s: &AppState, signed: &Signed, mut f: home::Frame) -> home::Frame {
    let factors = s.vault.own_staff_factors(&signed.session).await;
    if !factors.is_ok_and(|f| f.iter().any(|f| f.kind == "passkey")) {
        f.passkey_origin = None;
    }
    f
}

/// A console page: its only script is Mamori's own passkey script (`script-src 'self'`).
fn with_status(rendered: askama::Result<String>, status: StatusCode) -> Response {
    let mut r = html_page_with_script(rendered);
    *r.status_mut() = status;
    r
}
