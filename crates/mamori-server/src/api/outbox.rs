//! The outbox: the pull feed of events and webhook subscriptions.

use super::*;
use mamori_proto::ErrorCode;
pub use mamori_proto::webhooks::{AddWebhook, FeedQuery, ReplayRequest, WebhookBody};

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
