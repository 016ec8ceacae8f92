//! Data Rights Protocol v0.9.4, provider side: authorised agents (registered out of band with
//! their Ed25519 verify keys) obtain a pair-wise bearer token, then file requests, read their
//! status and revoke them. Every signed message is checked in the order §3.07 gives: base64,
//! signature by the agent's key, agent, business, issued-at, expires-at.
//!
//! Agents never read personal data: the identity claims of a request are used once, to find the
//! person through the blind index (nothing is decrypted, nothing is stored), and the request then
//! goes through the same register and states as every other (source `agent`). Each step is
//! ledgered as the agent (`drp:<id>`, role `authorised_agent`).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signature, VerifyingKey};
use mamori_crypto::LookupKind;
use mamori_ledger::{Event, Outcome};
use mamori_policy::value::{normalise_email, normalise_phone};
use mamori_policy::{AdminPermission, IdSet, RIGHTS_PURPOSE};
use mamori_proto::ErrorCode;
use mamori_store::{Change, JobError, RequestRow};
// An agent and its requests as stored, shown to the server as they are (plain data).
pub use mamori_store::{DrpAgentRow, DrpRequestRow};
use serde_json::Value;
use sha2::Digest as _;

use crate::access::Permission;
use crate::error::{CoreError, Result};
use crate::requests::{DenialReason, NewRequest, RequestKind, RequestSource, RequestState};
use crate::vault::{Actor, Vault, index_kind};
use crate::{format_id, format_time};
use mamori_proto::drp::DrpStatus;

mod callbacks;
mod pause;
pub use callbacks::Callbacks;

pub const VERSION: &str = "0.9.4";
/// Protocol versions whose requests are accepted: 0.9.x, and 1.0 (0.9.4 with a new number).
pub fn supported_version(version: &str) -> bool {
    let mut parts = version.split('.');
    match (parts.next(), parts.next()) {
        (Some("0"), Some("9")) | (Some("1"), Some("0")) => {
            parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        }
        _ => false,
    }
}
/// How long a pair-wise token is good for unless configured (`[drp] token_days`).
pub const DEFAULT_TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(90 * 86_400);
pub const AGENT_ROLE: &str = "authorised_agent";
/// How far ahead of our clock an `issued-at` may be (clock skew between the two systems).
const SKEW_MS: i64 = 60_000;
const AGENTS: Permission = Permission::Admin(AdminPermission::Agents);
/// The longest validity window accepted; the protocol recommends ten minutes. Each accepted
/// message is remembered until it expires, so a replay within its window is refused.
const MAX_WINDOW_MS: i64 = 15 * 60_000;

/// Why a DRP call failed, as the protocol's error state (§3.06).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrpError {
    pub status: u16,
    pub message: &'static str,
    /// The request will not be processed (it would move to denied/other).
    pub fatal: bool,
}

impl DrpError {
    fn forbidden(message: &'static str) -> Self {
        DrpError {
            status: 403,
            message,
            fatal: false,
        }
    }
    fn bad(message: &'static str) -> Self {
        DrpError {
            status: 400,
            message,
            fatal: true,
        }
    }
}

/// A core failure (storage, writer) seen through the protocol: a retryable 500.
impl From<CoreError> for DrpError {
    fn from(e: CoreError) -> Self {
        tracing::warn!(error = %e, "a DRP call failed");
        DrpError {
            status: 500,
            message: "the request could not be processed now; try again later",
            fatal: false,
        }
    }
}

pub type DrpResult<T> = std::result::Result<T, DrpError>;

/// A signed message that was already acted on (its job, and event, were refused as such).
fn replayed() -> DrpError {
    DrpError::forbidden("this signed message was used already; sign a new one")
}

fn agent_actor(agent_id: &str) -> Actor {
    Actor {
        id: format!("drp:{agent_id}"),
        role: AGENT_ROLE.into(),
    }
}

/// Our business id in the service directory: configured, or the organisation's name in the
/// directory's `[A-Z_]+` shape.
pub fn default_business_id(organisation: &str) -> String {
    let mut id: String = organisation
        .chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    while id.contains("__") {
        id = id.replace("__", "_");
    }
    id.trim_matches('_').to_string()
}

fn valid_agent_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The DRP rights action as a request kind of the register.
fn kind_of(exercise: &str) -> Option<RequestKind> {
    match exercise {
        "access" | "access:categories" | "access:specific" => Some(RequestKind::Access),
        "deletion" => Some(RequestKind::Erasure),
        "sale:opt_out" | "sale:opt-out" => Some(RequestKind::OptOutOfSale),
        _ => None,
    }
}

fn timestamp(claims: &Value, key: &str) -> DrpResult<i64> {
    let text = claims[key].as_str().ok_or(DrpError::bad(
        "issued-at and expires-at must be ISO 8601 timestamps",
    ))?;
    let t = time::OffsetDateTime::parse(
        text,
        &time::format_description::well_known::Iso8601::DEFAULT,
    )
    .map_err(|_| DrpError::bad("issued-at and expires-at must be ISO 8601 timestamps"))?;
    Ok((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// The protocol's Exercise Status object (§3.03).
pub fn status_json(row: &RequestRow, drp: &DrpRequestRow) -> DrpStatus {
    // Our register says insufficient_verification; the protocol's name is shorter.
    let reason = row.reason.map(|reason| match reason {
        DenialReason::InsufficientVerification => "insuf_verification".to_string(),
        other => other.as_str().to_string(),
    });
    DrpStatus {
        request_id: format_id(&row.id),
        received_at: format_time(row.received_ms),
        expected_by: format_time(row.due_ms),
        status: row.state,
        agent_request_id: drp.agent_request_id.clone(),
        reason,
        processing_details: (row.extension).map(|ext| format!("deadline extended: {ext}")),
    }
}

impl Vault {
    fn drp_token_digest(&self, token: &str) -> [u8; 32] {
        let key = self.keyring.subkey("drp-token");
        mamori_crypto::hmac_sha256(key.as_ref(), token.as_bytes())
    }

    fn drp_event(
        &self,
        agent_id: &str,
        action: &str,
        subject: Option<&[u8; 16]>,
        outcome: Outcome,
    ) -> Event {
        self.event(
            &agent_actor(agent_id),
            RIGHTS_PURPOSE,
            action,
            subject,
            IdSet::EMPTY,
            outcome,
        )
    }

    /// Registers an agent from the service directory (the operator at the console). The verify
    /// key is the directory's: base64 of the 32-byte Ed25519 public key.
    pub async fn register_agent(
        &self,
        operator: &Actor,
        id: &str,
        name: &str,
        verify_key: &str,
    ) -> Result<()> {
        let granted = self.grant(operator, AGENTS, "drp.agent_add").await?;
        if !valid_agent_id(id) {
            return Err(CoreError::invalid(
                ErrorCode::InvalidValue,
                "id",
                "an agent id is 1–64 letters, digits, _ or -",
            ));
        }
        let key = STANDARD
            .decode(verify_key.trim())
            .ok()
            .and_then(|k| <[u8; 32]>::try_from(k).ok())
            .filter(|k| VerifyingKey::from_bytes(k).is_ok())
            .ok_or_else(|| {
                CoreError::invalid(
                    ErrorCode::InvalidValue,
                    "verify_key",
                    "the verify key must be the base64 of a 32-byte Ed25519 public key",
                )
            })?;
        let row = DrpAgentRow {
            id: id.into(),
            name: name.chars().take(200).collect(),
            verify_key: key.to_vec(),
            created_ms: self.now_ms(),
            removed_ms: None,
            paused_ms: None,
        };
        let event = granted.event();
        match self
            .ledger
            .submit(vec![Change::InsertDrpAgent(row)], vec![event])
            .await?
        {
            Ok(()) => Ok(()),
            Err(JobError::Duplicate) => Err(CoreError::Conflict {
                code: ErrorCode::AgentExists,
                message: "an agent with this id is (or was) registered; agent ids are never reused"
                    .into(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Every agent ever registered (removed ones too, marked), for the operator.
    pub async fn list_agents(&self, operator: &Actor) -> Result<Vec<DrpAgentRow>> {
        self.grant_and_ledger(operator, AGENTS, "drp.agent_list")
            .await?;
        Ok(self.store.drp_agents().await?)
    }

    /// Removes an agent: its tokens stop working at once; its requests stay in the register.
    pub async fn remove_agent(&self, operator: &Actor, id: &str) -> Result<()> {
        let granted = self.grant(operator, AGENTS, "drp.agent_remove").await?;
        let event = granted.event();
        let change = Change::RemoveDrpAgent {
            id: id.into(),
            removed_ms: self.now_ms(),
        };
        match self.ledger.submit(vec![change], vec![event]).await? {
            Ok(()) => Ok(()),
            Err(JobError::Gone) => Err(CoreError::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// The JSON of a signed message (`base64(signature ‖ JSON)`) whose signature verifies with
    /// the agent's key.
    fn verified_claims(&self, agent: &DrpAgentRow, body: &str) -> DrpResult<Value> {
        const SHAPE: DrpError = DrpError {
            status: 400,
            message: "the body must be base64 of a signature followed by JSON",
            fatal: true,
        };
        let raw = STANDARD.decode(body.trim()).map_err(|_| SHAPE)?;
        if raw.len() < 64 {
            return Err(SHAPE);
        }
        let (signature, message) = raw.split_at(64);
        let key = <[u8; 32]>::try_from(agent.verify_key.as_slice())
            .ok()
            .and_then(|k| VerifyingKey::from_bytes(&k).ok())
            .ok_or(DrpError::forbidden("the agent's key cannot be used"))?;
        let signature = Signature::from_slice(signature).map_err(|_| {
            DrpError::forbidden("the signature does not verify with this agent's key")
        })?;
        key.verify_strict(message, &signature).map_err(|_| {
            DrpError::forbidden("the signature does not verify with this agent's key")
        })?;
        let claims: Value = serde_json::from_slice(message)
            .map_err(|_| DrpError::bad("the signed message is not a JSON object"))?;
        if !claims.is_object() {
            return Err(DrpError::bad("the signed message is not a JSON object"));
        }
        Ok(claims)
    }

    /// The envelope claims, checked in the protocol's order after the signature.
    fn check_envelope(
        &self,
        agent: &DrpAgentRow,
        claims: &Value,
        business_id: &str,
    ) -> DrpResult<()> {
        if claims["agent-id"].as_str() != Some(agent.id.as_str()) {
            return Err(DrpError::forbidden(
                "agent-id does not match the agent of this token",
            ));
        }
        if claims["business-id"].as_str() != Some(business_id) {
            return Err(DrpError::forbidden("business-id names another business"));
        }
        let (issued, expires, now) = (
            timestamp(claims, "issued-at")?,
            timestamp(claims, "expires-at")?,
            self.now_ms(),
        );
        if issued > now + SKEW_MS {
            return Err(DrpError::bad(
                "issued-at is in the future; check the agent's clock",
            ));
        }
        if expires <= now {
            return Err(DrpError::bad(
                "the request has expired (expires-at is past)",
            ));
        }
        if expires - issued > MAX_WINDOW_MS {
            return Err(DrpError::bad(
                "the validity window is too long; keep expires-at within minutes of issued-at",
            ));
        }
        Ok(())
    }

    /// A fully checked signed message: signature, then envelope; with the change that spends
    /// it (committed with what the message does, so a second use is refused).
    fn open_signed(
        &self,
        agent: &DrpAgentRow,
        body: &str,
        business_id: &str,
    ) -> DrpResult<(Value, Change)> {
        let claims = self.verified_claims(agent, body)?;
        self.check_envelope(agent, &claims, business_id)?;
        let expires_ms = timestamp(&claims, "expires-at")?;
        let spend = Change::SpendDrpMessage {
            digest: sha2::Sha256::digest(body.trim().as_bytes()).into(),
            expires_ms,
            now_ms: self.now_ms(),
        };
        Ok((claims, spend))
    }

    /// Ledgers an agent's message that failed its checks (the message itself is not kept).
    async fn ledger_refusal(&self, agent_id: &str, action: &str) -> DrpResult<()> {
        let outcome = Outcome::Denied {
            reason: "drp_verification_failed".into(),
        };
        let event = self.drp_event(agent_id, action, None, outcome);
        self.ledger
            .submit(vec![], vec![event])
            .await?
            .map_err(CoreError::from)?;
        Ok(())
    }

    /// `POST /v1/agent/{agent-id}`: a pair-wise bearer token for an agent whose signed message
    /// verifies. Each failure is ledgered as a denial (no request body is kept).
    pub async fn drp_pair(
        &self,
        url_agent_id: &str,
        body: &str,
        business_id: &str,
    ) -> DrpResult<String> {
        let stored = self
            .store
            .drp_agent(url_agent_id)
            .await
            .map_err(CoreError::from)?;
        // An unknown id is attacker-controlled text: the ledger names it only if registered.
        let ledger_id = if stored.is_some() {
            url_agent_id
        } else {
            "(unknown)"
        };
        let checked = match stored.filter(DrpAgentRow::usable) {
            Some(agent) => self
                .open_signed(&agent, body, business_id)
                .map(|signed| (signed, agent)),
            None => Err(DrpError::forbidden("unknown agent")),
        };
        let (agent, spend) = match checked {
            Ok(((_, spend), agent)) => (agent, spend),
            Err(e) => {
                self.ledger_refusal(ledger_id, "drp.pair").await?;
                return Err(e);
            }
        };
        let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let change = Change::InsertDrpToken {
            digest: self.drp_token_digest(&token),
            agent_id: agent.id.clone(),
            created_ms: self.now_ms(),
        };
        let event = self.drp_event(&agent.id, "drp.pair", None, Outcome::Allowed);
        match self.ledger.submit(vec![spend, change], vec![event]).await? {
            Ok(()) => Ok(token),
            Err(JobError::Duplicate) => Err(replayed()),
            Err(e) => Err(CoreError::from(e).into()),
        }
    }

    /// The agent a bearer token belongs to (removed or paused agents' tokens belong to nobody).
    /// A token older than the configured lifetime belongs to nobody: the agent pairs again.
    pub async fn drp_token_agent(&self, token: &str) -> Result<Option<DrpAgentRow>> {
        let Some((id, created_ms)) = self
            .store
            .drp_token_agent(&self.drp_token_digest(token))
            .await?
        else {
            return Ok(None);
        };
        let ttl_ms = i64::try_from(self.drp_token_ttl.as_millis()).unwrap_or(i64::MAX);
        if self.now_ms().saturating_sub(created_ms) > ttl_ms {
            return Ok(None);
        }
        Ok(self.store.drp_agent(&id).await?.filter(DrpAgentRow::usable))
    }

    /// `POST /v1/data-rights-request`: files the request in the register (source `agent`),
    /// matched to a person by the e-mail or phone claims through the blind index.
    pub async fn drp_submit(
        &self,
        agent: &DrpAgentRow,
        body: &str,
        business_id: &str,
    ) -> DrpResult<(RequestRow, DrpRequestRow)> {
        let (claims, spend) = match self.open_signed(agent, body, business_id) {
            Ok(c) => c,
            Err(e) => {
                self.ledger_refusal(&agent.id, "request.open").await?;
                return Err(e);
            }
        };
        let (kind, jurisdiction) = requested(&claims, &self.policy)?;
        let (callback, agent_request_id) = agent_fields(&claims)?;
        if let Some(url) = &callback
            && self.outbound.check_target(url).await.is_err()
        {
            return Err(DrpError::bad(
                "status_callback must be an https URL of a host on the public internet",
            ));
        }
        let subject = self.drp_match(&claims).await?;
        let now = self.now_ms();
        let new = NewRequest {
            kind: kind.as_str().into(),
            subject,
            jurisdiction: jurisdiction.into(),
            source: RequestSource::Agent.as_str().into(),
            received_ms: Some(now),
        };
        let row = self.new_request_row(new, (kind, RequestSource::Agent), now);
        let drp = DrpRequestRow {
            request_id: row.id,
            agent_id: agent.id.clone(),
            agent_request_id,
            status_callback: callback,
        };
        let announce = self.announce(
            crate::outbox::EventType::RequestOpened,
            row.subject_id.as_ref(),
            &crate::requests::request_view(&row),
        );
        let event = self.drp_event(
            &agent.id,
            "request.open",
            row.subject_id.as_ref(),
            Outcome::Allowed,
        );
        let changes = vec![
            spend,
            Change::InsertRequest(row.clone()),
            Change::InsertDrpRequest(drp.clone()),
            announce,
        ];
        match self.ledger.submit(changes, vec![event]).await? {
            Ok(()) => Ok((row, drp)),
            Err(JobError::Duplicate) => Err(replayed()),
            Err(e) => Err(CoreError::from(e).into()),
        }
    }

    /// The live person the identity claims point to, if exactly one does. Erased people and
    /// unknown addresses match nobody; staff then decide (no_match).
    async fn drp_match(&self, claims: &Value) -> DrpResult<Option<[u8; 16]>> {
        let mut found: Option<[u8; 16]> = None;
        let candidates = [
            (
                LookupKind::Email,
                claims["email"].as_str().map(normalise_email),
            ),
            (
                LookupKind::Phone,
                claims["phone_number"].as_str().map(normalise_phone),
            ),
        ];
        for (kind, value) in candidates {
            let Some(Ok(value)) = value else { continue };
            let digest = self.keyring.blind_index(kind, &value);
            let hit = self
                .store
                .find_by_index(index_kind(kind), &digest)
                .await
                .map_err(CoreError::from)?;
            match (found, hit) {
                (Some(a), Some(b)) if a != b => return Ok(None),
                (None, Some(b)) => found = Some(b),
                _ => {}
            }
        }
        Ok(found)
    }

    async fn agents_request(
        &self,
        agent: &DrpAgentRow,
        request_id: &str,
    ) -> DrpResult<(RequestRow, DrpRequestRow)> {
        let id = crate::parse_id(request_id).ok_or(DrpError {
            status: 404,
            message: "no such request",
            fatal: false,
        })?;
        let drp = self.store.drp_request(&id).await.map_err(CoreError::from)?;
        let row = self.store.request(&id).await.map_err(CoreError::from)?;
        match (row, drp) {
            (Some(row), Some(drp)) if drp.agent_id == agent.id => Ok((row, drp)),
            // Another agent's request, or one that came another way: not this agent's to see.
            (Some(_), _) => Err(DrpError::forbidden(
                "this request is not managed by this agent",
            )),
            (None, _) => Err(DrpError {
                status: 404,
                message: "no such request",
                fatal: false,
            }),
        }
    }

    /// `GET /v1/data-rights-request/{id}`: the status, for the agent that filed it.
    pub async fn drp_status(&self, agent: &DrpAgentRow, request_id: &str) -> DrpResult<DrpStatus> {
        let (row, drp) = self.agents_request(agent, request_id).await?;
        let event = self.drp_event(
            &agent.id,
            "request.status",
            row.subject_id.as_ref(),
            Outcome::Allowed,
        );
        self.ledger
            .submit(vec![], vec![event])
            .await?
            .map_err(CoreError::from)?;
        Ok(status_json(&row, &drp))
    }

    /// `DELETE /v1/data-rights-request/{id}`: revokes an open or in-progress request.
    pub async fn drp_revoke(
        &self,
        agent: &DrpAgentRow,
        request_id: &str,
        body: &str,
        business_id: &str,
    ) -> DrpResult<(RequestRow, DrpRequestRow)> {
        let (row, drp) = self.agents_request(agent, request_id).await?;
        // The revoke body carries only a reason; the envelope claims are checked when present.
        let claims = match self.open_signed_revoke(agent, body, business_id) {
            Ok(c) => c,
            Err(e) => {
                self.ledger_refusal(&agent.id, "request.revoke").await?;
                return Err(e);
            }
        };
        if claims
            .get("reason")
            .is_some_and(|r| !r.is_string() && !r.is_null())
        {
            return Err(DrpError::bad("reason must be a string"));
        }
        if row.state.is_closed() {
            return Err(DrpError {
                status: 409,
                message: "this request is closed and can no longer be revoked",
                fatal: false,
            });
        }
        let actor = agent_actor(&agent.id);
        let changed = self
            .apply_request_change(&actor, row, "request.revoke", |r| {
                r.state = RequestState::Revoked;
                r.closed_ms = Some(self.now_ms());
                Ok(())
            })
            .await;
        match changed {
            Ok(row) => Ok((row, drp)),
            Err(CoreError::Conflict { .. }) => Err(DrpError {
                status: 409,
                message: "the request changed meanwhile; read its status",
                fatal: false,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// A revoke message is signed like the others; its envelope claims, when the agent sends
    /// them, must hold (the protocol's example body has only `reason`).
    fn open_signed_revoke(
        &self,
        agent: &DrpAgentRow,
        body: &str,
        business_id: &str,
    ) -> DrpResult<Value> {
        let claims = self.verified_claims(agent, body)?;
        let envelope = ["agent-id", "business-id", "issued-at", "expires-at"];
        if envelope.iter().any(|k| claims.get(k).is_some()) {
            self.check_envelope(agent, &claims, business_id)?;
        }
        Ok(claims)
    }
}

/// What a DRP request asks for: the kind of request and the law whose deadline applies
/// (the organisation's own first law for voluntary processing).
fn requested(
    claims: &Value,
    policy: &mamori_policy::Policy,
) -> DrpResult<(RequestKind, &'static str)> {
    match claims["drp.version"].as_str() {
        Some(v) if supported_version(v) => {}
        Some(_) => {
            return Err(DrpError::bad(
                "unsupported drp.version; this provider speaks 0.9.x and 1.0",
            ));
        }
        None => return Err(DrpError::bad("drp.version is required")),
    }
    let kind = claims["exercise"]
        .as_str()
        .and_then(kind_of)
        .ok_or(DrpError::bad(
            "unsupported rights action; supported: access, deletion, sale:opt_out",
        ))?;
    let jurisdiction = match claims["regime"].as_str() {
        Some("ccpa") => "ccpa",
        Some(_) => {
            return Err(DrpError::bad(
                "unsupported regime; use ccpa or leave it out",
            ));
        }
        None => policy
            .organisation
            .jurisdictions
            .first()
            .map_or("ccpa", |j| {
                mamori_policy::Jurisdiction::ALL
                    .iter()
                    .find(|(_, x)| x == j)
                    .map_or("ccpa", |(n, _)| n)
            }),
    };
    Ok((kind, jurisdiction))
}

/// The agent's own fields of a request: where to send status changes (an http(s) URL, checked
/// against the outbound rules by the caller) and its own id for the request.
fn agent_fields(claims: &Value) -> DrpResult<(Option<String>, Option<String>)> {
    let callback = match claims.get("status_callback") {
        None | Some(Value::Null) => None,
        Some(Value::String(u))
            if (u.starts_with("https://") || u.starts_with("http://")) && u.len() <= 2048 =>
        {
            Some(u.clone())
        }
        Some(_) => return Err(DrpError::bad("status_callback must be an http(s) URL")),
    };
    let agent_request_id = match claims.get("agent-request-id") {
        None | Some(Value::Null) => None,
        Some(Value::String(r)) if r.len() <= 200 => Some(r.clone()),
        Some(_) => return Err(DrpError::bad("agent-request-id must be a short string")),
    };
    Ok((callback, agent_request_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_ids_follow_the_directory_shape() {
        assert_eq!(
            default_business_id("Kitsune Goods Ltd."),
            "KITSUNE_GOODS_LTD"
        );
        assert_eq!(default_business_id("  ACME -- 2 Inc "), "ACME_INC");
    }

    #[test]
    fn rights_actions_map_to_request_kinds() {
        assert_eq!(kind_of("deletion"), Some(RequestKind::Erasure));
        assert_eq!(kind_of("sale:opt_out"), Some(RequestKind::OptOutOfSale));
        assert_eq!(kind_of("access:specific"), Some(RequestKind::Access));
        assert_eq!(kind_of("sale:opt_in"), None);
        assert_eq!(kind_of("DELETION"), None);
    }
}
