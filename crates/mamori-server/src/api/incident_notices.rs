//! Telling people of an incident: prepare the notices to the people it affected (sent by a
//! background job, each person's address read through the access decision), and see where
//! they stand.

use super::incidents::incident_id;
use super::*;
use mamori_core::incidents::impact::ImpactWindow;
use mamori_proto::incident_notices::{NoticeSummary, PrepareNotices, RegulatorDraftQuery};

/// Prepares notices to the people the scope's accesses reached (computed like the impact) and
/// queues them: each goes out once, in the person's language, through the configured mailer.
/// People already noticed for this incident are left as they are. The `Mamori-Purpose` is the
/// one under which the caller's role reads each person's e-mail address when their notice
/// goes out (ledgered per person). A drill's notices are written and never sent. Ledgered.
#[utoipa::path(post, path = "/v1/incidents/{id}/notices", params(("id" = uuid::Uuid, Path), ("Mamori-Purpose" = String, Header, description = "The purpose under which addresses are read")), request_body = PrepareNotices,
    responses((status = 200, body = NoticeSummary), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn prepare_notices(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Purpose(purpose): Purpose,
    Path(id): Path<String>,
    Body(body): Body<PrepareNotices>,
) -> ApiResult<Json<NoticeSummary>> {
    let id = incident_id(&id)?;
    let scope = body.scope;
    let window = ImpactWindow {
        actors: scope.actors,
        from_ms: parse_time("scope.from", &scope.from)?,
        to_ms: parse_time("scope.to", &scope.to)?,
        purposes: scope.purposes,
        categories: scope.categories,
    };
    let summary = s
        .vault
        .prepare_notices(
            &actor,
            &id,
            &purpose,
            &window,
            body.advice.as_ref(),
            body.language.as_deref(),
        )
        .await?;
    Ok(Json(summary))
}

/// Where an incident's notices to people stand: how many per state (pending, sent, uncertain,
/// no address, erased, …) and per category. Counts only. Ledgered.
#[utoipa::path(get, path = "/v1/incidents/{id}/notices", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = NoticeSummary), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn notices_summary(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<NoticeSummary>> {
    let id = incident_id(&id)?;
    Ok(Json(s.vault.incident_notices(&actor, &id).await?))
}

#[derive(askama::Template)]
#[template(path = "regulator_draft.html")]
struct DraftPage {
    lang: &'static str,
    title: String,
    source: String,
    sections: Vec<(String, Vec<(String, bool)>)>,
}

/// A draft as a page to print (the API's `format=html` and the console's link).
pub(crate) fn draft_page(
    draft: &mamori_core::incidents::regulator::RegulatorDraft,
    lang: mamori_policy::Language,
) -> axum::response::Response {
    let page = DraftPage {
        lang: lang.code(),
        title: draft.title.clone(),
        source: draft.source.clone(),
        sections: draft.lines(),
    };
    crate::privacy::html_page(askama::Template::render(&page))
}

/// A draft report to a law's authority, with the contents that law requires: filled in from
/// the register (awareness and its deadline, the kind, containment steps, people and categories
/// from the prepared notices) and marked where staff must complete it. Markdown, or HTML to
/// print. Counts and category names only — never a title, a note or a person. Ledgered; the
/// first draft of an incident is also its `regulator_draft` milestone in the drill report (a
/// GET that records: drafting is a step of the response plan, not a mere read).
#[utoipa::path(get, path = "/v1/incidents/{id}/regulator-draft", params(("id" = uuid::Uuid, Path), RegulatorDraftQuery),
    responses((status = 200, description = "The draft: Markdown, or HTML with `format=html`", content((String = "text/markdown"), (String = "text/html"))), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn regulator_draft(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    query: Result<Query<RegulatorDraftQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let id = incident_id(&id)?;
    let Query(q) = query.map_err(|_| {
        ApiError::bad_request(
            ErrorCode::InvalidQuery,
            "query parameters: jurisdiction, format, lang",
        )
    })?;
    let invalid = |field: &str, why: &str| {
        ApiError::Core(mamori_core::CoreError::invalid(
            ErrorCode::InvalidValue,
            field,
            why,
        ))
    };
    let lang = crate::extract::language(q.lang.as_deref())?;
    let html = match q.format.as_deref() {
        None | Some("markdown") => false,
        Some("html") => true,
        Some(_) => return Err(invalid("format", "markdown or html")),
    };
    let draft = (s.vault)
        .regulator_draft(&actor, &id, &q.jurisdiction, lang)
        .await?;
    if html {
        return Ok(draft_page(&draft, lang));
    }
    let markdown = [(
        axum::http::header::CONTENT_TYPE,
        "text/markdown; charset=utf-8",
    )];
    Ok((markdown, draft.markdown()).into_response())
}
