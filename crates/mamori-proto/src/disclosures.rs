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
    /// Records of the person to disclose too (0–100 ids, e.g. the order a courier delivers):
    /// each must be the person's and of a category disclosed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<String>,
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
    /// The records asked for, in the order asked, masked per role as for a read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<crate::subjects::RecordBody>,
}

crate::codes::wire_enum! {
    /// What a vendor is asked to do about data it received.
    pub enum VendorTaskKind {
        /// The person was erased: erase what you received.
        Erasure = "erasure",
        /// The person corrected data you received: fetch it again or correct it.
        Correction = "correction",
        /// The person withdrew consent to, or opted out of, the purpose you received it for.
        Optout = "optout",
    }
}

/// A vendor's task as staff and the vendor see it: ids, names, codes and times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VendorTask {
    pub id: String,
    pub vendor: String,
    pub subject: String,
    pub kind: VendorTaskKind,
    /// For an opt-out: the purpose withdrawn from.
    pub purpose: Option<String>,
    pub categories: Vec<String>,
    /// The disclosures that gave the vendor the data concerned.
    pub disclosures: Vec<String>,
    pub created_at: String,
    pub due_at: String,
    pub reminders: i64,
    /// When the vendor confirmed (RFC 3339); absent while open.
    pub confirmed_at: Option<String>,
    /// Open past its due date.
    pub overdue: bool,
}

/// `GET /v1/vendor-tasks`: newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VendorTaskList {
    pub tasks: Vec<VendorTask>,
}

/// `POST /v1/vendor-tasks/{id}/confirm`, signed by the vendor with its own secret in the
/// Standard Webhooks form (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmVendorTask {
    /// The vendor confirming (its name in the policy): the signature must be its own.
    pub vendor: String,
}

/// `POST /v1/disclosures/batch`: the same disclosure for many people (a campaign, a sync).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscloseBatch {
    pub vendor: String,
    pub purpose: String,
    /// The categories to disclose (1–64).
    pub categories: Vec<String>,
    /// 1–10,000 subject ids, each known to Mamori (erased ones are answered as such).
    pub subjects: Vec<String>,
}

/// One person's outcome in a batch, in the order given: what left (`disclosure`, `data`), or
/// why nothing did (`refused`: `consent_required`, `reconsent_required`, `subject_erased`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BatchOutcome {
    pub subject: String,
    /// The disclosure's id, when the person's data left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disclosure: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub data: Option<Data>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<crate::ErrorCode>,
}

/// The batch's answer, streamed: the vendor, purpose and categories, then every person's
/// outcome in the order given.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BatchDisclosed {
    pub vendor: String,
    pub purpose: String,
    pub categories: Vec<String>,
    pub outcomes: Vec<BatchOutcome>,
}

/// One disclosure as the records of provision show it: ids, names, codes and times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProvisionRecord {
    /// The disclosure's id.
    pub id: String,
    pub subject: String,
    pub vendor: String,
    /// The vendor's role in the register (`processor`, `independent_controller`, …; `removed` if
    /// it has left the register since).
    pub vendor_role: String,
    pub purpose: String,
    /// The purpose's legal basis (`consent`, `contract`, …): the ground the data left on.
    pub legal_basis: String,
    pub categories: Vec<String>,
    /// The ids of the person's records disclosed with the categories, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<String>,
    /// RFC 3339.
    pub disclosed_at: String,
    /// Whether Japan's APPI asks the provider to keep this record (a provision to a third
    /// party; entrustment to a processor and joint use are exempt, Art. 27(5)).
    pub appi_record: bool,
}

/// `GET /v1/disclosures?from=&to=`: oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProvisionRecords {
    pub records: Vec<ProvisionRecord>,
    /// More disclosures fall in the period than one answer holds (100,000): ask for a shorter one.
    pub truncated: bool,
}

/// `GET /v1/disclosures/sold-or-shared`: what the CCPA's notice must say — the categories
/// disclosed for purposes the policy flags as a sale or share, in the last 12 months, and to whom.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SoldOrShared {
    /// RFC 3339: the start of the 12 months.
    pub since: String,
    pub categories: Vec<String>,
    pub recipients: Vec<String>,
    pub purposes: Vec<String>,
}
