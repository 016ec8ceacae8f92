//! The privacy center's first page: what the business holds and why, generated from the policy,
//! in every language the policy declares. Server-rendered, no JavaScript, no third-party requests.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use mamori_policy::notice::basis_text;
use mamori_policy::{Language, Policy};
use mamori_proto::ErrorCode;
use serde::Deserialize;

use crate::AppState;

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

struct Strings {
    /// What follows a label: ": ", "：" in Japanese, " : " (narrow no-break space) in French.
    colon: &'static str,
    title: &'static str,
    intro: &'static str,
    what_we_hold: &'static str,
    why: &'static str,
    kept_for: &'static str,
    legal_basis: &'static str,
    contact: &'static str,
    categories_used: &'static str,
    gpc: &'static str,
    notice: &'static str,
    short_notice: &'static str,
    full_notice: &'static str,
    sign_in: &'static str,
}

fn strings(lang: Language) -> Strings {
    match lang {
        Language::En => Strings {
            colon: ": ",
            title: "Privacy center",
            intro: "This page is generated from the same policy that controls every access to your data.",
            what_we_hold: "What we hold",
            why: "Why we use it",
            kept_for: "kept for",
            legal_basis: "Legal basis",
            contact: "Questions or requests",
            categories_used: "Data used",
            notice: "Our privacy notice",
            short_notice: "short version",
            full_notice: "full version",
            sign_in: "See the data we hold about you: sign in",
            gpc: "Your browser sent a Global Privacy Control signal. We honour it as your request to opt out of the sale or sharing of your personal data, and record it whenever you use this privacy center.",
        },
        Language::Ja => Strings {
            colon: "：",
            title: "プライバシーセンター",
            intro: "このページは、お客様のデータへのすべてのアクセスを管理しているポリシーそのものから生成されています。",
            what_we_hold: "保有しているデータ",
            why: "利用目的",
            kept_for: "保存期間",
            legal_basis: "法的根拠",
            contact: "お問い合わせ・ご請求",
            categories_used: "利用するデータ",
            notice: "プライバシー通知",
            short_notice: "要約版",
            full_notice: "詳細版",
            sign_in: "当社が保有するお客様のデータを見る：サインイン",
            gpc: "お使いのブラウザからグローバル・プライバシー・コントロール（GPC）の信号を受け取りました。個人データの販売・共有を拒否するご意思として尊重し、このプライバシーセンターをご利用の際に記録します。",
        },
        Language::Fr => Strings {
            colon: "\u{202f}: ",
            title: "Centre de confidentialité",
            intro: "Cette page est générée à partir de la politique même qui contrôle chaque accès à vos données.",
            what_we_hold: "Les données que nous détenons",
            why: "Pourquoi nous les utilisons",
            kept_for: "conservées",
            legal_basis: "Base légale",
            contact: "Questions ou demandes",
            categories_used: "Données utilisées",
            notice: "Notre avis de confidentialité",
            short_notice: "version courte",
            full_notice: "version complète",
            sign_in: "Voir les données que nous détenons sur vous : se connecter",
            gpc: "Votre navigateur a envoyé un signal Global Privacy Control. Nous le respectons comme votre demande de refus de la vente ou du partage de vos données personnelles, et l'enregistrons chaque fois que vous utilisez ce centre de confidentialité.",
        },
    }
}

struct CategoryRow {
    label: String,
    retention: String,
    fields: String,
}

struct PurposeRow {
    label: String,
    description: String,
    basis: String,
    categories: String,
}

struct LangLink {
    code: &'static str,
    name: &'static str,
    current: bool,
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct PrivacyPage {
    lang: &'static str,
    s: Strings,
    organisation: String,
    contact: String,
    categories: Vec<CategoryRow>,
    purposes: Vec<PurposeRow>,
    languages: Vec<LangLink>,
    /// The request carried `Sec-GPC: 1`.
    gpc: bool,
}

fn page(policy: &Policy, lang: Language, gpc: bool) -> PrivacyPage {
    let categories = policy
        .categories
        .iter()
        .map(|c| CategoryRow {
            label: c.label.get(lang).to_string(),
            retention: c.retention_text.clone(),
            fields: c
                .fields
                .iter()
                .map(|f| f.label.get(lang))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let purposes = policy
        .purposes
        .iter()
        .map(|p| PurposeRow {
            label: p.label.get(lang).to_string(),
            description: p.description.get(lang).to_string(),
            basis: basis_text(p.legal_basis, lang).to_string(),
            categories: p
                .categories
                .iter()
                .map(|i| policy.categories[i].label.get(lang))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let names = [("en", "English"), ("ja", "日本語"), ("fr", "Français")];
    let languages = policy
        .organisation
        .languages
        .iter()
        .map(|l| LangLink {
            code: l.code(),
            name: names
                .iter()
                .find(|(c, _)| *c == l.code())
                .map_or("", |(_, n)| *n),
            current: *l == lang,
        })
        .collect();
    PrivacyPage {
        lang: lang.code(),
        s: strings(lang),
        organisation: policy.organisation.name.clone(),
        contact: policy.organisation.contact.clone(),
        categories,
        purposes,
        languages,
        gpc,
    }
}

pub async fn privacy_center(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: axum::http::HeaderMap,
) -> Response {
    let policy = &s.vault.policy;
    let lang = page_language(policy, q.lang.as_deref());
    html_page(page(policy, lang, crate::extract::sends_gpc(&headers)).render())
}

/// The language asked for if the policy offers it, else the policy's first language.
pub(crate) fn page_language(policy: &Policy, requested: Option<&str>) -> Language {
    requested
        .and_then(Language::parse)
        .filter(|l| policy.organisation.languages.contains(l))
        .or(policy.organisation.languages.first().copied())
        .unwrap_or(Language::En)
}

/// A rendered page with a CSP that allows nothing from elsewhere (and no scripts at all).
pub(crate) fn html_page(rendered: askama::Result<String>) -> Response {
    page_with_policy(
        rendered,
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
}

/// A page that runs Mamori's own script (invited surveys make their token in the browser):
/// scripts and requests to this origin only, nothing inline.
pub(crate) fn html_page_with_script(rendered: askama::Result<String>) -> Response {
    page_with_policy(
        rendered,
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
}

fn page_with_policy(rendered: askama::Result<String>, policy: &'static str) -> Response {
    match rendered {
        Ok(html) => ([(header::CONTENT_SECURITY_POLICY, policy)], Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "page failed to render");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    lang: Option<String>,
    kind: Option<String>,
    format: Option<String>,
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage {
    notice: mamori_policy::notice::Notice,
    languages: Vec<&'static str>,
}

/// The privacy notice generated from the policy: `kind=short|full` (default short),
/// `format=html|md|json` (default html), in the policy's languages.
pub async fn notice(State(s): State<AppState>, Query(q): Query<NoticeQuery>) -> Response {
    let policy = &s.vault.policy;
    let lang = page_language(policy, q.lang.as_deref());
    let notice = match q.kind.as_deref() {
        None | Some("short") => mamori_policy::notice::short_notice(policy, lang),
        Some("full") => mamori_policy::notice::full_notice(policy, lang),
        Some(_) => {
            return crate::problem::ApiError::bad_request(
                ErrorCode::InvalidQuery,
                "kind is short or full",
            )
            .into_response();
        }
    };
    let published = match s.vault.published_version_in_force().await {
        Ok(p) => p,
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let date = published.as_ref().map(|(_, ms)| {
        mamori_core::format_time(*ms)
            .chars()
            .take(10)
            .collect::<String>()
    });
    let notice = notice.with_version(
        published
            .as_ref()
            .zip(date.as_deref())
            .map(|((v, _), d)| (v.as_str(), d)),
    );
    match q.format.as_deref() {
        Some("json") => axum::Json(notice).into_response(),
        Some("md") => (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            notice.to_markdown(),
        )
            .into_response(),
        None | Some("html") => {
            let languages = policy
                .organisation
                .languages
                .iter()
                .map(|l| l.code())
                .collect();
            match (NoticePage { notice, languages }).render() {
                Ok(html) => (
                    [(header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")],
                    Html(html),
                )
                    .into_response(),
                Err(e) => {
                    tracing::error!(error = %e, "notice failed to render");
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
                }
            }
        }
        Some(_) => crate::problem::ApiError::bad_request(
            ErrorCode::InvalidQuery,
            "format is html, md or json",
        )
        .into_response(),
    }
}
