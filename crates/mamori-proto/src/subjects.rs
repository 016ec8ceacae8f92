//! Subjects and their records on the wire: what creating and changing one takes, how one is
//! shown (only what the purpose covers, masked per role), what an erasure did, the access log
//! and the whole export.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// `{category: {field: value}}`, with categories and fields declared in the policy.
pub type Data = BTreeMap<String, BTreeMap<String, Value>>;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSubject {
    /// The business's own customer id; kept only as a keyed blind index for lookup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// `{category: {field: value}}`, with categories and fields declared in the policy.
    #[schema(value_type = Object)]
    pub data: Data,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Created {
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSubject {
    /// Fields to change; `null` removes a field.
    #[schema(value_type = Object)]
    pub data: Data,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SubjectBody {
    pub id: String,
    pub created_at: String,
    /// Only the categories the purpose covers and the role may view; masked per role.
    #[schema(value_type = Object)]
    pub data: Data,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRecord {
    pub category: String,
    #[schema(value_type = Object)]
    pub data: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecordBody {
    pub id: String,
    pub category: String,
    pub created_at: String,
    #[schema(value_type = Object)]
    pub data: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Records {
    pub records: Vec<RecordBody>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LookupResult {
    /// Matching subject ids (at most one: identifiers are unique).
    pub ids: Vec<String>,
}

/// What an erasure did: the categories erased at once, and those a legal obligation keeps.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErasureResult {
    pub erased: Vec<String>,
    pub kept: Vec<KeptCategory>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeptCategory {
    pub category: String,
    /// The legal-obligation purposes that require keeping it.
    pub purposes: Vec<String>,
    /// When it is erased in turn (RFC 3339).
    pub until: String,
}

/// One ledger event about a subject: who (role), why (purpose), what, which categories,
/// allowed or refused. Never the values read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AccessEvent {
    /// The event's number in the ledger (what an inclusion proof is asked for).
    pub event: u64,
    /// RFC 3339.
    pub at: String,
    pub role: String,
    pub purpose: Option<String>,
    pub action: String,
    pub categories: Vec<String>,
    pub allowed: bool,
    /// Why it was refused: an error code of the access decision.
    pub reason: Option<String>,
    /// For a disclosure: the vendor (its policy name) the data went to, or would have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
}

/// A page of a subject's access log, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccessLogPage {
    pub events: Vec<AccessEvent>,
    /// Pass as `before` for the next (older) page; null on the last.
    pub older: Option<u64>,
}

/// A current consent decision, as an export shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConsentDecision {
    pub purpose: String,
    pub channel: String,
    pub granted: bool,
    /// How it was collected: portal, api, import, gpc or agent.
    pub source: String,
    pub notice_version: Option<String>,
    /// RFC 3339.
    pub decided_at: String,
}

/// One decision of the consent history, with the signed receipt the person was given.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConsentHistoryEntry {
    pub receipt_id: String,
    #[serde(flatten)]
    pub decision: ConsentDecision,
    /// A compact JWS, when one was issued.
    pub receipt: Option<String>,
}

/// Everything held about a person, in one document: what access and portability requests
/// are answered with.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SubjectExport {
    pub id: String,
    pub created_at: String,
    #[schema(value_type = Object)]
    pub data: Data,
    pub records: Vec<RecordBody>,
    pub consents: Vec<ConsentDecision>,
    pub consent_history: Vec<ConsentHistoryEntry>,
    pub access_log: Vec<AccessEvent>,
    /// Who the person's data was disclosed to (vendors of the policy's register), oldest first.
    pub disclosures: Vec<DisclosureEntry>,
}

/// One disclosure to a vendor, as the person's export tells it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DisclosureEntry {
    /// The vendor's legal name (its policy name if it has left the register).
    pub vendor: String,
    /// Where it processes the data (ISO 3166-1 alpha-2).
    pub countries: Vec<String>,
    pub purpose: String,
    pub categories: Vec<String>,
    pub disclosed_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LookupQuery {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccessLogQuery {
    /// Only events numbered below this (from `older` of the previous page).
    pub before: Option<u64>,
    /// Events per page, 1–500 (default 100).
    pub limit: Option<i64>,
}
