//! `/console/admin/agents`: for roles with `admin = ["agents"]`, the Data Rights Protocol agents
//! (active or removed), registering one from the DRP service directory — a sensitive step, since
//! it lets an outside party file requests for people — pausing and resuming one, and removing
//! one (its tokens stop at once).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_core::drp::DrpAgentRow;
use mamori_policy::Language;
use serde::Deserialize;

use super::forms::{Posted, console_form, posted, refusal_line};
use super::home::{Frame, frame};
use super::requests::{Proof, sensitive_actor};
use super::{Signed, signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;

#[derive(Template)]
#[template(path = "console_agents.html")]
struct AgentsPage {
    f: Frame,
    aw: AgentWords,
    agents: Vec<DrpAgentRow>,
    status: Option<&'static str>,
    error: Option<String>,
}

impl AgentsPage {
    fn date(&self, ms: i64) -> String {
        mamori_core::format_time(ms)
    }
}

pub(crate) struct AgentWords {
    manage: &'static str,
    add_heading: &'static str,
    add_intro: &'static str,
    verify_key: &'static str,
    add_button: &'static str,
    added: &'static str,
    remove: &'static str,
    removed: &'static str,
    pause: &'static str,
    paused: &'static str,
    paused_since: &'static str,
    resume: &'static str,
    resumed: &'static str,
}

const EN: AgentWords = AgentWords {
    manage: "Register and remove agents",
    add_heading: "Register an agent",
    add_intro: "Take its id and verify key from the Data Rights Protocol service directory: the agent can then pair and file signed requests for the people it acts for. Ids are never reused.",
    verify_key: "Verify key (base64 Ed25519)",
    add_button: "Register",
    added: "Registered: the agent can pair now.",
    remove: "Remove",
    removed: "Removed: its tokens no longer work; its requests stay in the register.",
    pause: "Pause",
    paused: "Paused: its tokens are refused until it is resumed; its requests stay in the register.",
    paused_since: "Paused since",
    resume: "Resume",
    resumed: "Resumed: its tokens work again.",
};

const JA: AgentWords = AgentWords {
    manage: "代理人の登録と削除",
    add_heading: "代理人を登録",
    add_intro: "Data Rights Protocol のサービスディレクトリからIDと検証鍵を入力してください。登録した代理人はペアリングし、本人に代わって署名付きの請求を提出できます。IDは再利用できません。",
    verify_key: "検証鍵（base64 の Ed25519）",
    add_button: "登録する",
    added: "登録しました。代理人はペアリングできます。",
    remove: "削除",
    removed: "削除しました。トークンは無効になり、請求は台帳に残ります。",
    pause: "一時停止",
    paused: "一時停止しました。再開するまでトークンを拒否します。請求は台帳に残ります。",
    paused_since: "一時停止の開始",
    resume: "再開",
    resumed: "再開しました。トークンは再び使えます。",
};

const FR: AgentWords = AgentWords {
    manage: "Enregistrer et retirer des mandataires",
    add_heading: "Enregistrer un mandataire",
    add_intro: "Reprenez son identifiant et sa clé de vérification dans l’annuaire des services du Data Rights Protocol\u{a0}: le mandataire pourra s’apparier et déposer des demandes signées pour les personnes qu’il représente. Les identifiants ne sont jamais réutilisés.",
    verify_key: "Clé de vérification (Ed25519 en base64)",
    add_button: "Enregistrer",
    added: "Enregistré\u{a0}: le mandataire peut s’apparier.",
    remove: "Retirer",
    removed: "Retiré\u{a0}: ses jetons ne fonctionnent plus\u{a0}; ses demandes restent au registre.",
    pause: "Suspendre",
    paused: "Suspendu\u{a0}: ses jetons sont refusés jusqu’à la reprise\u{a0}; ses demandes restent au registre.",
    paused_since: "Suspendu depuis",
    resume: "Reprendre",
    resumed: "Repris\u{a0}: ses jetons fonctionnent de nouveau.",
};

pub(crate) fn agent_words(lang: Language) -> AgentWords {
    match lang {
        Language::En => EN,
        Language::Ja => JA,
        Language::Fr => FR,
    }
}

pub(crate) fn manage_link(lang: Language) -> &'static str {
    agent_words(lang).manage
}

type Said = (Option<&'static str>, Option<String>);

async fn agents_page(s: &AppState, lang: Language, signed: &Signed, said: Said) -> Response {
    let f = super::with_confirm_by_passkey(s, signed, frame(s, lang, signed, "system")).await;
    let listed = match s.vault.staff_actor(&signed.session, "drp.agent_list").await {
        Ok(actor) => s.vault.list_agents(&actor).await,
        Err(e) => Err(e),
    };
    let agents = match listed {
        Ok(agents) => agents,
        Err(CoreError::Denied(d)) => {
            let text = format!("{} ({})", f.w.refused_by_policy, d.code());
            return super::refusal_page(s, f, text);
        }
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let code = match said.1 {
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    let page = AgentsPage {
        f,
        aw: agent_words(lang),
        agents,
        status: said.0,
        error: said.1,
    };
    with_status(page.render(), code)
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

pub async fn list(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    match signed_in(&s, &headers, lang).await {
        Ok(signed) => agents_page(&s, lang, &signed, (None, None)).await,
        Err(answer) => answer,
    }
}

#[derive(Deserialize)]
pub struct AddForm {
    csrf: String,
    lang: Option<String>,
    id: String,
    name: String,
    verify_key: String,
    code: Option<String>,
    passkey_token: Option<String>,
    passkey_answer: Option<String>,
}

pub async fn add(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<AddForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Posted::Ours(lang, signed, form) => (lang, signed, form),
        Posted::NotOurs(lang, signed) => {
            let bad = Some(super::words::words(lang).bad_form.into());
            return agents_page(&s, lang, &signed, (None, bad)).await;
        }
        Posted::Answer(answer) => return answer,
    };
    let w = super::words::words(lang);
    let proof = Proof::of(&form.code, &form.passkey_token, &form.passkey_answer);
    let added = match sensitive_actor(&s, &signed, proof, "drp.agent_add").await {
        Ok(Some(actor)) => {
            let (id, name) = (form.id.trim(), form.name.trim());
            s.vault
                .register_agent(&actor, id, name, &form.verify_key)
                .await
        }
        Ok(None) => return agents_page(&s, lang, &signed, (None, Some(w.wrong_code.into()))).await,
        Err(e) => Err(e),
    };
    let said = match added {
        Ok(()) => (Some(agent_words(lang).added), None),
        Err(e) => match refusal_line(&w, &e) {
            Some(text) => (None, Some(text)),
            None => return crate::problem::ApiError::from(e).into_response(),
        },
    };
    agents_page(&s, lang, &signed, said).await
}

#[derive(Deserialize)]
pub struct RemoveForm {
    csrf: String,
    lang: Option<String>,
    agent: String,
}

/// Removes an agent (decided and ledgered); not sensitive: it only takes rights away.
pub async fn remove(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<RemoveForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Posted::Ours(lang, signed, form) => (lang, signed, form),
        Posted::NotOurs(lang, signed) => {
            let bad = Some(super::words::words(lang).bad_form.into());
            return agents_page(&s, lang, &signed, (None, bad)).await;
        }
        Posted::Answer(answer) => return answer,
    };
    let w = super::words::words(lang);
    let removed = match s
        .vault
        .staff_actor(&signed.session, "drp.agent_remove")
        .await
    {
        Ok(actor) => s.vault.remove_agent(&actor, &form.agent).await,
        Err(e) => Err(e),
    };
    let said = match removed {
        Ok(()) => (Some(agent_words(lang).removed), None),
        Err(e) => match refusal_line(&w, &e) {
            Some(text) => (None, Some(text)),
            None => return crate::problem::ApiError::from(e).into_response(),
        },
    };
    agents_page(&s, lang, &signed, said).await
}

#[derive(Deserialize)]
pub struct PauseForm {
    csrf: String,
    lang: Option<String>,
    agent: String,
    /// Present (the Resume button): resume; absent: pause.
    resume: Option<String>,
}

/// Pauses or resumes an agent (decided and ledgered); not sensitive: resuming gives back only
/// what was registered under step-up.
pub async fn pause(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<PauseForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Posted::Ours(lang, signed, form) => (lang, signed, form),
        Posted::NotOurs(lang, signed) => {
            let bad = Some(super::words::words(lang).bad_form.into());
            return agents_page(&s, lang, &signed, (None, bad)).await;
        }
        Posted::Answer(answer) => return answer,
    };
    let (w, aw) = (super::words::words(lang), agent_words(lang));
    let resume = form.resume.is_some();
    let action = if resume {
        "drp.agent_resume"
    } else {
        "drp.agent_pause"
    };
    let done = match s.vault.staff_actor(&signed.session, action).await {
        Ok(actor) if resume => s.vault.resume_agent(&actor, &form.agent).await,
        Ok(actor) => s.vault.pause_agent(&actor, &form.agent).await,
        Err(e) => Err(e),
    };
    let said = match done {
        Ok(()) => (Some(if resume { aw.resumed } else { aw.paused }), None),
        Err(e) => match refusal_line(&w, &e) {
            Some(text) => (None, Some(text)),
            None => return crate::problem::ApiError::from(e).into_response(),
        },
    };
    agents_page(&s, lang, &signed, said).await
}

console_form!(AddForm, RemoveForm, PauseForm);
