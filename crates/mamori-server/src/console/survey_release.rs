//! `POST /console/surveys/{slug}/release`: a differentially private release from the console, for
//! roles with `surveys = ["manage"]` — the vault adds the noise and spends the ε (decided,
//! ledgered `survey.release`); too few answers or too little budget spend nothing.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_proto::ErrorCode;
use serde::Deserialize;

use super::signed_in;
use super::surveys::survey_page;
use crate::AppState;
use crate::privacy::page_language;

#[derive(Deserialize)]
pub struct ReleaseForm {
    csrf: String,
    lang: Option<String>,
    epsilon: String,
}

pub async fn release(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    form: Result<axum::Form<ReleaseForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let lang = page_language(
        &s.vault.policy,
        form.as_ref().ok().and_then(|f| f.lang.as_deref()),
    );
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let (w, sw) = (
        super::words::words(lang),
        super::survey_words::survey_words(lang),
    );
    let none = (None, None);
    let form = match form {
        Ok(axum::Form(f)) if signed.form_is_ours(&s, &headers, &f.csrf) => f,
        _ => {
            return survey_page(
                &s,
                lang,
                &signed,
                &slug,
                none,
                (None, Some(w.bad_form.into())),
            )
            .await;
        }
    };
    let epsilon: Option<f64> = form
        .epsilon
        .trim()
        .parse()
        .ok()
        .filter(|e: &f64| e.is_finite());
    let released = match (
        epsilon,
        s.vault.staff_actor(&signed.session, "survey.release").await,
    ) {
        (None, _) => Err(CoreError::invalid(
            ErrorCode::InvalidValue,
            "epsilon",
            "a number",
        )),
        (Some(epsilon), Ok(actor)) => s.vault.release_survey_results(&actor, &slug, epsilon).await,
        (_, Err(e)) => Err(e),
    };
    let said = match released {
        Ok(_) => (Some(sw.released), None),
        Err(CoreError::Denied(d)) => (
            None,
            Some(format!("{} ({})", w.refused_by_policy, d.code())),
        ),
        Err(CoreError::Conflict {
            code: ErrorCode::TooFewResponses,
            ..
        }) => (None, Some(sw.too_few.to_string())),
        Err(CoreError::Conflict {
            code: ErrorCode::BudgetExhausted,
            ..
        }) => (None, Some(sw.over_budget.to_string())),
        Err(CoreError::Invalid { .. } | CoreError::Conflict { .. }) => {
            (None, Some(w.bad_value.to_string()))
        }
        Err(CoreError::Missing { .. } | CoreError::NotFound) => {
            return axum::http::StatusCode::NOT_FOUND.into_response();
        }
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    survey_page(&s, lang, &signed, &slug, none, said).await
}
