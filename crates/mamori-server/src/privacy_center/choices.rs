//! "My choices": consent per purpose and channel, one click each; "Do not sell or share"; and
//! Global Privacy Control, honoured and explained.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use mamori_policy::Language;
use serde::Deserialize;

use crate::AppState;
use crate::privacy::{html_page, page_language};
use crate::privacy_center::{
    LangQuery, PageForm, SignedInForm, Strings, csrf_token, page_form, signed_in, strings,
    with_cookie,
};

struct ChannelChoice {
    /// `""` when the purpose is consented as a whole.
    name: String,
    label: String,
    on: bool,
    /// Off because the browser's Global Privacy Control signal turned it off.
    by_gpc: bool,
}

struct PurposeChoice {
    name: String,
    label: String,
    description: String,
    channels: Vec<ChannelChoice>,
}

#[derive(Template)]
#[template(path = "choices.html")]
struct ChoicesPage {
    lang: &'static str,
    s: Strings,
    organisation: String,
    csrf: String,
    purposes: Vec<PurposeChoice>,
    has_sale: bool,
    status: Option<&'static str>,
    g: GpcStrings,
    /// The request carried `Sec-GPC: 1`.
    gpc: bool,
    /// The uses that sell or share which are on (labels); empty: the person is opted out.
    selling: Vec<String>,
}

/// What this page says about Global Privacy Control and the state of "Do not sell or share".
struct GpcStrings {
    honoured: &'static str,
    by_gpc: &'static str,
    opted_out_state: &'static str,
    selling_state: &'static str,
    list_separator: &'static str,
    list_end: &'static str,
}

fn gpc_strings(lang: Language) -> GpcStrings {
    match lang {
        Language::En => GpcStrings {
            honoured: "Your browser sends a Global Privacy Control signal. We honour it as your request to opt out of the sale or sharing of your personal information: every such use is off while it is on (marked below). A use you turn on here yourself afterwards stays on.",
            by_gpc: " (Global Privacy Control)",
            opted_out_state: "Current state: opted out. We do not sell or share your personal information.",
            selling_state: "Current state: you allow it for ",
            list_separator: ", ",
            list_end: ".",
        },
        Language::Ja => GpcStrings {
            honoured: "お使いのブラウザはグローバル・プライバシー・コントロール（GPC）の信号を送っています。個人情報の販売・共有を拒否するご意思として尊重し、信号がある間は該当する用途をすべてオフにしています（下に表示）。その後ご自身でここからオンにした用途は、オンのままです。",
            by_gpc: "（GPCによる）",
            opted_out_state: "現在の状態：拒否しています。お客様の個人情報を販売・共有しません。",
            selling_state: "現在の状態：次の用途で許可しています：",
            list_separator: "、",
            list_end: "。",
        },
        Language::Fr => GpcStrings {
            honoured: "Votre navigateur envoie un signal Global Privacy Control. Nous le respectons comme votre demande de refus de la vente ou du partage de vos informations personnelles\u{202f}: tout usage de ce type est désactivé tant qu'il est actif (indiqué ci-dessous). Un usage que vous activez ensuite vous-même ici reste activé.",
            by_gpc: " (Global Privacy Control)",
            opted_out_state: "État actuel\u{202f}: refusé. Nous ne vendons ni ne partageons vos informations personnelles.",
            selling_state: "État actuel\u{202f}: vous l'autorisez pour ",
            list_separator: ", ",
            list_end: ".",
        },
    }
}

fn channel_label(name: &str, lang: Language) -> &'static str {
    match (name, lang) {
        ("email", Language::Ja) => "メール",
        ("email", _) => "E-mail",
        ("sms", _) => "SMS",
        ("push", Language::Ja) => "プッシュ通知",
        ("push", Language::Fr) => "Notifications",
        ("push", _) => "Push notifications",
        ("phone", Language::Ja) => "電話",
        ("phone", Language::Fr) => "Téléphone",
        ("phone", _) => "Phone",
        ("post", Language::Ja) => "郵便",
        ("post", Language::Fr) => "Courrier",
        ("post", _) => "Post",
        _ => "",
    }
}

async fn choices_page(
    s: &AppState,
    headers: &HeaderMap,
    lang: Language,
    status: Option<&'static str>,
) -> Response {
    let (subject, actor) = match signed_in(s, headers, lang).await {
        Ok(session) => session,
        Err(r) => return r,
    };
    let current = match s.vault.consent_overview(&actor, &subject).await {
        Ok(rows) => rows,
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let policy = &s.vault.policy;
    let consent_based = policy
        .purposes
        .iter()
        .filter(|p| p.legal_basis == mamori_policy::LegalBasis::Consent);
    let purposes = consent_based
        .clone()
        .map(|p| {
            let names: Vec<String> = if p.channels.is_empty() {
                vec![String::new()]
            } else {
                p.channels
                    .iter()
                    .map(|c| mamori_core::consent::channel_name(*c).to_string())
                    .collect()
            };
            let channels = names
                .into_iter()
                .map(|name| {
                    let row = current
                        .iter()
                        .find(|r| r.purpose == p.name && r.channel == name);
                    ChannelChoice {
                        on: row.is_some_and(|r| r.granted),
                        by_gpc: row.is_some_and(|r| !r.granted && r.source == "gpc"),
                        label: channel_label(&name, lang).to_string(),
                        name,
                    }
                })
                .collect();
            PurposeChoice {
                name: p.name.clone(),
                label: p.label.get(lang).to_string(),
                description: p.description.get(lang).to_string(),
                channels,
            }
        })
        .collect();
    let (csrf, set) = csrf_token(s, headers);
    let page = ChoicesPage {
        lang: lang.code(),
        s: strings(lang),
        organisation: policy.organisation.name.clone(),
        csrf,
        purposes,
        has_sale: consent_based.clone().any(|p| p.sale_or_share),
        status,
        g: gpc_strings(lang),
        gpc: crate::extract::sends_gpc(headers),
        selling: consent_based
            .clone()
            .filter(|p| p.sale_or_share)
            .filter(|p| current.iter().any(|r| r.purpose == p.name && r.granted))
            .map(|p| p.label.get(lang).to_string())
            .collect(),
    };
    with_cookie(html_page(page.render()), set)
}

/// "My choices": every consent-based purpose and channel with its current state.
pub async fn my_choices(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    choices_page(&s, &headers, lang, None).await
}

#[derive(Deserialize)]
pub struct ChoiceForm {
    purpose: String,
    channel: String,
    granted: bool,
    csrf: String,
    lang: Option<String>,
}

/// One click changes one consent, recorded with source `portal` and effective at once.
pub async fn change_choice(
    State(s): State<AppState>,
    headers: HeaderMap,
    SignedInForm {
        form,
        lang,
        subject,
        actor,
    }: SignedInForm<ChoiceForm>,
) -> Response {
    let change = mamori_core::consent::ConsentChange {
        purpose: form.purpose,
        channel: Some(form.channel).filter(|c| !c.is_empty()),
        granted: form.granted,
        source: Some("portal".into()),
        notice_version: None,
    };
    if let Err(e) = s.vault.set_consent(&actor, &subject, &change).await {
        return crate::problem::ApiError::from(e).into_response();
    }
    choices_page(&s, &headers, lang, Some(strings(lang).saved)).await
}

#[derive(Deserialize)]
pub struct OptOutForm {
    csrf: String,
    lang: Option<String>,
}

/// "Do not sell or share my personal information" (CCPA): one click withdraws every purpose
/// that sells or shares, on every channel.
pub async fn do_not_sell(
    State(s): State<AppState>,
    headers: HeaderMap,
    SignedInForm {
        lang,
        subject,
        actor,
        ..
    }: SignedInForm<OptOutForm>,
) -> Response {
    if let Err(e) = s.vault.opt_out_of_sale(&actor, &subject, "portal").await {
        return crate::problem::ApiError::from(e).into_response();
    }
    choices_page(&s, &headers, lang, Some(strings(lang).opted_out)).await
}

page_form!(ChoiceForm, OptOutForm);
