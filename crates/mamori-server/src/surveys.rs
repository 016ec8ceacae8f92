//! Surveys over the API (define, list, close, results; JSON responses) and the public survey
//! page (`/survey/{slug}`, en/ja/fr, a plain form that needs no JavaScript and loads nothing from
//! elsewhere). Anonymous responses keep nothing of the request: no address, user agent or cookie
//! reaches the core; the address only feeds an in-memory rate limit.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use mamori_core::surveys::{QuestionKind, RawAnswers, StoredSurvey, SurveyDefinition};
use mamori_policy::Language;
use serde::Deserialize;
use serde_json::Value;

use crate::AppState;
use crate::extract::{Body, Caller};
use crate::privacy::{html_page, page_language};
use crate::problem::{ApiError, Problem};

type ApiResult<T> = Result<T, ApiError>;

fn rate_limited() -> ApiError {
    ApiError::RateLimited
}

/// Defines a survey from the same structure as a survey file (`mamori survey create`).
#[utoipa::path(post, path = "/v1/surveys", request_body = Object,
    responses((status = 201, body = Object), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(definition): Body<SurveyDefinition>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let survey = mamori_core::surveys::Survey::check(&s.vault.policy, definition)?;
    let stored = s.vault.create_survey(&actor, survey).await?;
    Ok((StatusCode::CREATED, Json(stored.summary())))
}

#[utoipa::path(get, path = "/v1/surveys",
    responses((status = 200, body = Object), (status = 401, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(State(s): State<AppState>, Caller(_): Caller) -> ApiResult<Json<Value>> {
    let all = s.vault.surveys().await?;
    Ok(Json(Value::Array(
        all.iter().map(StoredSurvey::summary).collect(),
    )))
}

#[utoipa::path(post, path = "/v1/surveys/{slug}/close",
    params(("slug" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn close(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(slug): Path<String>,
) -> ApiResult<StatusCode> {
    s.vault.close_survey(&actor, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ResultsQuery {
    /// Break the results down by the answers to this single-choice question.
    pub by: Option<String>,
}

/// Aggregates per question (and a breakdown by a single-choice question); every group smaller
/// than the survey's k is suppressed and marked.
#[utoipa::path(get, path = "/v1/surveys/{slug}/results",
    params(("slug" = String, Path), ResultsQuery),
    responses((status = 200, body = Object), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn results(
    State(s): State<AppState>,
    Caller(_): Caller,
    Path(slug): Path<String>,
    Query(q): Query<ResultsQuery>,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.vault.survey_results(&slug, q.by.as_deref()).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseBody {
    /// Question id → the answer (a number, a choice id, a list of choice ids or text).
    pub answers: serde_json::Map<String, Value>,
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
        "invalid_answer",
        "answers",
        "each answer is a number, a choice id, a list of choice ids or a text",
    ))
}

/// One anonymous response (for the business's own apps; people use the survey page). No key:
/// respondents have none. Limited per address in memory; nothing of the request is stored.
#[utoipa::path(post, path = "/v1/surveys/{slug}/responses", request_body = Object,
    params(("slug" = String, Path)),
    responses((status = 204), (status = 400, body = Problem), (status = 409, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn respond(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(slug): Path<String>,
    Body(body): Body<ResponseBody>,
) -> ApiResult<StatusCode> {
    if !s.limits.allow_survey_response(peer.ip()) {
        return Err(rate_limited());
    }
    s.vault.respond(&slug, &raw_answers(&body.answers)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- the public page --------------------------------------------------------------------------

struct Strings {
    anonymous: &'static str,
    submit: &'static str,
    required: &'static str,
    thanks_title: &'static str,
    thanks: &'static str,
    closed: &'static str,
    not_found: &'static str,
    error: &'static str,
    notice: &'static str,
    low: &'static str,
    high: &'static str,
}

fn strings(lang: Language) -> Strings {
    match lang {
        Language::Ja => Strings {
            anonymous: "このアンケートは匿名です。お名前、IPアドレス、ブラウザの情報、回答の正確な時刻は保存しません。自由記述に含まれる個人情報（メールアドレス、電話番号など）は保存前に削除します。",
            submit: "送信する",
            required: "必須",
            thanks_title: "ご回答ありがとうございました",
            thanks: "回答を受け付けました。あなたと結びつく情報は保存していません。",
            closed: "このアンケートは現在回答を受け付けていません。",
            not_found: "このアンケートは見つかりません。",
            error: "回答を確認してください",
            notice: "プライバシーに関するお知らせ",
            low: "低い",
            high: "高い",
        },
        Language::Fr => Strings {
            anonymous: "Ce questionnaire est anonyme : nous ne conservons ni votre nom, ni votre adresse IP, ni votre navigateur, ni l'heure exacte de votre réponse. Les données personnelles écrites dans les champs libres (e-mail, téléphone…) sont retirées avant l'enregistrement.",
            submit: "Envoyer",
            required: "obligatoire",
            thanks_title: "Merci pour votre réponse",
            thanks: "Votre réponse est enregistrée. Rien de ce que nous gardons ne permet de la relier à vous.",
            closed: "Ce questionnaire ne reçoit pas de réponses en ce moment.",
            not_found: "Ce questionnaire n'existe pas.",
            error: "Vérifiez vos réponses",
            notice: "Notre politique de confidentialité",
            low: "faible",
            high: "élevé",
        },
        Language::En => Strings {
            anonymous: "This survey is anonymous: we do not keep your name, IP address, browser or the exact time you answer. Personal details written in free-text answers (e-mail addresses, phone numbers…) are removed before anything is stored.",
            submit: "Send",
            required: "required",
            thanks_title: "Thank you for your answers",
            thanks: "Your response is saved. Nothing we keep links it to you.",
            closed: "This survey is not taking responses at the moment.",
            not_found: "There is no such survey.",
            error: "Please check your answers",
            notice: "Privacy notice",
            low: "low",
            high: "high",
        },
    }
}

struct ChoiceView {
    id: String,
    text: String,
}

struct QuestionView {
    id: String,
    kind: &'static str,
    text: String,
    required: bool,
    choices: Vec<ChoiceView>,
    /// The values offered on a scale (1–5 or 0–10).
    scale: Vec<i64>,
}

#[derive(Template)]
#[template(path = "survey.html")]
struct SurveyPage {
    lang: &'static str,
    s: Strings,
    slug: String,
    title: String,
    intro: Option<String>,
    questions: Vec<QuestionView>,
    error: Option<String>,
    open: bool,
    languages: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "survey_done.html")]
struct DonePage {
    lang: &'static str,
    s: Strings,
    title: String,
    message: &'static str,
}

fn text_in(texts: &mamori_core::surveys::Texts, lang: Language) -> String {
    texts
        .get(lang.code())
        .or_else(|| texts.values().next())
        .cloned()
        .unwrap_or_default()
}

fn page_view(
    stored: &StoredSurvey,
    lang: Language,
    error: Option<String>,
    languages: Vec<&'static str>,
) -> SurveyPage {
    let d = &stored.survey.definition;
    let questions = d
        .questions
        .iter()
        .map(|q| QuestionView {
            id: q.id.clone(),
            kind: match q.kind {
                QuestionKind::Rating => "rating",
                QuestionKind::Nps => "nps",
                QuestionKind::Single => "single",
                QuestionKind::Multiple => "multiple",
                QuestionKind::Text => "text",
            },
            text: text_in(&q.text, lang),
            required: q.required,
            choices: q
                .choices
                .iter()
                .map(|c| ChoiceView {
                    id: c.id.clone(),
                    text: text_in(&c.text, lang),
                })
                .collect(),
            scale: match q.kind {
                QuestionKind::Rating => (1..=5).collect(),
                QuestionKind::Nps => (0..=10).collect(),
                _ => vec![],
            },
        })
        .collect();
    SurveyPage {
        lang: lang.code(),
        s: strings(lang),
        slug: d.slug.clone(),
        title: text_in(&d.title, lang),
        intro: d.intro.as_ref().map(|t| text_in(t, lang)),
        questions,
        error,
        open: stored.is_open(mamori_core::surveys::today()),
        languages,
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
}

fn languages(s: &AppState) -> Vec<&'static str> {
    s.vault
        .policy
        .organisation
        .languages
        .iter()
        .map(|l| l.code())
        .collect()
}

fn message_page(
    lang: Language,
    status: StatusCode,
    title: String,
    message: &'static str,
) -> Response {
    let page = DonePage {
        lang: lang.code(),
        s: strings(lang),
        title,
        message,
    };
    (status, html_page(page.render())).into_response()
}

/// `GET /survey/{slug}?lang=`: the questions as a form.
pub async fn page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    match s.vault.survey(&slug).await {
        Ok(stored) => html_page(page_view(&stored, lang, None, languages(&s)).render()),
        Err(_) => {
            let t = strings(lang).not_found;
            message_page(lang, StatusCode::NOT_FOUND, t.to_string(), t)
        }
    }
}

/// `POST /survey/{slug}?lang=`: the form's answers (`a_{question}`, repeated for multiple
/// choices). A refused answer shows the form again with the reason, and keeps nothing.
pub async fn submit(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let Ok(stored) = s.vault.survey(&slug).await else {
        let t = strings(lang).not_found;
        return message_page(lang, StatusCode::NOT_FOUND, t.to_string(), t);
    };
    let title = text_in(&stored.survey.definition.title, lang);
    if !s.limits.allow_survey_response(peer.ip()) {
        return ApiError::RateLimited.into_response();
    }
    let mut raw = RawAnswers::new();
    for (name, value) in fields {
        // Fields that are not answers (none today) are ignored rather than echoed.
        if let Some(question) = name.strip_prefix("a_") {
            raw.entry(question.to_string()).or_default().push(value);
        }
    }
    match s.vault.respond(&slug, &raw).await {
        Ok(()) => message_page(
            lang,
            StatusCode::OK,
            strings(lang).thanks_title.to_string(),
            strings(lang).thanks,
        ),
        Err(mamori_core::CoreError::Conflict { .. }) => {
            message_page(lang, StatusCode::CONFLICT, title, strings(lang).closed)
        }
        Err(mamori_core::CoreError::Invalid { code, field, .. }) => {
            // Names the question and the rule, in the page's language; never the value typed.
            let question = field
                .as_deref()
                .and_then(|f| f.strip_prefix("answers."))
                .and_then(|id| stored.survey.question(id))
                .map(|q| text_in(&q.text, lang));
            let message = refusal(lang, code, question.as_deref());
            let page = page_view(&stored, lang, Some(message), languages(&s));
            (StatusCode::UNPROCESSABLE_ENTITY, html_page(page.render())).into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Why an answer was refused, in `lang`.
fn refusal(lang: Language, code: &str, question: Option<&str>) -> String {
    let q = question.unwrap_or("");
    let (en, ja, fr) = match code {
        "answer_required" => (
            format!("Please answer “{q}”."),
            format!("「{q}」にお答えください。"),
            format!("Merci de répondre à « {q} »."),
        ),
        "out_of_range" | "one_answer" | "unknown_choice" | "invalid_answer" => (
            format!("Please pick one of the answers offered for “{q}”."),
            format!("「{q}」は選択肢から選んでください。"),
            format!("Choisissez une des réponses proposées pour « {q} »."),
        ),
        "answer_too_long" => (
            format!("Your answer to “{q}” is too long (at most 2,000 characters)."),
            format!("「{q}」への回答が長すぎます（2,000文字まで）。"),
            format!("Votre réponse à « {q} » est trop longue (2 000 caractères au plus)."),
        ),
        _ => (
            "Some answers do not belong to this survey.".to_string(),
            "このアンケートにない回答が含まれています。".to_string(),
            "Certaines réponses ne correspondent pas à ce questionnaire.".to_string(),
        ),
    };
    match lang {
        Language::Ja => ja,
        Language::Fr => fr,
        Language::En => en,
    }
}
