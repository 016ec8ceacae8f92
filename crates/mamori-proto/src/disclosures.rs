//! Disclosures to vendors on the wire: what one asks for, and what leaves.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::subjects::Data;

/// `POST /v1/subjects/{id}/disclosures`: data for one vendor of the policy's register.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Disclose {
    /// The vendor's name in the policy (`[vendors.NAME]`).
    pub vendor: String,
    /// The purpose it is disclosed for: the vendor must serve it, and it must hold for the
    /// person (consent where it is consent-based).
    pub purpose: String,
    /// The categories to disclose (1–64): the vendor must be allowed each.
    pub categories: Vec<String>,
}

/// What left, recorded and ledgered (the event names the vendor).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Disclosed {
    /// The disclosure's id.
    pub id: String,
    pub vendor: String,
    pub purpose: String,
    pub categories: Vec<String>,
    pub disclosed_at: String,
    /// The person's data in those categories, masked per role as for a read.
    #[schema(value_type = Object)]
    pub data: Data,
}
