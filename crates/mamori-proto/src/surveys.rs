//! Surveys on the wire: a definition (the same shape as a survey's TOML file), how a survey
//! is listed, its results (every group smaller than k suppressed and marked), its free texts,
//! its differentially private releases, invitations and tokens.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::codes::wire_enum;

/// Words in each of the organisation's languages, by language code.
pub type Texts = BTreeMap<String, String>;

wire_enum! {
    pub enum Mode {
        /// Linked to no one.
        Anonymous = "anonymous",
        /// Linked to the person, under a consent purpose of the policy (`surveys = true`): the
        /// answers are a record of theirs, sealed under their key, and every right applies.
        Identified = "identified",
    }
}

wire_enum! {
    /// Who may answer.
    #[derive(Default)]
    pub enum Access {
        /// Anyone with the link (limited per address).
        #[default]
        Open = "open",
        /// Only invited customers, once each, with a blind-signed token (RFC 9474) that does not
        /// tell which invitation it came from.
        Invited = "invited",
    }
}

impl Access {
    pub fn is_open(&self) -> bool {
        *self == Access::Open
    }
}

wire_enum! {
    /// How results are shown.
    #[derive(Default)]
    pub enum ResultsMode {
        /// Exact counts, every group smaller than k suppressed.
        #[default]
        Exact = "exact",
        /// Only differentially private releases, each spending part of the survey's ε budget.
        DifferentialPrivacy = "differential_privacy",
    }
}

impl ResultsMode {
    pub fn is_exact(&self) -> bool {
        *self == ResultsMode::Exact
    }
}

wire_enum! {
    pub enum QuestionKind {
        /// 1 to 5.
        Rating = "rating",
        /// Net Promoter Score: 0 to 10.
        Nps = "nps",
        Single = "single",
        Multiple = "multiple",
        Text = "text",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub id: String,
    #[schema(value_type = BTreeMap<String, String>)]
    pub text: Texts,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub kind: QuestionKind,
    #[schema(value_type = BTreeMap<String, String>)]
    pub text: Texts,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub required: bool,
}

/// A survey as written in its TOML file (or the same shape in JSON).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyDefinition {
    pub slug: String,
    pub mode: Mode,
    /// `open` (default) or `invited`.
    #[serde(default, skip_serializing_if = "Access::is_open")]
    pub access: Access,
    /// For an identified survey: the consent purpose its answers are collected under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// `exact` (default) or `differential_privacy`.
    #[serde(default, skip_serializing_if = "ResultsMode::is_exact")]
    pub results: ResultsMode,
    /// Total ε of a differentially private survey's releases (default 1.0, at most 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epsilon_budget: Option<f64>,
    /// A differentially private release waits for at least this many responses (default k):
    /// below it the noise would drown the answers, and ε would be spent for nothing. 0 waits
    /// for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_responses: Option<u32>,
    #[schema(value_type = BTreeMap<String, String>)]
    pub title: Texts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub intro: Option<Texts>,
    /// First day responses are taken (`YYYY-MM-DD`, UTC); from creation if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens: Option<String>,
    /// Last day responses are taken (`YYYY-MM-DD`, UTC); until closed if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes: Option<String>,
    /// Smallest group shown in results (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<u32>,
    pub questions: Vec<Question>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A survey as a listing shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SurveySummary {
    pub slug: String,
    pub mode: Mode,
    pub access: Access,
    pub results: ResultsMode,
    #[schema(value_type = BTreeMap<String, String>)]
    pub title: Texts,
    /// Whether it takes responses today.
    pub open: bool,
    pub created_at: String,
    pub closed_at: Option<String>,
    /// Smallest group shown in results.
    pub k: u32,
    /// How many questions it asks.
    pub questions: usize,
}

/// A count, or null and `suppressed` when the group is smaller than k.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Cell {
    /// The rating or score this cell counts (histograms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<i64>,
    /// The choice this cell counts (choice questions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<String>,
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub suppressed: bool,
}

/// One question's results; everything but its id and kind is left out when fewer than k
/// people answered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QuestionResult {
    pub id: String,
    pub kind: QuestionKind,
    /// Null when suppressed.
    pub answered: Option<u64>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub suppressed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<Vec<Cell>>,
    /// Net Promoter Score, −100 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nps: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<Cell>>,
    /// A sample of the scrubbed free-text answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub texts: Option<Vec<String>>,
}

/// The people who gave one answer to the breakdown question, and how they answered the rest
/// (only when the group has at least k members; never free text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Group {
    pub choice: String,
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub suppressed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub questions: Option<Vec<QuestionResult>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Breakdown {
    /// The single-choice question the results are broken down by.
    pub by: String,
    pub groups: Vec<Group>,
}

/// A survey's exact results, every group smaller than k suppressed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SurveyResults {
    pub slug: String,
    pub k: u32,
    /// Null while fewer than k responded.
    pub responses: Option<u64>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub suppressed: bool,
    pub questions: Vec<QuestionResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<Breakdown>,
}

/// A page of one question's scrubbed free-text answers; none until it has k answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TextsPage {
    pub question: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered: Option<u64>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub suppressed: bool,
    pub texts: Vec<String>,
    /// Pass as `after` for the next page; null on the last.
    pub next: Option<String>,
}

/// A differentially private count (never below zero).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NoisyCell {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<String>,
    pub count: i64,
}

/// One question of a release: noisy counts and the 95% margin of each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NoisyQuestion {
    pub id: String,
    pub kind: QuestionKind,
    pub answered: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<Vec<NoisyCell>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nps: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<NoisyCell>>,
    /// The noise exceeds this one time in twenty.
    pub margin_95: i64,
}

/// What a release says (stored as made: later reads show the same numbers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NoisyResults {
    pub slug: String,
    pub responses: i64,
    pub responses_margin_95: i64,
    pub questions: Vec<NoisyQuestion>,
}

/// One differentially private release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Release {
    pub id: String,
    pub created_at: String,
    /// The ε it spent.
    pub epsilon: f64,
    #[serde(flatten)]
    pub results: NoisyResults,
}

/// A survey's ε budget and what its releases spent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BudgetBody {
    pub epsilon_total: f64,
    pub epsilon_spent: f64,
    pub epsilon_remaining: f64,
}

/// A new release and the budget left after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReleaseMade {
    pub release: Release,
    pub budget: BudgetBody,
}

/// Every release of a survey, and its budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Releases {
    pub budget: BudgetBody,
    pub releases: Vec<Release>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRequest {
    /// The share of the survey's ε budget this release spends.
    pub epsilon: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseRequest {
    /// Question id → the answer (a number, a choice id, a list of choice ids or text).
    #[schema(value_type = Object)]
    pub answers: serde_json::Map<String, serde_json::Value>,
    /// For an invited survey: the finalised token (base64url), from `POST …/tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    /// Subject ids to invite (1 to 1,000).
    pub subjects: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Invited,
    Refused,
}

/// One person's invitation: a link to send them (shown once), or why there is none.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvitationOutcome {
    pub subject: String,
    pub status: InvitationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Invitations {
    pub invitations: Vec<InvitationOutcome>,
}

/// The key an invited survey's tokens are blinded with (RSABSSA-SHA384-PSS-Randomized).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Issuer {
    pub variant: String,
    /// DER (SubjectPublicKeyInfo), base64url.
    pub public_key: String,
    /// base64url.
    pub modulus: String,
    /// base64url.
    pub exponent: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The code from the invitation link.
    pub invitation: String,
    /// The blinded token (base64url, 256 bytes), RFC 9474 §4.1.
    pub blinded_token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BlindSignature {
    /// base64url, RFC 9474 §4.2.
    pub blind_signature: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ResultsQuery {
    /// Break the results down by the answers to this single-choice question.
    pub by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TextsQuery {
    /// A free-text question of the survey.
    pub question: String,
    /// The `next` cursor of the page before.
    pub after: Option<String>,
    /// Up to 1,000 (default 100).
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `json` (default) or `markdown`.
    pub format: Option<String>,
}
