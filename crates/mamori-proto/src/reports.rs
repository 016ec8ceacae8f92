//! The privacy officer's report on the wire: requests, surveys, what customers say, the
//! ledger's head. Aggregates only: no subject, no free text.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::RequestKind;
use crate::surveys::{Access, BudgetBody, Cell, QuestionKind, ResultsMode};

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PrivacyReport {
    pub generated_at: String,
    pub requests: RequestsSummary,
    pub customer_sentiment: Sentiment,
    pub surveys: Vec<SurveyStatus>,
    /// The published policy version in force, once one is published.
    pub policy_version: Option<i64>,
    /// The ledger's latest signed head, once there is one.
    pub ledger: Option<LedgerSummary>,
    /// The legal holds in force and the erasures they keep waiting.
    pub legal_holds: HoldsSummary,
}

/// Legal holds in force, counted: never who is held.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct HoldsSummary {
    pub in_force: u64,
    /// Holds on people (a person, or one of their categories).
    pub on_people: u64,
    /// Categories held for everyone.
    pub categories: Vec<String>,
    pub by_reason: Vec<ReasonCount>,
    /// RFC 3339: the soonest end of a hold with one.
    pub soonest_end: Option<String>,
    /// People's erasure requests waiting for a hold to end.
    pub waiting_erasures: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReasonCount {
    pub reason: crate::holds::HoldReason,
    pub holds: u64,
}

/// Requests not closed, and how many are past their deadline.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RequestsSummary {
    pub open: u64,
    pub overdue: u64,
    pub soonest_due: Option<String>,
    pub by_kind: Vec<KindCount>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KindCount {
    pub kind: RequestKind,
    pub open: u64,
    pub overdue: u64,
}

/// What the built-in survey says, from its k-suppressed results; never the free text.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Sentiment {
    pub available: bool,
    /// Why it is not available, when that is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<u32>,
    /// Null while fewer than k responded (or when not available).
    pub responses: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub questions: Option<Vec<SentimentQuestion>>,
}

/// A rating's mean or the choices ranked, where shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SentimentQuestion {
    pub id: String,
    pub kind: QuestionKind,
    pub answered: Option<u64>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub suppressed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<Cell>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SurveyStatus {
    pub slug: String,
    pub open: bool,
    pub access: Access,
    pub results: ResultsMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitations: Option<InvitationCounts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_budget: Option<BudgetBody>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct InvitationCounts {
    pub sent: i64,
    pub tokens_issued: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LedgerSummary {
    pub size: u64,
    pub signed_head: SignedHead,
}

/// A signed tree head: the ledger's size and root at a time, signed with Ed25519.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignedHead {
    pub size: u64,
    pub timestamp_ms: i64,
    /// Base64 SHA-256 root hash.
    pub root: String,
    /// Base64 Ed25519 signature over the head.
    pub signature: String,
}
