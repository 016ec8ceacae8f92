//! The outbox on the wire: events as the pull feed and webhooks carry them. Their `data` holds
//! ids and states only, never a personal value.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::codes::wire_enum;

/// An outbox event as the feed and webhooks show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OutboxEvent {
    /// Position in the feed; pass the last one seen as `after` to continue.
    pub seq: i64,
    pub id: String,
    #[serde(rename = "type")]
    #[schema(value_type = EventType)]
    pub kind: String,
    /// RFC 3339.
    pub timestamp: String,
    /// Depends on the type; ids and states only.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// A page of the pull feed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FeedBody {
    /// Oldest first.
    pub events: Vec<OutboxEvent>,
    /// Pass as `after` for the next page.
    pub next: i64,
}

wire_enum! {
    /// What an outbox event announces.
    pub enum EventType {
        /// A consent decision was recorded ([`ConsentChanged`]).
        #[serde(rename = "consent.changed")]
        ConsentChanged = "consent.changed",
        /// A person was erased; some categories may be kept for a while ([`SubjectErased`]).
        #[serde(rename = "subject.erased")]
        SubjectErased = "subject.erased",
        /// A data-subject request was opened ([`crate::Request`]).
        #[serde(rename = "request.opened")]
        RequestOpened = "request.opened",
        /// A request moved on: its state, its deadline ([`crate::Request`]).
        #[serde(rename = "request.changed")]
        RequestChanged = "request.changed",
        /// A request's deadline is near ([`crate::Request`]).
        #[serde(rename = "request.due_soon")]
        RequestDueSoon = "request.due_soon",
        /// A new version of the privacy notice was published ([`NoticePublished`]).
        #[serde(rename = "notice.published")]
        NoticePublished = "notice.published",
        /// To each person the new notice concerns ([`NoticeChanged`]).
        #[serde(rename = "subject.notice_changed")]
        SubjectNoticeChanged = "subject.notice_changed",
        /// To each person whose consent no longer covers a widened purpose ([`ReconsentRequested`]).
        #[serde(rename = "subject.reconsent_requested")]
        SubjectReconsentRequested = "subject.reconsent_requested",
        /// Categories whose retention ended were erased; `complete` when nothing was left of
        /// the person ([`SubjectRetentionErased`]).
        #[serde(rename = "subject.retention_erased")]
        SubjectRetentionErased = "subject.retention_erased",
        /// The ledger's head was signed and offered to witnesses ([`crate::reports::SignedHead`]).
        #[serde(rename = "ledger.head_signed")]
        LedgerHeadSigned = "ledger.head_signed",
        /// A member of staff's training for their role expires within 30 days
        /// ([`TrainingExpiring`]).
        #[serde(rename = "staff.training_expiring")]
        StaffTrainingExpiring = "staff.training_expiring",
        /// A duty to tell someone of an incident falls due within a day
        /// ([`IncidentDeadlineSoon`]).
        #[serde(rename = "incident.deadline_soon")]
        IncidentDeadlineSoon = "incident.deadline_soon",
        /// An incident was opened — by staff, by automation, or by an automatic signal
        /// ([`IncidentOpened`]).
        #[serde(rename = "incident.opened")]
        IncidentOpened = "incident.opened",
        /// A vendor that received the person's data must erase it ([`VendorTaskEvent`]).
        #[serde(rename = "vendor.erasure_requested")]
        VendorErasureRequested = "vendor.erasure_requested",
        /// A vendor that received data the person corrected must correct it ([`VendorTaskEvent`]).
        #[serde(rename = "vendor.correction_requested")]
        VendorCorrectionRequested = "vendor.correction_requested",
        /// A vendor must stop using the person's data for a purpose withdrawn from
        /// ([`VendorTaskEvent`]).
        #[serde(rename = "vendor.optout_requested")]
        VendorOptoutRequested = "vendor.optout_requested",
        /// A vendor's task is still not confirmed ([`VendorTaskEvent`], `reminder` ≥ 1).
        #[serde(rename = "vendor.task_reminder")]
        VendorTaskReminder = "vendor.task_reminder",
        /// A vendor confirmed its task ([`VendorTaskEvent`]).
        #[serde(rename = "vendor.task_confirmed")]
        VendorTaskConfirmed = "vendor.task_confirmed",
        /// A vendor of the register needs attention: its contract ends within a month or has
        /// ended, or its security review is missing, over a year old or failed
        /// ([`VendorReviewDue`]).
        #[serde(rename = "vendor.review_due")]
        VendorReviewDue = "vendor.review_due",
    }
}

/// `vendor.*`: a vendor's task — which, for whom, what to do, by when, where to confirm. Ids,
/// names and codes only: the vendor finds the data by the disclosures it received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VendorTaskEvent {
    pub task: String,
    pub vendor: String,
    pub subject: String,
    pub kind: crate::disclosures::VendorTaskKind,
    pub purpose: Option<String>,
    pub categories: Vec<String>,
    pub disclosures: Vec<String>,
    pub due_at: String,
    /// 0 when the task opens; then the reminder's number.
    pub reminder: i64,
    /// The path to confirm at, signed with the vendor's secret.
    pub confirm_path: String,
}

wire_enum! {
    /// Why a vendor of the register needs attention.
    pub enum VendorAttention {
        /// Its contract ends within 30 days (`date`: the last day).
        ContractEnding = "contract_ending",
        /// Its contract ended (`date`: the last day): it may receive no data.
        ContractEnded = "contract_ended",
        /// Its contract has not started (`date`: the first day): it may receive no data.
        ContractNotStarted = "contract_not_started",
        /// No security review is recorded.
        ReviewMissing = "review_missing",
        /// Its last security review (`date`) is over a year old.
        ReviewOverdue = "review_overdue",
        /// Its last security review (`date`) failed: it may receive no data.
        ReviewFailed = "review_failed",
    }
}

/// `vendor.review_due`: which vendor (its policy name), why, and the date concerned. Sent once
/// per vendor, reason and date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VendorReviewDue {
    pub vendor: String,
    pub reason: VendorAttention,
    /// `YYYY-MM-DD`, absent for a missing review.
    pub date: Option<String>,
}

/// `incident.opened`: which incident, its kind and severity, who opened it (an id, or
/// `signals` for an automatic signal), whether it is a drill. Never the title.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IncidentOpened {
    pub incident: String,
    pub kind: String,
    pub severity: String,
    pub reported_by: String,
    pub drill: bool,
}

/// `incident.deadline_soon`: which incident, which law's duty to whom, due when. Ids and codes
/// only: never the incident's title.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IncidentDeadlineSoon {
    pub incident: String,
    pub jurisdiction: String,
    pub recipient: String,
    pub due_at: String,
    pub drill: bool,
}

/// `staff.training_expiring`: whose training (a staff id, never an address), for which role, until when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TrainingExpiring {
    pub staff: String,
    pub role: String,
    pub expires_at: String,
}

/// `consent.changed`: a decision, with the receipt's id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConsentChanged {
    pub subject: String,
    pub purpose: String,
    pub channel: String,
    pub granted: bool,
    pub source: String,
    /// Only a notice version Mamori published (`v<N>`); an imported label stays out.
    pub notice_version: Option<String>,
    pub decided_at: String,
    pub receipt_id: String,
}

/// `subject.erased`: what is kept, and until when, under a legal obligation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SubjectErased {
    pub subject: String,
    pub kept: Vec<KeptUntil>,
}

/// `subject.retention_erased`: the categories whose retention ended, erased by the sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SubjectRetentionErased {
    pub subject: String,
    pub categories: Vec<String>,
    /// Nothing is left of the person: erased as a whole.
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KeptUntil {
    pub category: String,
    /// RFC 3339.
    pub until: String,
}

/// `notice.published`: the version, its hash, what changed and which purposes need consent again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NoticePublished {
    pub version: String,
    /// Hex SHA-256 of the policy text published.
    pub hash: String,
    pub changes: Vec<NoticeChange>,
    /// Purposes widened: consents given before need renewing for the categories added.
    pub reconsent: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NoticeChange {
    pub text: String,
    /// Whether the change widens what a purpose covers.
    pub widens: bool,
}

/// `subject.notice_changed`: a person the new notice concerns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NoticeChanged {
    pub version: String,
    pub widens: bool,
}

/// `subject.reconsent_requested`: a person whose consent to a purpose no longer covers it all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReconsentRequested {
    pub version: String,
    pub purpose: String,
    pub added_categories: Vec<String>,
}
