//! What the operator sees of the machinery under the capabilities — the database, the ledger
//! writer, the disk — for readiness, metrics and shutdown. Nothing here touches personal data.

use std::path::PathBuf;
use std::time::Duration;

use mamori_ledger::SignedTreeHead;

use crate::error::Result;
use crate::vault::Vault;

/// The ledger writer's state, as readiness reports it.
#[derive(Debug, Clone)]
pub struct WriterState {
    /// The last write failed because the database's disk is full.
    pub storage_full: bool,
    pub last_commit_ms: i64,
    /// Work is queued for the next commit.
    pub has_pending: bool,
    /// Why the ledger cannot be trusted, if it was found so.
    pub integrity_problem: Option<String>,
}

impl Vault {
    /// Why the database cannot serve now, if it cannot: lost, not answering reads, or not
    /// answering within `timeout`. In words for the operator; never data.
    pub async fn database_problem(&self, timeout: Duration) -> Option<String> {
        let answer = tokio::time::timeout(timeout, self.store.last_event_seq()).await;
        match answer {
            _ if self.store.lost().is_some() => self.store.lost(),
            Ok(Ok(_)) => None,
            Ok(Err(_)) => Some("the database does not answer reads".to_string()),
            Err(_) => Some(format!(
                "the database did not answer within {} s",
                timeout.as_secs()
            )),
        }
    }

    /// The directory holding the database files, where there is one (SQLite).
    pub fn data_dir(&self) -> Option<PathBuf> {
        self.store.data_dir()
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    pub fn writer_state(&self) -> WriterState {
        WriterState {
            storage_full: self.ledger.storage_full(),
            last_commit_ms: self.ledger.last_commit_ms(),
            has_pending: self.ledger.has_pending(),
            integrity_problem: self.ledger.integrity_problem(),
        }
    }

    /// Leaves committed to the ledger.
    pub fn ledger_size(&self) -> u64 {
        self.ledger.committed_size()
    }

    /// The latest signed tree head, if any leaf was committed.
    pub fn latest_head(&self) -> Option<SignedTreeHead> {
        self.ledger.latest_head()
    }

    /// The key that signs tree heads.
    pub fn ledger_public_key(&self) -> ed25519_dalek::VerifyingKey {
        self.ledger.public_key()
    }

    /// Commits what is queued (consent-check events wait for the next commit) — at shutdown.
    pub async fn flush_ledger(&self) -> Result<()> {
        self.ledger.flush().await
    }
}
