//! What the operator sees of the machinery under the capabilities — the database, the ledger
//! writer, the disk — for readiness, metrics and shutdown. Nothing here touches personal data.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mamori_crypto::Keyring;
use mamori_ledger::{Hash, SignedTreeHead};
use mamori_policy::Policy;
use mamori_store::Store;

use crate::error::Result;
use crate::ledger::Ledger;
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

/// Creates the database at `url` if it is missing and brings its schema up to date.
pub async fn prepare_database(url: &str) -> Result<()> {
    mamori_store::open(url).await?;
    Ok(())
}

impl Vault {
    /// Opens (and migrates) the database at `database_url` and starts the ledger writer over it.
    pub async fn open(
        policy: Arc<Policy>,
        keyring: Arc<Keyring>,
        database_url: &str,
    ) -> Result<Vault> {
        let store: Arc<dyn Store> = Arc::from(mamori_store::open(database_url).await?);
        let signer = crate::keys::ledger_keys::signer(&keyring);
        let history = crate::keys::ledger_keys::history(&keyring);
        let ledger = Ledger::start_with(store.clone(), signer, history).await?;
        Ok(Vault::new(policy, keyring, store, ledger))
    }

    /// Readies the database for a large import (the backend's bulk-load settings).
    pub async fn prepare_bulk_load(&self) -> Result<()> {
        Ok(self.store.prepare_bulk_load().await?)
    }

    /// How many people the database holds (erased ones included until purged). A count, not
    /// personal data: the demo uses it to top its customers up to the number asked for.
    pub async fn subject_count(&self) -> Result<i64> {
        Ok(self.store.count_subjects().await?)
    }

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

    /// A signed head as published, with the key that signed it (heads from before key ids: the
    /// first key).
    pub fn head_body(&self, sth: &SignedTreeHead) -> mamori_proto::ledger::HeadBody {
        let history = self.ledger.key_history();
        let key = (sth.key_id.as_deref())
            .and_then(|id| history.key(id))
            .unwrap_or(&history.keys()[0]);
        mamori_proto::ledger::HeadBody {
            size: sth.head.size,
            timestamp_ms: sth.head.timestamp_ms,
            root: mamori_ledger::b64::encode(&sth.head.root),
            signature: mamori_ledger::b64::encode(&sth.signature),
            public_key: hex::encode(key.public.as_bytes()),
            key_id: key.id.clone(),
        }
    }

    /// Every key the ledger has signed with, oldest first.
    pub fn ledger_key_history(&self) -> std::sync::Arc<mamori_ledger::KeyHistory> {
        self.ledger.key_history()
    }

    /// The audit path of leaf `leaf` in the tree of `size` leaves: the leaf's hash and the
    /// proof; None if the leaf or size is beyond the committed ledger. Hashes only.
    pub async fn ledger_inclusion_proof(
        &self,
        leaf: u64,
        size: u64,
    ) -> Result<Option<(Hash, Vec<Hash>)>> {
        self.ledger.inclusion_proof(leaf, size).await
    }

    /// The proof that the tree of `second` leaves extends the tree of `first`.
    pub async fn ledger_consistency_proof(
        &self,
        first: u64,
        second: u64,
    ) -> Result<Option<Vec<Hash>>> {
        self.ledger.consistency_proof(first, second).await
    }

    /// The root of the tree of the first `size` leaves.
    pub async fn ledger_root(&self, size: u64) -> Result<Option<Hash>> {
        self.ledger.root(size).await
    }

    /// The key the privacy center's form tokens are made with (derived, never stored).
    pub fn form_token_key(&self) -> zeroize::Zeroizing<[u8; 32]> {
        self.keyring.subkey("csrf")
    }

    /// Commits what is queued (consent-check events wait for the next commit) — at shutdown.
    pub async fn flush_ledger(&self) -> Result<()> {
        self.ledger.flush().await
    }
}
