//! Mamori's keyring. Pure: keys come in as bytes and ciphertexts go out as bytes.
//!
//! * The **master key** (KEK) never encrypts data. HKDF derives purpose-specific subkeys from it.
//! * Each subject has a random **data key** (DEK), stored only wrapped by the KEK subkey, with the
//!   subject id as associated data so a wrapped key cannot be moved to another subject.
//! * Field values are **sealed** with AES-256-GCM-SIV under the DEK; the associated data binds
//!   subject, category and field. GCM-SIV is nonce-misuse resistant, so even a repeated random
//!   nonce leaks only equality of identical messages, never the key stream.
//! * **Blind indexes** are HMAC-SHA-256 of the normalised value under a dedicated subkey, so lookups
//!   never need plaintext and the index is useless without the master key.
//! * Destroying a DEK (crypto-shredding) turns every ciphertext of that subject into noise.

use std::fmt;
use std::sync::{Arc, RwLock};

mod backup;
mod epochs;
mod ledger_keys;
pub mod passwords;
mod root;
pub mod second_factor;
pub use backup::{BACKUP_CHUNK, BackupError, BackupKey, StreamSummary};
pub use epochs::{EpochRing, EpochSecret, epoch_floor, first_epoch_floor, wrapped_epoch};
pub use ledger_keys::LedgerKeyRecord;
pub use root::RootKey;

use aes_gcm_siv::aead::{Aead, KeyInit, Payload};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

pub const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const SEALED_V1: u8 = 1;
/// Bytes a sealed value adds to its plaintext: version, nonce, tag.
pub const SEAL_OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Deliberately says nothing about which check failed: that would be an oracle.
    #[error("ciphertext could not be opened (tampered, moved, or sealed under another key)")]
    Open,
    #[error("master key must be {KEY_LEN} bytes written as 64 hexadecimal characters")]
    BadMasterKey,
    #[error("the operating system's random generator failed")]
    Random,
    /// Wrapped under an epoch key this keyring does not hold: destroyed (the copy is older than
    /// the backup horizon), or created by another process since this one loaded its keys.
    #[error("wrapped under key epoch {0}, which this keyring does not hold")]
    UnknownEpoch(u32),
    #[error("no key epoch is installed")]
    NoEpoch,
}

/// Fills `buf` from the OS generator (for long-lived keys).
/// HMAC-SHA-256 of `message` under `key` (Standard Webhooks signatures).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = hmac_key(key);
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Whether `tag` is the leftmost bytes (at least 16) of HMAC-SHA-256(`key`, `message`), compared
/// in constant time.
pub fn hmac_sha256_verify_prefix(key: &[u8], message: &[u8], tag: &[u8]) -> bool {
    if tag.len() < 16 {
        return false;
    }
    let mut mac = hmac_key(key);
    mac.update(message);
    mac.verify_truncated_left(tag).is_ok()
}

pub const BLIND_INDEX_LEN: usize = 16;
pub type BlindIndex = [u8; BLIND_INDEX_LEN];

fn os_random(buf: &mut [u8]) -> Result<(), CryptoError> {
    getrandom::fill(buf).map_err(|_| CryptoError::Random)
}

/// The master key. Zeroized on drop; `Debug` shows nothing.
pub struct MasterKey(Zeroizing<[u8; KEY_LEN]>);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    pub fn generate() -> Result<MasterKey, CryptoError> {
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        os_random(k.as_mut())?;
        Ok(MasterKey(k))
    }

    /// Parses the key file / `MAMORI_MASTER_KEY` form: 64 hex characters, surrounding space ignored.
    pub fn from_hex(text: &str) -> Result<MasterKey, CryptoError> {
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        hex::decode_to_slice(text.trim(), k.as_mut()).map_err(|_| CryptoError::BadMasterKey)?;
        Ok(MasterKey(k))
    }

    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0.as_ref()))
    }
}

/// What a blind index is computed over; the kind is part of the MAC input so an e-mail digest can
/// never collide with an external-id digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupKind {
    Email,
    Phone,
    ExternalId,
}

impl LookupKind {
    pub fn tag(self) -> &'static str {
        match self {
            LookupKind::Email => "email",
            LookupKind::Phone => "phone",
            LookupKind::ExternalId => "external_id",
        }
    }
}

/// Subkeys derived from the master key, ready to use.
pub struct Keyring {
    wrap: Aes256GcmSiv,
    blind_index: Hmac<Sha256>,
    api_key: Hmac<Sha256>,
    ledger_seed: Zeroizing<[u8; KEY_LEN]>,
    hkdf: Hkdf<Sha256>,
    /// The epoch keys data keys are wrapped under (none: the `dek-wrap` subkey, as before).
    epochs: RwLock<Arc<EpochRing>>,
    /// What every subkey derives from (kept to re-seal it under a new master key).
    root: Zeroizing<[u8; KEY_LEN]>,
    /// Seals the key store's entries: derived from the master key, not the root.
    store: Aes256GcmSiv,
    /// The ledger signing keys the key store holds (none: the derived key signs).
    ledger_keys: RwLock<Arc<ledger_keys::LedgerKeys>>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keyring(<redacted>)")
    }
}

/// HMAC-SHA-256 under one key, keyed once: each tag then costs only the message's blocks (the
/// key's inner and outer blocks are hashed at creation). For MACs checked on hot paths.
#[derive(Clone)]
pub struct KeyedMac(Hmac<Sha256>);

impl KeyedMac {
    pub fn new(key: &[u8]) -> KeyedMac {
        KeyedMac(hmac_key(key))
    }

    pub fn tag(&self, message: &[u8]) -> [u8; 32] {
        let mut mac = self.0.clone();
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// Whether `tag` is the tag of `message`, compared in constant time.
    pub fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        let mut mac = self.0.clone();
        mac.update(message);
        mac.verify_slice(tag).is_ok()
    }

    /// [`KeyedMac::verify`] of a message given in parts (`feed` hands each to the MAC in
    /// order), for hot paths that would otherwise assemble it in a buffer first.
    pub fn verify_parts(&self, feed: impl FnOnce(&mut dyn FnMut(&[u8])), tag: &[u8]) -> bool {
        let mut mac = self.0.clone();
        feed(&mut |part: &[u8]| mac.update(part));
        mac.verify_slice(tag).is_ok()
    }
}

impl fmt::Debug for KeyedMac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyedMac(..)")
    }
}

fn hmac_key(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length")
}

impl Keyring {
    /// The keyring of an installation whose root is its master key (before any master key
    /// rotation, and in tests).
    pub fn new(master: &MasterKey) -> Keyring {
        Keyring::with_root(&RootKey::legacy(master), master)
    }

    /// Every subkey derived from `root`; the key store (root and epoch keys) sealed under
    /// `master`. A master key rotation changes `master` only, so nothing derived moves.
    pub fn with_root(root: &RootKey, master: &MasterKey) -> Keyring {
        let hkdf = Hkdf::<Sha256>::new(Some(b"mamori/v1"), root.0.as_ref());
        let derive = |label: &str| {
            let mut k = Zeroizing::new([0u8; KEY_LEN]);
            hkdf.expand(label.as_bytes(), k.as_mut())
                .expect("32 bytes is a valid HKDF length");
            k
        };
        let wrap_key = derive("dek-wrap");
        Keyring {
            wrap: Aes256GcmSiv::new_from_slice(wrap_key.as_ref()).expect("32-byte key"),
            blind_index: hmac_key(derive("blind-index").as_ref()),
            api_key: hmac_key(derive("api-key").as_ref()),
            ledger_seed: derive("ledger-signing"),
            hkdf,
            epochs: RwLock::default(),
            root: root.0.clone(),
            store: master.store_cipher(),
            ledger_keys: RwLock::default(),
        }
    }

    /// A further subkey for a named use (webhook secrets, tokens); labels must be unique per use.
    pub fn subkey(&self, label: &str) -> Zeroizing<[u8; KEY_LEN]> {
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        self.hkdf
            .expand(format!("ext:{label}").as_bytes(), k.as_mut())
            .expect("valid length");
        k
    }

    /// The signing secret of a webhook subscription, derived (never stored): HMAC of its id
    /// (and, once rotated, its secret version) under a dedicated subkey. Version 0 is the id
    /// alone, so secrets handed out before rotation existed stay valid. Shown once to the
    /// subscriber as `whsec_<base64>`.
    pub fn webhook_secret(&self, webhook_id: &[u8; 16], version: i64) -> Zeroizing<[u8; 32]> {
        let mut mac = hmac_key(self.subkey("webhook-signing").as_ref());
        mac.update(webhook_id);
        if version != 0 {
            mac.update(&version.to_be_bytes());
        }
        Zeroizing::new(mac.finalize().into_bytes().into())
    }

    /// A vendor's secret for signing its confirmations (Standard Webhooks form), derived from
    /// the vendor's name in the policy under a dedicated subkey: never stored, the same on
    /// every server.
    pub fn vendor_secret(&self, vendor: &str) -> Zeroizing<[u8; 32]> {
        let mut mac = hmac_key(self.subkey("vendor-confirmation").as_ref());
        mac.update(vendor.as_bytes());
        Zeroizing::new(mac.finalize().into_bytes().into())
    }

    /// Seals a long-lived secret of Mamori's own (a survey's signing key) under a subkey for
    /// `label`, bound to `aad` (the owner's id) so it cannot be moved to another owner.
    pub fn seal_secret(&self, label: &str, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let cipher =
            Aes256GcmSiv::new_from_slice(self.subkey(label).as_ref()).expect("32-byte key");
        seal_with(&cipher, aad, plaintext)
    }

    pub fn open_secret(
        &self,
        label: &str,
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let cipher =
            Aes256GcmSiv::new_from_slice(self.subkey(label).as_ref()).expect("32-byte key");
        open_with(&cipher, aad, sealed)
    }

    /// Creates a fresh data key for `subject` and returns it with its wrapped (storable) form.
    pub fn new_subject_key(
        &self,
        subject: &[u8; 16],
    ) -> Result<(SubjectKey, Vec<u8>), CryptoError> {
        let mut dek = Zeroizing::new([0u8; KEY_LEN]);
        os_random(dek.as_mut())?;
        let wrapped = self.wrap_dek(subject, &dek);
        Ok((SubjectKey::from_bytes(subject, &dek), wrapped))
    }

    /// Unwraps a stored data key; fails if it was wrapped for another subject or tampered with,
    /// or ([`CryptoError::UnknownEpoch`]) under an epoch key this keyring does not hold.
    pub fn unwrap_subject_key(
        &self,
        subject: &[u8; 16],
        wrapped: &[u8],
    ) -> Result<SubjectKey, CryptoError> {
        let dek = self.unwrap_dek(subject, wrapped)?;
        let dek: &[u8; KEY_LEN] = dek.as_slice().try_into().map_err(|_| CryptoError::Open)?;
        Ok(SubjectKey::from_bytes(subject, dek))
    }

    /// The keyed blind index of an already-normalised lookup value: HMAC-SHA-256 truncated to
    /// 128 bits (RFC 2104 §5 allows truncation to half the output). A collision needs ~2^64
    /// values; the shorter key keeps the index B-tree small, which is what bulk imports pay for.
    pub fn blind_index(&self, kind: LookupKind, normalised: &str) -> BlindIndex {
        let mut mac = self.blind_index.clone();
        mac.update(kind.tag().as_bytes());
        mac.update(&[0]);
        mac.update(normalised.as_bytes());
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; BLIND_INDEX_LEN];
        out.copy_from_slice(&full[..BLIND_INDEX_LEN]);
        out
    }

    /// The stored form of an API key: a keyed hash, so a stolen database holds no usable key.
    pub fn api_key_digest(&self, token: &str) -> [u8; 32] {
        let mut mac = self.api_key.clone();
        mac.update(token.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

fn wrap_aad(subject: &[u8; 16]) -> Vec<u8> {
    let mut aad = b"mamori/dek/v1:".to_vec();
    aad.extend_from_slice(subject);
    aad
}

fn seal_with(cipher: &Aes256GcmSiv, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    // Thread-local ChaCha CSPRNG seeded from the OS: a syscall per field would halve throughput.
    rand::fill(&mut nonce);
    let body = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("AES-GCM-SIV encrypts any message under 2^36 bytes");
    let mut out = Vec::with_capacity(1 + NONCE_LEN + body.len());
    out.push(SEALED_V1);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    out
}

fn open_with(
    cipher: &Aes256GcmSiv,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if sealed.len() < SEAL_OVERHEAD || sealed[0] != SEALED_V1 {
        return Err(CryptoError::Open);
    }
    let nonce: [u8; NONCE_LEN] = sealed[1..1 + NONCE_LEN]
        .try_into()
        .map_err(|_| CryptoError::Open)?;
    cipher
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &sealed[1 + NONCE_LEN..],
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Open)
}

/// A subject's data key, expanded and ready. Its key schedule is zeroized on drop.
pub struct SubjectKey {
    cipher: Aes256GcmSiv,
    subject: [u8; 16],
}

impl fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubjectKey(<redacted>)")
    }
}

impl SubjectKey {
    fn from_bytes(subject: &[u8; 16], dek: &[u8; KEY_LEN]) -> SubjectKey {
        SubjectKey {
            cipher: Aes256GcmSiv::new_from_slice(dek).expect("32-byte key"),
            subject: *subject,
        }
    }

    /// The associated data: version, subject, then length-prefixed category and field, so that no
    /// two (category, field) pairs can produce the same bytes.
    fn aad(&self, category: &str, field: &str) -> Vec<u8> {
        let mut aad = Vec::with_capacity(24 + category.len() + field.len());
        aad.extend_from_slice(b"mf1");
        aad.extend_from_slice(&self.subject);
        aad.extend_from_slice(&(category.len() as u16).to_be_bytes());
        aad.extend_from_slice(category.as_bytes());
        aad.extend_from_slice(&(field.len() as u16).to_be_bytes());
        aad.extend_from_slice(field.as_bytes());
        aad
    }

    pub fn seal(&self, category: &str, field: &str, plaintext: &[u8]) -> Vec<u8> {
        seal_with(&self.cipher, &self.aad(category, field), plaintext)
    }

    pub fn open(
        &self,
        category: &str,
        field: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        open_with(&self.cipher, &self.aad(category, field), sealed)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_keyed_mac_is_hmac_sha256_and_checks_in_constant_time() {
        // RFC 4231, test case 2.
        let (key, data) = (
            b"Jefe".as_slice(),
            b"what do ya want for nothing?".as_slice(),
        );
        let mac = KeyedMac::new(key);
        let tag = mac.tag(data);
        assert_eq!(
            hex::encode(tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(tag, hmac_sha256(key, data));
        assert!(mac.verify(data, &tag));
        let mut wrong = tag;
        wrong[31] ^= 1;
        assert!(!mac.verify(data, &wrong));
        assert!(!mac.verify(b"something else", &tag));
    }

    use super::*;
    use proptest::prelude::*;

    fn keyring() -> Keyring {
        Keyring::new(&MasterKey::from_hex(&"11".repeat(32)).unwrap())
    }

    const ALICE: [u8; 16] = [1; 16];
    const BOB: [u8; 16] = [2; 16];

    #[test]
    fn a_sealed_secret_opens_only_for_its_owner_and_label() {
        let ring = keyring();
        let sealed = ring.seal_secret("survey-issuer", &ALICE, b"rsa key");
        assert_eq!(
            ring.open_secret("survey-issuer", &ALICE, &sealed)
                .unwrap()
                .as_slice(),
            b"rsa key"
        );
        assert!(ring.open_secret("survey-issuer", &BOB, &sealed).is_err());
        assert!(ring.open_secret("other", &ALICE, &sealed).is_err());
    }

    #[test]
    fn each_webhook_secret_version_is_its_own_and_version_zero_is_the_original() {
        let ring = keyring();
        let original = hmac_sha256(ring.subkey("webhook-signing").as_ref(), &ALICE);
        assert_eq!(*ring.webhook_secret(&ALICE, 0), original);
        let versions: Vec<[u8; 32]> = (0..4).map(|v| *ring.webhook_secret(&ALICE, v)).collect();
        for (i, a) in versions.iter().enumerate() {
            assert!(
                versions[i + 1..].iter().all(|b| a != b),
                "version {i} repeats"
            );
        }
        assert_ne!(*ring.webhook_secret(&BOB, 1), versions[1]);
    }

    proptest! {
        #[test]
        fn open_of_seal_is_identity(value in proptest::collection::vec(any::<u8>(), 0..512), cat in "[a-z]{1,12}", field in "[a-z]{1,12}") {
            let ring = keyring();
            let (key, _) = ring.new_subject_key(&ALICE).unwrap();
            let sealed = key.seal(&cat, &field, &value);
            let opened = key.open(&cat, &field, &sealed).unwrap();
            prop_assert_eq!(opened.as_slice(), value.as_slice());
        }

        #[test]
        fn any_flipped_bit_fails(value in proptest::collection::vec(any::<u8>(), 0..128), pos in any::<usize>(), bit in 0u8..8) {
            let (key, _) = keyring().new_subject_key(&ALICE).unwrap();
            let mut sealed = key.seal("contact", "email", &value);
            let i = pos % sealed.len();
            sealed[i] ^= 1 << bit;
            prop_assert_eq!(key.open("contact", "email", &sealed).unwrap_err(), CryptoError::Open);
        }

        #[test]
        fn other_field_category_or_subject_fails(value in proptest::collection::vec(any::<u8>(), 0..64)) {
            let ring = keyring();
            let (alice, wrapped) = ring.new_subject_key(&ALICE).unwrap();
            let sealed = alice.seal("contact", "email", &value);
            prop_assert!(alice.open("contact", "phone", &sealed).is_err());
            prop_assert!(alice.open("payment", "email", &sealed).is_err());
            // Length prefixes: ("ab","c") and ("a","bc") must differ.
            let s2 = alice.seal("ab", "c", &value);
            prop_assert!(alice.open("a", "bc", &s2).is_err());
            // The same data key unwrapped for another subject is refused…
            prop_assert!(ring.unwrap_subject_key(&BOB, &wrapped).is_err());
            // …and Bob's own key cannot open Alice's value.
            let (bob, _) = ring.new_subject_key(&BOB).unwrap();
            prop_assert!(bob.open("contact", "email", &sealed).is_err());
        }

        #[test]
        fn wrong_master_key_fails(value in proptest::collection::vec(any::<u8>(), 0..64)) {
            let (key, wrapped) = keyring().new_subject_key(&ALICE).unwrap();
            let sealed = key.seal("c", "f", &value);
            let other = Keyring::new(&MasterKey::from_hex(&"22".repeat(32)).unwrap());
            prop_assert!(other.unwrap_subject_key(&ALICE, &wrapped).is_err());
            let unwrapped = keyring().unwrap_subject_key(&ALICE, &wrapped).unwrap();
            let opened = unwrapped.open("c", "f", &sealed).unwrap();
            prop_assert_eq!(opened.as_slice(), value.as_slice());
        }
    }

    #[test]
    fn truncated_or_empty_input_fails_cleanly() {
        let (key, _) = keyring().new_subject_key(&ALICE).unwrap();
        for bad in [
            &[][..],
            &[1u8][..],
            &[1u8; SEAL_OVERHEAD - 1][..],
            &[9u8; 40][..],
        ] {
            assert_eq!(key.open("c", "f", bad).unwrap_err(), CryptoError::Open);
        }
    }

    #[test]
    fn blind_index_is_keyed_and_kind_separated() {
        let a = keyring().blind_index(LookupKind::Email, "ada@example.com");
        assert_eq!(
            a,
            keyring().blind_index(LookupKind::Email, "ada@example.com")
        );
        assert_ne!(
            a,
            keyring().blind_index(LookupKind::ExternalId, "ada@example.com")
        );
        let other = Keyring::new(&MasterKey::from_hex(&"22".repeat(32)).unwrap());
        assert_ne!(a, other.blind_index(LookupKind::Email, "ada@example.com"));
    }

    /// HMAC-SHA-256 itself, checked against RFC 4231 test case 2, so the blind index rests on a
    /// known-good primitive.
    #[test]
    fn hmac_sha256_rfc4231_case2() {
        let mut mac = hmac_key(b"Jefe");
        mac.update(b"what do ya want for nothing?");
        let out: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(
            hex::encode(out),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn debug_never_prints_key_material() {
        let master = MasterKey::from_hex(&"ab".repeat(32)).unwrap();
        let ring = Keyring::new(&master);
        let (key, _) = ring.new_subject_key(&ALICE).unwrap();
        for text in [
            format!("{master:?}"),
            format!("{ring:?}"),
            format!("{key:?}"),
        ] {
            assert!(text.contains("redacted"), "{text}");
            assert!(!text.to_lowercase().contains("abab"), "{text}");
        }
    }

    #[test]
    fn master_key_parsing() {
        assert!(MasterKey::from_hex("zz").is_err());
        assert!(MasterKey::from_hex(&"ab".repeat(31)).is_err());
        let k = MasterKey::from_hex(&format!(" {}\n", "ab".repeat(32))).unwrap();
        assert_eq!(k.to_hex().as_str(), "ab".repeat(32));
    }
}
