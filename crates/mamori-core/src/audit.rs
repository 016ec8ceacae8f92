//! Reading the ledger as an auditor (`admin = ["audit"]`): recent events, newest first, filtered
//! by actor, subject, purpose and outcome. "Who on our staff looked at customer X, when, for
//! what" is one query: the subject's own leaves (the subject index), actors `staff:…`. Each read
//! is decided and ledgered (`ledger.read`).

use mamori_ledger::{Event, Outcome};
use mamori_policy::AdminPermission;

use crate::access::Permission;
use crate::error::Result;
use crate::vault::{Actor, Vault};

/// What to look for; empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// An actor id, or a prefix of one ending in `:` (`staff:` for every member of staff).
    pub actor: Option<String>,
    pub subject: Option<[u8; 16]>,
    pub purpose: Option<String>,
    /// Some(true): allowed only; Some(false): denied only.
    pub allowed: Option<bool>,
    /// Only leaves below this index (the next page).
    pub before: Option<u64>,
    /// Only events at or after this time (Unix ms).
    pub since_ms: Option<i64>,
    /// Only events before this time (Unix ms).
    pub until_ms: Option<i64>,
}

/// How far back one read looks without a subject (whose leaves are indexed).
const SCAN_LIMIT: u64 = 20_000;
const CHUNK: u64 = 1_000;

impl EventFilter {
    fn matches(&self, e: &Event) -> bool {
        let actor_ok = self
            .actor
            .as_deref()
            .is_none_or(|a| match a.strip_suffix(':') {
                Some(prefix) => {
                    e.actor.starts_with(prefix) && e.actor[prefix.len()..].starts_with(':')
                }
                None => e.actor == a,
            });
        let purpose_ok = self
            .purpose
            .as_deref()
            .is_none_or(|p| e.purpose.as_deref() == Some(p));
        let outcome_ok = self
            .allowed
            .is_none_or(|a| a == (e.outcome == Outcome::Allowed));
        let time_ok = self.since_ms.is_none_or(|t| e.time_ms >= t)
            && self.until_ms.is_none_or(|t| e.time_ms < t);
        actor_ok && purpose_ok && outcome_ok && time_ok
    }
}

impl Vault {
    /// Up to `limit` events matching `filter`, newest first, with their leaf index.
    pub async fn audit_events(
        &self,
        actor: &Actor,
        filter: &EventFilter,
        limit: usize,
    ) -> Result<Vec<(u64, Event)>> {
        let permission = Permission::Admin(AdminPermission::Audit);
        self.grant_and_ledger(actor, permission, "ledger.read")
            .await?;
        let size = self.ledger.committed_size();
        let before = filter.before.unwrap_or(size).min(size);
        let mut found = vec![];
        if let Some(subject) = filter.subject {
            let leaves = (self.store)
                .subject_leaves(&subject, before, (limit * 4) as i64)
                .await?;
            for leaf in leaves {
                let Ok(event) = Event::from_leaf_data(&leaf.data) else {
                    continue;
                };
                if filter.matches(&event) && found.len() < limit {
                    found.push((leaf.index, event));
                }
            }
            return Ok(found);
        }
        let floor = before.saturating_sub(SCAN_LIMIT);
        let mut end = before;
        // Unfiltered, the newest `limit` leaves are the page: read about that many first, then
        // more at a time while a filter keeps finding few.
        let mut chunk = (limit as u64 * 2).clamp(1, CHUNK);
        while end > floor && found.len() < limit {
            let from = end.saturating_sub(chunk).max(floor);
            chunk = (chunk * 2).min(CHUNK);
            let mut leaves = self.store.leaves(from, (end - from) as i64).await?;
            leaves.reverse();
            for leaf in leaves {
                let Ok(event) = Event::from_leaf_data(&leaf.data) else {
                    continue;
                };
                if filter.matches(&event) && found.len() < limit {
                    found.push((leaf.index, event));
                }
            }
            end = from;
        }
        Ok(found)
    }

    /// The latest signed head (size, root, time): what the events shown are part of.
    pub fn ledger_head(&self) -> Option<mamori_ledger::TreeHead> {
        self.ledger.latest_head().map(|sth| sth.head)
    }
}

/// One event's place in the ledger: its inclusion proof under the latest signed head, checked
/// here too (an auditor can check it again from the hashes shown).
#[derive(Debug, Clone)]
pub struct LeafProof {
    pub leaf: u64,
    pub event: Event,
    pub leaf_hash: mamori_ledger::Hash,
    pub path: Vec<mamori_ledger::Hash>,
    pub head: mamori_ledger::SignedTreeHead,
    /// The head's signature checks, the leaf hashes to what is stored, and the path leads to
    /// the head's root.
    pub verified: bool,
}

/// Whether the ledger extends a head kept earlier: the consistency proof to the latest head.
#[derive(Debug, Clone)]
pub struct ConsistencyCheck {
    pub first: u64,
    pub head: mamori_ledger::SignedTreeHead,
    pub proof: Vec<mamori_ledger::Hash>,
    pub consistent: bool,
}

impl Vault {
    /// The inclusion proof of leaf `leaf` under the latest signed head (None if it is not
    /// under it yet). Decided like any audit read and ledgered (`ledger.proof`).
    pub async fn audit_proof(&self, actor: &Actor, leaf: u64) -> Result<Option<LeafProof>> {
        let permission = Permission::Admin(AdminPermission::Audit);
        self.grant_and_ledger(actor, permission, "ledger.proof")
            .await?;
        let Some(head) = self.ledger.latest_head().filter(|h| leaf < h.head.size) else {
            return Ok(None);
        };
        let Some((leaf_hash, path)) = self.ledger.inclusion_proof(leaf, head.head.size).await?
        else {
            return Ok(None);
        };
        let stored = self.store.leaves(leaf, 1).await?;
        let Some(data) = stored.first().map(|l| l.data.clone()) else {
            return Ok(None);
        };
        let Ok(event) = Event::from_leaf_data(&data) else {
            return Err(crate::error::CoreError::Integrity);
        };
        // The head is signed by the key of its time; the leaf hashes to what is stored.
        let signed = self.ledger.key_history().verify(&head).is_ok();
        let hashes_to_it = signed && mamori_ledger::leaf_hash(&data) == leaf_hash;
        let on_path = mamori_ledger::verify_inclusion(
            leaf,
            head.head.size,
            &leaf_hash,
            &path,
            &head.head.root,
        );
        Ok(Some(LeafProof {
            leaf,
            event,
            verified: hashes_to_it && on_path.is_ok(),
            leaf_hash,
            path,
            head,
        }))
    }

    /// Checks that the ledger extends the head of `first` leaves with `first_root` that an
    /// auditor kept: the consistency proof to the latest signed head, verified. None when
    /// `first` is 0 or beyond the latest head. Ledgered (`ledger.consistency`).
    pub async fn audit_consistency(
        &self,
        actor: &Actor,
        first: u64,
        first_root: &[u8; 32],
    ) -> Result<Option<ConsistencyCheck>> {
        let permission = Permission::Admin(AdminPermission::Audit);
        self.grant_and_ledger(actor, permission, "ledger.consistency")
            .await?;
        let Some(head) = self
            .ledger
            .latest_head()
            .filter(|h| first > 0 && first <= h.head.size)
        else {
            return Ok(None);
        };
        let second = head.head.size;
        let Some(proof) = self.ledger.consistency_proof(first, second).await? else {
            return Ok(None);
        };
        let signed = self.ledger.key_history().verify(&head).is_ok();
        let consistent = signed
            && mamori_ledger::verify_consistency(
                first,
                second,
                first_root,
                &head.head.root,
                &proof,
            )
            .is_ok();
        Ok(Some(ConsistencyCheck {
            first,
            head,
            proof,
            consistent,
        }))
    }
}
