//! The root key and the master key's one job. Every subkey (blind indexes, API key digests, the
//! ledger's signing key, the consent MACs, …) derives from the **root**; the **master key** only
//! seals the key store — the root and the epoch keys. Rotating the master key re-seals those few
//! entries and changes nothing derived, so it takes milliseconds whatever the data.
//!
//! An installation from before master key rotation has no sealed root: its root is its master
//! key's bytes ([`RootKey::legacy`]), and the first rotation seals those bytes under the new master
//! key. The store subkey is derived from the master exactly as the old `epoch-store` subkey was, so
//! key stores written before still open.

use aes_gcm_siv::Aes256GcmSiv;
use aes_gcm_siv::aead::KeyInit;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{CryptoError, KEY_LEN, Keyring, MasterKey, open_with, seal_with};

const ROOT_AAD: &[u8] = b"mamori/root/v1";

/// The secret every subkey derives from. Zeroized on drop; `Debug` shows nothing.
pub struct RootKey(pub(crate) Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for RootKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RootKey(<redacted>)")
    }
}

impl RootKey {
    /// The root of an installation that has never rotated its master key: the master's bytes.
    pub fn legacy(master: &MasterKey) -> RootKey {
        RootKey(master.0.clone())
    }

    /// Opens a root sealed under `master` (by [`Keyring::seal_root_under`]).
    pub fn open(master: &MasterKey, sealed: &[u8]) -> Result<RootKey, CryptoError> {
        let bytes = open_with(&master.store_cipher(), ROOT_AAD, sealed)?;
        let key: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| CryptoError::Open)?;
        Ok(RootKey(Zeroizing::new(key)))
    }
}

impl MasterKey {
    /// The key store's sealing key: HKDF of the master as the `epoch-store` subkey always was.
    pub(crate) fn store_cipher(&self) -> Aes256GcmSiv {
        let hkdf = Hkdf::<Sha256>::new(Some(b"mamori/v1"), self.0.as_ref());
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        hkdf.expand(b"ext:epoch-store", k.as_mut())
            .expect("32 bytes is a valid HKDF length");
        Aes256GcmSiv::new_from_slice(k.as_ref()).expect("32-byte key")
    }
}

impl Keyring {
    /// This keyring's root sealed under `master` (a new master key, at a rotation).
    pub fn seal_root_under(&self, master: &MasterKey) -> Vec<u8> {
        seal_with(&master.store_cipher(), ROOT_AAD, self.root.as_ref())
    }

    /// The same root and epochs, with the key store sealed under `master`.
    pub fn under_master(&self, master: &MasterKey) -> Keyring {
        let keyring = Keyring::with_root(&RootKey(self.root.clone()), master);
        keyring.install_epochs_from(self);
        keyring.install_ledger_keys_from(self);
        keyring
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_master_seals_the_same_root_and_nothing_derived_changes() {
        let old = MasterKey::generate().unwrap();
        let keyring = Keyring::new(&old);
        let index = keyring.blind_index(crate::LookupKind::Email, "a@example.com");
        let new = MasterKey::generate().unwrap();
        let sealed = keyring.seal_root_under(&new);
        let root = RootKey::open(&new, &sealed).unwrap();
        let rotated = Keyring::with_root(&root, &new);
        assert_eq!(
            rotated.blind_index(crate::LookupKind::Email, "a@example.com"),
            index
        );
        assert_eq!(rotated.ledger_signing_seed(), keyring.ledger_signing_seed());
        assert!(
            RootKey::open(&old, &sealed).is_err(),
            "the old master opens nothing new"
        );
        // The store is sealed under the master, not the root.
        let secret = crate::EpochSecret::generate().unwrap();
        let under_new = rotated.seal_epoch_secret(1, &secret);
        assert!(keyring.open_epoch_secret(1, &under_new).is_err());
        assert!(rotated.open_epoch_secret(1, &under_new).is_ok());
    }

    #[test]
    fn a_store_sealed_before_the_root_existed_still_opens() {
        let master = MasterKey::generate().unwrap();
        let keyring = Keyring::new(&master);
        let secret = crate::EpochSecret::generate().unwrap();
        let sealed_the_old_way =
            keyring.seal_secret("epoch-store", &1u32.to_be_bytes(), &secret.0[..]);
        assert!(keyring.open_epoch_secret(1, &sealed_the_old_way).is_ok());
    }
}
