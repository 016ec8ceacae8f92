//! Subjects and their records: create, read, update, erase, look up, export, access log.

use super::*;
use mamori_proto::ErrorCode;
pub use mamori_proto::subjects::{AccessLogQuery, LookupQuery};

pub use mamori_proto::subjects::{
    AccessEvent, AccessLogPage, CreateRecord, CreateSubject, Created, ErasureResult, KeptCategory,
    LookupResult, RecordBody, Records, SubjectBody, SubjectExport, UpdateSubject,
};

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
    responses((status = 200, body = SubjectExport), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn export_subject(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Purpose(purpose): Purpose,
    Path(id): Path<String>,
) -> ApiResult<Json<SubjectExport>> {
    let id = subject_id(&id)?;
    let export = s.vault.export_subject(&actor, &purpose, &id).await?;
    Ok(Json(export.document()))
}

/// The ledger events about a subject, newest first: who (role), why (purpose), what, which
/// categories, allowed or refused. For a role that may use the rights purpose; ledgered.
#[utoipa::path(get, path = "/v1/subjects/{id}/access-log",
    params(("id" = uuid::Uuid, Path), AccessLogQuery),
    responses((status = 200, body = AccessLogPage), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn access_log(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    query: Result<Query<AccessLogQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<AccessLogPage>> {
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
    Ok(Json(AccessLogPage {
        events: log.entries.iter().map(AccessEvent::from).collect(),
        older: log.older,
    }))
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

/// What an erasure did, in the policy's names.
pub fn erasure_result(
    policy: &mamori_policy::Policy,
    plan: &mamori_core::erasure::ErasurePlan,
) -> ErasureResult {
    {
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
    responses((status = 200, body = ErasureResult, description = "erased by crypto-shredding, except what a legal obligation keeps"), (status = 409, body = Problem, content_type = "application/problem+json", description = "a legal hold keeps this person's data"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn erase_subject(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Purpose(purpose): Purpose,
    Path(id): Path<String>,
) -> ApiResult<Json<ErasureResult>> {
    let id = subject_id(&id)?;
    let plan = s.vault.erase_subject(&actor, &purpose, &id).await?;
    Ok(Json(erasure_result(&s.vault.policy, &plan)))
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
            ErrorCode::InvalidQuery,
            "look up by exactly one of ?email=, ?phone= or ?external_id=",
        )
    })?;
    let (kind, value) = match (q.email, q.phone, q.external_id) {
        (Some(v), None, None) => (LookupKind::Email, v),
        (None, Some(v), None) => (LookupKind::Phone, v),
        (None, None, Some(v)) => (LookupKind::ExternalId, v),
        _ => {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidQuery,
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
