//! `/console/admin/posture`: what `mamori doctor` checks — the machine's files, filesystem,
//! address, backups and key rotation (when the server was started by `mamori serve` or
//! `mamori demo`, which hand it those checks), and the vault's API keys, staff, webhooks,
//! ledger and clock — in the page's language, most severe first. Read through the vault:
//! decided (`admin = ["keys"]`) and ledgered as `posture.check`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_core::posture::{Severity, words};
use mamori_policy::Language;
use serde::Deserialize;

use super::home::{Frame, frame};
use super::{signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;

pub(crate) struct PostureWords {
    pub(crate) heading: &'static str,
    intro: &'static str,
    machine_unchecked: &'static str,
    high: &'static str,
    severity: &'static str,
    check: &'static str,
    finding: &'static str,
    fix: &'static str,
}

const EN: PostureWords = PostureWords {
    heading: "Security posture",
    intro: "What mamori doctor checks, as of now. Fix high findings first.",
    machine_unchecked: "This server was not given the machine’s checks (files, backups, key rotation): run mamori doctor on the machine.",
    high: "High findings",
    severity: "Severity",
    check: "Check",
    finding: "Finding",
    fix: "What to do",
};

const JA: PostureWords = PostureWords {
    heading: "セキュリティ態勢",
    intro: "mamori doctor が確認する項目の現在の状態です。重要度「高」から直してください。",
    machine_unchecked: "このサーバーにはマシンの確認項目（ファイル・バックアップ・鍵の更新）が渡されていません。マシン上で mamori doctor を実行してください。",
    high: "重要度「高」の指摘",
    severity: "重要度",
    check: "確認項目",
    finding: "結果",
    fix: "対処",
};

const FR: PostureWords = PostureWords {
    heading: "Posture de sécurité",
    intro: "Ce que vérifie mamori doctor, à l’instant. Corrigez d’abord les points de gravité élevée.",
    machine_unchecked: "Ce serveur n’a pas reçu les vérifications de la machine (fichiers, sauvegardes, renouvellement des clés)\u{a0}: lancez mamori doctor sur la machine.",
    high: "Points de gravité élevée",
    severity: "Gravité",
    check: "Vérification",
    finding: "Constat",
    fix: "Que faire",
};

pub(crate) fn posture_words(lang: Language) -> PostureWords {
    match lang {
        Language::En => EN,
        Language::Ja => JA,
        Language::Fr => FR,
    }
}

/// One finding as the page shows it.
struct Row {
    check: &'static str,
    label: &'static str,
    severity: &'static str,
    level: &'static str,
    finding: String,
    fix: Option<String>,
}

#[derive(Template)]
#[template(path = "console_posture.html")]
struct PosturePage {
    f: Frame,
    pw: PostureWords,
    rows: Vec<Row>,
    high: usize,
    machine_checked: bool,
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

pub async fn show(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let f = frame(&s, lang, &signed, "system");
    let read = match s.vault.staff_actor(&signed.session, "posture.check").await {
        Ok(actor) => s.vault.posture(&actor).await,
        Err(e) => Err(e),
    };
    match read {
        Ok(found) => {
            let rows: Vec<Row> = (found.iter())
                .map(|x| Row {
                    check: x.check(),
                    label: words::check_label(x.check(), lang),
                    severity: words::severity_label(x.severity, lang),
                    level: level(x.severity),
                    finding: words::say(&x.fact, lang),
                    fix: words::fix(&x.fact, lang),
                })
                .collect();
            let high = (found.iter())
                .filter(|x| x.severity == Severity::High)
                .count();
            let page = PosturePage {
                f,
                pw: posture_words(lang),
                rows,
                high,
                machine_checked: s.vault.installation.is_some(),
            };
            with_status(page.render(), StatusCode::OK)
        }
        Err(CoreError::Denied(d)) => {
            let text = format!("{} ({})", f.w.refused_by_policy, d.code());
            super::refusal_page(&s, f, text)
        }
        Err(e) => crate::problem::ApiError::from(e).into_response(),
    }
}

/// The row's class (its colour comes with the text, never alone).
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Ok => "ok",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
    }
}
