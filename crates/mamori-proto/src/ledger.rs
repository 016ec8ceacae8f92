//! The ledger on the wire: its signed head, inclusion and consistency proofs, liveness.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HeadBody {
    pub size: u64,
    pub timestamp_ms: i64,
    /// Base64 SHA-256 root hash.
    pub root: String,
    /// Base64 Ed25519 signature over the head.
    pub signature: String,
    /// Hex Ed25519 public key that signed this head.
    pub public_key: String,
    /// The id of that key (its RFC 7638 thumbprint), as `GET /v1/ledger/keys` lists it.
    pub key_id: String,
}

/// One signing key of the ledger, as an RFC 7517 JWK (RFC 8037 OKP, Ed25519), with the time it
/// signed: a head is valid only with the key of its time.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LedgerKey {
    /// `OKP`.
    pub kty: String,
    /// `Ed25519`.
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    /// The RFC 7638 thumbprint that heads and consent receipts name.
    pub kid: String,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// `EdDSA`.
    pub alg: String,
    /// Unix ms: when it started signing (0: from the start).
    pub valid_from_ms: i64,
    /// Unix ms: when a newer key took over; null while it signs.
    pub valid_until_ms: Option<i64>,
}

/// `GET /v1/ledger/keys`: a JWK Set (RFC 7517 §5) of every key the ledger has signed with,
/// oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LedgerKeys {
    pub keys: Vec<LedgerKey>,
}

#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    /// Leaf index, from 0.
    pub leaf: u64,
    /// Tree size; defaults to the latest signed head.
    pub size: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InclusionBody {
    pub leaf: u64,
    pub size: u64,
    pub leaf_hash: String,
    pub root: String,
    pub proof: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    pub first: u64,
    pub second: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConsistencyBody {
    pub first: u64,
    pub second: u64,
    pub first_root: String,
    pub second_root: String,
    pub proof: Vec<String>,
}
