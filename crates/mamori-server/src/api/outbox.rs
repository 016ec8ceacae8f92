//! The outbox: the pull feed of events and webhook subscriptions.

use super::*;
use mamori_proto::ErrorCode;
pub use mamori_proto::webhooks::{AddWebhook, FeedQuery, ReplayRequest, RotateSecret, WebhookBody};

pub use mamori_proto::outbox::FeedBody;

/// The pull feed of the outbox (consent.changed, subject.erased, …) for systems that cannot
/// receive webhooks.
#[utoipa::path(get, path = "/v1/events", params(FeedQuery),
    responses((status = 200, body = FeedBody), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn events(
    State(s): State<AppState>,
    Caller(actor): Caller,
    query: Result<Query<FeedQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<FeedBody>> {
    let Query(q) = query.map_err(|_| {
        ApiError::bad_request(
            ErrorCode::InvalidQuery,
            "`after` and `limit` are integers (limit 1–1000)",
        )
    })?;
    let after = q.after.unwrap_or(0);
    let limit = q.limit.unwrap_or(100);
    if after < 0 || !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidQuery,
            "`after` is 0 or a seq from this feed; `limit` is 1–1000",
        ));
    }
    let events = s.vault.events_after(&actor, after, limit).await?;
    let next = events.last().map_or(after, |e| e.seq);
    Ok(Json(FeedBody { events, next }))
}

fn webhook_body(w: mamori_core::webhooks::WebhookInfo) -> WebhookBody {
    {
        WebhookBody {
            id: w.id,
            url: w.url,
            events: w.event_types,
            created_at: w.created_at,
            cursor: w.cursor,
            attempts: w.attempts,
            last_status: w.last_status,
            paused_at: w.paused_at,
            previous_secret_until: w.previous_secret_until,
            secret: None,
        }
    }
}

/// Subscribes a URL to outbox events from now on, signed per Standard Webhooks.
#[utoipa::path(post, path = "/v1/webhooks", request_body = AddWebhook,
    responses((status = 201, body = WebhookBody), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn add_webhook(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(body): Body<AddWebhook>,
) -> ApiResult<(StatusCode, Json<WebhookBody>)> {
    if reqwest::Url::parse(&body.url).is_err() {
        return Err(ApiError::Core(mamori_core::CoreError::invalid(
            ErrorCode::InvalidUrl,
            "url",
            "give an http:// or https:// URL of at most 2000 characters",
        )));
    }
    let (info, secret) = s.vault.add_webhook(&actor, &body.url, &body.events).await?;
    let mut out = webhook_body(info);
    out.secret = Some(secret);
    Ok((StatusCode::CREATED, Json(out)))
}

#[utoipa::path(get, path = "/v1/webhooks",
    responses((status = 200, body = Vec<WebhookBody>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_webhooks(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<Json<Vec<WebhookBody>>> {
    let list = s.vault.list_webhooks(&actor).await?;
    Ok(Json(list.into_iter().map(webhook_body).collect()))
}

#[utoipa::path(delete, path = "/v1/webhooks/{id}", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn remove_webhook(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.vault.remove_webhook(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a subscription's events again from a feed position (after an outage on the
/// receiver's side, or to re-deliver dead letters). Ledgered.
#[utoipa::path(post, path = "/v1/webhooks/{id}/replay", params(("id" = uuid::Uuid, Path)), request_body = ReplayRequest,
    responses((status = 204), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn replay_webhook(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(body): Body<ReplayRequest>,
) -> ApiResult<StatusCode> {
    if body.from < 1 {
        return Err(ApiError::Core(mamori_core::CoreError::invalid(
            ErrorCode::InvalidValue,
            "from",
            "feed positions start at 1",
        )));
    }
    s.vault.replay_webhook(&actor, &id, body.from).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pauses a subscription: nothing is sent until it is resumed; its position in the feed stays,
/// so what was held is sent, in order, when it is. Ledgered (`webhook.pause`).
#[utoipa::path(post, path = "/v1/webhooks/{id}/pause", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn pause_webhook(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.vault.pause_webhook(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Resumes a paused subscription. Ledgered (`webhook.resume`).
#[utoipa::path(post, path = "/v1/webhooks/{id}/resume", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn resume_webhook(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.vault.resume_webhook(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes a new signing secret current and returns it once; the previous one also signs for
/// `grace_hours` (several signatures in one header, as Standard Webhooks allows). Ledgered
/// (`webhook.rotate_secret`).
#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate-secret", params(("id" = uuid::Uuid, Path)), request_body = RotateSecret,
    responses((status = 200, body = WebhookBody), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn rotate_webhook_secret(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(body): Body<RotateSecret>,
) -> ApiResult<Json<WebhookBody>> {
    let grace = std::time::Duration::from_secs(u64::from(body.grace_hours) * 3600);
    let (info, secret) = s.vault.rotate_webhook_secret(&actor, &id, grace).await?;
    let mut out = webhook_body(info);
    out.secret = Some(secret);
    Ok(Json(out))
}
