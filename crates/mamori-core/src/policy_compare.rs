//! Comparing policies for the console: the published versions, which of them (if any) the policy
//! in force is, and what changed between any two — a published version or the policy in force.
//! By default it compares the latest published version with the policy in force: what a publish
//! would announce. One decision and one ledger event per comparison, like every admin read.

use mamori_policy::Policy;
use mamori_policy::diff::{ChangeKind, PolicyChange, diff};
use mamori_proto::ErrorCode;
use sha2::{Digest, Sha256};

use crate::access::Permission;
use crate::error::{CoreError, Result};
use crate::publish::PublishedVersion;
use crate::vault::{Actor, Vault};

/// One side of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicySide {
    Published(i64),
    InForce,
}

/// The versions, where the policy in force stands, and the changes between two sides.
#[derive(Debug, Clone)]
pub struct PolicyComparison {
    /// Oldest first.
    pub versions: Vec<PublishedVersion>,
    /// The published version the policy in force is, if it is the latest one.
    pub in_force_is_latest: bool,
    /// The sides compared (`from` is None when nothing has been published yet).
    pub from: Option<PolicySide>,
    pub to: PolicySide,
    pub changes: Vec<PolicyChange>,
}

impl Vault {
    /// Compares `from` (default: the latest published version) with `to` (default: the policy
    /// in force). A version that was never published is refused (`invalid_query`).
    pub async fn compare_policies(
        &self,
        by: &Actor,
        from: Option<PolicySide>,
        to: Option<PolicySide>,
    ) -> Result<PolicyComparison> {
        let policy = Permission::Admin(mamori_policy::AdminPermission::Policy);
        let granted = self.grant(by, policy, "policy.compare").await?;
        let published = self.store.policy_versions().await?;
        let in_force_hash: [u8; 32] = Sha256::digest(self.policy.source.as_bytes()).into();
        let to = to.unwrap_or(PolicySide::InForce);
        let from = from.or(published.last().map(|v| PolicySide::Published(v.version)));
        let text_of = |side: PolicySide| -> Result<&str> {
            match side {
                PolicySide::InForce => Ok(&self.policy.source),
                PolicySide::Published(n) => (published.iter())
                    .find(|v| v.version == n)
                    .map(|v| v.policy.as_str())
                    .ok_or_else(|| {
                        CoreError::invalid(
                            ErrorCode::InvalidQuery,
                            "version",
                            "no published version has this number",
                        )
                    }),
            }
        };
        let changes = match from {
            None => Ok(Vec::new()),
            Some(from) => text_of(from).and_then(|old| Ok(changes_between(old, text_of(to)?))),
        };
        // The read is ledgered even when it names a version that does not exist.
        self.ledger.submit(vec![], vec![granted.event()]).await??;
        let changes = changes?;
        Ok(PolicyComparison {
            in_force_is_latest: published.last().is_some_and(|v| v.hash == in_force_hash),
            versions: (published.iter())
                .map(|v| PublishedVersion {
                    version: v.version,
                    hash: v.hash,
                    published_ms: v.published_ms,
                    actor: v.actor.clone(),
                })
                .collect(),
            from,
            to,
            changes,
        })
    }
}

/// The changes from one policy text to another; a text this build cannot read any more is said
/// so rather than compared as if nothing changed.
fn changes_between(old: &str, new: &str) -> Vec<PolicyChange> {
    match (Policy::parse("old", old), Policy::parse("new", new)) {
        (Ok(old), Ok(new)) => diff(&old, &new),
        _ => vec![PolicyChange {
            widens: true,
            kind: ChangeKind::Incomparable,
        }],
    }
}
