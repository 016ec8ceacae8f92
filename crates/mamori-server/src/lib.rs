//! Mamori's HTTP server: the JSON API (with its OpenAPI 3.1 spec), metrics, health, and the
//! privacy center. Handlers are thin; rules live in `mamori-core`.

use mamori_proto::ErrorCode;
pub mod api;
pub mod console;
pub mod drp;
pub mod export;
pub mod extract;
pub mod health;
pub mod messaging;
pub mod metrics;
pub mod openapi;
pub mod outbound;
pub mod privacy;
pub mod privacy_center;
pub mod problem;
pub mod ratelimit;
pub mod scrub;
pub mod surveys;
pub mod unsubscribe;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mamori_core::Vault;
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;

use crate::metrics::{Metrics, RouteLabels, RouteOnly};
use crate::problem::ApiError;

/// Request bodies above this are refused with 413 before they are read.
pub const BODY_LIMIT: usize = 64 * 1024;
/// The audience filter takes up to 100,000 ids (~4 MB of JSON).
pub const AUDIENCE_BODY_LIMIT: usize = 8 * 1024 * 1024;

pub use ratelimit::Limits;

/// What every handler shares. Behind one `Arc`: extractors clone the state per request, and one
/// atomic increment costs less than one per field (the vault alone holds about ten).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub vault: Vault,
    pub metrics: Arc<Metrics>,
    pub limits: Arc<ratelimit::RateLimits>,
    /// How one-time codes reach people, and where the links in them point.
    pub codes: mamori_core::mail::CodeSender,
    pub public_url: String,
    /// This business's id in the Data Rights Protocol service directory.
    pub drp_business_id: String,
    /// `mamori demo`'s in-memory outbox (also the mailer then).
    pub demo_outbox: Option<Arc<mamori_core::mail::DemoOutbox>>,
    /// Served over HTTPS (origins are then `https://…`).
    pub tls: bool,
    /// Staff passkeys' relying party (None when `public_url` is an address other than loopback).
    pub passkeys: Option<Arc<mamori_passkeys::RelyingParty>>,
    /// The console's "verify now": running, or its last verdict.
    pub ledger_checks: console::ledger_verify::LedgerChecks,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub fn router(vault: Vault, limits: Limits) -> Router {
    router_with(vault, limits, None, false, None)
}

/// The router with the operator's transports (`None`: the demo outbox under `mamori demo`,
/// else nothing can be sent). Under TLS every cookie is `Secure` and HSTS is sent.
pub fn router_with(
    vault: Vault,
    limits: Limits,
    messaging: Option<messaging::Messaging>,
    tls: bool,
    drp_business_id: Option<String>,
) -> Router {
    let drp_business_id = drp_business_id
        .unwrap_or_else(|| mamori_core::drp::default_business_id(&vault.policy.organisation.name));
    let (messaging, demo_outbox) = resolve_messaging(&limits, messaging);
    router_from(
        vault,
        limits,
        messaging,
        demo_outbox,
        tls,
        drp_business_id,
        None,
    )
}

/// The transports in use: the demo's in-memory outbox under `mamori demo`, else the operator's
/// (or none).
fn resolve_messaging(
    limits: &Limits,
    messaging: Option<messaging::Messaging>,
) -> (
    messaging::Messaging,
    Option<Arc<mamori_core::mail::DemoOutbox>>,
) {
    let demo_outbox = limits
        .demo_outbox
        .then(|| Arc::new(mamori_core::mail::DemoOutbox::default()));
    let messaging = match (&demo_outbox, messaging) {
        (Some(outbox), m) => messaging::Messaging {
            mailer: outbox.clone(),
            texter: outbox.clone(),
            public_url: m.map_or_else(String::new, |m| m.public_url),
        },
        (None, Some(m)) => m,
        (None, None) => messaging::Messaging::none(""),
    };
    (messaging, demo_outbox)
}

fn router_from(
    vault: Vault,
    limits: Limits,
    messaging: messaging::Messaging,
    demo_outbox: Option<Arc<mamori_core::mail::DemoOutbox>>,
    tls: bool,
    drp_business_id: String,
    listening: Option<String>,
) -> Router {
    // Passkeys belong to where staff open the console: `public_url`, else where we listen.
    let console_url = Some(messaging.public_url.clone())
        .filter(|u| !u.is_empty())
        .or(listening);
    let passkeys = console_url.and_then(|url| {
        let name = format!("{} (Mamori)", vault.policy.organisation.name);
        mamori_passkeys::RelyingParty::new(&url, &name)
            .ok()
            .map(Arc::new)
    });
    let state = AppState(Arc::new(Shared {
        vault,
        metrics: Metrics::new(),
        limits: Arc::new(ratelimit::RateLimits::new(limits)),
        codes: mamori_core::mail::CodeSender::new(messaging.mailer, messaging.texter),
        public_url: messaging.public_url,
        drp_business_id,
        demo_outbox,
        tls,
        passkeys,
        ledger_checks: Default::default(),
    }));
    let router = routes(state);
    if tls {
        router.layer(middleware::from_fn(secure_transport))
    } else {
        router
    }
}

/// Under TLS: cookies only over HTTPS, and browsers told to use nothing else for a year.
async fn secure_transport(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let cookies: Vec<header::HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|c| {
            let text = c.to_str().ok()?;
            header::HeaderValue::from_str(&format!("{text}; Secure")).ok()
        })
        .collect();
    headers.remove(header::SET_COOKIE);
    for c in cookies {
        headers.append(header::SET_COOKIE, c);
    }
    headers.insert(
        header::STRICT_TRANSPORT_SECURITY,
        header::HeaderValue::from_static("max-age=31536000"),
    );
    response
}

/// The JSON API over people, consent, requests, events, the ledger and DRP agents.
/// 10,000 subject ids and the rest of a batch fit well within this.
const DISCLOSURE_BATCH_LIMIT: usize = 1024 * 1024;

/// A vendor's confirmation is a short JSON object.
const VENDOR_CONFIRM_LIMIT: usize = 4 * 1024;

fn api_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/subjects",
            get(api::lookup_subject).post(api::create_subject),
        )
        .route(
            "/v1/subjects/{id}",
            get(api::read_subject)
                .patch(api::update_subject)
                .delete(api::erase_subject),
        )
        .route(
            "/v1/subjects/{id}/records",
            get(api::list_records).post(api::add_record),
        )
        .route("/v1/subjects/{id}/export", get(api::export_subject))
        .route(
            "/v1/subjects/{id}/disclosures",
            axum::routing::post(api::disclose),
        )
        .route("/v1/subjects/{id}/access-log", get(api::access_log))
        .route(
            "/v1/requests",
            get(api::list_requests).post(api::open_request),
        )
        .route("/v1/requests/{id}", get(api::get_request))
        .route(
            "/v1/requests/{id}/extend",
            axum::routing::post(api::extend_request),
        )
        .route(
            "/v1/requests/{id}/verification",
            axum::routing::post(api::verify_request),
        )
        .route(
            "/v1/requests/{id}/state",
            axum::routing::post(api::set_request_state),
        )
        .route(
            "/v1/consent/filter",
            axum::routing::post(api::filter_audience)
                .layer(DefaultBodyLimit::max(AUDIENCE_BODY_LIMIT)),
        )
        .route(
            "/v1/scrub",
            axum::routing::post(scrub::scrub_texts)
                .layer(DefaultBodyLimit::max(scrub::SCRUB_BODY_LIMIT)),
        )
        .route(
            "/v1/consent/receipts/verify",
            axum::routing::post(api::verify_receipt),
        )
        .route(
            "/v1/consent/{id}/unsubscribe-link",
            axum::routing::post(api::unsubscribe_link),
        )
        .route(
            "/v1/consent/{id}",
            get(api::check_consent).put(api::set_consent),
        )
        .route("/v1/ledger/head", get(api::ledger_head))
        .route("/v1/ledger/keys", get(api::ledger_keys))
        .route("/v1/ledger/proof/inclusion", get(api::inclusion_proof))
        .route("/v1/ledger/proof/consistency", get(api::consistency_proof))
        .route(
            "/v1/agent/{agent_id}",
            get(drp::agent_information).post(drp::pair),
        )
        .route("/v1/data-rights-request", axum::routing::post(drp::submit))
        .route(
            "/v1/data-rights-request/{request_id}",
            get(drp::status).delete(drp::revoke),
        )
}

/// Batch disclosures, and what vendors owe after erasures, corrections and opt-outs.
fn vendor_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/subjects/{id}/vendor-tasks",
            get(api::subject_vendor_tasks),
        )
        .route("/v1/vendor-tasks", get(api::list_vendor_tasks))
        .route("/v1/records-of-processing", get(api::records_of_processing))
        .route("/v1/disclosures", get(api::provision_records))
        .route("/v1/disclosures/sold-or-shared", get(api::sold_or_shared))
        .route(
            "/v1/disclosures/batch",
            axum::routing::post(api::disclose_batch)
                .layer(DefaultBodyLimit::max(DISCLOSURE_BATCH_LIMIT)),
        )
        .route(
            "/v1/vendor-tasks/{id}/confirm",
            axum::routing::post(api::confirm_vendor_task)
                .layer(DefaultBodyLimit::max(VENDOR_CONFIRM_LIMIT)),
        )
}

/// Administrative routes: the events feed, legal holds, incidents, webhook subscriptions.
fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/v1/events", get(api::events))
        .route("/v1/holds", get(api::list_holds).post(api::place_hold))
        .route("/v1/holds/{id}", axum::routing::delete(api::lift_hold))
        .route(
            "/v1/incidents",
            get(api::list_incidents).post(api::open_incident),
        )
        .route("/v1/incidents/{id}", get(api::get_incident))
        .route(
            "/v1/incidents/{id}/entries",
            axum::routing::post(api::add_incident_entry),
        )
        .route(
            "/v1/incidents/{id}/impact",
            axum::routing::post(api::incident_impact),
        )
        .route(
            "/v1/incidents/{id}/containment",
            axum::routing::post(api::contain_incident),
        )
        .route("/v1/incidents/{id}/deadlines", get(api::incident_deadlines))
        .route("/v1/incidents/{id}/drill-report", get(api::drill_report))
        .route(
            "/v1/incidents/{id}/regulator-draft",
            get(api::regulator_draft),
        )
        .route(
            "/v1/incidents/{id}/notices",
            get(api::notices_summary).post(api::prepare_notices),
        )
        .route("/v1/drills", axum::routing::post(api::start_drill))
        .route(
            "/v1/webhooks",
            get(api::list_webhooks).post(api::add_webhook),
        )
        .route(
            "/v1/webhooks/{id}",
            axum::routing::delete(api::remove_webhook),
        )
        .route(
            "/v1/webhooks/{id}/replay",
            axum::routing::post(api::replay_webhook),
        )
        .route(
            "/v1/webhooks/{id}/pause",
            axum::routing::post(api::pause_webhook),
        )
        .route(
            "/v1/webhooks/{id}/resume",
            axum::routing::post(api::resume_webhook),
        )
        .route(
            "/v1/webhooks/{id}/rotate-secret",
            axum::routing::post(api::rotate_webhook_secret),
        )
}

/// Surveys: the API, the public pages and the privacy center's identified ones.
fn survey_routes() -> Router<AppState> {
    Router::new()
        .route("/v1/surveys", get(surveys::list).post(surveys::create))
        .route(
            "/v1/surveys/{slug}/close",
            axum::routing::post(surveys::close),
        )
        .route("/v1/surveys/{slug}/results", get(surveys::results))
        .route("/v1/surveys/{slug}/results.csv", get(surveys::results_csv))
        .route("/v1/surveys/{slug}/charts/{question}", get(surveys::chart))
        .route(
            "/v1/surveys/{slug}/responses",
            axum::routing::post(surveys::respond),
        )
        .route(
            "/v1/surveys/{slug}/invitations",
            axum::routing::post(surveys::invite),
        )
        .route("/v1/surveys/{slug}/issuer", get(surveys::issuer))
        .route("/v1/surveys/{slug}/texts", get(surveys::texts))
        .route(
            "/v1/surveys/{slug}/releases",
            get(surveys::releases).post(surveys::release),
        )
        .route(
            "/v1/surveys/{slug}/tokens",
            axum::routing::post(surveys::token),
        )
        .route("/v1/reports/privacy", get(surveys::privacy_report))
        .route("/survey/{slug}", get(surveys::page).post(surveys::submit))
        .route(
            "/privacy/survey/{slug}",
            get(surveys::identified_get).post(surveys::identified_post),
        )
        .route("/assets/blind-token.js", get(surveys::blind_token_script))
}

/// The privacy center's pages, the notice, unsubscribe links, health, metrics and the spec.
fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(health::readyz))
        .route("/.well-known/gpc.json", get(gpc_support))
        .route(
            "/unsubscribe",
            get(unsubscribe::confirm_page).post(unsubscribe::one_click),
        )
        .route("/metrics", get(render_metrics))
        .route("/openapi.json", get(openapi))
        .route("/privacy", get(privacy::privacy_center))
        .route("/privacy/notice", get(privacy::notice))
        .route(
            "/privacy/sign-in",
            get(privacy_center::sign_in_form).post(privacy_center::request_code),
        )
        .route(
            "/privacy/sign-in/code",
            axum::routing::post(privacy_center::submit_code),
        )
        .route("/privacy/sign-in/link", get(privacy_center::sign_in_link))
        .route("/privacy/me", get(privacy_center::my_data))
        .route("/privacy/me/download", get(privacy_center::download))
        .route(
            "/privacy/me/records",
            get(privacy_center::records::my_records),
        )
        .route(
            "/privacy/me/correct",
            get(privacy_center::correct::correct_form).post(privacy_center::correct::correct),
        )
        .route(
            "/privacy/me/correct/confirm",
            axum::routing::post(privacy_center::correct::confirm),
        )
        .route(
            "/privacy/me/delete",
            get(privacy_center::delete::delete_form).post(privacy_center::delete::delete_account),
        )
        .route(
            "/privacy/me/activity",
            get(privacy_center::activity::activity),
        )
        .route(
            "/privacy/me/activity/proof",
            get(privacy_center::activity::proof),
        )
        .route(
            "/privacy/choices",
            get(privacy_center::choices::my_choices).post(privacy_center::choices::change_choice),
        )
        .route(
            "/privacy/choices/do-not-sell",
            axum::routing::post(privacy_center::choices::do_not_sell),
        )
        .route(
            "/privacy/sign-out",
            axum::routing::post(privacy_center::sign_out),
        )
        .route("/privacy/demo/outbox", get(privacy_center::demo_outbox))
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/privacy") }),
        )
}

fn routes(state: AppState) -> Router {
    Router::new()
        .merge(api_routes())
        .merge(vendor_routes())
        .merge(admin_routes())
        .merge(survey_routes())
        .merge(page_routes())
        .merge(console::routes())
        .fallback(not_found)
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .with_state(state)
}

/// The content policy of a page that sets none of its own: nothing runs, nothing loads but
/// inline styles, no framing.
const DEFAULT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// On every response: no content sniffing, and no referrer (page addresses can carry tokens
/// and ids) — except that HTML pages send it to this site alone (`same-origin`): under
/// `no-referrer` browsers send `Origin: null` with a page's forms, which the CSRF check must
/// refuse. On every HTML or Markdown response, a content security policy unless the page set
/// its own.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let is_html = content_type.starts_with("text/html");
    let is_document = is_html || content_type.starts_with("text/markdown");
    if !headers.contains_key(header::REFERRER_POLICY) {
        let policy = if is_html {
            "same-origin"
        } else {
            "no-referrer"
        };
        headers.insert(
            header::REFERRER_POLICY,
            header::HeaderValue::from_static(policy),
        );
    }
    // Nothing is cached unless its handler says it may be (a public script does): answers carry
    // personal data, tokens or ids, and no proxy or browser cache should keep any of them.
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    if is_document && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            header::HeaderValue::from_static(DEFAULT_CSP),
        );
    }
    response
}

/// Declares that this site honours Global Privacy Control (GPC spec, "/.well-known/gpc.json").
async fn gpc_support() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"gpc": true, "lastUpdate": "2026-11-23"}"#,
    )
        .into_response()
}

async fn not_found() -> ApiError {
    ApiError::Plain {
        status: StatusCode::NOT_FOUND,
        code: ErrorCode::NoSuchRoute,
        detail: "no such endpoint; see /openapi.json".into(),
        field: None,
    }
}

async fn openapi() -> Response {
    let mut doc = api::ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.to_pretty_json().unwrap_or_default(),
    )
        .into_response()
}

async fn render_metrics(State(s): State<AppState>) -> Response {
    health::refresh(&s).await;
    s.metrics.ledger_size.set(s.vault.ledger_size() as i64);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.metrics.render(),
    )
        .into_response()
}

/// Counts and logs each request by route template — never the raw path or query, which can
/// hold ids or e-mail addresses.
async fn observe(State(s): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_string();
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    s.metrics
        .requests
        .get_or_create(&RouteLabels {
            method: method.clone(),
            route: route.clone(),
            status,
        })
        .inc();
    s.metrics
        .latency
        .get_or_create(&RouteOnly {
            route: route.clone(),
        })
        .observe(elapsed.as_secs_f64());
    tracing::debug!(%method, %route, status, micros = elapsed.as_micros() as u64, "request");
    response
}

/// Serves until `shutdown` resolves. Peer addresses are kept for the failed-auth rate limit.
pub async fn serve(
    listener: tokio::net::TcpListener,
    vault: Vault,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, vault, limits, ServeOptions::default(), shutdown).await
}

/// Where the server listens, as a URL (passkeys' fallback when no `public_url` is set).
fn listening_url(listener: &tokio::net::TcpListener, tls: bool) -> Option<String> {
    let scheme = if tls { "https" } else { "http" };
    (listener.local_addr().ok()).map(|a| format!("{scheme}://{a}"))
}

/// What `mamori serve` adds from its configuration.
#[derive(Default)]
pub struct ServeOptions {
    pub messaging: Option<messaging::Messaging>,
    /// PEM certificate chain and private key: serve HTTPS only.
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// This business's id in the DRP service directory (default: from the organisation's name).
    pub drp_business_id: Option<String>,
    /// A file each new signed ledger head is appended to (for witnesses outside the database).
    pub heads_file: Option<std::path::PathBuf>,
    /// Remove the ciphertext rows of erased subjects in the background.
    pub purge_erased: bool,
    /// Rotate key epochs on this schedule (when the vault has a key store).
    pub key_rotation: Option<mamori_core::keys::EpochSchedule>,
    /// Enforce each category's retention on live data (hourly, the first an hour after start).
    pub retention_sweep: bool,
    /// Automatic signals opening draft incidents (None: off).
    pub signals: Option<mamori_core::incidents::signals::SignalSettings>,
}

/// Reads the certificate and key (with the ring provider); a clear error if they are unusable.
pub async fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> std::io::Result<axum_server::tls_rustls::RustlsConfig> {
    // Once per process; a second call finds it installed, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key).await
}

/// What the background jobs are given: senders, schedules and thresholds.
fn job_settings(
    vault: &Vault,
    limits: &Limits,
    options: &ServeOptions,
    messaging: &messaging::Messaging,
) -> mamori_core::jobs::JobSettings {
    mamori_core::jobs::JobSettings {
        webhook_sender: Some(outbound::sender(
            vault.outbound.clone(),
            limits.webhooks.timeout,
            "webhooks",
        )),
        webhooks: limits.webhooks,
        deadline_reminders: limits.deadline_reminders,
        heads_file: options.heads_file.clone(),
        purge_erased: options.purge_erased,
        // Short timeout, no redirects: the agent can always read the status endpoint.
        drp_callback_sender: Some(outbound::sender(
            vault.outbound.clone(),
            Duration::from_secs(10),
            "drp_callbacks",
        )),
        key_rotation: options.key_rotation,
        retention_sweep: options.retention_sweep,
        training_mailer: Some(messaging.mailer.clone()),
        incident_notices: notices_job(limits, messaging),
        signals: options.signals,
    }
}

/// The notices job's mailer and links, unless notices are sent by hand (tests).
fn notices_job(
    limits: &Limits,
    messaging: &messaging::Messaging,
) -> Option<(
    Arc<dyn mamori_core::mail::Mailer>,
    mamori_core::incidents::notice_sending::NoticeLinks,
)> {
    let links = mamori_core::incidents::notice_sending::NoticeLinks {
        privacy_center: format!("{}/privacy/me", messaging.public_url),
        texts: Some(messaging.texter.clone()),
    };
    (limits.incident_notices).then(|| (messaging.mailer.clone(), links))
}

pub async fn serve_with(
    listener: tokio::net::TcpListener,
    vault: Vault,
    limits: Limits,
    mut options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let tls = match &options.tls {
        Some((cert, key)) => Some(tls_config(cert, key).await?),
        None => None,
    };
    // Consent rows from before their MACs get them once (ledgered), before anything reads them.
    if let Err(e) = vault.seal_unsealed_consent_state().await {
        tracing::error!(error = %e, "the consent state could not be sealed");
    }
    let (messaging, demo_outbox) = resolve_messaging(&limits, options.messaging.take());
    // The background jobs run while the server does, and stop with it.
    let jobs =
        mamori_core::jobs::start(&vault, job_settings(&vault, &limits, &options, &messaging));
    let stopping = vault.clone();
    let drp_business_id = (options.drp_business_id)
        .unwrap_or_else(|| mamori_core::drp::default_business_id(&vault.policy.organisation.name));
    let app = router_from(
        vault,
        limits,
        messaging,
        demo_outbox,
        tls.is_some(),
        drp_business_id,
        listening_url(&listener, tls.is_some()),
    )
    .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = match tls {
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
        Some(config) => {
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                stopper.graceful_shutdown(Some(Duration::from_secs(10)));
            });
            axum_server::from_tcp_rustls(listener.into_std()?, config)?
                .handle(handle)
                .serve(app)
                .await
        }
    };
    // Stopped, and their leases given up, so another server takes the jobs over at once.
    jobs.stop().await;
    // Consent-check events still queued for the next commit go in before the process ends.
    if let Err(e) = stopping.flush_ledger().await {
        tracing::error!(error = %e, "queued ledger events could not be committed at shutdown");
    }
    served
}
