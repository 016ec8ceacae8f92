//! Publishing the policy: each version the notices are generated from is recorded (content
//! hash, time, who, the text itself), announced in the outbox as `notice.published`, and named
//! in consent records as the notice version the person saw.

use mamori_store::{Change, PolicyVersion};
use sha2::{Digest, Sha256};

use mamori_policy::Policy;
use mamori_policy::diff::{PolicyChange, diff};

use crate::access::Permission;
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};
use crate::versions::widened_consents;

/// What publishing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    New {
        version: i64,
    },
    /// The same text is already the latest published version.
    Unchanged {
        version: i64,
    },
}

/// A published version, as listed (the text itself is in the store, not here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedVersion {
    pub version: i64,
    pub hash: [u8; 32],
    pub published_ms: i64,
    /// Who published it (an actor id: `cli`, `key:<uuid>`).
    pub actor: String,
}

impl Vault {
    /// The published versions, oldest first.
    pub async fn policy_versions(&self, by: &Actor) -> Result<Vec<PublishedVersion>> {
        let policy = Permission::Admin(mamori_policy::AdminPermission::Policy);
        self.grant_and_ledger(by, policy, "policy.versions").await?;
        let versions = self.store.policy_versions().await?;
        Ok(versions
            .into_iter()
            .map(|v| PublishedVersion {
                version: v.version,
                hash: v.hash,
                published_ms: v.published_ms,
                actor: v.actor,
            })
            .collect())
    }

    /// Records `text` (the policy file in force) as a new published version, unless it is the
    /// latest one already. When it changes what an earlier version said, every live subject is
    /// told (`subject.notice_changed`), and each person whose consent no longer covers a widened
    /// purpose is asked again (`subject.reconsent_requested`) — all in the publish transaction.
    pub async fn publish_policy(&self, by: &Actor, text: &str) -> Result<Published> {
        let policy = Permission::Admin(mamori_policy::AdminPermission::Policy);
        let granted = self.grant(by, policy, "policy.publish").await?;
        let hash: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        let versions = self.store.policy_versions().await?;
        let previous = versions.last();
        if let Some(latest) = previous
            && latest.hash == hash
        {
            return Ok(Published::Unchanged {
                version: latest.version,
            });
        }
        let new = Policy::parse("policy.toml", text).map_err(|_| {
            CoreError::invalid(
                "invalid_policy",
                "policy",
                "the policy has problems; run `mamori policy check`",
            )
        })?;
        let version = previous.map_or(1, |v| v.version + 1);
        let now = self.now_ms();
        let mut changes = vec![Change::PublishPolicy(PolicyVersion {
            version,
            hash,
            published_ms: now,
            actor: by.id.clone(),
            policy: text.to_string(),
        })];
        let (told, widened) = match previous.map(|v| Policy::parse("published", &v.policy)) {
            None => (Vec::new(), Vec::new()),
            Some(Ok(old)) => {
                let widened: Vec<(String, Vec<String>)> = widened_consents(&old, &new)
                    .into_iter()
                    .map(|(p, added)| (p.name.clone(), added))
                    .collect();
                (diff(&old, &new), widened)
            }
            // An earlier version this build cannot read: say so rather than pretend nothing changed.
            Some(Err(_)) => {
                let unknown = PolicyChange {
                    widens: true,
                    text: "the previous version can no longer be compared".into(),
                };
                (vec![unknown], Vec::new())
            }
        };
        let label = format!("v{version}");
        changes.push(self.announce(
            "notice.published",
            None,
            serde_json::json!({
                "version": label,
                "hash": hex::encode(hash),
                "changes": told.iter().map(|c| serde_json::json!({"text": c.text, "widens": c.widens})).collect::<Vec<_>>(),
                "reconsent": widened.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            }),
        ));
        if !told.is_empty() {
            changes.push(Change::AnnounceToSubjects {
                kind: "subject.notice_changed".into(),
                payload: serde_json::json!({
                    "version": label,
                    "widens": told.iter().any(|c| c.widens),
                })
                .to_string(),
                created_ms: now,
                granted_purpose: None,
            });
        }
        for (purpose, added) in &widened {
            changes.push(Change::AnnounceToSubjects {
                kind: "subject.reconsent_requested".into(),
                payload: serde_json::json!({
                    "version": label,
                    "purpose": purpose,
                    "added_categories": added,
                })
                .to_string(),
                created_ms: now,
                granted_purpose: Some(purpose.clone()),
            });
        }
        let event = granted.event();
        match self.ledger.submit(changes, vec![event]).await? {
            Ok(()) => {}
            Err(mamori_store::JobError::Duplicate) => {
                return Err(CoreError::Conflict {
                    code: "concurrent_publish",
                    message: "another publish happened at the same time; run it again".into(),
                });
            }
            Err(e) => return Err(e.into()),
        }
        self.scopes.invalidate();
        Ok(Published::New { version })
    }

    /// The published version the policy in force is (`v<N>`, publication time), if it is one.
    /// Picks up a publish made by another process since the last look.
    pub async fn published_version_in_force(&self) -> Result<Option<(String, i64)>> {
        let latest = self.store.latest_policy_version().await?.map(|(v, _)| v);
        let scopes = self
            .scopes
            .get(&self.policy, &*self.store, [latest])
            .await?;
        let hash: [u8; 32] = Sha256::digest(self.policy.source.as_bytes()).into();
        Ok(scopes
            .published_as(&hash)
            .map(|(v, ms)| (format!("v{v}"), ms)))
    }

    /// `v<N>` of the latest published version, if any (the notice people see now).
    pub async fn current_notice_version(&self) -> Result<Option<String>> {
        let latest = self.store.latest_policy_version().await?;
        Ok(latest.map(|(v, _)| format!("v{v}")))
    }
}
