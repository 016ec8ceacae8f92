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
    /// Hex Ed25519 public key that signs tree heads.
    pub public_key: String,
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
