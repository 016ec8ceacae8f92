//! Publishing the policy: each version the notices are generated from is recorded (content
//! hash, time, who, the text itself), announced in the outbox as `notice.published`, and named
//! in consent records as the notice version the person saw.

use mamori_ledger::Outcome;
use mamori_store::{Change, PolicyVersion};
use sha2::{Digest, Sha256};

use crate::apikeys::admin_event;
use crate::error::Result;
use crate::vault::{Actor, Vault};
use crate::{now_ms, outbox};

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

impl Vault {
    /// Records `text` (the policy file in force) as a new published version, unless it is the
    /// latest one already.
    pub async fn publish_policy(&self, by: &Actor, text: &str) -> Result<Published> {
        let hash: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        if let Some((version, latest)) = self.store.latest_policy_version().await?
            && latest == hash
        {
            return Ok(Published::Unchanged { version });
        }
        let row = PolicyVersion {
            version: 0,
            hash,
            published_ms: now_ms(),
            actor: by.id.clone(),
            policy: text.to_string(),
        };
        let announce = outbox::announce(
            "notice.published",
            None,
            serde_json::json!({ "hash": hex::encode(hash) }),
        );
        let event = admin_event(by, "policy.publish", Outcome::Allowed);
        self.ledger
            .submit(vec![Change::PublishPolicy(row), announce], vec![event])
            .await??;
        let latest = self.store.latest_policy_version().await?;
        Ok(Published::New {
            version: latest.map_or(0, |(v, _)| v),
        })
    }

    /// `v<N>` of the latest published version, if any (the notice people see now).
    pub async fn current_notice_version(&self) -> Result<Option<String>> {
        let latest = self.store.latest_policy_version().await?;
        Ok(latest.map(|(v, _)| format!("v{v}")))
    }
}
