//! API keys: random bearer tokens shown once, stored only as a keyed hash, each bound to a role.

use base64::Engine;
use mamori_ledger::Outcome;
use mamori_policy::{AdminPermission, KeyRefusal};
use mamori_proto::ErrorCode;
use mamori_store::{ApiKeyRow, Change};

use crate::access::{Denial, Permission};
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};
use crate::{format_id, new_id, parse_id};

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

const API_KEYS: Permission = Permission::Admin(AdminPermission::ApiKeys);

impl Vault {
    /// Creates a key for `role`; returns its id and the token, which is never shown again.
    pub async fn create_api_key(
        &self,
        by: &Actor,
        role: &str,
        name: &str,
    ) -> Result<(String, String)> {
        let granted = self.grant(by, API_KEYS, "apikey.create").await?;
        // Keys hold roles the policy declares; the built-in `self` role is not one of them.
        if let Some(refusal) = self.policy.role(role).and_then(|r| r.key_refusal()) {
            return Err(CoreError::invalid(
                ErrorCode::InvalidValue,
                "role",
                format!(
                    "role `{role}` asks its people for {}, which an API key cannot carry: they \
                     sign in to the console; for automation use a role declared `machine = true`",
                    match refusal {
                        KeyRefusal::MfaRequired => "a second factor (require_mfa)",
                        KeyRefusal::TrainingRequired => "current training (require_training)",
                    }
                ),
            ));
        }
        if !self.policy.roles.iter().any(|r| r.name == role) {
            let roles: Vec<&str> = self.policy.roles.iter().map(|r| r.name.as_str()).collect();
            return Err(CoreError::invalid(
                ErrorCode::UnknownRole,
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
                ErrorCode::InvalidValue,
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
            created_ms: self.now_ms(),
            revoked_ms: None,
        };
        self.ledger
            .submit(vec![Change::InsertApiKey(row)], vec![granted.event()])
            .await??;
        Ok((format_id(&id), token))
    }

    pub async fn list_api_keys(&self, by: &Actor) -> Result<Vec<ApiKeyInfo>> {
        self.grant_and_ledger(by, API_KEYS, "apikey.list").await?;
        Ok(self
            .store
            .api_keys()
            .await?
            .iter()
            .map(ApiKeyInfo::from)
            .collect())
    }

    pub async fn revoke_api_key(&self, by: &Actor, id: &str) -> Result<()> {
        let granted = self.grant(by, API_KEYS, "apikey.revoke").await?;
        let id = parse_id(id).ok_or_else(|| {
            CoreError::invalid(
                ErrorCode::InvalidId,
                "id",
                "expected a key id (UUID) from `mamori apikey list`",
            )
        })?;
        let outcome = self
            .ledger
            .submit(
                vec![Change::RevokeApiKey {
                    id,
                    revoked_ms: self.now_ms(),
                }],
                vec![granted.event()],
            )
            .await?;
        self.key_cache.clear();
        outcome.map_err(|_| {
            CoreError::invalid(ErrorCode::UnknownKey, "id", "no active key has this id")
        })
    }

    /// The actor behind a bearer token, or `None` for a missing, unknown or revoked key. A key
    /// of a role whose people need a second factor or training (and that is not declared for
    /// machines) yields no actor: the refusal is ledgered and answered with its reason.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Actor>> {
        let actor = self.key_actor(token).await?;
        let refusal = (actor.as_ref())
            .and_then(|a| self.policy.role(&a.role))
            .and_then(|r| r.key_refusal());
        match (actor, refusal) {
            (Some(actor), Some(refusal)) => {
                let denial = match refusal {
                    KeyRefusal::MfaRequired => Denial::MfaRequired,
                    KeyRefusal::TrainingRequired => Denial::TrainingRequired,
                };
                let outcome = Outcome::Denied {
                    reason: denial.code().as_str().into(),
                };
                let event =
                    crate::admin::admin_event(&actor, "auth.api_key", outcome, self.now_ms());
                // Batched like consent checks: a client retrying a refused key cannot make every
                // request wait for an fsync.
                self.ledger.submit_detached(vec![event]).await?;
                Err(CoreError::Denied(denial))
            }
            (actor, _) => Ok(actor),
        }
    }

    async fn key_actor(&self, token: &str) -> Result<Option<Actor>> {
        if !token.starts_with(PREFIX) || token.len() > 200 {
            return Ok(None);
        }
        let digest = self.keyring.api_key_digest(token);
        if let Some(actor) = self.key_cache.get(&digest) {
            return Ok(Some(actor));
        }
        let row = self.store.api_key_by_digest(&digest).await?;
        let actor = row.filter(|r| r.revoked_ms.is_none()).map(|r| Actor {
            id: format!("key:{}", format_id(&r.id)),
            role: r.role,
        });
        if let Some(actor) = &actor {
            self.key_cache.put(digest, actor.clone());
        }
        Ok(actor)
    }
}

/// Recently authenticated keys, so a busy client costs one keyed hash per request instead of a
/// database query. Revocation through this process clears it at once; a revocation made by
/// another process (the CLI next to a running server) takes effect within [`KEY_CACHE_TTL`].
/// Only valid keys are cached, so random tokens cannot fill it with junk.
#[derive(Default)]
pub struct KeyCache(
    std::sync::Mutex<std::collections::HashMap<[u8; 32], (Actor, std::time::Instant)>>,
);

pub const KEY_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(2);
const KEY_CACHE_MAX: usize = 10_000;

impl KeyCache {
    fn get(&self, digest: &[u8; 32]) -> Option<Actor> {
        let map = self.0.lock().expect("key cache lock");
        map.get(digest)
            .filter(|(_, at)| at.elapsed() < KEY_CACHE_TTL)
            .map(|(actor, _)| actor.clone())
    }

    fn put(&self, digest: [u8; 32], actor: Actor) {
        let mut map = self.0.lock().expect("key cache lock");
        if map.len() >= KEY_CACHE_MAX {
            map.clear();
        }
        map.insert(digest, (actor, std::time::Instant::now()));
    }

    fn clear(&self) {
        self.0.lock().expect("key cache lock").clear();
    }
}
