//! The ledger's signing keys over time, kept in the key store beside the epoch keys. Before the
//! first rotation the ledger signs with the key derived from the root. `mamori ledger
//! rotate-key` makes a random key (sealed in the store), records when the previous one stopped
//! signing and forgets its private half (a derived first key stays derivable from the root: a
//! master key rotation does not change it, so retiring it is what protects). Every public key
//! stays published with its validity (`GET /v1/ledger/keys`), and each head is checked with the
//! key of its time (`mamori_ledger::KeyHistory`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mamori_crypto::{Keyring, LedgerKeyRecord};
use mamori_ledger::{HeadSigner, KeyHistory, PublishedKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::epoch_store::{EpochStore, EpochStoreError, StoreFile};
use crate::vault::{Actor, Vault};

type Result<T> = std::result::Result<T, EpochStoreError>;

/// One signing key as the key store keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LedgerKeyEntry {
    /// 0: the key derived from the root; then 1, 2, … in order.
    number: u32,
    /// The public key (base64).
    public: String,
    from_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    until_ms: Option<i64>,
    /// The seed, sealed, while the key signs; gone once it is retired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<String>,
}

/// The key that signs now.
pub fn signer(keyring: &Keyring) -> HeadSigner {
    HeadSigner::from_seed(&keyring.ledger_signing_seed())
}

/// Every key the ledger has signed with, as installed in `keyring`, oldest first.
pub fn history(keyring: &Keyring) -> KeyHistory {
    let original = HeadSigner::from_seed(&keyring.original_ledger_seed()).public_key();
    let records = keyring.ledger_key_records();
    let keys: Vec<PublishedKey> = (records.iter())
        .filter_map(|r| {
            let public = VerifyingKey::from_bytes(&r.public).ok()?;
            Some(PublishedKey::new(public, r.from_ms, r.until_ms))
        })
        .collect();
    if keys.is_empty() {
        return KeyHistory::single(original);
    }
    KeyHistory::new(keys)
}

impl EpochStore {
    /// Installs the store's ledger keys in `keyring` (the current seed opened).
    pub(super) fn install_ledger_keys(&self, keyring: &Keyring, file: &StoreFile) -> Result<()> {
        let format = || EpochStoreError::Format(self.path().display().to_string());
        let mut current = None;
        let mut records = Vec::with_capacity(file.ledger_keys.len());
        for entry in &file.ledger_keys {
            let public: [u8; 32] = (STANDARD.decode(&entry.public).ok())
                .and_then(|b| b.try_into().ok())
                .ok_or_else(format)?;
            if let Some(sealed) = &entry.sealed {
                let sealed = STANDARD.decode(sealed).map_err(|_| format())?;
                let seed = keyring
                    .open_ledger_seed(entry.number, &sealed)
                    .map_err(|_| EpochStoreError::Foreign(self.path().display().to_string()))?;
                current = Some(seed);
            }
            records.push(LedgerKeyRecord {
                public,
                from_ms: entry.from_ms,
                until_ms: entry.until_ms,
            });
        }
        keyring.install_ledger_keys(current, records);
        Ok(())
    }

    /// Starts a new signing key at `now_ms`; the current one's private half is forgotten and it
    /// stays valid until `retired_ms` (a server beside the command signs with it until it reads
    /// the store again). Installs the result and returns the new key's id.
    pub fn rotate_ledger_key(
        &self,
        keyring: &Keyring,
        now_ms: i64,
        retired_ms: i64,
    ) -> Result<String> {
        let seed = Keyring::generate_ledger_seed().map_err(|_| EpochStoreError::Random)?;
        let next = HeadSigner::from_seed(&seed);
        let original = HeadSigner::from_seed(&keyring.original_ledger_seed());
        self.changing(keyring, |file| {
            if file.ledger_keys.is_empty() {
                file.ledger_keys.push(LedgerKeyEntry {
                    number: 0,
                    public: STANDARD.encode(original.public_key().as_bytes()),
                    from_ms: 0,
                    until_ms: None,
                    sealed: None,
                });
            }
            for entry in file.ledger_keys.iter_mut().filter(|e| e.until_ms.is_none()) {
                entry.until_ms = Some(retired_ms);
                entry.sealed = None;
            }
            let number = file.ledger_keys.iter().map(|e| e.number).max().unwrap_or(0) + 1;
            file.ledger_keys.push(LedgerKeyEntry {
                number,
                public: STANDARD.encode(next.public_key().as_bytes()),
                from_ms: now_ms,
                until_ms: None,
                sealed: Some(STANDARD.encode(keyring.seal_ledger_seed(number, &seed))),
            });
            Ok(())
        })?;
        let file = self.read()?;
        self.install_ledger_keys(keyring, &file)?;
        Ok(next.key_id().to_string())
    }
}

/// How long a retired key stays valid after `mamori ledger rotate-key`: a running server reads
/// the key store again within [`crate::jobs`]' key rotation interval (at most 5 minutes).
pub const RETIREMENT_GRACE_MS: i64 = 10 * 60 * 1000;

impl Vault {
    /// `mamori ledger rotate-key`: decided by the policy (`admin = ["keys"]`) and ledgered
    /// (signed by the old key); then a new key signs. Returns its id.
    pub async fn rotate_ledger_key(&self, actor: &Actor) -> crate::Result<String> {
        let keys = crate::access::Permission::Admin(mamori_policy::AdminPermission::Keys);
        let granted = self.grant(actor, keys, "ledger.rotate_key").await?;
        self.ledger.submit(vec![], vec![granted.event()]).await??;
        self.flush_ledger().await?;
        let store = self.epoch_store()?;
        let now = crate::now_ms();
        let id = store
            .rotate_ledger_key(&self.keyring, now, now + RETIREMENT_GRACE_MS)
            .map_err(super::rotation::store_error)?;
        self.ledger
            .use_keys(signer(&self.keyring), history(&self.keyring));
        Ok(id)
    }

    /// Signs with the key store's current key from the next commit, if it changed (a `mamori
    /// ledger rotate-key` beside this server). The key store must have been read again first.
    pub(crate) fn follow_ledger_key(&self) {
        let now = signer(&self.keyring);
        if now.key_id() != mamori_ledger::key_id(&self.ledger.public_key()) {
            tracing::info!(key = now.key_id(), "the ledger signs with a new key");
            self.ledger.use_keys(now, history(&self.keyring));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_crypto::MasterKey;
    use mamori_ledger::TreeHead;

    fn head(signer: &HeadSigner, at: i64) -> mamori_ledger::SignedTreeHead {
        signer.sign(TreeHead {
            size: 3,
            timestamp_ms: at,
            root: [1; 32],
        })
    }

    #[test]
    fn a_rotated_key_signs_and_the_old_ones_verify_their_own_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = EpochStore::at(dir.path().join("key-epochs"));
        let master = MasterKey::generate().unwrap();
        let keyring = store.keyring_for(&master).unwrap();
        store.load(&keyring, 1_000).unwrap();
        let first = signer(&keyring);
        let early = head(&first, 1_500);
        assert!(history(&keyring).verify(&early).is_ok());

        let id = store.rotate_ledger_key(&keyring, 2_000, 2_000).unwrap();
        let second = signer(&keyring);
        assert_eq!(second.key_id(), id);
        assert_ne!(second.key_id(), first.key_id());
        let history_now = history(&keyring);
        assert!(
            history_now.verify(&early).is_ok(),
            "the old head, with the old key"
        );
        assert!(history_now.verify(&head(&second, 3_000)).is_ok());
        assert!(
            history_now.verify(&head(&first, 3_000)).is_err(),
            "retired at 2 000"
        );

        // Another process (the server at its next start) reads the same keys.
        let again = store.keyring_for(&master).unwrap();
        store.load(&again, 4_000).unwrap();
        assert_eq!(signer(&again).key_id(), id);
        store.rotate_ledger_key(&again, 5_000, 5_000).unwrap();
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert_eq!(
            text.matches("\"sealed\"").count(),
            2,
            "one epoch, one signing key: {text}"
        );
        assert_eq!(history(&again).keys().len(), 3);
    }
}
