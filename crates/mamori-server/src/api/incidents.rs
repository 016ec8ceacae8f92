//! The incident register: open an incident, read the register and one incident's timeline, add
//! to it. Needs the `incidents` administrative permission; every step ledgered.

use super::*;
use mamori_core::incidents::impact::ImpactWindow;
use mamori_proto::incidents::{
    AddEntry, Contain, DeadlineQuery, DrillReport, Impact, ImpactScope, Incident,
    IncidentDeadlines, IncidentDetail, IncidentList, OpenIncident, StartDrill,
};

pub(super) fn incident_id(text: &str) -> ApiResult<[u8; 16]> {
    mamori_core::parse_id(text).ok_or_else(|| {
        ApiError::bad_request(
            ErrorCode::InvalidId,
            "incident ids are UUIDs as returned by POST /v1/incidents",
        )
    })
}

/// Opens an incident: what happened, its kind and severity, and when the business became
/// aware of it (the legal clocks run from there). The title is stored sealed. Ledgered.
#[utoipa::path(post, path = "/v1/incidents", request_body = OpenIncident,
    responses((status = 201, body = Incident), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn open_incident(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(body): Body<OpenIncident>,
) -> ApiResult<(StatusCode, Json<Incident>)> {
    let detected_ms = (body.detected_at.as_deref())
        .map(|t| parse_time("detected_at", t))
        .transpose()?;
    let incident = s
        .vault
        .open_incident(&actor, &body, detected_ms, false)
        .await?;
    Ok((StatusCode::CREATED, Json(incident)))
}

/// The incident register, newest first. Ledgered.
#[utoipa::path(get, path = "/v1/incidents",
    responses((status = 200, body = IncidentList), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_incidents(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<Json<IncidentList>> {
    let incidents = s.vault.incidents(&actor).await?;
    Ok(Json(IncidentList { incidents }))
}

/// One incident and its whole timeline, oldest entry first. Ledgered.
#[utoipa::path(get, path = "/v1/incidents/{id}", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = IncidentDetail), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_incident(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<IncidentDetail>> {
    let id = incident_id(&id)?;
    Ok(Json(s.vault.incident(&actor, &id).await?))
}

/// Adds one entry to an incident's timeline — a note, a status moved forward, a revised
/// severity or a link to an API key, a member of staff or a vendor — against the version last
/// read (409 `concurrent_update` if it changed since, 409 `incident_closed` once closed).
/// Entries are never changed or removed. Ledgered.
#[utoipa::path(post, path = "/v1/incidents/{id}/entries", params(("id" = uuid::Uuid, Path)), request_body = AddEntry,
    responses((status = 200, body = IncidentDetail), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn add_incident_entry(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(body): Body<AddEntry>,
) -> ApiResult<Json<IncidentDetail>> {
    let id = incident_id(&id)?;
    Ok(Json(s.vault.add_incident_entry(&actor, &id, &body).await?))
}

/// Computes the incident's impact from the ledger: the people the scope's actors (API keys
/// `key:ID`, staff `staff:ID`) reached in the window, per person the categories, actions and
/// when, counts per category, and what each actor's role could have reached. Ids and counts
/// only. Ledgered.
#[utoipa::path(post, path = "/v1/incidents/{id}/impact", params(("id" = uuid::Uuid, Path)), request_body = ImpactScope,
    responses((status = 200, body = Impact), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn incident_impact(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(body): Body<ImpactScope>,
) -> ApiResult<Json<Impact>> {
    let id = incident_id(&id)?;
    let window = ImpactWindow {
        actors: body.actors,
        from_ms: parse_time("from", &body.from)?,
        to_ms: parse_time("to", &body.to)?,
        purposes: body.purposes,
        categories: body.categories,
    };
    Ok(Json(s.vault.incident_impact(&actor, &id, &window).await?))
}

/// Takes a containment step from the incident — revoke an API key, disable a member of staff —
/// and records it on the timeline, linked. The step needs its own permission (`api_keys`,
/// `staff`); each is ledgered. Refused on a closed incident or a version changed since read.
#[utoipa::path(post, path = "/v1/incidents/{id}/containment", params(("id" = uuid::Uuid, Path)), request_body = Contain,
    responses((status = 200, body = IncidentDetail), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn contain_incident(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(body): Body<Contain>,
) -> ApiResult<Json<IncidentDetail>> {
    let id = incident_id(&id)?;
    Ok(Json(s.vault.contain_incident(&actor, &id, &body).await?))
}

/// Who must be told of the incident, by when: each law's duties (authority, people, …) with its
/// clock from `detected_at`, from the shipped table (its sources cited; when it was last
/// reviewed is in the answer). Default: the policy's laws. Ledgered.
#[utoipa::path(get, path = "/v1/incidents/{id}/deadlines", params(("id" = uuid::Uuid, Path), DeadlineQuery),
    responses((status = 200, body = IncidentDeadlines), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn incident_deadlines(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    query: Result<Query<DeadlineQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<IncidentDeadlines>> {
    let id = incident_id(&id)?;
    let Query(q) = query.map_err(|_| {
        ApiError::bad_request(ErrorCode::InvalidQuery, "query parameters: jurisdictions")
    })?;
    let laws = (q.jurisdictions.as_deref()).map(|text| {
        (text.split(','))
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    });
    Ok(Json(s.vault.incident_deadlines(&actor, &id, laws).await?))
}

/// Starts a tabletop drill from a shipped scenario: a drill incident, marked as such
/// everywhere, worked like a real one; nothing it does sends anything real. Ledgered.
#[utoipa::path(post, path = "/v1/drills", request_body = StartDrill,
    responses((status = 201, body = Incident), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn start_drill(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(body): Body<StartDrill>,
) -> ApiResult<(StatusCode, Json<Incident>)> {
    let lang = crate::extract::language(body.lang.as_deref())?;
    let incident = s.vault.start_drill(&actor, &body.scenario, lang).await?;
    Ok((StatusCode::CREATED, Json(incident)))
}

/// How the response to an incident went, from its timeline: when each milestone was reached
/// after awareness, which were skipped, which deadlines ran out first. Ledgered.
#[utoipa::path(get, path = "/v1/incidents/{id}/drill-report", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = DrillReport), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn drill_report(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DrillReport>> {
    let id = incident_id(&id)?;
    Ok(Json(s.vault.drill_report(&actor, &id).await?))
}
