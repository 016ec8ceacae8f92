//! Scrubbing on the wire: texts in, texts out with what was found where.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScrubRequest {
    /// Up to 1,000 texts of up to 20,000 bytes each.
    pub texts: Vec<String>,
    /// How a kind is replaced: `placeholder` (default, `[EMAIL]`), `mask` (last four kept) or
    /// `drop`; kinds: `email`, `payment_card`, `iban`, `ip_address`.
    #[serde(default)]
    pub modes: BTreeMap<String, String>,
    /// Also return each text's spans (kind and byte offsets in the original).
    #[serde(default)]
    pub spans: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScrubBody {
    /// The texts scrubbed, in order.
    pub texts: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spans: Option<Vec<Vec<SpanBody>>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SpanBody {
    pub kind: String,
    pub start: usize,
    pub end: usize,
}
