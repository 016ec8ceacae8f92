//! Epoch keys: the keys that wrap subject data keys, and what makes an erasure reach old copies.
//!
//! A subject's data key is wrapped under the **epoch key** current when it was written (or last
//! re-wrapped). Epoch keys rotate on a schedule; every rotation re-wraps the live keys under the
//! new epoch, and a retired epoch key is destroyed once the backup horizon has passed. A copy of
//! the database (a backup, a freed page, a replica) holds data keys wrapped under the epochs of its
//! time: once those are destroyed the copy is noise, master key or not. The epoch keys themselves
//! are kept outside the database, sealed under a subkey of the master key (see mamori-core's
//! `key_epochs`).
//!
//! Wrapped form: `0xE1 ‖ epoch (u32, big-endian) ‖ sealed`, with the subject id and the epoch as
//! associated data. Because the epoch comes first and big-endian, byte order of wrapped keys is
//! epoch order: "every key wrapped before epoch n" is a range of the column (see
//! [`epoch_floor`]). Keys from before epochs existed (wrapped directly under the master key's
//! `dek-wrap` subkey) start with the sealed format's version byte, 0x01, so sort below them all.

use std::collections::BTreeMap;
use std::sync::Arc;

use aes_gcm_siv::Aes256GcmSiv;
use aes_gcm_siv::aead::KeyInit;
use zeroize::Zeroizing;

use crate::{CryptoError, KEY_LEN, Keyring, open_with, os_random, seal_with};

/// The first byte of a data key wrapped under an epoch key.
const EPOCH_WRAPPED: u8 = 0xE1;
const PREFIX_LEN: usize = 5;

/// An epoch key's secret bytes, zeroized on drop.
pub struct EpochSecret(pub(crate) Zeroizing<[u8; KEY_LEN]>);

impl EpochSecret {
    pub fn generate() -> Result<EpochSecret, CryptoError> {
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        os_random(k.as_mut())?;
        Ok(EpochSecret(k))
    }
}

impl std::fmt::Debug for EpochSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EpochSecret(<redacted>)")
    }
}

/// The epoch keys a process holds, and which one wraps new keys.
#[derive(Default)]
pub struct EpochRing {
    current: Option<u32>,
    ciphers: BTreeMap<u32, Aes256GcmSiv>,
}

impl EpochRing {
    /// A ring of `keys`; the highest epoch wraps new keys.
    pub fn new(keys: impl IntoIterator<Item = (u32, EpochSecret)>) -> EpochRing {
        let ciphers: BTreeMap<u32, Aes256GcmSiv> = keys
            .into_iter()
            .map(|(id, secret)| {
                let cipher = Aes256GcmSiv::new_from_slice(secret.0.as_ref()).expect("32-byte key");
                (id, cipher)
            })
            .collect();
        EpochRing {
            current: ciphers.keys().next_back().copied(),
            ciphers,
        }
    }

    pub fn current(&self) -> Option<u32> {
        self.current
    }

    pub fn oldest(&self) -> Option<u32> {
        self.ciphers.keys().next().copied()
    }

    pub fn contains(&self, epoch: u32) -> bool {
        self.ciphers.contains_key(&epoch)
    }
}

/// The epoch a wrapped key (or any blob wrapped by [`Keyring::wrap_under_epoch`]) was wrapped
/// under; `None` for a key from before epochs.
pub fn wrapped_epoch(wrapped: &[u8]) -> Option<u32> {
    match wrapped {
        [EPOCH_WRAPPED, a, b, c, d, ..] => Some(u32::from_be_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

/// The smallest wrapped form of `epoch`: every key wrapped under an earlier epoch (or before
/// epochs) sorts below it, every key of `epoch` or later at or above it.
pub fn epoch_floor(epoch: u32) -> Vec<u8> {
    let mut floor = vec![EPOCH_WRAPPED];
    floor.extend_from_slice(&epoch.to_be_bytes());
    floor
}

/// The smallest wrapped form of any epoch (keys from before epochs sort below it).
pub fn first_epoch_floor() -> Vec<u8> {
    epoch_floor(0)
}

fn epoch_aad(label: &[u8], owner: &[u8], epoch: u32) -> Vec<u8> {
    let mut aad = label.to_vec();
    aad.extend_from_slice(owner);
    aad.extend_from_slice(&epoch.to_be_bytes());
    aad
}

const DEK_LABEL: &[u8] = b"mamori/dek/v2:";

impl Keyring {
    /// Replaces the epoch keys this keyring wraps and unwraps with.
    pub fn install_epochs(&self, ring: EpochRing) {
        *self.epochs.write().expect("epoch lock") = Arc::new(ring);
    }

    /// The epoch new keys are wrapped under (`None`: no epochs, keys are wrapped under the master
    /// key's subkey as before).
    pub fn current_epoch(&self) -> Option<u32> {
        self.ring().current
    }

    /// Whether this keyring holds `epoch`'s key.
    pub fn holds_epoch(&self, epoch: u32) -> bool {
        self.ring().contains(epoch)
    }

    /// Holds the same epochs as `other` (a keyring under another master key).
    pub(crate) fn install_epochs_from(&self, other: &Keyring) {
        *self.epochs.write().expect("epoch lock") = other.ring();
    }

    fn ring(&self) -> Arc<EpochRing> {
        self.epochs.read().expect("epoch lock").clone()
    }

    /// Seals an epoch key for the key store (under the master key's store key), bound to its
    /// number.
    pub fn seal_epoch_secret(&self, epoch: u32, secret: &EpochSecret) -> Vec<u8> {
        seal_with(&self.store, &epoch.to_be_bytes(), secret.0.as_ref())
    }

    /// Opens an epoch key from the key store (fails under another master key or if moved).
    pub fn open_epoch_secret(&self, epoch: u32, sealed: &[u8]) -> Result<EpochSecret, CryptoError> {
        let bytes = open_with(&self.store, &epoch.to_be_bytes(), sealed)?;
        let key: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| CryptoError::Open)?;
        Ok(EpochSecret(Zeroizing::new(key)))
    }

    /// Wraps `secret` under the current epoch key, bound to `label` and `owner`. Errors with
    /// [`CryptoError::NoEpoch`] when the keyring holds no epochs.
    pub fn wrap_under_epoch(
        &self,
        label: &[u8],
        owner: &[u8],
        secret: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let ring = self.ring();
        let epoch = ring.current.ok_or(CryptoError::NoEpoch)?;
        Ok(wrap_with(&ring, epoch, label, owner, secret))
    }

    /// Opens what [`Keyring::wrap_under_epoch`] wrapped. [`CryptoError::UnknownEpoch`] names an
    /// epoch this keyring does not hold (destroyed, or created by another process since).
    pub fn unwrap_under_epoch(
        &self,
        label: &[u8],
        owner: &[u8],
        wrapped: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let epoch = wrapped_epoch(wrapped).ok_or(CryptoError::Open)?;
        let ring = self.ring();
        let cipher = ring
            .ciphers
            .get(&epoch)
            .ok_or(CryptoError::UnknownEpoch(epoch))?;
        open_with(
            cipher,
            &epoch_aad(label, owner, epoch),
            &wrapped[PREFIX_LEN..],
        )
    }

    /// Wraps a data key: under the current epoch if there is one, else as before epochs.
    pub(crate) fn wrap_dek(&self, subject: &[u8; 16], dek: &[u8; KEY_LEN]) -> Vec<u8> {
        let ring = self.ring();
        match ring.current {
            Some(epoch) => wrap_with(&ring, epoch, DEK_LABEL, subject, dek),
            None => seal_with(&self.wrap, &crate::wrap_aad(subject), dek),
        }
    }

    pub(crate) fn unwrap_dek(
        &self,
        subject: &[u8; 16],
        wrapped: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if wrapped_epoch(wrapped).is_some() {
            self.unwrap_under_epoch(DEK_LABEL, subject, wrapped)
        } else {
            open_with(&self.wrap, &crate::wrap_aad(subject), wrapped)
        }
    }

    /// The same data key wrapped under the current epoch, or `None` if it already is (or there
    /// are no epochs). The key inside does not change, so what it sealed stays as it is.
    pub fn rewrap_subject_key(
        &self,
        subject: &[u8; 16],
        wrapped: &[u8],
    ) -> Result<Option<Vec<u8>>, CryptoError> {
        let Some(current) = self.current_epoch() else {
            return Ok(None);
        };
        if wrapped_epoch(wrapped) == Some(current) {
            return Ok(None);
        }
        let dek = self.unwrap_dek(subject, wrapped)?;
        let dek: &[u8; KEY_LEN] = dek.as_slice().try_into().map_err(|_| CryptoError::Open)?;
        Ok(Some(self.wrap_dek(subject, dek)))
    }
}

fn wrap_with(ring: &EpochRing, epoch: u32, label: &[u8], owner: &[u8], secret: &[u8]) -> Vec<u8> {
    let cipher = &ring.ciphers[&epoch];
    let mut out = epoch_floor(epoch);
    out.extend_from_slice(&seal_with(cipher, &epoch_aad(label, owner, epoch), secret));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MasterKey;

    fn ring_of(ids: &[u32]) -> (EpochRing, Vec<(u32, Vec<u8>)>) {
        let keyring = Keyring::new(&MasterKey::generate().unwrap());
        let secrets: Vec<(u32, EpochSecret)> = ids
            .iter()
            .map(|id| (*id, EpochSecret::generate().unwrap()))
            .collect();
        let sealed = secrets
            .iter()
            .map(|(id, s)| (*id, keyring.seal_epoch_secret(*id, s)))
            .collect();
        (EpochRing::new(secrets), sealed)
    }

    #[test]
    fn keys_wrapped_under_an_epoch_open_only_while_it_is_held() {
        let keyring = Keyring::new(&MasterKey::generate().unwrap());
        let subject = [7u8; 16];
        let (_, legacy) = keyring.new_subject_key(&subject).unwrap();
        assert_eq!(wrapped_epoch(&legacy), None);

        keyring.install_epochs(ring_of(&[1, 2]).0);
        let (key, wrapped) = keyring.new_subject_key(&subject).unwrap();
        assert_eq!(wrapped_epoch(&wrapped), Some(2));
        let sealed = key.seal("contact", "email", b"canary");
        let reopened = keyring.unwrap_subject_key(&subject, &wrapped).unwrap();
        assert_eq!(
            &reopened.open("contact", "email", &sealed).unwrap()[..],
            b"canary"
        );
        // Moved to another subject: refused.
        assert!(keyring.unwrap_subject_key(&[8u8; 16], &wrapped).is_err());

        // The epoch destroyed: the key is gone, and says which epoch it needed.
        keyring.install_epochs(ring_of(&[3]).0);
        assert_eq!(
            keyring.unwrap_subject_key(&subject, &wrapped).unwrap_err(),
            CryptoError::UnknownEpoch(2)
        );
    }

    #[test]
    fn rewrapping_moves_a_key_to_the_current_epoch_and_keeps_what_it_sealed() {
        let keyring = Keyring::new(&MasterKey::generate().unwrap());
        let subject = [1u8; 16];
        let (key, legacy) = keyring.new_subject_key(&subject).unwrap();
        let sealed = key.seal("contact", "email", b"canary");
        let secrets = [(4, EpochSecret::generate().unwrap())];
        keyring.install_epochs(EpochRing::new(secrets));
        let moved = keyring
            .rewrap_subject_key(&subject, &legacy)
            .unwrap()
            .unwrap();
        assert_eq!(wrapped_epoch(&moved), Some(4));
        assert!(moved.as_slice() >= epoch_floor(4).as_slice());
        assert!(legacy.as_slice() < first_epoch_floor().as_slice());
        assert_eq!(keyring.rewrap_subject_key(&subject, &moved).unwrap(), None);
        let key = keyring.unwrap_subject_key(&subject, &moved).unwrap();
        assert_eq!(
            &key.open("contact", "email", &sealed).unwrap()[..],
            b"canary"
        );
    }

    #[test]
    fn the_byte_order_of_wrapped_keys_is_the_order_of_their_epochs() {
        for (a, b) in [(0u32, 1u32), (255, 256), (65_535, 65_536), (1, u32::MAX)] {
            assert!(epoch_floor(a) < epoch_floor(b));
            let mut longer = epoch_floor(a);
            longer.extend_from_slice(&[0xFF; 40]);
            assert!(longer < epoch_floor(b));
        }
    }

    #[test]
    fn a_sealed_epoch_key_opens_only_under_its_own_number_and_master_key() {
        let keyring = Keyring::new(&MasterKey::generate().unwrap());
        let secret = EpochSecret::generate().unwrap();
        let sealed = keyring.seal_epoch_secret(5, &secret);
        assert!(keyring.open_epoch_secret(5, &sealed).is_ok());
        assert!(keyring.open_epoch_secret(6, &sealed).is_err());
        let other = Keyring::new(&MasterKey::generate().unwrap());
        assert!(other.open_epoch_secret(5, &sealed).is_err());
    }
}
