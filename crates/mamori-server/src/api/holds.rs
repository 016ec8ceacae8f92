//! Legal holds: what is kept past its retention and despite erasure requests, and why.

use super::*;
use mamori_core::legal_holds::HoldRequest;
use mamori_proto::holds::{HoldList, LegalHold, PlaceHold};

/// Places a legal hold on a person, on a category for everyone, or on one person's category.
/// The sweep leaves what it covers alone; a held person's erasure waits. Needs the `retention`
/// administrative permission; ledgered.
#[utoipa::path(post, path = "/v1/holds", request_body = PlaceHold,
    responses((status = 201, body = LegalHold), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn place_hold(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(body): Body<PlaceHold>,
) -> ApiResult<(StatusCode, Json<LegalHold>)> {
    let request = HoldRequest {
        subject: body.subject.as_deref().map(subject_id).transpose()?,
        category: body.category,
        reason: body.reason,
        until_ms: body
            .until
            .as_deref()
            .map(|t| parse_time("until", t))
            .transpose()?,
    };
    let hold = s.vault.place_legal_hold(&actor, &request).await?;
    Ok((StatusCode::CREATED, Json(hold)))
}

/// The legal holds in force. Ledgered.
#[utoipa::path(get, path = "/v1/holds",
    responses((status = 200, body = HoldList), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_holds(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<Json<HoldList>> {
    let holds = s.vault.legal_holds(&actor).await?;
    Ok(Json(HoldList { holds }))
}

/// Lifts a legal hold: what it kept follows its retention again, and erasures that waited for
/// it are carried out. Ledgered.
#[utoipa::path(delete, path = "/v1/holds/{id}", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn lift_hold(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = mamori_core::parse_id(&id).ok_or_else(|| {
        ApiError::bad_request(
            ErrorCode::InvalidId,
            "hold ids are UUIDs as returned by POST /v1/holds",
        )
    })?;
    s.vault.lift_legal_hold(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
