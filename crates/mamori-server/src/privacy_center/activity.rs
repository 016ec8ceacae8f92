//! "Who accessed my data": the ledger events about the signed-in person, a page at a time, each
//! with a downloadable inclusion proof that checks offline against the ledger's signed head.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mamori_core::access_log::{AccessEntry, AccessProof};
use mamori_ledger::Outcome;
use mamori_policy::{Language, Policy};
use mamori_proto::ErrorCode;
use serde::Deserialize;

use crate::AppState;
use crate::privacy::{html_page, page_language};
use crate::privacy_center::signed_in;

/// Events per page.
const PAGE: i64 = 50;

struct Strings {
    nav: &'static str,
    center: &'static str,
    my_data: &'static str,
    choices: &'static str,
    notice: &'static str,
    title: &'static str,
    intro: &'static str,
    when: &'static str,
    who: &'static str,
    why: &'static str,
    what: &'static str,
    data: &'static str,
    result: &'static str,
    proof: &'static str,
    allowed: &'static str,
    denied: &'static str,
    you: &'static str,
    older: &'static str,
    none: &'static str,
    proof_help: &'static str,
}

fn strings(lang: Language) -> Strings {
    match lang {
        Language::En => Strings {
            nav: "Privacy center",
            center: "Privacy center",
            my_data: "My data",
            choices: "My choices",
            notice: "Privacy notice",
            title: "Who accessed my data",
            intro: "Every time our staff, our systems or you yourself used or tried to use your data, newest first. Nothing here can be removed or changed afterwards.",
            when: "When (UTC)",
            who: "Who",
            why: "Why",
            what: "What",
            data: "Data",
            result: "Result",
            proof: "Proof",
            allowed: "Allowed",
            denied: "Refused",
            you: "You",
            older: "Older events",
            none: "Nobody has accessed your data yet.",
            proof_help: "Each proof is a file that shows, with cryptography anyone can check, that the event is in our signed and tamper-evident ledger.",
        },
        Language::Ja => Strings {
            nav: "プライバシーセンター",
            center: "プライバシーセンター",
            my_data: "マイデータ",
            choices: "同意の設定",
            notice: "プライバシー通知",
            title: "データへのアクセス履歴",
            intro: "当社の担当者やシステム、またはお客様ご自身がデータを利用した、または利用しようとした記録です（新しい順）。記録は後から削除も変更もできません。",
            when: "日時（UTC）",
            who: "アクセスした者",
            why: "目的",
            what: "操作",
            data: "データ",
            result: "結果",
            proof: "証明",
            allowed: "許可",
            denied: "拒否",
            you: "お客様ご自身",
            older: "さらに古い記録",
            none: "まだ誰もお客様のデータにアクセスしていません。",
            proof_help: "証明ファイルは、その記録が署名付きで改ざんを検知できる台帳に含まれていることを、誰でも検証できる暗号技術で示します。",
        },
        Language::Fr => Strings {
            nav: "Centre de confidentialité",
            center: "Centre de confidentialité",
            my_data: "Mes données",
            choices: "Mes choix",
            notice: "Avis de confidentialité",
            title: "Qui a accédé à mes données",
            intro: "Chaque fois que notre personnel, nos systèmes ou vous-même avez utilisé ou tenté d'utiliser vos données, du plus récent au plus ancien. Rien ici ne peut être supprimé ni modifié après coup.",
            when: "Quand (UTC)",
            who: "Qui",
            why: "Pourquoi",
            what: "Quoi",
            data: "Données",
            result: "Résultat",
            proof: "Preuve",
            allowed: "Autorisé",
            denied: "Refusé",
            you: "Vous",
            older: "Événements plus anciens",
            none: "Personne n'a encore accédé à vos données.",
            proof_help: "Chaque preuve est un fichier qui montre, par une cryptographie que chacun peut vérifier, que l'événement figure dans notre registre signé et infalsifiable.",
        },
    }
}

/// Disclosures to vendors, in plain words (the page adds the vendor's name).
fn disclosure_text(action: &str) -> Option<(&'static str, &'static str, &'static str)> {
    Some(match action {
        "subject.disclose" => (
            "Shared your data with",
            "データを提供した先",
            "A partagé vos données avec",
        ),
        "disclosure.read" => (
            "Viewed who your data was shared with",
            "データの提供先を閲覧",
            "A consulté avec qui vos données ont été partagées",
        ),
        _ => return None,
    })
}

/// What an action did, in plain words (its code where the page has no words for it).
fn action_text(action: &str, lang: Language) -> String {
    match disclosure_text(action).or_else(|| access_text(action)) {
        Some((en, _, _)) if lang == Language::En => en.to_string(),
        Some((_, ja, _)) if lang == Language::Ja => ja.to_string(),
        Some((_, _, fr)) => fr.to_string(),
        None => action.to_string(),
    }
}

/// Reads and changes of the person's data, consents and sign-ins, in plain words.
fn access_text(action: &str) -> Option<(&'static str, &'static str, &'static str)> {
    Some(match action {
        "subject.create" => ("Created your record", "記録を作成", "A créé votre fiche"),
        "subject.read" => ("Viewed your data", "データを閲覧", "A consulté vos données"),
        "subject.update" => ("Changed your data", "データを変更", "A modifié vos données"),
        "subject.erase" => ("Erased your data", "データを消去", "A effacé vos données"),
        "subject.erase_plan" => (
            "Listed what erasing your data would erase and keep",
            "削除時に消去・保存されるデータを確認",
            "A listé ce qu'un effacement effacerait et conserverait",
        ),
        "subject.hold_ended" => (
            "Erased data kept for a legal obligation, as its period ended",
            "法令上の保存期間の終了によりデータを消去",
            "A effacé des données conservées par obligation légale, à la fin de leur durée",
        ),
        "subject.lookup" => ("Looked you up", "検索", "Vous a recherché"),
        "record.create" => ("Added a record", "記録を追加", "A ajouté un enregistrement"),
        "record.list" => (
            "Viewed your records",
            "記録を閲覧",
            "A consulté vos enregistrements",
        ),
        "consent.grant" => (
            "Recorded your consent",
            "同意を記録",
            "A enregistré votre consentement",
        ),
        "consent.withdraw" => (
            "Recorded a withdrawal of consent",
            "同意の撤回を記録",
            "A enregistré un retrait de consentement",
        ),
        "consent.check" => (
            "Checked whether you agreed",
            "同意の有無を確認",
            "A vérifié votre accord",
        ),
        "consent.read" => (
            "Viewed your choices",
            "同意の設定を閲覧",
            "A consulté vos choix",
        ),
        "consent.receipt" => (
            "Checked a consent receipt",
            "同意の証明書を確認",
            "A vérifié un reçu de consentement",
        ),
        "ledger.read" => (
            "Viewed this access history",
            "このアクセス履歴を閲覧",
            "A consulté cet historique",
        ),
        "ledger.proof" => (
            "Downloaded a proof",
            "証明をダウンロード",
            "A téléchargé une preuve",
        ),
        "signin.request" => (
            "Asked for a sign-in code",
            "サインインコードを請求",
            "A demandé un code de connexion",
        ),
        "signin.code" => (
            "Signed in to the privacy center",
            "プライバシーセンターにサインイン",
            "S'est connecté au centre de confidentialité",
        ),
        "signin.end" => ("Signed out", "サインアウト", "S'est déconnecté"),
        _ => return None,
    })
}

struct Row {
    index: u64,
    when: String,
    who: String,
    why: String,
    what: String,
    data: String,
    allowed: bool,
    reason: String,
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage {
    lang: &'static str,
    s: Strings,
    organisation: String,
    rows: Vec<Row>,
    older: Option<u64>,
}

fn row(policy: &Policy, lang: Language, entry: &AccessEntry) -> Row {
    let event = &entry.event;
    let separator = if lang == Language::Ja { "、" } else { ", " };
    let who = if event.role == mamori_policy::SELF_ROLE {
        strings(lang).you.to_string()
    } else {
        event.role.clone()
    };
    let why = event
        .purpose
        .as_deref()
        .map(|p| {
            policy
                .purpose(p)
                .map_or(p, |p| p.label.get(lang))
                .to_string()
        })
        .unwrap_or_default();
    let data = event
        .categories
        .iter()
        .map(|c| policy.category(c).map_or(c.as_str(), |c| c.label.get(lang)))
        .collect::<Vec<_>>()
        .join(separator);
    let (allowed, reason) = match &event.outcome {
        Outcome::Allowed => (true, String::new()),
        Outcome::Denied { reason } => (false, reason.clone()),
    };
    Row {
        index: entry.index,
        // To the second: "2026-11-24 03:11:13".
        when: mamori_core::format_time(event.time_ms)
            .chars()
            .take(19)
            .collect::<String>()
            .replace('T', " "),
        who,
        why,
        what: match &event.recipient {
            // A disclosure names its vendor: "Shared your data with Kuroneko Logistics K.K.".
            Some(v) => {
                let name = policy.vendor(v).map_or(v.as_str(), |v| v.name.as_str());
                let colon = if lang == Language::Ja { "：" } else { " " };
                format!("{}{colon}{name}", action_text(&event.action, lang))
            }
            None => action_text(&event.action, lang),
        },
        data,
        allowed,
        reason,
    }
}

#[derive(Deserialize)]
pub struct ActivityQuery {
    lang: Option<String>,
    before: Option<String>,
}

pub async fn activity(
    State(s): State<AppState>,
    Query(q): Query<ActivityQuery>,
    headers: HeaderMap,
) -> Response {
    let policy = &s.vault.policy;
    let lang = page_language(policy, q.lang.as_deref());
    let Ok(before) = q.before.as_deref().map(str::parse::<u64>).transpose() else {
        return crate::problem::ApiError::bad_request(
            ErrorCode::InvalidQuery,
            "`before` must be the event number from an “older events” link",
        )
        .into_response();
    };
    let (subject, actor) = match signed_in(&s, &headers, lang).await {
        Ok(session) => session,
        Err(r) => return r,
    };
    let log = match s.vault.access_log(&actor, &subject, before, PAGE).await {
        Ok(log) => log,
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let page = ActivityPage {
        lang: lang.code(),
        s: strings(lang),
        organisation: policy.organisation.name.clone(),
        rows: log.entries.iter().map(|e| row(policy, lang, e)).collect(),
        older: log.older,
    };
    html_page(page.render())
}

#[derive(Deserialize)]
pub struct ProofQuery {
    lang: Option<String>,
    leaf: Option<String>,
}

/// The proof as a self-describing JSON document (see [`proof_document`]).
pub async fn proof(
    State(s): State<AppState>,
    Query(q): Query<ProofQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let Some(Ok(leaf)) = q.leaf.as_deref().map(str::parse::<u64>) else {
        return crate::problem::ApiError::bad_request(
            ErrorCode::InvalidQuery,
            "`leaf` must be the event number of a proof link on the access history page",
        )
        .into_response();
    };
    let (subject, actor) = match signed_in(&s, &headers, lang).await {
        Ok(session) => session,
        Err(r) => return r,
    };
    match s.vault.access_proof(&actor, &subject, leaf).await {
        Ok(proof) => {
            let mut r = axum::Json(proof_document(&proof)).into_response();
            let h = r.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&format!(
                "attachment; filename=\"mamori-proof-{leaf}.json\""
            )) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(mamori_core::CoreError::NotFound) => crate::problem::ApiError::Plain {
            status: StatusCode::NOT_FOUND,
            code: ErrorCode::NoSuchEvent,
            detail: "there is no event with this number in your access history".into(),
            field: None,
        }
        .into_response(),
        Err(e) => crate::problem::ApiError::from(e).into_response(),
    }
}

/// Everything needed to check, without trusting this server, that one event is in the ledger.
pub fn proof_document(p: &AccessProof) -> serde_json::Value {
    use mamori_ledger::b64;
    serde_json::json!({
        "format": "mamori-inclusion-proof/1",
        "leaf_index": p.index,
        "leaf_data": b64::encode(&p.leaf_data),
        "event": serde_json::from_slice::<serde_json::Value>(&p.leaf_data).unwrap_or_default(),
        "leaf_hash": b64::encode(&p.leaf_hash),
        "audit_path": p.audit_path.iter().map(|h| b64::encode(h)).collect::<Vec<_>>(),
        "signed_tree_head": p.head,
        "public_key": b64::encode(&p.public_key),
        "verification": "leaf_hash = SHA-256(0x00 || leaf_data); fold audit_path from leaf_index up to the root of a tree of size signed_tree_head.size as in RFC 9162 section 2.1.3.2; the root must equal signed_tree_head.root; signed_tree_head.signature is Ed25519 by public_key over \"mamori-tree-head-v1\\0\" || size (u64 big-endian) || timestamp_ms (i64 big-endian) || root.",
    })
}
