//! "Who accessed my data": the ledger events about one person, and a proof that each of them is
//! in the signed ledger. Events hold ids, policy names and outcomes only, so the log can be
//! shown to the person it is about; reading it is itself ledgered.

use mamori_ledger::{Event, Outcome, SignedTreeHead};
use mamori_policy::IdSet;

use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};

/// The most events one page of the log holds.
pub const MAX_PAGE: i64 = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    /// The leaf index: what an inclusion proof is asked for.
    pub index: u64,
    pub event: Event,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLog {
    /// Newest first.
    pub entries: Vec<AccessEntry>,
    /// Pass as `before` for the next (older) page; None when this was the last.
    pub older: Option<u64>,
}

/// Everything needed to check offline that one event is in the ledger: the leaf's exact bytes,
/// the audit path (RFC 6962/9162) to a tree head signed with the ledger's Ed25519 key.
#[derive(Debug, Clone)]
pub struct AccessProof {
    pub index: u64,
    pub leaf_data: Vec<u8>,
    pub leaf_hash: [u8; 32],
    pub audit_path: Vec<[u8; 32]>,
    pub head: SignedTreeHead,
    pub public_key: [u8; 32],
}

fn entry(index: u64, data: &[u8]) -> Result<AccessEntry> {
    let event = Event::from_leaf_data(data)
        .map_err(|_| CoreError::Internal("a ledger leaf is not an event".into()))?;
    Ok(AccessEntry { index, event })
}

impl Vault {
    /// One page of the events about `subject`, newest first, with an index below `before`.
    /// The person themselves, or a role that may use the rights purpose; one event ledgered.
    pub async fn access_log(
        &self,
        actor: &Actor,
        subject: &[u8; 16],
        before: Option<u64>,
        limit: i64,
    ) -> Result<AccessLog> {
        self.rights_access(actor, "ledger.read", subject).await?;
        let limit = limit.clamp(1, MAX_PAGE);
        let leaves = self
            .store
            .subject_leaves(subject, before.unwrap_or(u64::MAX), limit + 1)
            .await?;
        let more = leaves.len() as i64 > limit;
        let mut entries = Vec::with_capacity(leaves.len());
        for leaf in leaves.into_iter().take(limit as usize) {
            entries.push(entry(leaf.index, &leaf.data)?);
        }
        let older = more.then(|| entries.last().map(|e| e.index)).flatten();
        self.ledger_rights_read(actor, "ledger.read", subject)
            .await?;
        Ok(AccessLog { entries, older })
    }

    /// Every event about `subject`, newest first (for exports); one event ledgered.
    pub async fn access_log_all(
        &self,
        actor: &Actor,
        subject: &[u8; 16],
    ) -> Result<Vec<AccessEntry>> {
        self.rights_access(actor, "ledger.read", subject).await?;
        let mut entries = Vec::new();
        let mut before = u64::MAX;
        loop {
            let leaves = self.store.subject_leaves(subject, before, 10_000).await?;
            let Some(last) = leaves.last().map(|l| l.index) else {
                break;
            };
            for leaf in leaves {
                entries.push(entry(leaf.index, &leaf.data)?);
            }
            before = last;
        }
        self.ledger_rights_read(actor, "ledger.read", subject)
            .await?;
        Ok(entries)
    }

    /// An inclusion proof for the event at `index`, which must be about `subject`, against the
    /// latest signed tree head. Same access rule as [`Vault::access_log`].
    pub async fn access_proof(
        &self,
        actor: &Actor,
        subject: &[u8; 16],
        index: u64,
    ) -> Result<AccessProof> {
        self.rights_access(actor, "ledger.proof", subject).await?;
        let head = self.ledger.latest_head().ok_or(CoreError::NotFound)?;
        let leaf = self
            .store
            .leaves(index, 1)
            .await?
            .into_iter()
            .next()
            .filter(|l| l.index == index && l.subject_id.as_ref() == Some(subject))
            .filter(|_| index < head.head.size)
            .ok_or(CoreError::NotFound)?;
        let (leaf_hash, audit_path) = self
            .ledger
            .inclusion_proof(index, head.head.size)
            .await?
            .ok_or(CoreError::NotFound)?;
        self.ledger_rights_read(actor, "ledger.proof", subject)
            .await?;
        Ok(AccessProof {
            index,
            leaf_data: leaf.data,
            leaf_hash,
            audit_path,
            head,
            public_key: self.ledger.public_key().to_bytes(),
        })
    }

    async fn rights_access(&self, actor: &Actor, action: &str, subject: &[u8; 16]) -> Result<()> {
        let rights = self
            .policy
            .purpose(mamori_policy::RIGHTS_PURPOSE)
            .ok_or(CoreError::Denied(crate::access::Denial::UnknownPurpose))?;
        self.consent_access(actor, rights, action, Some(subject))
            .await
    }

    async fn ledger_rights_read(
        &self,
        actor: &Actor,
        action: &str,
        subject: &[u8; 16],
    ) -> Result<()> {
        let event = self.event(
            actor,
            mamori_policy::RIGHTS_PURPOSE,
            action,
            Some(subject),
            IdSet::EMPTY,
            Outcome::Allowed,
        );
        self.ledger.submit(vec![], vec![event]).await??;
        Ok(())
    }
}
