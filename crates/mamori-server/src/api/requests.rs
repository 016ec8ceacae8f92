//! The register of data-subject requests: open, list, read, verify, extend, change state.

use super::*;
use mamori_proto::ErrorCode;
pub use mamori_proto::requests::RequestQuery;

use mamori_proto::requests::{ExtendRequest, OpenRequest, SetRequestState, VerifyRequest};
use mamori_proto::{Request, RequestPage, RequestSource};

fn request_id(text: &str) -> ApiResult<[u8; 16]> {
    mamori_core::parse_id(text).ok_or_else(|| {
        ApiError::bad_request(
            ErrorCode::InvalidId,
            "request ids are UUIDs as returned by POST /v1/requests",
        )
    })
}

/// Records a data-subject request that arrived another way (e-mail, letter, phone) or from an
/// agent, with the deadline its jurisdiction sets. Needs a role with the rights purpose.
#[utoipa::path(post, path = "/v1/requests", request_body = OpenRequest,
    responses((status = 201, body = Request), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn open_request(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(body): Body<OpenRequest>,
) -> ApiResult<(StatusCode, Json<Request>)> {
    let subject = body.subject.as_deref().map(subject_id).transpose()?;
    let received_ms = body
        .received_at
        .as_deref()
        .map(|t| parse_time("received_at", t))
        .transpose()?;
    let row = s
        .vault
        .open_request(
            &actor,
            mamori_core::requests::NewRequest {
                kind: body.kind,
                subject,
                jurisdiction: body.jurisdiction,
                source: (body.source).unwrap_or_else(|| RequestSource::Staff.as_str().into()),
                received_ms,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(mamori_core::requests::request_view(&row)),
    ))
}

/// The request queue, by due date: what must be answered first comes first.
#[utoipa::path(get, path = "/v1/requests", params(RequestQuery),
    responses((status = 200, body = RequestPage), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_requests(
    State(s): State<AppState>,
    Caller(actor): Caller,
    query: Result<Query<RequestQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<RequestPage>> {
    let Query(q) = query.map_err(|_| {
        ApiError::bad_request(
            ErrorCode::InvalidQuery,
            "query parameters: state, due_before, subject, reference, after, limit (see /openapi.json)",
        )
    })?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(out_of_range("limit must be between 1 and 1000"));
    }
    let after = match q.after.as_deref() {
        None => None,
        Some(cursor) => {
            let (due, id) = cursor
                .split_once('.')
                .and_then(|(due, id)| Some((due.parse::<i64>().ok()?, mamori_core::parse_id(id)?)))
                .ok_or_else(|| {
                    ApiError::bad_request(
                        ErrorCode::InvalidCursor,
                        "`after` must be the `next` value of the previous page",
                    )
                })?;
            Some((due, id))
        }
    };
    let filter = mamori_core::requests::RequestFilter {
        state: q.state,
        due_before: q
            .due_before
            .as_deref()
            .map(|t| parse_time("due_before", t))
            .transpose()?,
        after,
        subject: q.subject.as_deref().map(subject_id).transpose()?,
        reference: q
            .reference
            .as_deref()
            .map(|text| {
                mamori_core::reference::parse_reference(text).ok_or_else(|| {
                    ApiError::bad_request(
                        ErrorCode::InvalidReference,
                        "`reference` is a request reference such as R-7F3K-92QD",
                    )
                })
            })
            .transpose()?,
        limit,
    };
    let rows = s.vault.list_requests(&actor, &filter).await?;
    let next = (rows.len() as i64 == limit)
        .then(|| {
            rows.last()
                .map(|r| format!("{}.{}", r.due_ms, mamori_core::format_id(&r.id)))
        })
        .flatten();
    Ok(Json(RequestPage {
        requests: rows
            .iter()
            .map(mamori_core::requests::request_view)
            .collect(),
        next,
    }))
}

#[utoipa::path(get, path = "/v1/requests/{id}", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Request), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_request(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Request>> {
    let row = s.vault.request(&actor, &request_id(&id)?).await?;
    Ok(Json(mamori_core::requests::request_view(&row)))
}

/// Extends the deadline once, as far as the request's jurisdiction allows.
#[utoipa::path(post, path = "/v1/requests/{id}/extend", request_body = ExtendRequest, params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Request), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn extend_request(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(body): Body<ExtendRequest>,
) -> ApiResult<Json<Request>> {
    let row = s
        .vault
        .extend_request(&actor, &request_id(&id)?, &body.reason)
        .await?;
    Ok(Json(mamori_core::requests::request_view(&row)))
}

/// Records how staff verified who is asking (once): a request that came by e-mail or post is
/// fulfilled only after this; the privacy center's and agents' requests arrive verified.
#[utoipa::path(post, path = "/v1/requests/{id}/verification", request_body = VerifyRequest, params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Request), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn verify_request(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(body): Body<VerifyRequest>,
) -> ApiResult<Json<Request>> {
    let row = s
        .vault
        .verify_request(&actor, &request_id(&id)?, &body.how)
        .await?;
    Ok(Json(mamori_core::requests::request_view(&row)))
}

/// Works a request through its states; a closed request stays closed, and a request is
/// fulfilled only once its requester is verified (`not_verified`).
#[utoipa::path(post, path = "/v1/requests/{id}/state", request_body = SetRequestState, params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Request), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn set_request_state(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(body): Body<SetRequestState>,
) -> ApiResult<Json<Request>> {
    let row = s
        .vault
        .set_request_state(
            &actor,
            &request_id(&id)?,
            &body.state,
            body.reason.as_deref(),
        )
        .await?;
    Ok(Json(mamori_core::requests::request_view(&row)))
}
