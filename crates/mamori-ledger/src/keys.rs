//! The ledger's signing keys over time. Each key has an id — its RFC 7638 JWK thumbprint — that
//! the heads it signs carry, and a validity (from its creation until a newer key took over). A
//! head is checked with the key of its time: the key it names (none: the first key, for heads
//! from before key ids), and only if the head's time lies within that key's validity, so a key
//! retired after a suspected leak cannot sign a head accepted as later than its retirement.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::head::SignedTreeHead;

/// The RFC 7638 thumbprint of an Ed25519 public key (as an RFC 8037 OKP JWK), base64url.
pub fn key_id(public: &VerifyingKey) -> String {
    let x = URL_SAFE_NO_PAD.encode(public.as_bytes());
    // The required members, in lexicographic order, without whitespace (RFC 7638 §3.2).
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// A signing key as published: its public half and when it signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedKey {
    pub id: String,
    pub public: VerifyingKey,
    /// When it started signing (Unix ms; 0 for the first key).
    pub from_ms: i64,
    /// When a newer key took over (none: it signs today's heads).
    pub until_ms: Option<i64>,
}

impl PublishedKey {
    pub fn new(public: VerifyingKey, from_ms: i64, until_ms: Option<i64>) -> PublishedKey {
        PublishedKey {
            id: key_id(&public),
            public,
            from_ms,
            until_ms,
        }
    }

    /// The key as an RFC 7517 JWK (RFC 8037 OKP), with its validity in Unix milliseconds.
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(self.public.as_bytes()),
            "kid": self.id,
            "use": "sig",
            "alg": "EdDSA",
            "valid_from_ms": self.from_ms,
            "valid_until_ms": self.until_ms,
        })
    }
}

/// Why a head does not verify against the key history.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadKeyProblem {
    #[error("it names a signing key ({0}) this ledger never had")]
    UnknownKey(String),
    #[error("it is dated outside the time its signing key ({0}) signed")]
    OutsideValidity(String),
    #[error("its signature does not verify with its signing key ({0})")]
    BadSignature(String),
}

/// Every key the ledger has signed with, oldest first; never empty.
#[derive(Debug, Clone)]
pub struct KeyHistory {
    keys: Vec<PublishedKey>,
}

impl KeyHistory {
    /// `keys` oldest first; the first is the one heads without a key id were signed with.
    pub fn new(keys: Vec<PublishedKey>) -> KeyHistory {
        assert!(!keys.is_empty(), "a ledger has at least one signing key");
        KeyHistory { keys }
    }

    /// A history of one key, valid from the start.
    pub fn single(public: VerifyingKey) -> KeyHistory {
        KeyHistory::new(vec![PublishedKey::new(public, 0, None)])
    }

    pub fn keys(&self) -> &[PublishedKey] {
        &self.keys
    }

    pub fn key(&self, id: &str) -> Option<&PublishedKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    /// Checks `sth` with the key of its time.
    pub fn verify(&self, sth: &SignedTreeHead) -> Result<(), HeadKeyProblem> {
        let key = match &sth.key_id {
            None => &self.keys[0],
            Some(id) => self
                .key(id)
                .ok_or_else(|| HeadKeyProblem::UnknownKey(id.clone()))?,
        };
        let at = sth.head.timestamp_ms;
        if at < key.from_ms || key.until_ms.is_some_and(|until| at > until) {
            return Err(HeadKeyProblem::OutsideValidity(key.id.clone()));
        }
        let signature = Signature::from_bytes(&sth.signature);
        key.public
            .verify(&sth.head.message(), &signature)
            .map_err(|_| HeadKeyProblem::BadSignature(key.id.clone()))
    }

    /// Verifies a detached signature over `message` with any key of the history (consent
    /// receipts name their key but stay valid after it retires).
    pub fn any_key_verifies(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let signature = Signature::from_bytes(signature);
        (self.keys.iter()).any(|k| k.public.verify(message, &signature).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::{HeadSigner, TreeHead};

    /// RFC 8037 Appendix A.3: the thumbprint of the Appendix A.2 public key.
    #[test]
    fn key_ids_are_rfc_7638_thumbprints() {
        let x = URL_SAFE_NO_PAD
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .unwrap();
        let public = VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
        assert_eq!(
            key_id(&public),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    fn head(signer: &HeadSigner, at: i64) -> SignedTreeHead {
        signer.sign(TreeHead {
            size: 1,
            timestamp_ms: at,
            root: [7; 32],
        })
    }

    #[test]
    fn each_head_is_checked_with_the_key_of_its_time() {
        let (old, new) = (
            HeadSigner::from_seed(&[1; 32]),
            HeadSigner::from_seed(&[2; 32]),
        );
        let history = KeyHistory::new(vec![
            PublishedKey::new(old.public_key(), 0, Some(1_000)),
            PublishedKey::new(new.public_key(), 1_000, None),
        ]);
        assert_eq!(history.verify(&head(&old, 500)), Ok(()));
        assert_eq!(history.verify(&head(&new, 5_000)), Ok(()));
        // A head from before key ids names no key: the first key's.
        let mut legacy = head(&old, 500);
        legacy.key_id = None;
        assert_eq!(history.verify(&legacy), Ok(()));
        // The retired key signing "later" than its retirement is refused.
        let late = head(&old, 2_000);
        assert_eq!(
            history.verify(&late),
            Err(HeadKeyProblem::OutsideValidity(old.key_id().to_string()))
        );
        // A head claiming the new key but signed by the old one.
        let mut swapped = head(&old, 5_000);
        swapped.key_id = Some(new.key_id().to_string());
        assert!(matches!(
            history.verify(&swapped),
            Err(HeadKeyProblem::BadSignature(_))
        ));
        let stranger = HeadSigner::from_seed(&[3; 32]);
        assert!(matches!(
            history.verify(&head(&stranger, 5_000)),
            Err(HeadKeyProblem::UnknownKey(_))
        ));
    }
}
