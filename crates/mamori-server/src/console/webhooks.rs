//! `/console/admin/webhooks`: for roles with `admin = ["webhooks"]`, the subscriptions with their
//! delivery (last answer, failed attempts), subscribing a URL — a sensitive step, since events
//! leave for it; its signing secret is shown once — pausing and resuming one, and removing one.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_core::webhooks::{EVENT_TYPES, WebhookInfo};
use mamori_policy::Language;
use serde::Deserialize;

use super::forms::{Posted, console_form, posted, refusal_line};
use super::home::{Frame, frame};
use super::requests::{Proof, sensitive_actor};
use super::{Signed, signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;

#[derive(Template)]
#[template(path = "console_webhooks.html")]
struct WebhooksPage {
    f: Frame,
    ww: WebhookWords,
    hooks: Vec<WebhookInfo>,
    types: Vec<&'static str>,
    status: Option<&'static str>,
    error: Option<String>,
    /// A new subscription's signing secret, shown this once.
    secret: Option<String>,
}

impl WebhooksPage {
    fn failing(&self, h: &WebhookInfo) -> bool {
        h.attempts > 0 || h.last_status.is_some_and(|st| !(200..300).contains(&st))
    }
}

pub(crate) struct WebhookWords {
    manage: &'static str,
    add_heading: &'static str,
    events: &'static str,
    all_events: &'static str,
    add_button: &'static str,
    added: &'static str,
    attempts: &'static str,
    remove: &'static str,
    removed: &'static str,
    replay: &'static str,
    replay_from: &'static str,
    replayed: &'static str,
    pause: &'static str,
    paused: &'static str,
    paused_since: &'static str,
    resume: &'static str,
    resumed: &'static str,
}

const EN: WebhookWords = WebhookWords {
    manage: "Subscribe and remove webhooks",
    add_heading: "Subscribe a URL",
    events: "Events",
    all_events: "every event",
    add_button: "Subscribe",
    added: "Subscribed from the next event on. Its signing secret (Standard Webhooks), shown this once:",
    attempts: "Failed attempts",
    remove: "Remove",
    removed: "Removed: nothing more is sent to it.",
    replay: "Replay",
    replay_from: "From event number",
    replayed: "Replaying: the events from that number on are sent again, in order.",
    pause: "Pause",
    paused: "Paused: nothing is sent until it is resumed; events wait their turn.",
    paused_since: "Paused since",
    resume: "Resume",
    resumed: "Resumed: what was held is being sent, in order.",
};

const JA: WebhookWords = WebhookWords {
    manage: "Webhookの購読と削除",
    add_heading: "URLを購読",
    events: "イベント",
    all_events: "すべてのイベント",
    add_button: "購読する",
    added: "次のイベントから送ります。署名用シークレット（Standard Webhooks）は今回だけ表示します：",
    attempts: "失敗した試行",
    remove: "削除",
    removed: "削除しました。今後は何も送りません。",
    replay: "再送",
    replay_from: "再送を始めるイベント番号",
    replayed: "再送します。その番号以降のイベントを順に送り直します。",
    pause: "一時停止",
    paused: "一時停止しました。再開するまで何も送りません。イベントは順番を待ちます。",
    paused_since: "一時停止の開始",
    resume: "再開",
    resumed: "再開しました。保留していたイベントを順に送ります。",
};

const FR: WebhookWords = WebhookWords {
    manage: "Abonner et retirer des webhooks",
    add_heading: "Abonner une URL",
    events: "Événements",
    all_events: "tous les événements",
    add_button: "Abonner",
    added: "Abonnée à partir du prochain événement. Son secret de signature (Standard Webhooks), affiché cette seule fois\u{a0}:",
    attempts: "Tentatives échouées",
    remove: "Retirer",
    removed: "Retirée\u{a0}: plus rien ne lui est envoyé.",
    replay: "Renvoyer",
    replay_from: "À partir de l’événement numéro",
    replayed: "Renvoi en cours\u{a0}: les événements à partir de ce numéro sont renvoyés, dans l’ordre.",
    pause: "Suspendre",
    paused: "Suspendu\u{a0}: rien n’est envoyé avant la reprise\u{a0}; les événements attendent leur tour.",
    paused_since: "Suspendu depuis",
    resume: "Reprendre",
    resumed: "Repris\u{a0}: ce qui était retenu est envoyé, dans l’ordre.",
};

pub(crate) fn webhook_words(lang: Language) -> WebhookWords {
    match lang {
        Language::En => EN,
        Language::Ja => JA,
        Language::Fr => FR,
    }
}

pub(crate) fn manage_link(lang: Language) -> &'static str {
    webhook_words(lang).manage
}

/// What a step said: a status, an error, a new secret.
type Said = (Option<&'static str>, Option<String>, Option<String>);

async fn webhooks_page(s: &AppState, lang: Language, signed: &Signed, said: Said) -> Response {
    let f = super::with_confirm_by_passkey(s, signed, frame(s, lang, signed, "system")).await;
    let listed = match s.vault.staff_actor(&signed.session, "webhook.list").await {
        Ok(actor) => s.vault.list_webhooks(&actor).await,
        Err(e) => Err(e),
    };
    let hooks = match listed {
        Ok(hooks) => hooks,
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
    let page = WebhooksPage {
        f,
        ww: webhook_words(lang),
        hooks,
        types: EVENT_TYPES.iter().map(|t| t.as_str()).collect(),
        status: said.0,
        error: said.1,
        secret: said.2,
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
        Ok(signed) => webhooks_page(&s, lang, &signed, (None, None, None)).await,
        Err(answer) => answer,
    }
}

#[derive(Deserialize)]
pub struct AddForm {
    csrf: String,
    lang: Option<String>,
    url: String,
    events: String,
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
            return webhooks_page(&s, lang, &signed, (None, bad, None)).await;
        }
        Posted::Answer(answer) => return answer,
    };
    let w = super::words::words(lang);
    let proof = Proof::of(&form.code, &form.passkey_token, &form.passkey_answer);
    let added = match sensitive_actor(&s, &signed, proof, "webhook.add").await {
        Ok(Some(actor)) => {
            let url = form.url.trim();
            s.vault
                .add_webhook(&actor, url, std::slice::from_ref(&form.events))
                .await
        }
        Ok(None) => {
            return webhooks_page(&s, lang, &signed, (None, Some(w.wrong_code.into()), None)).await;
        }
        Err(e) => Err(e),
    };
    let said = match added {
        Ok((_, secret)) => (Some(webhook_words(lang).added), None, Some(secret)),
        Err(e) => match refusal_line(&w, &e) {
            Some(text) => (None, Some(text), None),
            None => return crate::problem::ApiError::from(e).into_response(),
        },
    };
    webhooks_page(&s, lang, &signed, said).await
}

#[derive(Deserialize)]
pub struct RemoveForm {
    csrf: String,
    lang: Option<String>,
    webhook: String,
}

/// Removes a subscription (decided and ledgered); not sensitive: it only stops sending.
pub async fn remove(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<RemoveForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Posted::Ours(lang, signed, form) => (lang, signed, form),
        Posted::NotOurs(lang, signed) => {
            let bad = Some(super::words::words(lang).bad_form.into());
            return webhooks_page(&s, lang, &signed, (None, bad, None)).await;
        }
        Posted::Answer(answer) => return answer,
    };
    let w = super::words::words(lang);
    let removed = match s.vault.staff_actor(&signed.session, "webhook.remove").await {
        Ok(actor) => s.vault.remove_webhook(&actor, &form.webhook).await,
        Err(e) => Err(e),
    };
    let said = match removed {
        Ok(()) => (Some(webhook_words(lang).removed), None, None),
        Err(e) => match refusal_line(&w, &e) {
            Some(text) => (None, Some(text), None),
            None => return crate::problem::ApiError::from(e).into_response(),
        },
    };
    webhooks_page(&s, lang, &signed, said).await
}

/// Pauses or resumes a subscription (decided and ledgered); not sensitive: resuming only sends
/// on to the URL subscribed under step-up.
pub async fn pause(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<PauseForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Posted::Ours(lang, signed, form) => (lang, signed, form),
        Posted::NotOurs(lang, signed) => {
            let bad = Some(super::words::words(lang).bad_form.into());
            return webhooks_page(&s, lang, &signed, (None, bad, None)).await;
        }
        Posted::Answer(answer) => return answer,
    };
    let w = super::words::words(lang);
    let (ww, resume) = (webhook_words(lang), form.resume.is_some());
    let action = if resume {
        "webhook.resume"
    } else {
        "webhook.pause"
    };
    let done = match s.vault.staff_actor(&signed.session, action).await {
        Ok(actor) if resume => s.vault.resume_webhook(&actor, &form.webhook).await,
        Ok(actor) => s.vault.pause_webhook(&actor, &form.webhook).await,
        Err(e) => Err(e),
    };
    let said = match done {
        Ok(()) => (
            Some(if resume { ww.resumed } else { ww.paused }),
            None,
            None,
        ),
        Err(e) => match refusal_line(&w, &e) {
            Some(text) => (None, Some(text), None),
            None => return crate::problem::ApiError::from(e).into_response(),
        },
    };
    webhooks_page(&s, lang, &signed, said).await
}

#[derive(Deserialize)]
pub struct PauseForm {
    csrf: String,
    lang: Option<String>,
    webhook: String,
    /// Present (the Resume button): resume; absent: pause.
    resume: Option<String>,
}

#[derive(Deserialize)]
pub struct ReplayForm {
    csrf: String,
    lang: Option<String>,
    webhook: String,
    #[serde(default)]
    from: String,
}

/// Sends a subscription's events again from an outbox number (decided and ledgered): what a
/// receiver lost, it gets back, in order.
pub async fn replay(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<ReplayForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Posted::Ours(lang, signed, form) => (lang, signed, form),
        Posted::NotOurs(lang, signed) => {
            let bad = Some(super::words::words(lang).bad_form.into());
            return webhooks_page(&s, lang, &signed, (None, bad, None)).await;
        }
        Posted::Answer(answer) => return answer,
    };
    let w = super::words::words(lang);
    let replayed = match (
        form.from.trim().parse::<i64>().ok().filter(|n| *n >= 1),
        s.vault.staff_actor(&signed.session, "webhook.replay").await,
    ) {
        (Some(from), Ok(actor)) => s.vault.replay_webhook(&actor, &form.webhook, from).await,
        (None, Ok(_)) => Err(mamori_core::CoreError::invalid(
            mamori_proto::ErrorCode::InvalidValue,
            "from",
            "an event number from 1",
        )),
        (_, Err(e)) => Err(e),
    };
    let said = match replayed {
        Ok(()) => (Some(webhook_words(lang).replayed), None, None),
        Err(e) => match refusal_line(&w, &e) {
            Some(text) => (None, Some(text), None),
            None => return crate::problem::ApiError::from(e).into_response(),
        },
    };
    webhooks_page(&s, lang, &signed, said).await
}

console_form!(AddForm, RemoveForm, ReplayForm, PauseForm);
