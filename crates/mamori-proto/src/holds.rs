//! Legal holds on the wire: why data is kept past its retention and despite erasure requests.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::codes::wire_enum;

wire_enum! {
    /// Why a hold was placed (a closed list: the reason is announced and shown, never free text).
    pub enum HoldReason {
        /// A lawsuit or its reasonable anticipation.
        Litigation = "litigation",
        /// A regulator's inquiry or audit.
        RegulatoryInquiry = "regulatory_inquiry",
        /// A lawful request of the police or a court.
        LawEnforcement = "law_enforcement",
        /// A tax authority's audit.
        TaxAudit = "tax_audit",
        /// An investigation of the business's own (fraud, a security incident).
        InternalInvestigation = "internal_investigation",
    }
}

/// A legal hold: on one person, on one category for everyone, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LegalHold {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub reason: HoldReason,
    /// RFC 3339; absent: until lifted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    pub placed_at: String,
}

/// `POST /v1/holds`: what to keep, why, and until when.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceHold {
    /// The person held (a subject id); absent: everyone's `category`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The category held (a category of the policy); absent: all of the person's data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub reason: HoldReason,
    /// RFC 3339, in the future; absent: until lifted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// `GET /v1/holds`: the holds in force.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HoldList {
    pub holds: Vec<LegalHold>,
}
