//! `/console/admin/system`: what connects to Mamori — API keys, webhook subscriptions and their
//! delivery, Data Rights Protocol agents — and the policy's published versions. Each section is
//! read through the vault (decided, ledgered) and shown to roles granted its permission.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_policy::{AdminPermission, Language};
use serde::Deserialize;

use super::home::{Frame, frame};
use super::{Signed, signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;

/// One section's rows (cells in column order), or None when the role is not granted it.
type Section = Option<Vec<Vec<String>>>;

#[derive(Template)]
#[template(path = "console_system.html")]
struct SystemPage {
    f: Frame,
    keys: Section,
    webhooks: Section,
    agents: Section,
    versions: Section,
    /// The link to the policy page, for roles that may compare and publish.
    policy_link: Option<&'static str>,
    /// The link to the privacy report, for roles that manage surveys (who may read it).
    report_link: Option<&'static str>,
    /// The link to create and revoke keys, for roles granted `api_keys`.
    keys_link: Option<&'static str>,
    /// The link to subscribe and remove webhooks, for roles granted `webhooks`.
    webhooks_link: Option<&'static str>,
    /// The link to register and remove agents, for roles granted `agents`.
    agents_link: Option<&'static str>,
    /// The link to place and lift legal holds, for roles granted `retention`.
    holds_link: Option<&'static str>,
    /// The link to the vendor register and vendors' tasks, for roles granted `vendors`.
    vendors_link: Option<&'static str>,
    /// The link to the security posture, for roles granted `keys`.
    posture_link: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

fn granted(s: &AppState, signed: &Signed, permission: AdminPermission) -> bool {
    (s.vault.policy.role(signed.session.role())).is_some_and(|r| r.admin.contains(permission))
}

fn date(ms: i64) -> String {
    mamori_core::format_time(ms)
        .get(..10)
        .unwrap_or_default()
        .to_string()
}

/// The links to the pages that manage what the role is granted.
fn links(s: &AppState, signed: &Signed, lang: Language, page: &mut SystemPage) {
    let role = s.vault.policy.role(signed.session.role());
    if role.is_some_and(|r| r.surveys.manage) {
        page.report_link = Some(super::report_words::report_words(lang).report_link);
    }
    let may = |permission| granted(s, signed, permission).then_some(());
    page.keys_link =
        may(AdminPermission::ApiKeys).map(|()| super::keys_words::keys_words(lang).manage);
    page.webhooks_link =
        may(AdminPermission::Webhooks).map(|()| super::webhooks::manage_link(lang));
    page.agents_link = may(AdminPermission::Agents).map(|()| super::agents::manage_link(lang));
    page.holds_link = may(AdminPermission::Retention).map(|()| super::holds::manage_link(lang));
    page.vendors_link =
        may(AdminPermission::Vendors).map(|()| super::vendor_words::vendor_words(lang).link);
    page.posture_link =
        may(AdminPermission::Keys).map(|()| super::posture::posture_words(lang).heading);
    page.policy_link = may(AdminPermission::Policy)
        .map(|()| super::policy_words::policy_words(lang).compare_and_publish);
}

async fn sections(
    s: &AppState,
    signed: &Signed,
    lang: Language,
) -> mamori_core::Result<SystemPage> {
    let w = super::words::words(lang);
    let actor = s.vault.staff_actor(&signed.session, "admin.read").await?;
    let yes_no = |b: bool| if b { w.yes_word } else { w.no_word }.to_string();
    let mut page = SystemPage {
        f: frame(s, lang, signed, "system"),
        keys: None,
        webhooks: None,
        agents: None,
        versions: None,
        policy_link: None,
        report_link: None,
        keys_link: None,
        webhooks_link: None,
        agents_link: None,
        holds_link: None,
        vendors_link: None,
        posture_link: None,
    };
    links(s, signed, lang, &mut page);
    if granted(s, signed, AdminPermission::ApiKeys) {
        let keys = s.vault.list_api_keys(&actor).await?;
        page.keys = Some(
            keys.into_iter()
                .map(|k| vec![k.name, k.role, date(k.created_ms), yes_no(k.revoked)])
                .collect(),
        );
    }
    if granted(s, signed, AdminPermission::Webhooks) {
        let hooks = s.vault.list_webhooks(&actor).await?;
        page.webhooks = Some(
            (hooks.into_iter())
                .map(|h| {
                    let failing =
                        h.attempts > 0 || h.last_status.is_some_and(|st| !(200..300).contains(&st));
                    let status = h.last_status.map_or("—".to_string(), |st| st.to_string());
                    vec![h.url, h.event_types.join(", "), status, yes_no(failing)]
                })
                .collect(),
        );
    }
    if granted(s, signed, AdminPermission::Agents) {
        let agents = s.vault.list_agents(&actor).await?;
        page.agents = Some(
            agents
                .into_iter()
                .map(|a| {
                    vec![
                        a.id,
                        a.name,
                        date(a.created_ms),
                        yes_no(a.removed_ms.is_none()),
                    ]
                })
                .collect(),
        );
    }
    if granted(s, signed, AdminPermission::Policy) {
        let versions = s.vault.policy_versions(&actor).await?;
        page.versions = Some(
            (versions.into_iter())
                .map(|v| {
                    vec![
                        format!("v{}", v.version),
                        date(v.published_ms),
                        hex::encode(&v.hash[..8]),
                        v.actor,
                    ]
                })
                .collect(),
        );
    }
    Ok(page)
}

pub async fn system(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    match sections(&s, &signed, lang).await {
        Ok(page) => with_status(page.render(), StatusCode::OK),
        Err(mamori_core::CoreError::Denied(d)) => {
            let f = frame(&s, lang, &signed, "system");
            let text = format!("{} ({})", f.w.refused_by_policy, d.code());
            super::refusal_page(&s, f, text)
        }
        Err(e) => crate::problem::ApiError::from(e).into_response(),
    }
}
