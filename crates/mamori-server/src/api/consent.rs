//! Consent per purpose and channel, receipts, the audience filter, unsubscribe links.

use super::*;
use mamori_proto::ErrorCode;
pub use mamori_proto::consent::{
    AudienceBody, AudienceFilter, ConsentBody, ConsentQuery, LinkBody, LinkRequest, ReceiptBody,
    ReceiptRequest, SetConsent,
};

/// A consent answer in the policy's names.
fn consent_body(
    policy: &mamori_policy::Policy,
    a: mamori_core::consent::ConsentAnswer,
) -> ConsentBody {
    {
        ConsentBody {
            allowed: a.allowed,
            reason: a.reason,
            notice_version: a.notice_version,
            updated_at: a.updated_at,
            covers: policy.category_names(a.covers),
            reconsent: policy.category_names(a.reconsent),
            receipt: a.receipt,
        }
    }
}

/// Grants or withdraws consent for one purpose (and channel). Takes effect for the next access.
/// With `Sec-GPC: 1` the person is first opted out of every purpose flagged `sale_or_share`
/// (source `gpc`); an explicit grant in the same request then applies after it.
#[utoipa::path(put, path = "/v1/consent/{id}", request_body = SetConsent,
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ConsentBody), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn set_consent(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    Body(body): Body<SetConsent>,
) -> ApiResult<Json<ConsentBody>> {
    let id = subject_id(&id)?;
    if crate::extract::sends_gpc(&headers) {
        s.vault.apply_gpc(&actor, &id).await?;
    }
    let change = mamori_core::consent::ConsentChange {
        purpose: body.purpose,
        channel: body.channel,
        granted: body.granted,
        source: body.source,
        notice_version: body.notice_version,
    };
    let answer = s.vault.set_consent(&actor, &id, &change).await?;
    Ok(Json(consent_body(&s.vault.policy, answer)))
}

/// Whether the subject may be processed for a purpose (on a channel), and why. `Sec-GPC: 1`
/// records the opt-out of sale/sharing first, so the answer already reflects it.
#[utoipa::path(get, path = "/v1/consent/{id}",
    params(("id" = uuid::Uuid, Path), ConsentQuery),
    responses((status = 200, body = ConsentBody), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn check_consent(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    query: Result<Query<ConsentQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ConsentBody>> {
    let id = subject_id(&id)?;
    if crate::extract::sends_gpc(&headers) {
        s.vault.apply_gpc(&actor, &id).await?;
    }
    let Query(q) = query.map_err(|_| {
        ApiError::bad_request(
            ErrorCode::InvalidQuery,
            "give `purpose` (and `channel` for purposes consented per channel), nothing else",
        )
    })?;
    let answer = s
        .vault
        .check_consent(&actor, &id, &q.purpose, q.channel.as_deref())
        .await?;
    Ok(Json(consent_body(&s.vault.policy, answer)))
}

/// Checks a consent receipt: signed by this Mamori's ledger key, and still the current decision?
#[utoipa::path(post, path = "/v1/consent/receipts/verify", request_body = ReceiptRequest,
    responses((status = 200, body = ReceiptBody), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn verify_receipt(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(body): Body<ReceiptRequest>,
) -> ApiResult<Json<ReceiptBody>> {
    let c = s.vault.verify_receipt(&actor, &body.receipt).await?;
    Ok(Json(ReceiptBody {
        receipt_id: c.receipt_id,
        subject: c.subject,
        purpose: c.purpose,
        channel: c.channel,
        granted: c.granted,
        current: c.current,
    }))
}

/// Campaign audience filtering: which of these subjects may be contacted for the purpose on the
/// channel. One ledger event per call. Bodies up to 8 MiB.
#[utoipa::path(post, path = "/v1/consent/filter", request_body = AudienceFilter,
    responses((status = 200, body = AudienceBody), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 413, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn filter_audience(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(body): Body<AudienceFilter>,
) -> ApiResult<axum::response::Response> {
    let ids = body
        .subjects
        .iter()
        .enumerate()
        .map(|(i, text)| {
            mamori_core::parse_id(text).ok_or_else(|| {
                ApiError::Core(mamori_core::CoreError::invalid(
                    ErrorCode::InvalidId,
                    format!("subjects[{i}]"),
                    "subject ids are UUIDs as returned by POST /v1/subjects",
                ))
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let audience = s
        .vault
        .open_audience(&actor, &body.purpose, body.channel.as_deref(), ids.len())
        .await?;
    let body = axum::body::Body::from_stream(audience_stream(s.vault.clone(), audience, ids));
    Ok(axum::response::IntoResponse::into_response((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )))
}

/// Ids checked per streamed part of an audience-filter answer.
const AUDIENCE_PART: usize = 10_000;

/// Parts looked up at once: each is a few milliseconds of B-tree seeks on one core, so one
/// call uses every core (up to four), while its answer still streams in the order given.
fn audience_lookups_at_once() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// `{"allowed":[…]}`, written part by part as each slice of the audience is checked.
fn audience_stream(
    vault: mamori_core::Vault,
    audience: mamori_core::consent::Audience,
    ids: Vec<[u8; 16]>,
) -> impl futures_util::Stream<Item = Result<String, std::io::Error>> {
    use futures_util::StreamExt;
    let parts: Vec<Vec<[u8; 16]>> = ids.chunks(AUDIENCE_PART).map(<[_]>::to_vec).collect();
    let lookups = futures_util::stream::iter(parts)
        .map(move |part| {
            let (vault, audience) = (vault.clone(), audience.clone());
            async move { vault.audience_part(&audience, &part).await }
        })
        .buffered(audience_lookups_at_once());
    let write = |out: &mut String, id: [u8; 16]| {
        out.push('"');
        out.push_str(&mamori_core::format_id(&id));
        out.push('"');
    };
    let prefix = String::from("{\"allowed\":[");
    super::streamed::json_array(lookups, prefix, "audience filter", write)
}

/// A one-click unsubscribe link (RFC 8058) for one subject, purpose and channel.
#[utoipa::path(post, path = "/v1/consent/{id}/unsubscribe-link", request_body = LinkRequest,
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = LinkBody), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn unsubscribe_link(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(body): Body<LinkRequest>,
) -> ApiResult<Json<LinkBody>> {
    let id = subject_id(&id)?;
    let link = s
        .vault
        .unsubscribe_link(
            &actor,
            &id,
            &body.purpose,
            body.channel.as_deref(),
            body.ttl_days.unwrap_or(60),
        )
        .await?;
    Ok(Json(LinkBody {
        path: format!("/unsubscribe?token={}", link.token),
        token: link.token,
        expires_at: mamori_core::format_time(link.expires_ms),
        list_unsubscribe_post: "List-Unsubscribe=One-Click".into(),
    }))
}
