//! Surveys over the API (define, list, close, results; JSON responses) and the public survey
//! page (`/survey/{slug}`, en/ja/fr, a plain form that needs no JavaScript and loads nothing from
//! elsewhere). Anonymous responses keep nothing of the request: no address, user agent or cookie
//! reaches the core; the address only feeds an in-memory rate limit.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use mamori_core::survey_tokens::Invitation;
use mamori_core::surveys::{Access, QuestionKind, RawAnswers, StoredSurvey, SurveyDefinition};
use mamori_policy::Language;
use serde::Deserialize;
use serde_json::Value;

use crate::AppState;
use crate::extract::{Body, Caller, Params};
use crate::privacy::{html_page, html_page_with_script, page_language};
use crate::problem::{ApiError, Problem};

type ApiResult<T> = Result<T, ApiError>;

/// Survey answers per address are counted per minute.
fn rate_limited() -> ApiError {
    ApiError::RateLimited { retry_after: 60 }
}

/// Defines a survey from the same structure as a survey file (`mamori survey create`).
#[utoipa::path(post, path = "/v1/surveys", request_body = Object,
    responses((status = 201, body = Object), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
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
    responses((status = 200, body = Vec<Object>), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list(State(s): State<AppState>, Caller(actor): Caller) -> ApiResult<Json<Value>> {
    let all = s.vault.list_surveys(&actor).await?;
    Ok(Json(Value::Array(
        all.iter().map(StoredSurvey::summary).collect(),
    )))
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ResultsQuery {
    /// Break the results down by the answers to this single-choice question.
    pub by: Option<String>,
}

/// Aggregates per question (and a breakdown by a single-choice question); every group smaller
/// than the survey's k is suppressed and marked.
#[utoipa::path(get, path = "/v1/surveys/{slug}/results",
    params(("slug" = String, Path), ResultsQuery),
    responses((status = 200, body = Object), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn results(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(slug): Path<String>,
    Params(q): Params<ResultsQuery>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        s.vault
            .survey_results(&actor, &slug, q.by.as_deref())
            .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TextsQuery {
    /// A free-text question of the survey.
    pub question: String,
    /// The `next` cursor of the page before.
    pub after: Option<String>,
    /// Up to 1,000 (default 100).
    pub limit: Option<i64>,
}

/// The scrubbed free-text answers to one question, a page at a time; none until the question
/// has k answers.
#[utoipa::path(get, path = "/v1/surveys/{slug}/texts",
    params(("slug" = String, Path), TextsQuery),
    responses((status = 200, body = Object), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn texts(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(slug): Path<String>,
    Params(q): Params<TextsQuery>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        s.vault
            .survey_texts(&actor, &slug, &q.question, q.after.as_deref(), q.limit)
            .await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseBody {
    /// The share of the survey's ε budget this release spends.
    pub epsilon: f64,
}

/// A differentially private release of a survey's results (OpenDP discrete Laplace noise on
/// every count and sum), spending `epsilon` of the survey's budget; refused once it is spent.
#[utoipa::path(post, path = "/v1/surveys/{slug}/releases", request_body = Object,
    params(("slug" = String, Path)),
    responses((status = 201, body = Object), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn release(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(slug): Path<String>,
    Body(body): Body<ReleaseBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let release = s
        .vault
        .release_survey_results(&actor, &slug, body.epsilon)
        .await?;
    Ok((StatusCode::CREATED, Json(release)))
}

/// Every release of a differentially private survey, and its ε budget: total, spent, left.
#[utoipa::path(get, path = "/v1/surveys/{slug}/releases",
    params(("slug" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn releases(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.vault.survey_releases(&actor, &slug).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseBody {
    /// Question id → the answer (a number, a choice id, a list of choice ids or text).
    pub answers: serde_json::Map<String, Value>,
    /// For an invited survey: the finalised token (base64url), from `POST …/tokens`.
    #[serde(default)]
    pub token: Option<String>,
}

/// A base64url field from the client, decoded, or a problem naming the field.
fn base64_field(field: &'static str, text: &str) -> Result<Vec<u8>, ApiError> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim().trim_end_matches('='))
        .map_err(|_| {
            ApiError::Core(mamori_core::CoreError::invalid(
                if field == "token" {
                    "invalid_token"
                } else {
                    "invalid_blinded_token"
                },
                field,
                format!("{field} must be base64url"),
            ))
        })
}

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    /// Subject ids to invite (1 to 1,000).
    pub subjects: Vec<String>,
}

/// Invites customers to an invited survey. Each invitation is a link with a code, shown once,
/// for the business to send; the code buys one blind-signed token (RFC 9474).
#[utoipa::path(post, path = "/v1/surveys/{slug}/invitations", request_body = Object,
    params(("slug" = String, Path)),
    responses((status = 200, body = Object), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn invite(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(slug): Path<String>,
    Body(body): Body<InviteBody>,
) -> ApiResult<Json<Value>> {
    let mut subjects = Vec::with_capacity(body.subjects.len());
    for (i, text) in body.subjects.iter().enumerate() {
        subjects.push(mamori_core::parse_id(text).ok_or_else(|| {
            ApiError::Core(mamori_core::CoreError::invalid(
                "invalid_subject_id",
                format!("subjects[{i}]"),
                "a subject id is a UUID",
            ))
        })?);
    }
    let done = s.vault.invite_to_survey(&actor, &slug, &subjects).await?;
    let invitations: Vec<Value> = done
        .iter()
        .map(|i| match i {
            Invitation::Sent { subject, code } => serde_json::json!({
                "subject": mamori_core::format_id(subject),
                "status": "invited",
                "link": format!("/survey/{slug}#invitation={code}"),
            }),
            Invitation::Refused { subject, reason } => serde_json::json!({
                "subject": mamori_core::format_id(subject),
                "status": "refused",
                "reason": reason,
            }),
        })
        .collect();
    Ok(Json(serde_json::json!({ "invitations": invitations })))
}

/// The public key an invited survey's tokens are blinded with (RSABSSA-SHA384-PSS-Randomized).
#[utoipa::path(get, path = "/v1/surveys/{slug}/issuer",
    params(("slug" = String, Path)),
    responses((status = 404, body = Problem, content_type = "application/problem+json"), (status = 200, body = Object), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn issuer(State(s): State<AppState>, Path(slug): Path<String>) -> ApiResult<Json<Value>> {
    let public = s.vault.survey_issuer_public(&slug).await?;
    let der = public
        .to_der()
        .map_err(|_| ApiError::Core(mamori_core::CoreError::Integrity))?;
    Ok(Json(serde_json::json!({
        "variant": mamori_blind::VARIANT,
        "public_key": base64url(&der),
        "modulus": base64url(&public.modulus()),
        "exponent": base64url(&public.exponent()),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// The code from the invitation link.
    pub invitation: String,
    /// The blinded token (base64url, 256 bytes), RFC 9474 §4.1.
    pub blinded_token: String,
}

/// Signs a blinded token for an invitation, once (RFC 9474 §4.2). No key: the invitation code
/// is the credential. Nothing of the blinded token or the signature is kept.
#[utoipa::path(post, path = "/v1/surveys/{slug}/tokens", request_body = Object,
    params(("slug" = String, Path)),
    responses((status = 200, body = Object), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn token(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(slug): Path<String>,
    Body(body): Body<TokenBody>,
) -> ApiResult<Json<Value>> {
    if !s.limits.allow_survey_response(peer.ip()) {
        return Err(rate_limited());
    }
    let blinded = base64_field("blinded_token", &body.blinded_token)?;
    let signature = s
        .vault
        .issue_survey_token(&slug, &body.invitation, &blinded)
        .await?;
    Ok(Json(
        serde_json::json!({ "blind_signature": base64url(&signature) }),
    ))
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
    responses((status = 204), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 413, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn respond(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(slug): Path<String>,
    Body(body): Body<ResponseBody>,
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `json` (default) or `markdown`.
    pub format: Option<String>,
}

/// The privacy officer's report: open and overdue requests, surveys, what customers say about
/// how their data is used (the built-in survey, small groups hidden) and the ledger's head.
#[utoipa::path(get, path = "/v1/reports/privacy",
    params(ReportQuery),
    responses((status = 200, body = Object), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
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
                "invalid_format",
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

/// The browser's half of invited surveys' tokens (RFC 9474 Blind and Finalize).
pub async fn blind_token_script() -> Response {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/blind-token.js"),
    )
        .into_response()
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
    invited: &'static str,
    needs_script: &'static str,
    no_invitation: &'static str,
    token_issued: &'static str,
    token_failed: &'static str,
    answered: &'static str,
    identified: &'static str,
    needs_consent: &'static str,
    my_choices: &'static str,
    thanks_identified: &'static str,
    expired: &'static str,
    answered_identified: &'static str,
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
            invited: "このアンケートはご招待した方だけが、1回だけ回答できます。回答できることを確かめる「トークン」は、お使いのブラウザの中で作られ、私たちはそれに署名するだけです。そのため、回答がどの招待から来たものかを私たちは知ることができません。トークンは回答を送るまでこの端末に保存されます。",
            needs_script: "招待制のアンケートでは、匿名のトークンをブラウザで作るために JavaScript が必要です。JavaScript を有効にして招待リンクを開き直してください。",
            no_invitation: "招待リンクが見つかりません。招待メールのリンクから開いてください。",
            token_issued: "この招待のトークンはすでに発行されています。トークンは、最初に招待リンクを開いたブラウザでのみ使えます。",
            token_failed: "トークンを受け取れませんでした。しばらくしてから招待リンクを開き直してください。",
            answered: "この招待ではすでに回答済みです。ご協力ありがとうございました。",
            identified: "このアンケートの回答は、あなたのアカウントに結びつけて保存されます（下記の目的への同意に基づきます）。「私のデータ」でいつでも確認・ダウンロード・削除できます。",
            needs_consent: "回答するには、次の目的への同意が必要です:",
            my_choices: "「私の選択」で同意する",
            thanks_identified: "回答をアカウントに保存しました。「私のデータ」で確認・削除できます。",
            expired: "このフォームは期限切れか、別のサイトから送信されました。ページを開き直してください。",
            answered_identified: "このアンケートにはすでに回答済みです。回答は「私のデータ」で確認できます。",
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
            invited: "Ce questionnaire est réservé aux personnes invitées, une réponse chacune. Le jeton qui le prouve est créé dans votre navigateur et nous ne faisons que le signer : nous ne pouvons donc pas savoir de quelle invitation vient une réponse. Le jeton reste sur cet appareil jusqu'à l'envoi de vos réponses.",
            needs_script: "Un questionnaire sur invitation a besoin de JavaScript pour créer votre jeton anonyme dans le navigateur. Activez JavaScript puis rouvrez le lien de votre invitation.",
            no_invitation: "Aucune invitation trouvée : ouvrez ce questionnaire avec le lien reçu dans votre invitation.",
            token_issued: "Le jeton de cette invitation a déjà été délivré ; il ne sert que dans le navigateur qui l'a demandé en premier.",
            token_failed: "Le jeton n'a pas pu être obtenu. Réessayez plus tard en rouvrant le lien de votre invitation.",
            answered: "Vous avez déjà répondu avec cette invitation. Merci de votre participation.",
            identified: "Vos réponses à ce questionnaire sont gardées avec votre compte (avec votre accord pour la finalité ci-dessous). Vous pouvez les voir, les télécharger et les supprimer dans « Mes données ».",
            needs_consent: "Pour répondre, il faut votre accord pour :",
            my_choices: "Donner mon accord dans « Mes choix »",
            thanks_identified: "Vos réponses sont enregistrées avec votre compte ; vous pouvez les voir et les supprimer dans « Mes données ».",
            expired: "Ce formulaire a expiré ou vient d'un autre site. Rouvrez la page.",
            answered_identified: "Vous avez déjà répondu à ce questionnaire ; vos réponses sont dans « Mes données ».",
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
            invited: "This survey is for invited customers, one response each. The token that proves it is made in your browser and we only sign it, so we cannot tell which invitation a response came from. The token stays on this device until you send your answers.",
            needs_script: "An invitation-only survey needs JavaScript to make your anonymous token in the browser. Turn JavaScript on and open your invitation link again.",
            no_invitation: "No invitation found: open this survey with the link in your invitation.",
            token_issued: "This invitation's token was issued already; it works only in the browser that first asked for it.",
            token_failed: "The token could not be obtained. Open your invitation link again later.",
            answered: "You have answered with this invitation already. Thank you for taking part.",
            identified: "Your answers to this survey are kept with your account (with your consent to the purpose below). You can see, download and delete them in My data at any time.",
            needs_consent: "To answer, we need your consent to:",
            my_choices: "Give it in My choices",
            thanks_identified: "Your answers are saved with your account; you can see and delete them in My data.",
            expired: "This form has expired or came from another site. Open the page again.",
            answered_identified: "You have answered this survey already; your answers are in My data.",
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
    invited: bool,
    /// For an identified survey answered signed in.
    identified: Option<IdentifiedView>,
    /// Whether the form is shown: open, and for an identified survey, consented to.
    answerable: bool,
    /// Where the form posts: `/survey/{slug}`, or in the privacy center for identified ones.
    form_path: String,
    languages: Vec<&'static str>,
}

struct IdentifiedView {
    csrf: String,
    purpose: String,
    consented: bool,
}

#[derive(Template)]
#[template(path = "survey_done.html")]
struct DonePage {
    lang: &'static str,
    s: Strings,
    title: String,
    message: &'static str,
    /// The invited survey whose token was just spent: the page's script forgets it.
    spent_token: Option<String>,
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
        invited: d.access == Access::Invited,
        identified: None,
        answerable: stored.is_open(mamori_core::surveys::today()),
        form_path: format!("/survey/{}", d.slug),
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
        spent_token: None,
    };
    (status, html_page(page.render())).into_response()
}

/// An open survey's page runs no script; an invited one runs Mamori's token script.
fn survey_page(stored: &StoredSurvey, rendered: askama::Result<String>) -> Response {
    if stored.survey.definition.access == Access::Invited {
        html_page_with_script(rendered)
    } else {
        html_page(rendered)
    }
}

fn is_identified(stored: &StoredSurvey) -> bool {
    stored.survey.definition.mode == mamori_core::surveys::Mode::Identified
}

/// An identified survey's page for the signed-in person (else the sign-in page): the form with
/// its CSRF token, or, without their consent to the survey's purpose, where to give it.
async fn identified_page(
    s: &AppState,
    headers: &HeaderMap,
    stored: &StoredSurvey,
    lang: Language,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (subject, actor) = match crate::privacy_center::signed_in(s, headers, lang).await {
        Ok(who) => who,
        Err(sign_in) => return sign_in,
    };
    let purpose_name = stored.survey.definition.purpose.clone().unwrap_or_default();
    let consented = s
        .vault
        .check_consent(&actor, &subject, &purpose_name, None)
        .await
        .is_ok_and(|a| a.allowed);
    let purpose = s
        .vault
        .policy
        .purpose(&purpose_name)
        .map(|p| p.label.get(lang).to_string())
        .unwrap_or_default();
    let (csrf, set) = crate::privacy_center::csrf_token(s, headers);
    let mut view = page_view(stored, lang, error, languages(s));
    view.answerable = view.answerable && consented;
    view.form_path = format!("/privacy/survey/{}", stored.survey.definition.slug);
    view.identified = Some(IdentifiedView {
        csrf,
        purpose,
        consented,
    });
    let page = (status, html_page(view.render())).into_response();
    crate::privacy_center::with_cookie(page, set)
}

/// `GET /survey/{slug}?lang=`: the questions as a form.
pub async fn page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    match s.vault.survey(&slug).await {
        // Answered signed in, so in the privacy center, where the session cookie goes.
        Ok(stored) if is_identified(&stored) => in_privacy_center(&slug, lang),
        Ok(stored) => survey_page(
            &stored,
            page_view(&stored, lang, None, languages(&s)).render(),
        ),
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
        return rate_limited().into_response();
    }
    let mut raw = RawAnswers::new();
    let mut token = None;
    for (name, value) in fields {
        // Fields that are neither answers nor the token are ignored rather than echoed.
        if let Some(question) = name.strip_prefix("a_") {
            raw.entry(question.to_string()).or_default().push(value);
        } else if name == "token" && !value.is_empty() {
            // Not base64url: passed on as bytes that can never verify.
            token = Some(base64_field("token", &value).unwrap_or_default());
        }
    }
    if is_identified(&stored) {
        return in_privacy_center(&slug, lang);
    }
    let invited = stored.survey.definition.access == Access::Invited;
    match s.vault.respond(&slug, &raw, token.as_deref()).await {
        Ok(()) => {
            let page = DonePage {
                lang: lang.code(),
                s: strings(lang),
                title: strings(lang).thanks_title.to_string(),
                message: strings(lang).thanks,
                spent_token: invited.then(|| slug.clone()),
            };
            survey_page(&stored, page.render())
        }
        Err(mamori_core::CoreError::Conflict {
            code: "token_used", ..
        }) => {
            let page = DonePage {
                lang: lang.code(),
                s: strings(lang),
                title,
                message: strings(lang).answered,
                spent_token: Some(slug.clone()),
            };
            (StatusCode::CONFLICT, survey_page(&stored, page.render())).into_response()
        }
        Err(mamori_core::CoreError::Conflict { .. }) => {
            message_page(lang, StatusCode::CONFLICT, title, strings(lang).closed)
        }
        Err(mamori_core::CoreError::Invalid { code, field, .. }) => {
            let message = refused_answer(&stored, lang, code, field.as_deref());
            let page = page_view(&stored, lang, Some(message), languages(&s));
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                survey_page(&stored, page.render()),
            )
                .into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

fn in_privacy_center(slug: &str, lang: Language) -> Response {
    axum::response::Redirect::to(&format!("/privacy/survey/{slug}?lang={}", lang.code()))
        .into_response()
}

/// `GET /privacy/survey/{slug}`: an identified survey, for the signed-in person.
pub async fn identified_get(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    match s.vault.survey(&slug).await {
        Ok(stored) if is_identified(&stored) => {
            identified_page(&s, &headers, &stored, lang, None, StatusCode::OK).await
        }
        Ok(_) => axum::response::Redirect::to(&format!("/survey/{slug}?lang={}", lang.code()))
            .into_response(),
        Err(_) => {
            let t = strings(lang).not_found;
            message_page(lang, StatusCode::NOT_FOUND, t.to_string(), t)
        }
    }
}

/// `POST /privacy/survey/{slug}`: an identified survey's answers (`a_{question}`) and the CSRF
/// token, from a signed-in person.
pub async fn identified_post(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let stored = match s.vault.survey(&slug).await {
        Ok(stored) if is_identified(&stored) => stored,
        _ => {
            let t = strings(lang).not_found;
            return message_page(lang, StatusCode::NOT_FOUND, t.to_string(), t);
        }
    };
    let mut raw = RawAnswers::new();
    let mut csrf = String::new();
    for (name, value) in fields {
        if let Some(question) = name.strip_prefix("a_") {
            raw.entry(question.to_string()).or_default().push(value);
        } else if name == "csrf" {
            csrf = value;
        }
    }
    submit_identified(&s, &headers, &stored, lang, &csrf, &raw).await
}

/// An identified survey's form, posted by a signed-in person from our own page.
async fn submit_identified(
    s: &AppState,
    headers: &HeaderMap,
    stored: &StoredSurvey,
    lang: Language,
    csrf: &str,
    raw: &RawAnswers,
) -> Response {
    let title = text_in(&stored.survey.definition.title, lang);
    if !crate::privacy_center::form_is_ours(s, headers, csrf) {
        return message_page(lang, StatusCode::FORBIDDEN, title, strings(lang).expired);
    }
    let (subject, actor) = match crate::privacy_center::signed_in(s, headers, lang).await {
        Ok(who) => who,
        Err(sign_in) => return sign_in,
    };
    let slug = &stored.survey.definition.slug;
    match s
        .vault
        .respond_identified(&actor, &subject, slug, raw)
        .await
    {
        Ok(_) => message_page(
            lang,
            StatusCode::OK,
            strings(lang).thanks_title.to_string(),
            strings(lang).thanks_identified,
        ),
        // Consent withdrawn meanwhile: the page says where to give it again.
        Err(mamori_core::CoreError::Denied(_)) => {
            identified_page(s, headers, stored, lang, None, StatusCode::FORBIDDEN).await
        }
        Err(mamori_core::CoreError::Conflict {
            code: "already_answered",
            ..
        }) => message_page(
            lang,
            StatusCode::CONFLICT,
            title,
            strings(lang).answered_identified,
        ),
        Err(mamori_core::CoreError::Conflict { .. }) => {
            message_page(lang, StatusCode::CONFLICT, title, strings(lang).closed)
        }
        Err(mamori_core::CoreError::Invalid { code, field, .. }) => {
            let message = refused_answer(stored, lang, code, field.as_deref());
            identified_page(
                s,
                headers,
                stored,
                lang,
                Some(message),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Why an answer was refused, naming the question and the rule in the page's language; never
/// the value typed.
fn refused_answer(
    stored: &StoredSurvey,
    lang: Language,
    code: &str,
    field: Option<&str>,
) -> String {
    let question = field
        .and_then(|f| f.strip_prefix("answers."))
        .and_then(|id| stored.survey.question(id))
        .map(|q| text_in(&q.text, lang));
    refusal(lang, code, question.as_deref())
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
        "token_required" | "invalid_token" => (
            "This survey is by invitation: open it with the link in your invitation.".to_string(),
            "招待制のアンケートです。招待メールのリンクから開いてください。".to_string(),
            "Ce questionnaire est sur invitation : ouvrez-le avec le lien de votre invitation."
                .to_string(),
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

// ---- charts and CSV ---------------------------------------------------------------------------

struct Bar {
    label: String,
    y: u32,
    /// None when the count is suppressed.
    width: Option<u32>,
    value_text: String,
}

#[derive(Template)]
#[template(path = "chart.svg", escape = "html")]
struct Chart {
    title: String,
    bars: Vec<Bar>,
    width: u32,
    height: u32,
    label_width: u32,
    bar_space: u32,
    note: String,
    /// Between a bar's label and its count in its tooltip, in the language's typography.
    colon: &'static str,
}

const ROW: u32 = 28;

/// Words on a chart, in `lang`.
fn chart_words(lang: Language, k: u32) -> (String, String, String) {
    match lang {
        Language::Ja => (
            format!("{k}件未満のため非表示"),
            format!("{k}件未満のグループは表示しません"),
            "平均".to_string(),
        ),
        Language::Fr => (
            format!("moins de {k}\u{202f}: masqué"),
            format!("Les groupes de moins de {k} réponses sont masqués"),
            "moyenne".to_string(),
        ),
        Language::En => (
            format!("fewer than {k}: hidden"),
            format!("Groups of fewer than {k} answers are hidden"),
            "mean".to_string(),
        ),
    }
}

/// The rows of one question's chart: (label, count or None when suppressed).
fn chart_rows(
    q: &mamori_core::surveys::Question,
    summary: &Value,
    lang: Language,
) -> Vec<(String, Option<u64>)> {
    let cells = summary
        .get("histogram")
        .or_else(|| summary.get("choices"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    cells
        .iter()
        .map(|c| {
            let label = match (c.get("value"), c.get("choice").and_then(Value::as_str)) {
                (Some(v), _) => v.to_string(),
                (None, Some(id)) => q
                    .choices
                    .iter()
                    .find(|ch| ch.id == id)
                    .map(|ch| text_in(&ch.text, lang))
                    .unwrap_or_else(|| id.to_string()),
                _ => String::new(),
            };
            (label, c.get("count").and_then(Value::as_u64))
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartQuery {
    lang: Option<String>,
}

/// `GET /v1/surveys/{slug}/charts/{question}`: the question's results as an SVG bar chart
/// (choices, or the distribution of a rating), drawn on the server; hidden cells are drawn as
/// hidden, never as zero.
#[utoipa::path(get, path = "/v1/surveys/{slug}/charts/{question}",
    params(("slug" = String, Path), ("question" = String, Path), ("lang" = Option<String>, Query)),
    responses((status = 200, content_type = "image/svg+xml"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn chart(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((slug, question)): Path<(String, String)>,
    Params(q): Params<ChartQuery>,
) -> ApiResult<Response> {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let stored = s.vault.survey(&slug).await?;
    let question = stored
        .survey
        .question(&question)
        .filter(|q| q.kind != QuestionKind::Text)
        .ok_or_else(|| {
            ApiError::Core(mamori_core::CoreError::invalid(
                "unknown_question",
                "question",
                "charts are drawn for the rating, NPS and choice questions of this survey",
            ))
        })?
        .clone();
    let results = s.vault.survey_results(&actor, &slug, None).await?;
    let summary = results["questions"]
        .as_array()
        .and_then(|qs| qs.iter().find(|x| x["id"] == question.id.as_str()))
        .cloned()
        .unwrap_or(Value::Null);
    let k = stored.survey.k;
    let (hidden, note, mean_word) = chart_words(lang, k);
    let rows = chart_rows(&question, &summary, lang);
    let top = rows.iter().filter_map(|r| r.1).max().unwrap_or(0).max(1);
    let (label_width, bar_space) = (220, 360);
    let bars = rows
        .into_iter()
        .enumerate()
        .map(|(i, (label, count))| Bar {
            label,
            y: 34 + i as u32 * ROW,
            width: count.map(|c| ((c * u64::from(bar_space)) / top).max(1) as u32),
            value_text: count.map_or_else(|| hidden.clone(), |c| c.to_string()),
        })
        .collect::<Vec<_>>();
    let mut title = text_in(&question.text, lang);
    if let Some(mean) = summary.get("mean").and_then(Value::as_f64) {
        // French writes a decimal comma.
        let mean = match lang {
            Language::Fr => format!("{mean:.2}").replace('.', ","),
            _ => format!("{mean:.2}"),
        };
        title = match lang {
            Language::Ja => format!("{title}（{mean_word} {mean}）"),
            _ => format!("{title} ({mean_word} {mean})"),
        };
    }
    let chart = Chart {
        height: 34 + bars.len() as u32 * ROW + 26,
        bars,
        title,
        width: label_width + bar_space + 60,
        label_width,
        bar_space,
        note,
        colon: match lang {
            Language::Ja => "：",
            Language::Fr => "\u{202f}: ",
            Language::En => ": ",
        },
    };
    let svg = chart
        .render()
        .map_err(|e| ApiError::Core(mamori_core::CoreError::Internal(e.to_string())))?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "image/svg+xml"),
            (
                axum::http::header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        svg,
    )
        .into_response())
}

/// `GET /v1/surveys/{slug}/results.csv`: the aggregates only (never a response), one row per
/// cell; a hidden cell has an empty count and `suppressed` true.
#[utoipa::path(get, path = "/v1/surveys/{slug}/results.csv",
    params(("slug" = String, Path)),
    responses((status = 200, content_type = "text/csv"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn results_csv(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Response> {
    let results = s.vault.survey_results(&actor, &slug, None).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| ApiError::Core(mamori_core::CoreError::Internal(e.to_string()));
    out.write_record(["question", "kind", "value", "count", "suppressed"])
        .map_err(internal)?;
    for q in results["questions"].as_array().cloned().unwrap_or_default() {
        let id = q["id"].as_str().unwrap_or_default().to_string();
        let kind = q["kind"].as_str().unwrap_or_default().to_string();
        let count = |v: &Value| v.as_u64().map(|c| c.to_string()).unwrap_or_default();
        let hidden = |v: &Value| {
            if v.get("suppressed") == Some(&Value::Bool(true)) {
                "true"
            } else {
                "false"
            }
        };
        out.write_record([
            id.as_str(),
            kind.as_str(),
            "answered",
            &count(&q["answered"]),
            hidden(&q),
        ])
        .map_err(internal)?;
        if let Some(mean) = q["mean"].as_f64() {
            out.write_record([
                id.as_str(),
                kind.as_str(),
                "mean",
                &format!("{mean:.4}"),
                "false",
            ])
            .map_err(internal)?;
        }
        for c in q["histogram"]
            .as_array()
            .or_else(|| q["choices"].as_array())
            .cloned()
            .unwrap_or_default()
        {
            let value = c
                .get("value")
                .map(|v| v.to_string())
                .or_else(|| c["choice"].as_str().map(str::to_string))
                .unwrap_or_default();
            out.write_record([
                id.as_str(),
                kind.as_str(),
                value.as_str(),
                &count(&c["count"]),
                hidden(&c),
            ])
            .map_err(internal)?;
        }
    }
    let bytes = out
        .into_inner()
        .map_err(|e| ApiError::Core(mamori_core::CoreError::Internal(e.to_string())))?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        bytes,
    )
        .into_response())
}
