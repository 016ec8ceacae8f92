//! Consent on the wire: a decision to record, the answer to "may we?", receipts, the audience
//! filter and one-click unsubscribe links.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::codes::wire_enum;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetConsent {
    /// A purpose of the policy whose legal basis is consent.
    pub purpose: String,
    /// One of the purpose's channels (email, sms, push, phone, post); leave out if it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// true grants, false withdraws.
    pub granted: bool,
    /// How it was collected: portal, api (default), import, gpc, agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The version of the notice the person saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_version: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConsentQuery {
    pub purpose: String,
    pub channel: Option<String>,
}

wire_enum! {
    /// Why a purpose is or is not allowed for a person now.
    pub enum ConsentReason {
        /// Granted, under a notice that describes everything the purpose covers now.
        Granted = "granted",
        Withdrawn = "withdrawn",
        /// Never decided: not granted (privacy by default).
        NoRecord = "no_record",
        /// Another legal basis applies; consent is not asked.
        NotConsentBased = "not_consent_based",
        /// Granted under a notice that did not yet describe what the purpose covers now.
        ReconsentRequired = "reconsent_required",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConsentBody {
    pub allowed: bool,
    pub reason: ConsentReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// The purpose's categories this consent covers now.
    pub covers: Vec<String>,
    /// Categories added to the purpose after the notice the person agreed to: not covered until
    /// they agree again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reconsent: Vec<String>,
    /// After a change: the consent receipt, a JWS (EdDSA) signed with the ledger key; its
    /// header's `kid` is the public key in base64url (`public_key` of `GET /v1/ledger/head`, in hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptRequest {
    /// A consent receipt (JWS compact) as returned by `PUT /v1/consent/{id}`.
    pub receipt: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReceiptBody {
    pub receipt_id: String,
    pub subject: String,
    pub purpose: String,
    pub channel: String,
    pub granted: bool,
    /// Still the latest decision for this subject, purpose and channel. A genuine but replaced
    /// receipt (e.g. a grant since withdrawn) proves only that the decision was made then.
    pub current: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceFilter {
    /// A consent-based purpose.
    pub purpose: String,
    /// One of its channels (leave out if it has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Up to 100,000 subject ids.
    pub subjects: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AudienceBody {
    /// The given ids that may be contacted (granted, not erased), in the order given.
    pub allowed: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    pub purpose: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Validity in days (1–366, default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_days: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LinkBody {
    /// Append to your public base URL, e.g. in `List-Unsubscribe: <https://…/unsubscribe?token=…>`.
    pub path: String,
    pub token: String,
    pub expires_at: String,
    /// The header to send with it (RFC 8058).
    pub list_unsubscribe_post: String,
}
