//! The ledger's signing keys as the key store holds them. Until the first rotation the ledger
//! signs with a key derived from the root (`ledger-signing`); a rotation makes a random key,
//! sealed in the key store under a root subkey bound to its number, and keeps only the public
//! half of the keys before it, with when each signed. Ed25519 itself is the ledger crate's: here
//! keys are bytes.

use std::sync::Arc;

use zeroize::Zeroizing;

use crate::{CryptoError, KEY_LEN, Keyring, os_random};

/// A signing key the key store names: its public half and when it signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerKeyRecord {
    pub public: [u8; 32],
    pub from_ms: i64,
    /// When a newer key took over (none: it signs now).
    pub until_ms: Option<i64>,
}

/// What a keyring holds of the store's ledger keys.
#[derive(Default)]
pub(crate) struct LedgerKeys {
    /// The signing seed of the current key (none: the derived one).
    current: Option<Zeroizing<[u8; KEY_LEN]>>,
    /// Every key since the first rotation, the derived one included, oldest first.
    records: Vec<LedgerKeyRecord>,
}

const SEAL_LABEL: &str = "ledger-signing-key";

impl Keyring {
    /// The Ed25519 seed that signs ledger tree heads (and consent receipts) now.
    pub fn ledger_signing_seed(&self) -> Zeroizing<[u8; KEY_LEN]> {
        let keys = self.ledger_keys.read().expect("ledger key lock").clone();
        keys.current
            .clone()
            .unwrap_or_else(|| self.ledger_seed.clone())
    }

    /// The seed derived from the root: the ledger's first key, before any rotation.
    pub fn original_ledger_seed(&self) -> Zeroizing<[u8; KEY_LEN]> {
        self.ledger_seed.clone()
    }

    /// The keys the store names (empty before the first rotation), oldest first.
    pub fn ledger_key_records(&self) -> Vec<LedgerKeyRecord> {
        let keys = self.ledger_keys.read().expect("ledger key lock").clone();
        keys.records.clone()
    }

    /// Installs what the key store holds: the current seed (if rotated) and every key's record.
    pub fn install_ledger_keys(
        &self,
        current: Option<Zeroizing<[u8; KEY_LEN]>>,
        records: Vec<LedgerKeyRecord>,
    ) {
        *self.ledger_keys.write().expect("ledger key lock") =
            Arc::new(LedgerKeys { current, records });
    }

    pub(crate) fn install_ledger_keys_from(&self, other: &Keyring) {
        let keys = other.ledger_keys.read().expect("ledger key lock").clone();
        *self.ledger_keys.write().expect("ledger key lock") = keys;
    }

    /// A fresh random signing seed.
    pub fn generate_ledger_seed() -> Result<Zeroizing<[u8; KEY_LEN]>, CryptoError> {
        let mut seed = Zeroizing::new([0u8; KEY_LEN]);
        os_random(seed.as_mut())?;
        Ok(seed)
    }

    /// Seals signing key `number` for the key store (bound to its number).
    pub fn seal_ledger_seed(&self, number: u32, seed: &[u8; KEY_LEN]) -> Vec<u8> {
        self.seal_secret(SEAL_LABEL, &number.to_be_bytes(), seed)
    }

    /// Opens signing key `number` from the key store (fails if moved or under another root).
    pub fn open_ledger_seed(
        &self,
        number: u32,
        sealed: &[u8],
    ) -> Result<Zeroizing<[u8; KEY_LEN]>, CryptoError> {
        let bytes = self.open_secret(SEAL_LABEL, &number.to_be_bytes(), sealed)?;
        let seed: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| CryptoError::Open)?;
        Ok(Zeroizing::new(seed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MasterKey;

    #[test]
    fn the_installed_seed_signs_and_the_derived_one_stays_the_first() {
        let keyring = Keyring::new(&MasterKey::generate().unwrap());
        let derived = keyring.ledger_signing_seed();
        assert_eq!(keyring.original_ledger_seed(), derived);
        let seed = Keyring::generate_ledger_seed().unwrap();
        let sealed = keyring.seal_ledger_seed(2, &seed);
        assert_eq!(keyring.open_ledger_seed(2, &sealed).unwrap(), seed);
        assert!(
            keyring.open_ledger_seed(3, &sealed).is_err(),
            "bound to its number"
        );
        keyring.install_ledger_keys(Some(seed.clone()), vec![]);
        assert_eq!(keyring.ledger_signing_seed(), seed);
        assert_eq!(keyring.original_ledger_seed(), derived);
        let other = Keyring::new(&MasterKey::generate().unwrap());
        assert!(other.open_ledger_seed(2, &sealed).is_err(), "another root");
    }
}
