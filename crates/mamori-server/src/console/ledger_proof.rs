//! `/console/ledger/{leaf}` and `/console/ledger/consistency`: an event's inclusion proof under
//! the latest signed head, and whether the ledger extends a head an auditor kept — each checked
//! here (signature, leaf hash, path) and shown as hashes the auditor can check again with any
//! RFC 9162 verifier. For `admin = ["audit"]`; each read decided and ledgered.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use mamori_core::CoreError;
use mamori_core::audit::{ConsistencyCheck, LeafProof};
use serde::Deserialize;

use super::home::{Frame, LangQuery, frame};
use super::ledger_words::{LedgerWords, ledger_words};
use super::{refusal_page, signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;

/// A signed head as shown: size, root (hex), time, key id, signature (base64).
struct Head {
    size: u64,
    root: String,
    at: String,
    key_id: String,
    signature: String,
}

fn head(h: &mamori_ledger::SignedTreeHead) -> Head {
    Head {
        size: h.head.size,
        root: hex::encode(h.head.root),
        at: mamori_core::format_time(h.head.timestamp_ms),
        key_id: h.key_id.clone().unwrap_or_default(),
        signature: base64::engine::general_purpose::STANDARD.encode(h.signature),
    }
}

struct Proof {
    leaf: u64,
    time: String,
    actor: String,
    action: String,
    leaf_hash: String,
    path: Vec<String>,
    head: Head,
    verified: bool,
}

struct Consistency {
    first: u64,
    proof: Vec<String>,
    head: Head,
    consistent: bool,
}

#[derive(Template)]
#[template(path = "console_ledger_proof.html")]
struct ProofPage {
    f: Frame,
    lw: LedgerWords,
    proof: Option<Proof>,
    consistency: Option<Consistency>,
    asked: ConsistencyQuery,
    error: Option<&'static str>,
}

fn proof(p: LeafProof) -> Proof {
    Proof {
        leaf: p.leaf,
        time: mamori_core::format_time(p.event.time_ms),
        actor: p.event.actor,
        action: p.event.action,
        leaf_hash: hex::encode(p.leaf_hash),
        path: p.path.iter().map(hex::encode).collect(),
        head: head(&p.head),
        verified: p.verified,
    }
}

fn consistency(c: ConsistencyCheck) -> Consistency {
    Consistency {
        first: c.first,
        proof: c.proof.iter().map(hex::encode).collect(),
        head: head(&c.head),
        consistent: c.consistent,
    }
}

async fn page(
    s: &AppState,
    f: Frame,
    asked: ConsistencyQuery,
    read: impl std::future::Future<Output = mamori_core::Result<(Option<Proof>, Option<Consistency>)>>,
) -> Response {
    let lw = ledger_words(page_language(&s.vault.policy, Some(f.lang)));
    let (proof, consistency) = match read.await {
        Ok(found) => found,
        Err(CoreError::Denied(d)) => {
            let text = format!("{} ({})", f.w.refused_by_policy, d.code());
            return refusal_page(s, f, text);
        }
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let nothing = proof.is_none() && consistency.is_none() && !asked.is_empty();
    let error = nothing.then_some(lw.not_under_head);
    let status = if nothing {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    let page = ProofPage {
        f,
        lw,
        proof,
        consistency,
        asked,
        error,
    };
    with_status(page.render(), status)
}

/// One event's inclusion proof.
pub async fn leaf(
    State(s): State<AppState>,
    Path(leaf): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let Ok(leaf) = leaf.parse::<u64>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let f = frame(&s, lang, &signed, "ledger");
    let asked = ConsistencyQuery {
        leaf: Some(leaf),
        ..ConsistencyQuery::default()
    };
    let read = async {
        let actor = s.vault.staff_actor(&signed.session, "ledger.proof").await?;
        Ok((s.vault.audit_proof(&actor, leaf).await?.map(proof), None))
    };
    page(&s, f, asked, read).await
}

#[derive(Deserialize, Default)]
pub struct ConsistencyQuery {
    lang: Option<String>,
    #[serde(default)]
    size: String,
    #[serde(default)]
    root: String,
    #[serde(skip)]
    leaf: Option<u64>,
}

impl ConsistencyQuery {
    fn is_empty(&self) -> bool {
        self.size.is_empty() && self.root.is_empty() && self.leaf.is_none()
    }

    /// The head asked about, or None when it is not a size and a 32-byte root in hex.
    fn head(&self) -> Option<(u64, [u8; 32])> {
        let size = self.size.trim().parse::<u64>().ok()?;
        let root = hex::decode(self.root.trim()).ok()?;
        Some((size, root.try_into().ok()?))
    }
}

/// The form for a kept head and, when one is given, whether the ledger extends it.
pub async fn consistency_check(
    State(s): State<AppState>,
    Query(q): Query<ConsistencyQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let f = frame(&s, lang, &signed, "ledger");
    let Some((size, root)) = q.head().filter(|_| !q.is_empty()) else {
        let error = (!q.is_empty()).then_some(f.w.bad_value);
        let code = if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        };
        let (lw, asked) = (ledger_words(lang), q);
        let page = ProofPage {
            f,
            lw,
            proof: None,
            consistency: None,
            asked,
            error,
        };
        return with_status(page.render(), code);
    };
    let read = async {
        let actor = s
            .vault
            .staff_actor(&signed.session, "ledger.consistency")
            .await?;
        let checked = s.vault.audit_consistency(&actor, size, &root).await?;
        Ok((None, checked.map(consistency)))
    };
    page(&s, f, q, read).await
}
