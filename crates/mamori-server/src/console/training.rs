//! `/console/training`: the role's course and quiz, generated from the policy in the person's
//! language. Passing is recorded (and ledgered) by the vault; the answers themselves are not kept.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_policy::Language;
use mamori_policy::training::Course;
use serde::Deserialize;

use super::home::{Frame, frame, training_line};
use super::{Signed, signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;

#[derive(Template)]
#[template(path = "console_training.html")]
struct TrainingPage {
    f: Frame,
    course: Course,
    /// The training status line and whether it asks the person to act.
    training: (String, bool),
    wrong: Vec<String>,
    status: Option<&'static str>,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

fn page(s: &AppState, lang: Language, signed: &Signed) -> Option<TrainingPage> {
    Some(TrainingPage {
        course: s.vault.training_course(&signed.session, lang)?,
        training: training_line(lang, signed.session.training),
        f: frame(s, lang, signed, "training"),
        wrong: vec![],
        status: None,
        error: None,
    })
}

pub async fn course(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    match page(&s, lang, &signed) {
        Some(p) => with_status(p.render(), StatusCode::OK),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Checks the quiz: passed is recorded; otherwise the wrong answers are marked.
pub async fn submit(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let form = form.map(|f| f.0).unwrap_or_default();
    let lang = page_language(&s.vault.policy, form.get("lang").map(String::as_str));
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let Some(mut p) = page(&s, lang, &signed) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let csrf = form.get("csrf").map(String::as_str).unwrap_or_default();
    if form.len() > 50 || !signed.form_is_ours(&s, &headers, csrf) {
        p.error = Some(p.f.w.bad_form);
        return with_status(p.render(), StatusCode::FORBIDDEN);
    }
    let answer_of = |id: &str| form.get(&format!("q_{id}")).map(String::as_str);
    match s.vault.pass_training(&signed.session, answer_of).await {
        Ok(Ok(status)) => {
            p.status = Some(p.f.w.quiz_passed);
            p.training = training_line(lang, status);
            with_status(p.render(), StatusCode::OK)
        }
        Ok(Err(failed)) => {
            p.error = Some(p.f.w.quiz_failed);
            p.wrong = failed.0;
            with_status(p.render(), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => crate::problem::ApiError::from(e).into_response(),
    }
}
