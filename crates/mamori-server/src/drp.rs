//! Data Rights Protocol v0.9.4 provider endpoints (mamori_core::drp holds the rules). Signed
//! messages arrive as `text/plain` base64; answers and errors are the protocol's JSON.

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mamori_core::drp::{DrpAgentRow, DrpRequestRow};
use mamori_core::drp::{DrpError, status_json};
use mamori_core::requests::RequestRow;
use mamori_proto::drp::{DrpErrorBody, DrpPairing, DrpStatus};
use serde_json::json;

use crate::AppState;

/// The protocol's error state (§3.06): `code` repeats the HTTP status for clients that cannot
/// read headers.
fn error(e: DrpError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = DrpErrorBody {
        code: e.status.to_string(),
        message: e.message.to_string(),
        fatal: e.fatal,
    };
    (status, axum::Json(body)).into_response()
}

fn text(body: &Bytes) -> Result<&str, DrpError> {
    std::str::from_utf8(body).map_err(|_| DrpError {
        status: 400,
        message: "the body must be base64 text",
        fatal: true,
    })
}

/// The agent a bearer token belongs to; failed attempts count towards the address's shut-out.
async fn agent(
    s: &AppState,
    headers: &HeaderMap,
    peer: std::net::SocketAddr,
) -> Result<DrpAgentRow, Response> {
    let forbidden = || {
        error(DrpError {
            status: 403,
            message: "a valid bearer token from POST /v1/agent/{agent-id} is required",
            fatal: false,
        })
    };
    if s.limits.shut_out_for(peer.ip()).is_some() {
        return Err(error(DrpError {
            status: 429,
            message: "too many failed attempts from this address; wait and retry",
            fatal: false,
        }));
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    match s.vault.drp_token_agent(token.trim()).await {
        Ok(Some(agent)) => Ok(agent),
        Ok(None) => {
            s.limits.record_failed_auth(peer.ip());
            Err(forbidden())
        }
        Err(e) => Err(crate::problem::ApiError::from(e).into_response()),
    }
}

/// `POST /v1/agent/{agent-id}`: pair-wise key setup. A failure is a bare 403, as the protocol
/// says; the reason is in the ledger.
#[utoipa::path(post, path = "/v1/agent/{agent_id}", tag = "Data Rights Protocol 1.0 and 0.9.x",
    params(("agent_id" = String, Path, description = "the agent's id in the DRP directory")),
    request_body(content = String, content_type = "text/plain", description = "base64 of the agent's 64-byte Ed25519 signature followed by the signed JSON message (libsodium's combined form, DRP §2.05)"),
    responses((status = 200, body = DrpPairing, description = "The pair-wise bearer token (it replaces any earlier one)"), (status = 403, description = "bad signature, unknown agent, another business, an expired or already used message (empty body)"), (status = 429, description = "too many failed attempts")))]
pub async fn pair(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Path(agent_id): Path<String>,
    body: Bytes,
) -> Response {
    if let Some(retry_after) = s.limits.shut_out_for(peer.ip()) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, retry_after.to_string())],
        )
            .into_response();
    }
    let Ok(body) = std::str::from_utf8(&body) else {
        return StatusCode::FORBIDDEN.into_response();
    };
    match s.vault.drp_pair(&agent_id, body, &s.drp_business_id).await {
        Ok(token) => axum::Json(DrpPairing { agent_id, token }).into_response(),
        Err(e) if e.status == 500 => error(e),
        Err(_) => {
            s.limits.record_failed_auth(peer.ip());
            StatusCode::FORBIDDEN.into_response()
        }
    }
}

/// `GET /v1/agent/{agent-id}`: whether the token is still good for this agent.
#[utoipa::path(get, path = "/v1/agent/{agent_id}", tag = "Data Rights Protocol 1.0 and 0.9.x",
    params(("agent_id" = String, Path)),
    responses((status = 200, description = "the token is good for this agent"), (status = 403, description = "DRP error JSON: no token, or another agent's"), (status = 429, description = "too many failed attempts")),
    security(("bearer" = [])))]
pub async fn agent_information(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Path(agent_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match agent(&s, &headers, peer).await {
        Ok(a) if a.id == agent_id => axum::Json(json!({})).into_response(),
        Ok(_) => error(DrpError {
            status: 403,
            message: "this token belongs to another agent",
            fatal: false,
        }),
        Err(r) => r,
    }
}

/// `POST /v1/data-rights-request`: a signed request from an agent, filed in the register.
#[utoipa::path(post, path = "/v1/data-rights-request", tag = "Data Rights Protocol 1.0 and 0.9.x",
    request_body(content = String, content_type = "text/plain", description = "base64 of the agent's 64-byte Ed25519 signature followed by the signed JSON message (libsodium's combined form, DRP §2.05)"),
    responses((status = 200, body = DrpStatus, description = "the request's status object"), (status = 400, description = "DRP error JSON: malformed or unsigned message, a missing or unsupported drp.version, an expired message or a validity window over 15 minutes"), (status = 403, description = "DRP error JSON: bad token or signature, another business, a message already used"), (status = 429, description = "too many failed attempts")),
    security(("bearer" = [])))]
pub async fn submit(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let agent = match agent(&s, &headers, peer).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let body = match text(&body) {
        Ok(b) => b,
        Err(e) => return error(e),
    };
    let filed = s.vault.drp_submit(&agent, body, &s.drp_business_id).await;
    answer(filed)
}

/// `GET /v1/data-rights-request/{request_id}`.
#[utoipa::path(get, path = "/v1/data-rights-request/{request_id}", tag = "Data Rights Protocol 1.0 and 0.9.x",
    params(("request_id" = uuid::Uuid, Path)),
    responses((status = 200, body = DrpStatus, description = "the request's status object"), (status = 403, description = "DRP error JSON: bad token"), (status = 404, description = "DRP error JSON: no such request for this agent")),
    security(("bearer" = [])))]
pub async fn status(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let agent = match agent(&s, &headers, peer).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match s.vault.drp_status(&agent, &request_id).await {
        Ok(status) => axum::Json(status).into_response(),
        Err(e) => error(e),
    }
}

/// `DELETE /v1/data-rights-request/{request_id}`: a signed revocation.
#[utoipa::path(delete, path = "/v1/data-rights-request/{request_id}", tag = "Data Rights Protocol 1.0 and 0.9.x",
    params(("request_id" = uuid::Uuid, Path)),
    request_body(content = String, content_type = "text/plain", description = "base64 of the agent's 64-byte Ed25519 signature followed by the signed JSON message (libsodium's combined form, DRP §2.05)"),
    responses((status = 200, body = DrpStatus, description = "the status object, now revoked"), (status = 400, description = "DRP error JSON: malformed message"), (status = 403, description = "DRP error JSON: bad token or signature"), (status = 404, description = "DRP error JSON: no such request for this agent"), (status = 409, description = "DRP error JSON: the request is closed and can no longer be revoked")),
    security(("bearer" = [])))]
pub async fn revoke(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let agent = match agent(&s, &headers, peer).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let body = match text(&body) {
        Ok(b) => b,
        Err(e) => return error(e),
    };
    let revoked = s
        .vault
        .drp_revoke(&agent, &request_id, body, &s.drp_business_id)
        .await;
    answer(revoked)
}

/// The request's new status, to the caller (its callback hears of it from the outbox).
fn answer(changed: Result<(RequestRow, DrpRequestRow), DrpError>) -> Response {
    match changed {
        Ok((row, drp)) => axum::Json(status_json(&row, &drp)).into_response(),
        Err(e) => error(e),
    }
}
