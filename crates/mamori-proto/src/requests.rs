//! Data-subject requests on the wire: their kinds, states and sources (the Data Rights
//! Protocol's names), what opening and working one takes, and how one is shown.

use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::codes::wire_enum;

wire_enum! {
    /// The kinds of request the rights of GDPR, CCPA, LGPD and APPI add up to.
    pub enum RequestKind {
        Access = "access",
        Portability = "portability",
        Rectification = "rectification",
        Erasure = "erasure",
        Restriction = "restriction",
        Objection = "objection",
        OptOutOfSale = "opt_out_of_sale",
    }
}

wire_enum! {
    /// How the requester was shown to be the person the request is about.
    pub enum VerifiedBy {
        /// They signed in to the privacy center (a one-time code to their address or number).
        PrivacyCenterSignIn = "privacy_center_sign_in",
        /// An authorised agent of the Data Rights Protocol vouched for them.
        Agent = "agent",
        /// Staff checked an identity document.
        IdDocument = "id_document",
        /// Staff called them back on the number the account holds.
        CallBack = "call_back",
        /// Staff matched details only the account holder knows.
        AccountDetails = "account_details",
    }
}

wire_enum! {
    /// What an open request waits for before it can be carried out.
    pub enum WaitReason {
        /// A legal hold keeps the person's data; the erasure is carried out once it ends.
        LegalHold = "legal_hold",
    }
}

wire_enum! {
    /// Data Rights Protocol v0.9.4 request states.
    pub enum RequestState {
        Open = "open",
        InProgress = "in_progress",
        Fulfilled = "fulfilled",
        Denied = "denied",
        Revoked = "revoked",
        Expired = "expired",
    }
}

impl RequestState {
    /// A closed request stays closed.
    pub fn is_closed(self) -> bool {
        !matches!(self, RequestState::Open | RequestState::InProgress)
    }
}

wire_enum! {
    /// Where a request came from.
    pub enum RequestSource {
        PrivacyCenter = "privacy_center",
        Staff = "staff",
        Agent = "agent",
    }
}

wire_enum! {
    /// Data Rights Protocol v0.9.4 reasons for denying a request.
    pub enum DenialReason {
        SuspectedFraud = "suspected_fraud",
        InsufficientVerification = "insufficient_verification",
        NoMatch = "no_match",
        ClaimNotCovered = "claim_not_covered",
        OutsideJurisdiction = "outside_jurisdiction",
        TooManyRequests = "too_many_requests",
        Other = "other",
    }
}

wire_enum! {
    /// Why a deadline may be extended (GDPR art. 12(3): the complexity and number of requests).
    pub enum ExtensionReason {
        Complexity = "complexity",
        NumberOfRequests = "number_of_requests",
    }
}

/// A request to record. Values are checked by the server after the access decision (so a
/// caller who may not open requests learns nothing about which values are accepted); the
/// schema lists the accepted ones.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenRequest {
    #[schema(value_type = RequestKind)]
    pub kind: String,
    /// The person, once identified (a subject id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// gdpr, ccpa, lgpd or appi: sets the deadline.
    pub jurisdiction: String,
    /// Default: staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<RequestSource>)]
    pub source: Option<String>,
    /// RFC 3339; when the request arrived, if before now (entered from the inbox).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<String>,
}

/// Extends a deadline once.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendRequest {
    #[schema(value_type = ExtensionReason)]
    pub reason: String,
}

/// Records how staff verified the requester of a request that came by e-mail or post.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// id_document, call_back or account_details (the other ways come with the request).
    #[schema(value_type = VerifiedBy)]
    pub how: String,
}

/// Moves a request to its next state.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRequestState {
    #[schema(value_type = RequestState)]
    pub state: String,
    /// For a denial: a Data Rights Protocol reason code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<DenialReason>)]
    pub reason: Option<String>,
}

/// A request as staff and agents see it. Holds no personal value: the person is an id.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Request {
    /// A UUID.
    pub id: String,
    /// The short reference the person was given (`R-7F3K-92QD`).
    pub reference: String,
    pub kind: RequestKind,
    /// The person's subject id, once identified.
    pub subject: Option<String>,
    /// gdpr, ccpa, lgpd or appi.
    pub jurisdiction: String,
    pub source: RequestSource,
    pub state: RequestState,
    /// RFC 3339.
    pub received_at: String,
    /// RFC 3339: when it must be answered.
    pub due_at: String,
    /// Why the deadline was extended, once it has been.
    pub extension: Option<ExtensionReason>,
    /// RFC 3339, once closed.
    pub closed_at: Option<String>,
    /// For a denial: its Data Rights Protocol reason.
    pub reason: Option<DenialReason>,
    /// What an open request waits for before it can be carried out (an erasure a legal hold
    /// keeps waiting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_for: Option<WaitReason>,
    /// How the requester was shown to be the person (null until then: such a request can be
    /// worked and denied, not fulfilled).
    pub verified_by: Option<VerifiedBy>,
    /// RFC 3339: when.
    pub verified_at: Option<String>,
}

/// A page of the request queue, by due date.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RequestPage {
    pub requests: Vec<Request>,
    /// Pass as `after` for the next page; null on the last.
    pub next: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RequestQuery {
    /// Only this state (default: every request not closed).
    pub state: Option<String>,
    /// Only requests due before this time (RFC 3339).
    pub due_before: Option<String>,
    /// Only this person's requests.
    pub subject: Option<String>,
    /// The request with this short reference (`R-7F3K-92QD`, as the person was given it; any
    /// case, dashes optional), whatever its state unless `state` is given.
    pub reference: Option<String>,
    /// The `next` of the previous page.
    pub after: Option<String>,
    /// 1–1000, default 100.
    pub limit: Option<i64>,
}
