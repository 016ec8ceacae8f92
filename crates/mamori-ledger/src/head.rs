//! Signed tree heads: an Ed25519 signature over (size, time, root), so a published head commits
//! the operator to the whole log up to that size.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::merkle::Hash;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeHead {
    pub size: u64,
    pub timestamp_ms: i64,
    #[serde(with = "crate::b64")]
    pub root: Hash,
}

impl TreeHead {
    pub(crate) fn message(&self) -> Vec<u8> {
        let mut m = b"mamori-tree-head-v1\0".to_vec();
        m.extend_from_slice(&self.size.to_be_bytes());
        m.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        m.extend_from_slice(&self.root);
        m
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTreeHead {
    #[serde(flatten)]
    pub head: TreeHead,
    #[serde(with = "crate::b64")]
    pub signature: [u8; 64],
    /// The signing key's id (its RFC 7638 thumbprint); none on heads from before key ids,
    /// which the ledger's first key signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

/// Holds the ledger signing key. `Debug` shows only the public key.
pub struct HeadSigner {
    key: SigningKey,
    id: String,
}

impl std::fmt::Debug for HeadSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "HeadSigner(public={})",
            hex::encode(self.public_key().as_bytes())
        )
    }
}

impl HeadSigner {
    pub fn from_seed(seed: &[u8; 32]) -> HeadSigner {
        let key = SigningKey::from_bytes(seed);
        let id = crate::keys::key_id(&key.verifying_key());
        HeadSigner { key, id }
    }

    /// The key's id, which every head it signs carries.
    pub fn key_id(&self) -> &str {
        &self.id
    }

    pub fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// Signs arbitrary bytes with the ledger key (consent receipts use this through `jws`).
    pub fn sign_bytes(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    pub fn sign(&self, head: TreeHead) -> SignedTreeHead {
        let signature = self.key.sign(&head.message()).to_bytes();
        SignedTreeHead {
            head,
            signature,
            key_id: Some(self.id.clone()),
        }
    }
}

pub fn verify_head(public: &VerifyingKey, sth: &SignedTreeHead) -> bool {
    let sig = Signature::from_bytes(&sth.signature);
    public.verify(&sth.head.message(), &sig).is_ok()
}
