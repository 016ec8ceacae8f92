//! What vendors owe after erasures, corrections and opt-outs: the list for staff, and the
//! vendor's signed confirmation.

use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use mamori_core::access::Denial;
use mamori_core::vendor_tasks::SignedConfirmation;
pub use mamori_proto::disclosures::{ConfirmVendorTask, VendorTask, VendorTaskList};

use super::*;

/// `GET /v1/vendor-tasks?state=open`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VendorTaskQuery {
    /// `open` (not confirmed yet) or `all` (the default).
    pub state: Option<String>,
}

/// Vendors' tasks, newest first (at most 1,000): which vendor must erase, correct or stop
/// using whose data, by when, and whether it confirmed. Needs `admin = ["vendors"]`.
#[utoipa::path(get, path = "/v1/vendor-tasks", params(VendorTaskQuery),
    responses((status = 200, body = VendorTaskList), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_vendor_tasks(
    State(s): State<AppState>,
    Caller(actor): Caller,
    crate::extract::Params(q): crate::extract::Params<VendorTaskQuery>,
) -> ApiResult<Json<VendorTaskList>> {
    let open = match q.state.as_deref() {
        None | Some("all") => false,
        Some("open") => true,
        Some(_) => {
            let why = "state is open or all";
            let invalid = mamori_core::CoreError::invalid(ErrorCode::InvalidValue, "state", why);
            return Err(ApiError::Core(invalid));
        }
    };
    let tasks = s.vault.vendor_tasks(&actor, open).await?;
    Ok(Json(VendorTaskList { tasks }))
}

/// One person's vendor tasks, oldest first. Needs `admin = ["vendors"]`.
#[utoipa::path(get, path = "/v1/subjects/{id}/vendor-tasks", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = VendorTaskList), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn subject_vendor_tasks(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<VendorTaskList>> {
    let id = subject_id(&id)?;
    let tasks = s.vault.subject_vendor_tasks(&actor, &id).await?;
    Ok(Json(VendorTaskList { tasks }))
}

/// A vendor confirms it did what the task asked. No API key: the request is signed with the
/// vendor's own secret (`mamori vendor secret NAME`) in the Standard Webhooks form — headers
/// `webhook-id`, `webhook-timestamp` (within 5 minutes) and `webhook-signature: v1,<base64
/// HMAC-SHA256 of id.timestamp.body>` — so any Standard Webhooks library signs it. The task
/// must be the signing vendor's. Every attempt is ledgered; confirming twice answers the first.
#[utoipa::path(post, path = "/v1/vendor-tasks/{id}/confirm", params(("id" = uuid::Uuid, Path),
        ("webhook-id" = String, Header, description = "a unique id for this message"),
        ("webhook-timestamp" = String, Header, description = "seconds since the epoch, within 5 minutes of the server's clock"),
        ("webhook-signature" = String, Header, description = "`v1,<base64 HMAC-SHA256>` with the vendor's secret over `id.timestamp.body`")),
    request_body = ConfirmVendorTask,
    responses((status = 200, body = VendorTask), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn confirm_vendor_task(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<VendorTask>> {
    if let Some(retry_after) = s.limits.shut_out_for(peer.ip()) {
        return Err(ApiError::RateLimited { retry_after });
    }
    let header = |name: &str| {
        (headers.get(name))
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let signed = SignedConfirmation {
        message_id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: &body,
    };
    match s.vault.confirm_vendor_task(&id, &signed).await {
        Ok(task) => Ok(Json(task)),
        Err(e) => {
            // Guessing at signatures from one address shuts it out for a while.
            if let mamori_core::CoreError::Denied(
                Denial::VendorSignatureInvalid | Denial::UnknownVendor,
            ) = e
            {
                s.limits.record_failed_auth(peer.ip());
            }
            Err(e.into())
        }
    }
}
