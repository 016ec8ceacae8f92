//! Surveys over the API (define, list, close, results; JSON responses) and the public survey
//! page (`/survey/{slug}`, en/ja/fr, a plain form that needs no JavaScript and loads nothing from
//! elsewhere). Anonymous responses keep nothing of the request: no address, user agent or cookie
//! reaches the core; the address only feeds an in-memory rate limit.

use mamori_proto::ErrorCode;
pub use mamori_proto::surveys::{ReportQuery, ResultsQuery, TextsQuery};
use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use mamori_core::survey_tokens::Invitation;
use mamori_core::surveys::{Access, QuestionKind, RawAnswers, StoredSurvey, SurveyDefinition};
use mamori_policy::Language;
use mamori_proto::reports::PrivacyReport;
use mamori_proto::surveys::{
    ReleaseMade, ReleaseRequest, Releases, ResponseRequest, SurveyResults, SurveySummary, TextsPage,
};
use serde::Deserialize;
use serde_json::Value;

use crate::AppState;
use crate::extract::{Body, Caller, Params};
use crate::privacy::{html_page, html_page_with_script, page_language};
use crate::problem::{ApiError, Problem};

mod charts;
mod pages;
pub(crate) use charts::draw_chart;
pub(crate) use pages::text_in;
mod tokens;

pub use charts::*;
pub use pages::*;
pub use tokens::*;

type ApiResult<T> = Result<T, ApiError>;

/// Survey answers per address are counted per minute.
fn rate_limited() -> ApiError {
    ApiError::RateLimited { retry_after: 60 }
}

/// Defines a survey from the same structure as a survey file (`mamori survey create`).
#[utoipa::path(post, path = "/v1/surveys", request_body = SurveyDefinition,
    responses((status = 201, body = SurveySummary), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(definition): Body<SurveyDefinition>,
) -> ApiResult<(StatusCode, Json<SurveySummary>)> {
    let survey = mamori_core::surveys::Survey::check(&s.vault.policy, definition)?;
    let stored = s.vault.create_survey(&actor, survey).await?;
    Ok((StatusCode::CREATED, Json(stored.summary(s.vault.today()))))
}

#[utoipa::path(get, path = "/v1/surveys",
    responses((status = 200, body = Vec<SurveySummary>), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<Json<Vec<SurveySummary>>> {
    let all = s.vault.list_surveys(&actor).await?;
    let today = s.vault.today();
    Ok(Json(all.iter().map(|v| v.summary(today)).collect()))
}

#[utoipa::path(post, path = "/v1/surveys/{slug}/close",
    params(("slug" = String, Path)),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn close(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(slug): Path<String>,
) -> ApiResult<StatusCode> {
    s.vault.close_survey(&actor, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Aggregates per question (and a breakdown by a single-choice question); every group smaller
/// than the survey's k is suppressed and marked.
#[utoipa::path(get, path = "/v1/surveys/{slug}/results",
    params(("slug" = String, Path), ResultsQuery),
    responses((status = 200, body = SurveyResults), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn results(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(slug): Path<String>,
    Params(q): Params<ResultsQuery>,
) -> ApiResult<Json<SurveyResults>> {
    Ok(Json(
        s.vault
            .survey_results(&actor, &slug, q.by.as_deref())
            .await?,
    ))
}

/// The scrubbed free-text answers to one question, a page at a time; none until the question
/// has k answers.
#[utoipa::path(get, path = "/v1/surveys/{slug}/texts",
    params(("slug" = String, Path), TextsQuery),
    responses((status = 200, body = TextsPage), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn texts(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(slug): Path<String>,
    Params(q): Params<TextsQuery>,
) -> ApiResult<Json<TextsPage>> {
    Ok(Json(
        s.vault
            .survey_texts(&actor, &slug, &q.question, q.after.as_deref(), q.limit)
            .await?,
    ))
}

/// A differentially private release of a survey's results (OpenDP discrete Laplace noise on
/// every count and sum), spending `epsilon` of the survey's budget; refused once it is spent.
#[utoipa::path(post, path = "/v1/surveys/{slug}/releases", request_body = ReleaseRequest,
    params(("slug" = String, Path)),
    responses((status = 201, body = ReleaseMade), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn release(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(slug): Path<String>,
    Body(body): Body<ReleaseRequest>,
) -> ApiResult<(StatusCode, Json<ReleaseMade>)> {
    let release = s
        .vault
        .release_survey_results(&actor, &slug, body.epsilon)
        .await?;
    Ok((StatusCode::CREATED, Json(release)))
}

/// Every release of a differentially private survey, and its ε budget: total, spent, left.
#[utoipa::path(get, path = "/v1/surveys/{slug}/releases",
    params(("slug" = String, Path)),
    responses((status = 200, body = Releases), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn releases(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<Releases>> {
    Ok(Json(s.vault.survey_releases(&actor, &slug).await?))
}

fn raw_answers(answers: &serde_json::Map<String, Value>) -> Result<RawAnswers, ApiError> {
    let mut raw = RawAnswers::new();
    for (q, v) in answers {
        let values = match v {
            Value::String(t) => vec![t.clone()],
            Value::Number(n) => vec![n.to_string()],
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(bad_shape)?,
            _ => return Err(bad_shape()),
        };
        raw.insert(q.clone(), values);
    }
    Ok(raw)
}

fn bad_shape() -> ApiError {
    ApiError::Core(mamori_core::CoreError::invalid(
        ErrorCode::InvalidAnswer,
        "answers",
        "each answer is a number, a choice id, a list of choice ids or a text",
    ))
}

/// One anonymous response (for the business's own apps; people use the survey page). No key:
/// respondents have none. Limited per address in memory; nothing of the request is stored.
#[utoipa::path(post, path = "/v1/surveys/{slug}/responses", request_body = ResponseRequest,
    params(("slug" = String, Path)),
    responses((status = 204), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 413, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn respond(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(slug): Path<String>,
    Body(body): Body<ResponseRequest>,
) -> ApiResult<StatusCode> {
    if !s.limits.allow_survey_response(peer.ip()) {
        return Err(rate_limited());
    }
    let token = body
        .token
        .as_deref()
        .map(|t| base64_field("token", t))
        .transpose()?;
    s.vault
        .respond(&slug, &raw_answers(&body.answers)?, token.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The privacy officer's report: open and overdue requests, surveys, what customers say about
/// how their data is used (the built-in survey, small groups hidden) and the ledger's head.
#[utoipa::path(get, path = "/v1/reports/privacy",
    params(ReportQuery),
    responses((status = 200, description = "The report, as JSON or (format=markdown) Markdown", content((PrivacyReport = "application/json"), (String = "text/markdown"))), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn privacy_report(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Params(q): Params<ReportQuery>,
) -> ApiResult<Response> {
    let markdown = match q.format.as_deref() {
        None | Some("json") => false,
        Some("markdown") => true,
        Some(_) => {
            return Err(ApiError::Core(mamori_core::CoreError::invalid(
                ErrorCode::InvalidFormat,
                "format",
                "format is json or markdown",
            )));
        }
    };
    let report = s.vault.privacy_report(&actor).await?;
    Ok(if markdown {
        (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/markdown; charset=utf-8",
            )],
            mamori_core::report::to_markdown(&report),
        )
            .into_response()
    } else {
        Json(report).into_response()
    })
}
