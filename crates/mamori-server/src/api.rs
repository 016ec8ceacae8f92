//! JSON API handlers. Each one parses into domain types, calls one core service and maps the
//! result; the rules live in `mamori-core`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use mamori_core::vault::{DataInput, RecordView, SubjectView};
use mamori_crypto::LookupKind;
use mamori_ledger::{SignedTreeHead, b64};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::openapi::CommonResponses;

use crate::AppState;
use crate::extract::{Body, Caller, Purpose};
use crate::problem::{ApiError, Problem};

type ApiResult<T> = Result<T, ApiError>;

fn subject_id(text: &str) -> ApiResult<[u8; 16]> {
    mamori_core::parse_id(text).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_id",
            "subject ids are UUIDs as returned by POST /v1/subjects",
        )
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSubject {
    /// The business's own customer id; kept only as a keyed blind index for lookup.
    pub external_id: Option<String>,
    /// `{category: {field: value}}`, with categories and fields declared in the policy.
    #[schema(value_type = Object)]
    pub data: DataInput,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSubject {
    /// Fields to change; `null` removes a field.
    #[schema(value_type = Object)]
    pub data: DataInput,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectBody {
    pub id: String,
    pub created_at: String,
    /// Only the categories the purpose covers and the role may view; masked per role.
    #[schema(value_type = Object)]
    pub data: BTreeMap<String, BTreeMap<String, Value>>,
}

impl From<SubjectView> for SubjectBody {
    fn from(v: SubjectView) -> Self {
        SubjectBody {
            id: v.id,
            created_at: v.created_at,
            data: v.data,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRecord {
    pub category: String,
    #[schema(value_type = Object)]
    pub data: BTreeMap<String, Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordBody {
    pub id: String,
    pub category: String,
    pub created_at: String,
    #[schema(value_type = Object)]
    pub data: BTreeMap<String, Value>,
}

impl From<RecordView> for RecordBody {
    fn from(r: RecordView) -> Self {
        RecordBody {
            id: r.id,
            category: r.category,
            created_at: r.created_at,
            data: r.data,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Records {
    pub records: Vec<RecordBody>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LookupQuery {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub external_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LookupResult {
    /// Matching subject ids (at most one: identifiers are unique).
    pub ids: Vec<String>,
}

#[utoipa::path(post, path = "/v1/subjects", request_body = CreateSubject,
    params(("Mamori-Purpose" = String, Header, description = "purpose of this access")),
    responses((status = 201, body = Created), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_subject(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Purpose(purpose): Purpose,
    Body(body): Body<CreateSubject>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = s
        .vault
        .create_subject(&actor, &purpose, body.external_id.as_deref(), &body.data)
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(get, path = "/v1/subjects/{id}",
    params(("id" = uuid::Uuid, Path), ("Mamori-Purpose" = String, Header, description = "purpose of this access")),
    responses((status = 200, body = SubjectBody), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn read_subject(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Purpose(purpose): Purpose,
    Path(id): Path<String>,
) -> ApiResult<Json<SubjectBody>> {
    let id = subject_id(&id)?;
    Ok(Json(
        s.vault.read_subject(&actor, &purpose, &id).await?.into(),
    ))
}

/// Everything held about a subject, for answering an access or portability request: fields,
/// records and current consents in one JSON document, read for the given purpose (normally
/// `data_subject_rights`, by a role that may use it). Each read is ledgered.
#[utoipa::path(get, path = "/v1/subjects/{id}/export",
    params(("id" = uuid::Uuid, Path), ("Mamori-Purpose" = String, Header, description = "purpose of this access")),
    responses((status = 200, body = Object), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn export_subject(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Purpose(purpose): Purpose,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = subject_id(&id)?;
    let export = s.vault.export_subject(&actor, &purpose, &id).await?;
    Ok(Json(crate::export::json(&export)))
}

/// One ledger event about a subject, as exports and the access-log API show it.
pub fn access_entry_json(e: &mamori_core::access_log::AccessEntry) -> serde_json::Value {
    let (allowed, reason) = match &e.event.outcome {
        mamori_ledger::Outcome::Allowed => (true, None),
        mamori_ledger::Outcome::Denied { reason } => (false, Some(reason.as_str())),
    };
    serde_json::json!({
        "event": e.index,
        "at": mamori_core::format_time(e.event.time_ms),
        "role": e.event.role,
        "purpose": e.event.purpose,
        "action": e.event.action,
        "categories": e.event.categories,
        "allowed": allowed,
        "reason": reason,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccessLogQuery {
    /// Only events numbered below this (from `older` of the previous page).
    pub before: Option<u64>,
    /// Events per page, 1–500 (default 100).
    pub limit: Option<i64>,
}

/// The ledger events about a subject, newest first: who (role), why (purpose), what, which
/// categories, allowed or refused. For a role that may use the rights purpose; ledgered.
#[utoipa::path(get, path = "/v1/subjects/{id}/access-log",
    params(("id" = uuid::Uuid, Path), AccessLogQuery),
    responses((status = 200, body = Object), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn access_log(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    query: Result<Query<AccessLogQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let Query(q) = query.map_err(bad_query)?;
    let id = subject_id(&id)?;
    if q.limit
        .is_some_and(|l| !(1..=mamori_core::access_log::MAX_PAGE).contains(&l))
    {
        return Err(out_of_range("limit must be between 1 and 500"));
    }
    // Event numbers are 64-bit signed in storage (and so in the document).
    if q.before.is_some_and(|b| b > i64::MAX as u64) {
        return Err(out_of_range(
            "before is an event number from an earlier page",
        ));
    }
    let log = s
        .vault
        .access_log(&actor, &id, q.before, q.limit.unwrap_or(100))
        .await?;
    Ok(Json(serde_json::json!({
        "events": log.entries.iter().map(access_entry_json).collect::<Vec<_>>(),
        "older": log.older,
    })))
}

#[utoipa::path(patch, path = "/v1/subjects/{id}", request_body = UpdateSubject,
    params(("id" = uuid::Uuid, Path), ("Mamori-Purpose" = String, Header, description = "purpose of this access")),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn update_subject(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Purpose(purpose): Purpose,
    Path(id): Path<String>,
    Body(body): Body<UpdateSubject>,
) -> ApiResult<StatusCode> {
    let id = subject_id(&id)?;
    s.vault
        .update_subject(&actor, &purpose, &id, &body.data)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What an erasure did: the categories erased at once, and those a legal obligation keeps.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureResult {
    pub erased: Vec<String>,
    pub kept: Vec<KeptCategory>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeptCategory {
    pub category: String,
    /// The legal-obligation purposes that require keeping it.
    pub purposes: Vec<String>,
    /// When it is erased in turn (RFC 3339).
    pub until: String,
}

impl ErasureResult {
    pub fn new(policy: &mamori_policy::Policy, plan: &mamori_core::erasure::ErasurePlan) -> Self {
        ErasureResult {
            erased: policy.category_names(plan.erased),
            kept: plan
                .kept
                .iter()
                .map(|k| KeptCategory {
                    category: policy.categories[k.category].name.clone(),
                    purposes: k
                        .purposes
                        .iter()
                        .map(|&p| policy.purposes[p].name.clone())
                        .collect(),
                    until: mamori_core::format_time(k.until_ms),
                })
                .collect(),
        }
    }
}

#[utoipa::path(delete, path = "/v1/subjects/{id}",
    params(("id" = uuid::Uuid, Path), ("Mamori-Purpose" = String, Header, description = "purpose of this access")),
    responses((status = 200, body = ErasureResult, description = "erased by crypto-shredding, except what a legal obligation keeps"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn erase_subject(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Purpose(purpose): Purpose,
    Path(id): Path<String>,
) -> ApiResult<Json<ErasureResult>> {
    let id = subject_id(&id)?;
    let plan = s.vault.erase_subject(&actor, &purpose, &id).await?;
    Ok(Json(ErasureResult::new(&s.vault.policy, &plan)))
}

#[utoipa::path(get, path = "/v1/subjects", params(LookupQuery, ("Mamori-Purpose" = String, Header, description = "purpose of this access")),
    responses((status = 200, body = LookupResult), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn lookup_subject(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Purpose(purpose): Purpose,
    query: Result<Query<LookupQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<LookupResult>> {
    let Query(q) = query.map_err(|_| {
        ApiError::bad_request(
            "invalid_query",
            "look up by exactly one of ?email=, ?phone= or ?external_id=",
        )
    })?;
    let (kind, value) = match (q.email, q.phone, q.external_id) {
        (Some(v), None, None) => (LookupKind::Email, v),
        (None, Some(v), None) => (LookupKind::Phone, v),
        (None, None, Some(v)) => (LookupKind::ExternalId, v),
        _ => {
            return Err(ApiError::bad_request(
                "invalid_query",
                "look up by exactly one of ?email=, ?phone= or ?external_id=",
            ));
        }
    };
    Ok(Json(LookupResult {
        ids: s.vault.lookup(&actor, &purpose, kind, &value).await?,
    }))
}

#[utoipa::path(post, path = "/v1/subjects/{id}/records", request_body = CreateRecord,
    params(("id" = uuid::Uuid, Path), ("Mamori-Purpose" = String, Header, description = "purpose of this access")),
    responses((status = 201, body = Created), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn add_record(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Purpose(purpose): Purpose,
    Path(id): Path<String>,
    Body(body): Body<CreateRecord>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = subject_id(&id)?;
    let record = s
        .vault
        .add_record(&actor, &purpose, &id, &body.category, &body.data)
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: record })))
}

#[utoipa::path(get, path = "/v1/subjects/{id}/records",
    params(("id" = uuid::Uuid, Path), ("Mamori-Purpose" = String, Header, description = "purpose of this access")),
    responses((status = 200, body = Records), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_records(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Purpose(purpose): Purpose,
    Path(id): Path<String>,
) -> ApiResult<Json<Records>> {
    let id = subject_id(&id)?;
    let records = s.vault.list_records(&actor, &purpose, &id).await?;
    Ok(Json(Records {
        records: records.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeadBody {
    pub size: u64,
    pub timestamp_ms: i64,
    /// Base64 SHA-256 root hash.
    pub root: String,
    /// Base64 Ed25519 signature over the head.
    pub signature: String,
    /// Hex Ed25519 public key that signs tree heads.
    pub public_key: String,
}

fn head_body(sth: &SignedTreeHead, key: &mamori_ledger::VerifyingKey) -> HeadBody {
    HeadBody {
        size: sth.head.size,
        timestamp_ms: sth.head.timestamp_ms,
        root: b64::encode(&sth.head.root),
        signature: b64::encode(&sth.signature),
        public_key: hex::encode(key.as_bytes()),
    }
}

#[utoipa::path(get, path = "/v1/ledger/head", responses((status = 200, body = HeadBody), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub async fn ledger_head(
    State(s): State<AppState>,
    Caller(_): Caller,
) -> ApiResult<Json<HeadBody>> {
    let head = s.vault.latest_head().ok_or(ApiError::Plain {
        status: StatusCode::NOT_FOUND,
        code: "empty_ledger",
        detail: "the ledger has no events yet".into(),
        field: None,
    })?;
    Ok(Json(head_body(&head, &s.vault.ledger_public_key())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    /// Leaf index, from 0.
    pub leaf: u64,
    /// Tree size; defaults to the latest signed head.
    pub size: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionBody {
    pub leaf: u64,
    pub size: u64,
    pub leaf_hash: String,
    pub root: String,
    pub proof: Vec<String>,
}

fn out_of_range(detail: &str) -> ApiError {
    ApiError::Plain {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "out_of_range",
        detail: detail.into(),
        field: None,
    }
}

fn bad_query<E>(_: E) -> ApiError {
    ApiError::bad_request(
        "invalid_query",
        "query parameters must be non-negative integers as documented in /openapi.json",
    )
}

#[utoipa::path(get, path = "/v1/ledger/proof/inclusion", params(InclusionQuery), responses((status = 200, body = InclusionBody), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub async fn inclusion_proof(
    State(s): State<AppState>,
    Caller(_): Caller,
    query: Result<Query<InclusionQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<InclusionBody>> {
    let Query(q) = query.map_err(bad_query)?;
    let vault = &s.vault;
    let size = q.size.unwrap_or_else(|| vault.ledger_size());
    let (leaf_hash, proof) = vault
        .ledger_inclusion_proof(q.leaf, size)
        .await?
        .ok_or_else(|| {
            out_of_range("leaf must be below size, and size at most the committed ledger size")
        })?;
    let root = vault
        .ledger_root(size)
        .await?
        .ok_or_else(|| out_of_range("size beyond the ledger"))?;
    Ok(Json(InclusionBody {
        leaf: q.leaf,
        size,
        leaf_hash: b64::encode(&leaf_hash),
        root: b64::encode(&root),
        proof: proof.iter().map(|h| b64::encode(h)).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    pub first: u64,
    pub second: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyBody {
    pub first: u64,
    pub second: u64,
    pub first_root: String,
    pub second_root: String,
    pub proof: Vec<String>,
}

#[utoipa::path(get, path = "/v1/ledger/proof/consistency", params(ConsistencyQuery), responses((status = 200, body = ConsistencyBody), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub async fn consistency_proof(
    State(s): State<AppState>,
    Caller(_): Caller,
    query: Result<Query<ConsistencyQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ConsistencyBody>> {
    let Query(q) = query.map_err(bad_query)?;
    let vault = &s.vault;
    let proof = vault
        .ledger_consistency_proof(q.first, q.second)
        .await?
        .ok_or_else(|| out_of_range("need 0 < first ≤ second ≤ committed ledger size"))?;
    let (r1, r2) = (
        vault.ledger_root(q.first).await?,
        vault.ledger_root(q.second).await?,
    );
    let (Some(r1), Some(r2)) = (r1, r2) else {
        return Err(out_of_range("size beyond the ledger"));
    };
    Ok(Json(ConsistencyBody {
        first: q.first,
        second: q.second,
        first_root: b64::encode(&r1),
        second_root: b64::encode(&r2),
        proof: proof.iter().map(|h| b64::encode(h)).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub backend: &'static str,
    pub ledger_size: u64,
}

#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
pub async fn healthz(State(s): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        backend: s.vault.backend(),
        ledger_size: s.vault.ledger_size(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetConsent {
    /// A purpose of the policy whose legal basis is consent.
    pub purpose: String,
    /// One of the purpose's channels (email, sms, push, phone, post); leave out if it has none.
    pub channel: Option<String>,
    /// true grants, false withdraws.
    pub granted: bool,
    /// How it was collected: portal, api (default), import, gpc, agent.
    pub source: Option<String>,
    /// The version of the notice the person saw.
    pub notice_version: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConsentQuery {
    pub purpose: String,
    pub channel: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentBody {
    pub allowed: bool,
    /// granted, withdrawn, no_record (not granted: privacy by default), not_consent_based, or
    /// reconsent_required (granted under a notice that did not yet describe what the purpose
    /// covers now).
    pub reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// The purpose's categories this consent covers now.
    pub covers: Vec<String>,
    /// Categories added to the purpose after the notice the person agreed to: not covered until
    /// they agree again.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reconsent: Vec<String>,
    /// After a change: the consent receipt, a JWS (EdDSA) signed with the ledger key; its
    /// header's `kid` is the public key in base64url (`public_key` of `GET /v1/ledger/head`, in hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
}

impl ConsentBody {
    fn new(policy: &mamori_policy::Policy, a: mamori_core::consent::ConsentAnswer) -> Self {
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
    Ok(Json(ConsentBody::new(&s.vault.policy, answer)))
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
            "invalid_query",
            "give `purpose` (and `channel` for purposes consented per channel), nothing else",
        )
    })?;
    let answer = s
        .vault
        .check_consent(&actor, &id, &q.purpose, q.channel.as_deref())
        .await?;
    Ok(Json(ConsentBody::new(&s.vault.policy, answer)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptRequest {
    /// A consent receipt (JWS compact) as returned by `PUT /v1/consent/{id}`.
    pub receipt: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptBody {
    pub receipt_id: String,
    pub subject: String,
    pub purpose: String,
    pub channel: String,
    pub granted: bool,
    /// Still the latest decision for this subject, purpose and channel. A genuine but replaced
    /// receipt (e.g. a grant since withdrawn) proves only that the decision was made then.
    pub current: bool,
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceFilter {
    /// A consent-based purpose.
    pub purpose: String,
    /// One of its channels (leave out if it has none).
    pub channel: Option<String>,
    /// Up to 100,000 subject ids.
    pub subjects: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AudienceBody {
    /// The given ids that may be contacted (granted, not erased), in the order given.
    pub allowed: Vec<String>,
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
                    "invalid_id",
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

/// `{"allowed":[…]}`, written part by part as each slice of the audience is checked, so the
/// first ids reach the caller before the last are looked up. A storage failure mid-way ends
/// the response early (the JSON is then incomplete, never wrong).
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
    let state = (
        Box::pin(lookups),
        Some(String::from("{\"allowed\":[")),
        true,
    );
    futures_util::stream::unfold(state, |(mut lookups, prefix, first)| async move {
        let mut out = prefix?;
        let mut first = first;
        match lookups.next().await {
            None => {
                out.push_str("]}");
                return Some((Ok(out), (lookups, None, first)));
            }
            Some(Ok(allowed)) => {
                for id in allowed {
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    out.push('"');
                    out.push_str(&mamori_core::format_id(&id));
                    out.push('"');
                }
            }
            Some(Err(e)) => {
                tracing::error!(error = %e, "audience filter failed mid-way; response cut short");
                return Some((
                    Err(std::io::Error::other("audience filter failed")),
                    (lookups, None, first),
                ));
            }
        }
        Some((Ok(out), (lookups, Some(String::new()), first)))
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// The `seq` of the last event already processed (0 to start from the beginning).
    pub after: Option<i64>,
    /// At most this many events (1–1000, default 100).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedBody {
    /// Oldest first: `{seq, id, type, timestamp, data}`; data holds ids and states only.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<mamori_core::outbox::FeedEvent>,
    /// Pass as `after` for the next page.
    pub next: i64,
}

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
            "invalid_query",
            "`after` and `limit` are integers (limit 1–1000)",
        )
    })?;
    let after = q.after.unwrap_or(0);
    let limit = q.limit.unwrap_or(100);
    if after < 0 || !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "`after` is 0 or a seq from this feed; `limit` is 1–1000",
        ));
    }
    let events = s.vault.events_after(&actor, after, limit).await?;
    let next = events.last().map_or(after, |e| e.seq);
    Ok(Json(FeedBody { events, next }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddWebhook {
    /// Where events are POSTed (http or https).
    pub url: String,
    /// Event types: consent.changed, subject.erased, or * for all.
    pub events: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookBody {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: String,
    /// Last outbox seq handled.
    pub cursor: i64,
    /// Failed attempts on the next event.
    pub attempts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_status: Option<i64>,
    /// Only when created: the Standard Webhooks signing secret (`whsec_…`), shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<mamori_core::webhooks::WebhookInfo> for WebhookBody {
    fn from(w: mamori_core::webhooks::WebhookInfo) -> Self {
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
            "invalid_url",
            "url",
            "give an http:// or https:// URL of at most 2000 characters",
        )));
    }
    let (info, secret) = s.vault.add_webhook(&actor, &body.url, &body.events).await?;
    let mut out = WebhookBody::from(info);
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
    Ok(Json(list.into_iter().map(WebhookBody::from).collect()))
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Deliver again every wanted event from this feed position (`seq`) on, dead letters included.
    pub from: i64,
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
            "invalid_value",
            "from",
            "feed positions start at 1",
        )));
    }
    s.vault.replay_webhook(&actor, &id, body.from).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    pub purpose: String,
    pub channel: Option<String>,
    /// Validity in days (1–366, default 60).
    pub ttl_days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkBody {
    /// Append to your public base URL, e.g. in `List-Unsubscribe: <https://…/unsubscribe?token=…>`.
    pub path: String,
    pub token: String,
    pub expires_at: String,
    /// The header to send with it (RFC 8058).
    pub list_unsubscribe_post: &'static str,
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
        list_unsubscribe_post: "List-Unsubscribe=One-Click",
    }))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Mamori API", description = "Privacy-first customer data vault: purpose-bound access, field encryption, verifiable ledger."),
    paths(create_subject, read_subject, export_subject, access_log, open_request, list_requests, get_request, extend_request, set_request_state, update_subject, erase_subject, lookup_subject, add_record, list_records, ledger_head, inclusion_proof, consistency_proof, set_consent, check_consent, verify_receipt, filter_audience, unsubscribe_link, events, add_webhook, list_webhooks, remove_webhook, replay_webhook, crate::scrub::scrub_texts, crate::drp::pair, crate::drp::agent_information, crate::drp::submit, crate::drp::status, crate::drp::revoke, crate::surveys::create, crate::surveys::list, crate::surveys::close, crate::surveys::results, crate::surveys::respond, crate::surveys::chart, crate::surveys::results_csv, crate::surveys::invite, crate::surveys::issuer, crate::surveys::token, crate::surveys::release, crate::surveys::releases, crate::surveys::privacy_report, crate::surveys::texts, healthz, crate::health::readyz),
    components(schemas(Problem)),
    modifiers(&BearerAuth, &CommonResponses)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenRequest {
    /// access, portability, rectification, erasure, restriction, objection, opt_out_of_sale.
    pub kind: String,
    /// The person, once identified (a subject id).
    pub subject: Option<String>,
    /// gdpr, ccpa, lgpd or appi: sets the deadline.
    pub jurisdiction: String,
    /// privacy_center, staff (default) or agent.
    pub source: Option<String>,
    /// RFC 3339; when the request arrived, if before now (entered from the inbox).
    pub received_at: Option<String>,
}

fn parse_time(field: &'static str, text: &str) -> ApiResult<i64> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| {
            ApiError::Core(mamori_core::CoreError::invalid(
                "invalid_time",
                field,
                "give a time as RFC 3339, e.g. 2026-11-24T09:30:00Z",
            ))
        })
}

fn request_id(text: &str) -> ApiResult<[u8; 16]> {
    mamori_core::parse_id(text).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_id",
            "request ids are UUIDs as returned by POST /v1/requests",
        )
    })
}

/// Records a data-subject request that arrived another way (e-mail, letter, phone) or from an
/// agent, with the deadline its jurisdiction sets. Needs a role with the rights purpose.
#[utoipa::path(post, path = "/v1/requests", request_body = OpenRequest,
    responses((status = 201, body = Object), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn open_request(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(body): Body<OpenRequest>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
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
                source: body.source.unwrap_or_else(|| "staff".into()),
                received_ms,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(mamori_core::requests::request_json(&row)),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RequestQuery {
    /// Only this state (default: every request not closed).
    pub state: Option<String>,
    /// Only requests due before this time (RFC 3339).
    pub due_before: Option<String>,
    /// Only this person's requests.
    pub subject: Option<String>,
    /// The request with this short reference (`R-7F3K-92QD`, as the person was given it; any
    /// case, dashes optional), whatever its state unless `state` is given.
    pub reference: Option<String>,
    /// The `next` of the previous page.
    pub after: Option<String>,
    /// 1–1000, default 100.
    pub limit: Option<i64>,
}

/// The request queue, by due date: what must be answered first comes first.
#[utoipa::path(get, path = "/v1/requests", params(RequestQuery),
    responses((status = 200, body = Object), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_requests(
    State(s): State<AppState>,
    Caller(actor): Caller,
    query: Result<Query<RequestQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let Query(q) = query.map_err(|_| {
        ApiError::bad_request(
            "invalid_query",
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
                        "invalid_cursor",
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
                        "invalid_reference",
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
    Ok(Json(serde_json::json!({
        "requests": rows.iter().map(mamori_core::requests::request_json).collect::<Vec<_>>(),
        "next": next,
    })))
}

#[utoipa::path(get, path = "/v1/requests/{id}", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Object), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_request(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let row = s.vault.request(&actor, &request_id(&id)?).await?;
    Ok(Json(mamori_core::requests::request_json(&row)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendRequest {
    /// complexity or number_of_requests.
    pub reason: String,
}

/// Extends the deadline once, as far as the request's jurisdiction allows.
#[utoipa::path(post, path = "/v1/requests/{id}/extend", request_body = ExtendRequest, params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Object), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn extend_request(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(body): Body<ExtendRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    let row = s
        .vault
        .extend_request(&actor, &request_id(&id)?, &body.reason)
        .await?;
    s.vault.notify_agent_of(&s.callbacks, &row).await;
    Ok(Json(mamori_core::requests::request_json(&row)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestState {
    /// in_progress, fulfilled, denied, revoked or expired.
    pub state: String,
    /// For a denial: a Data Rights Protocol reason code.
    pub reason: Option<String>,
}

/// Works a request through its states; a closed request stays closed.
#[utoipa::path(post, path = "/v1/requests/{id}/state", request_body = RequestState, params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Object), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn set_request_state(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(body): Body<RequestState>,
) -> ApiResult<Json<serde_json::Value>> {
    let row = s
        .vault
        .set_request_state(
            &actor,
            &request_id(&id)?,
            &body.state,
            body.reason.as_deref(),
        )
        .await?;
    s.vault.notify_agent_of(&s.callbacks, &row).await;
    Ok(Json(mamori_core::requests::request_json(&row)))
}
