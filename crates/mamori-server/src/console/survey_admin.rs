//! Creating a survey from its definition (the TOML `mamori survey create` reads, pasted) and
//! closing one, from the console's survey list — for roles with `surveys = ["manage"]`; decided and
//! ledgered (`survey.create`, `survey.close`) by the vault like the CLI and API.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_core::surveys::Survey;
use mamori_policy::Language;
use serde::Deserialize;

use super::signed_in;
use super::surveys::list_page;
use crate::AppState;
use crate::privacy::page_language;

pub(crate) struct ManageWords {
    pub(crate) create_heading: &'static str,
    pub(crate) create_intro: &'static str,
    pub(crate) definition: &'static str,
    pub(crate) create_button: &'static str,
    pub(crate) created: &'static str,
    pub(crate) close: &'static str,
    pub(crate) closed: &'static str,
}

const EN: ManageWords = ManageWords {
    create_heading: "Create a survey",
    create_intro: "Paste its definition (as in examples/survey.toml): questions, texts in each language, k, how it is answered and counted.",
    definition: "Definition (TOML)",
    create_button: "Create the survey",
    created: "Survey created.",
    close: "Close",
    closed: "Survey closed: it takes no more answers.",
};

const JA: ManageWords = ManageWords {
    create_heading: "アンケートを作成",
    create_intro: "定義（examples/survey.toml と同じ形式）を貼り付けてください。質問、各言語の文言、k、回答と集計の方法を含みます。",
    definition: "定義（TOML）",
    create_button: "アンケートを作成する",
    created: "アンケートを作成しました。",
    close: "締め切る",
    closed: "アンケートを締め切りました。これ以上回答は受け付けません。",
};

const FR: ManageWords = ManageWords {
    create_heading: "Créer une enquête",
    create_intro: "Collez sa définition (comme examples/survey.toml)\u{a0}: questions, textes dans chaque langue, k, mode de réponse et de décompte.",
    definition: "Définition (TOML)",
    create_button: "Créer l’enquête",
    created: "Enquête créée.",
    close: "Clore",
    closed: "Enquête close\u{a0}: elle ne reçoit plus de réponses.",
};

pub(crate) fn manage_words(lang: Language) -> ManageWords {
    match lang {
        Language::En => EN,
        Language::Ja => JA,
        Language::Fr => FR,
    }
}

/// A survey definition is staff's text, never personal data: at most this long.
const DEFINITION_MAX_BYTES: usize = 64 * 1024;

#[derive(Deserialize)]
pub struct CreateForm {
    csrf: String,
    lang: Option<String>,
    definition: String,
}

/// The error line: a refusal, or why the definition is not accepted (the vault's words; a
/// definition is staff's own text, so its problem may quote it).
fn refused(w: &super::words::Words, e: &CoreError) -> Option<String> {
    match e {
        CoreError::Denied(d) => Some(format!("{} ({})", w.refused_by_policy, d.code())),
        CoreError::Invalid { message, .. } | CoreError::Conflict { message, .. } => {
            Some(format!("{} ({message})", w.bad_value))
        }
        CoreError::Missing { .. } | CoreError::NotFound => Some(w.bad_value.to_string()),
        _ => None,
    }
}

pub async fn create(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<CreateForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let lang = page_language(
        &s.vault.policy,
        form.as_ref().ok().and_then(|f| f.lang.as_deref()),
    );
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let w = super::words::words(lang);
    let form = match form {
        Ok(axum::Form(f)) if signed.form_is_ours(&s, &headers, &f.csrf) => f,
        _ => return list_page(&s, lang, &signed, (None, Some(w.bad_form.into()))).await,
    };
    if form.definition.len() > DEFINITION_MAX_BYTES {
        return list_page(&s, lang, &signed, (None, Some(w.bad_value.into()))).await;
    }
    let created = match s.vault.staff_actor(&signed.session, "survey.create").await {
        Ok(actor) => match Survey::from_toml(&s.vault.policy, &form.definition) {
            Ok(survey) => s.vault.create_survey(&actor, survey).await.map(|_| ()),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    let said = match created {
        Ok(()) => (Some(manage_words(lang).created), None),
        Err(e) => match refused(&w, &e) {
            Some(text) => (None, Some(text)),
            None => return crate::problem::ApiError::from(e).into_response(),
        },
    };
    list_page(&s, lang, &signed, said).await
}

#[derive(Deserialize)]
pub struct CloseForm {
    csrf: String,
    lang: Option<String>,
}

pub async fn close(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    form: Result<axum::Form<CloseForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let lang = page_language(
        &s.vault.policy,
        form.as_ref().ok().and_then(|f| f.lang.as_deref()),
    );
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let w = super::words::words(lang);
    match form {
        Ok(axum::Form(f)) if signed.form_is_ours(&s, &headers, &f.csrf) => {}
        _ => return list_page(&s, lang, &signed, (None, Some(w.bad_form.into()))).await,
    }
    let closed = match s.vault.staff_actor(&signed.session, "survey.close").await {
        Ok(actor) => s.vault.close_survey(&actor, &slug).await,
        Err(e) => Err(e),
    };
    let said = match closed {
        Ok(()) => (Some(manage_words(lang).closed), None),
        Err(e) => match refused(&w, &e) {
            Some(text) => (None, Some(text)),
            None => return crate::problem::ApiError::from(e).into_response(),
        },
    };
    list_page(&s, lang, &signed, said).await
}
