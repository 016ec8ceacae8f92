//! The Data Rights Protocol's own objects (DRP 1.0 and 0.9.x), as Mamori answers agents.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::RequestState;

/// The protocol's Exercise Status object (§3.03).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DrpStatus {
    pub request_id: String,
    /// ISO 8601.
    pub received_at: String,
    /// ISO 8601: the deadline the request's law sets.
    pub expected_by: String,
    pub status: RequestState,
    /// The agent's own id for the request, when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_request_id: Option<String>,
    /// For a denial: the protocol's reason (`insuf_verification`, `no_match`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_details: Option<String>,
}

/// The protocol's error state (§3.06): `code` repeats the HTTP status for clients that cannot
/// read headers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DrpErrorBody {
    pub code: String,
    pub message: String,
    /// The agent should not retry this message.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fatal: bool,
}

/// A pairing's answer: the agent's pair-wise bearer token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DrpPairing {
    #[serde(rename = "agent-id")]
    pub agent_id: String,
    pub token: String,
}
