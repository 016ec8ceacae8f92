//! API keys: random bearer tokens shown once, stored only as a keyed hash, each bound to a role.

use base64::Engine;
use mamori_ledger::{Event, Outcome};
use mamori_store::{ApiKeyRow, Change};

use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};
use crate::{format_id, new_id, now_ms, parse_id};

const PREFIX: &str = "mamori_";

#[derive(Debug, Clone)]
pub struct ApiKeyInfo {
    pub id: String,
    pub name: String,
    pub role: String,
    pub created_ms: i64,
    pub revoked: bool,
}

impl From<&ApiKeyRow> for ApiKeyInfo {
    fn from(r: &ApiKeyRow) -> Self {
        ApiKeyInfo {
            id: format_id(&r.id),
            name: r.name.clone(),
            role: r.role.clone(),
            created_ms: r.created_ms,
            revoked: r.revoked_ms.is_some(),
        }
    }
}

fn admin_event(actor: &Actor, action: &str, outcome: Outcome) -> Event {
    Event {
        time_ms: now_ms(),
        actor: actor.id.clone(),
        role: actor.role.clone(),
        purpose: None,
        action: action.into(),
        subject: None,
        categories: vec![],
        outcome,
    }
}

impl Vault {
    /// Creates a key for `role`; returns its id and the token, which is never shown again.
    pub async fn create_api_key(
        &self,
        by: &Actor,
        role: &str,
        name: &str,
    ) -> Result<(String, String)> {
        if self.policy.role(role).is_none() {
            let roles: Vec<&str> = self.policy.roles.iter().map(|r| r.name.as_str()).collect();
            return Err(CoreError::invalid(
                "unknown_role",
                "role",
                format!(
                    "no role `{role}` in the policy; roles are: {}",
                    roles.join(", ")
                ),
            ));
        }
        let name = name.trim();
        if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
            return Err(CoreError::invalid(
                "invalid_value",
                "name",
                "give the key a name of 1 to 100 printable characters",
            ));
        }
        let mut secret = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(secret.as_mut())
            .map_err(|_| CoreError::Internal("random generator failed".into()))?;
        let token = format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret.as_ref())
        );
        let id = new_id();
        let row = ApiKeyRow {
            id,
            name: name.into(),
            role: role.into(),
            digest: self.keyring.api_key_digest(&token),
            created_ms: now_ms(),
            revoked_ms: None,
        };
        self.ledger
            .submit(
                vec![Change::InsertApiKey(row)],
                vec![admin_event(by, "apikey.create", Outcome::Allowed)],
            )
            .await??;
        Ok((format_id(&id), token))
    }

    pub async fn list_api_keys(&self) -> Result<Vec<ApiKeyInfo>> {
        Ok(self
            .store
            .api_keys()
            .await?
            .iter()
            .map(ApiKeyInfo::from)
            .collect())
    }

    pub async fn revoke_api_key(&self, by: &Actor, id: &str) -> Result<()> {
        let id = parse_id(id).ok_or_else(|| {
            CoreError::invalid(
                "invalid_id",
                "id",
                "expected a key id (UUID) from `mamori apikey list`",
            )
        })?;
        let outcome = self
            .ledger
            .submit(
                vec![Change::RevokeApiKey {
                    id,
                    revoked_ms: now_ms(),
                }],
                vec![admin_event(by, "apikey.revoke", Outcome::Allowed)],
            )
            .await?;
        outcome.map_err(|_| CoreError::invalid("unknown_key", "id", "no active key has this id"))
    }

    /// The actor behind a bearer token, or `None` for a missing, unknown or revoked key.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Actor>> {
        if !token.starts_with(PREFIX) || token.len() > 200 {
            return Ok(None);
        }
        let row = self
            .store
            .api_key_by_digest(&self.keyring.api_key_digest(token))
            .await?;
        Ok(row.filter(|r| r.revoked_ms.is_none()).map(|r| Actor {
            id: format!("key:{}", format_id(&r.id)),
            role: r.role,
        }))
    }
}
