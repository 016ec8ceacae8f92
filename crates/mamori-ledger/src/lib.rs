//! Mamori's verifiable ledger: every access decision and change becomes a leaf of an RFC 6962
//! Merkle tree; signed tree heads commit to it; inclusion and consistency proofs let a customer
//! or auditor check that an event is in the log and that the log was only ever appended to.
//!
//! Pure: storage and time come from the caller.

pub mod event;
pub mod head;
pub mod merkle;

pub mod jws;
pub mod keys;

pub use ed25519_dalek::VerifyingKey;
pub use event::{Event, Outcome};
pub use head::{HeadSigner, SignedTreeHead, TreeHead, verify_head};
pub use keys::{HeadKeyProblem, KeyHistory, PublishedKey, key_id};
pub use merkle::{
    Blocks, EMPTY_ROOT, Hash, MerkleTree, ProofError, leaf_hash, node_hash, verify_consistency,
    verify_inclusion,
};

/// Base64 (standard alphabet) for fixed-size byte arrays in JSON.
pub mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        let text = String::deserialize(d)?;
        let bytes = STANDARD.decode(text).map_err(D::Error::custom)?;
        bytes
            .try_into()
            .map_err(|_| D::Error::custom("wrong length"))
    }

    pub fn encode(bytes: &[u8]) -> String {
        STANDARD.encode(bytes)
    }

    pub fn decode(text: &str) -> Option<Vec<u8>> {
        STANDARD.decode(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_heads_verify_and_detect_changes() {
        let signer = HeadSigner::from_seed(&[5; 32]);
        let sth = signer.sign(TreeHead {
            size: 10,
            timestamp_ms: 1_700_000_000_000,
            root: [7; 32],
        });
        assert!(verify_head(&signer.public_key(), &sth));
        let mut bad = sth.clone();
        bad.head.size = 11;
        assert!(!verify_head(&signer.public_key(), &bad));
        let mut bad = sth.clone();
        bad.head.root[0] ^= 1;
        assert!(!verify_head(&signer.public_key(), &bad));
        let other = HeadSigner::from_seed(&[6; 32]);
        assert!(!verify_head(&other.public_key(), &sth));
        let json = serde_json::to_string(&sth).unwrap();
        assert_eq!(serde_json::from_str::<SignedTreeHead>(&json).unwrap(), sth);
    }

    #[test]
    fn events_round_trip_and_carry_no_values() {
        let e = Event {
            time_ms: 1,
            actor: "key:abc".into(),
            role: "support".into(),
            purpose: Some("customer_support".into()),
            action: "subject.read".into(),
            subject: Some("0b3c…".into()),
            categories: vec!["contact".into()],
            recipient: None,
            outcome: Outcome::Denied {
                reason: "purpose_not_allowed_for_role".into(),
            },
        };
        let data = e.to_leaf_data();
        assert_eq!(Event::from_leaf_data(&data).unwrap(), e);
        let text = String::from_utf8(data).unwrap();
        assert!(text.contains(r#""outcome":"denied""#), "{text}");
    }
}
