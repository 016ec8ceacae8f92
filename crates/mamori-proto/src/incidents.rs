//! Incidents on the wire: the register (what happened, how bad, where it stands) and its
//! append-only timeline. Titles and notes are free text the staff write: stored sealed, shown
//! only here and in the console, never in the ledger, the outbox or logs.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::codes::wire_enum;

wire_enum! {
    /// What kind of incident (a closed list, as incident registers use).
    pub enum IncidentKind {
        LostDevice = "lost_device",
        LeakedCredential = "leaked_credential",
        VendorBreach = "vendor_breach",
        MisdirectedEmail = "misdirected_email",
        UnauthorisedAccess = "unauthorised_access",
        Ransomware = "ransomware",
        Other = "other",
    }
}

wire_enum! {
    /// How bad it looks (revised as the assessment goes).
    pub enum IncidentSeverity {
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
}

wire_enum! {
    /// Where the response stands; it only moves forward. `draft`: opened by the automatic
    /// signals, for someone to confirm (move it on) or dismiss (close it with a note).
    pub enum IncidentStatus {
        Draft = "draft",
        Open = "open",
        Assessing = "assessing",
        Contained = "contained",
        Notifying = "notifying",
        Closed = "closed",
    }
}

wire_enum! {
    /// What a timeline entry records.
    pub enum EntryKind {
        /// The incident was opened.
        Opened = "opened",
        /// A note from the staff (free text).
        Note = "note",
        /// The status moved forward.
        Status = "status",
        /// The severity was revised.
        Severity = "severity",
        /// An API key, a member of staff or a vendor was linked to the incident.
        Link = "link",
        /// A containment action was taken (revoking a key, disabling a member of staff).
        Containment = "containment",
        /// Notices to the people affected were prepared (and queued for sending).
        Notices = "notices",
        /// A duty's deadline was extended, with the reason in the note.
        Extension = "extension",
    }
}

wire_enum! {
    /// What a link or a containment action points at.
    pub enum LinkKind {
        ApiKey = "api_key",
        Staff = "staff",
        Vendor = "vendor",
        Webhook = "webhook",
        Agent = "agent",
    }
}

/// Something the incident concerns: an API key, a member of staff, a vendor (by id or name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentLink {
    pub kind: LinkKind,
    /// The key's or the staff member's id; the vendor's name.
    pub id: String,
}

/// One entry of an incident's timeline, oldest first; entries are never changed or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TimelineEntry {
    /// 1 for the opening, then one more per entry.
    pub seq: i64,
    /// RFC 3339.
    pub at: String,
    /// Who: `staff:ID`, `apikey:ID` or `operator`.
    pub by: String,
    pub kind: EntryKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<IncidentStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<IncidentSeverity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<IncidentLink>,
    /// A deadline extended (its reason is the note).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<Extension>,
}

/// A duty's deadline moved later, with the reason in the entry's note: the law allows it
/// (GDPR Art. 33(4) information in phases, a regulator's agreement) only with a reason recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    pub jurisdiction: String,
    pub recipient: String,
    /// The new due time (RFC 3339, later than the current one).
    pub until: String,
}

/// An incident in the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Incident {
    pub id: String,
    pub title: String,
    pub kind: IncidentKind,
    pub severity: IncidentSeverity,
    pub status: IncidentStatus,
    /// When the business became aware of it (RFC 3339): legal clocks run from here.
    pub detected_at: String,
    /// Who opened it.
    pub reported_by: String,
    /// A tabletop drill, not a real incident.
    pub drill: bool,
    /// Changes with every entry; give it back to change the incident (optimistic concurrency).
    pub version: i64,
    pub opened_at: String,
    pub updated_at: String,
    /// What the timeline linked, in order.
    pub links: Vec<IncidentLink>,
}

/// `GET /v1/incidents/{id}`: the incident and its whole timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IncidentDetail {
    pub incident: Incident,
    pub timeline: Vec<TimelineEntry>,
    /// Only in the answer to a `rotate_webhook_secret` step: the subscription's new signing
    /// secret (`whsec_…`), shown once, for its receiver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_secret: Option<String>,
}

/// `GET /v1/incidents`: the register, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IncidentList {
    pub incidents: Vec<Incident>,
}

/// `POST /v1/incidents`: what happened.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenIncident {
    /// A short title (1–200 characters; stored sealed).
    pub title: String,
    pub kind: IncidentKind,
    pub severity: IncidentSeverity,
    /// When the business became aware of it (RFC 3339, not in the future); absent: now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected_at: Option<String>,
}

/// `POST /v1/incidents/{id}/entries`: one entry — a note, a new status, a revised severity or a
/// link — against the version last read.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddEntry {
    /// The incident's version as last read; another change since is a 409 `concurrent_update`.
    pub version: i64,
    /// A note (1–4,000 characters; stored sealed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Move the status forward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<IncidentStatus>,
    /// Revise the severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<IncidentSeverity>,
    /// Link an API key, a member of staff or a vendor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<IncidentLink>,
    /// Extend a duty's deadline (a note saying why is required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extend: Option<Extension>,
}

/// `POST /v1/incidents/{id}/impact`: whose accesses, over which window, optionally only some
/// purposes or categories.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpactScope {
    /// Actors as the ledger names them: `key:ID` (an API key), `staff:ID` (a member of staff).
    pub actors: Vec<String>,
    /// The window's start (RFC 3339).
    pub from: String,
    /// The window's end (RFC 3339, after `from`).
    pub to: String,
    /// Only accesses for these purposes (absent: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purposes: Option<Vec<String>>,
    /// Only accesses touching these categories (absent: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
}

/// One person the scope's accesses reached: their id (for notification), the categories and
/// actions, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AffectedPerson {
    pub subject: String,
    pub categories: Vec<String>,
    pub actions: Vec<String>,
    /// How many allowed accesses reached them.
    pub accesses: u64,
    pub first_at: String,
    pub last_at: String,
}

/// People reached, per category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CategoryCount {
    pub category: String,
    pub people: u64,
}

/// The worst case: what an actor's role could read, whatever it did read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reach {
    pub actor: String,
    pub role: String,
    pub purposes: Vec<String>,
    /// Categories the role may view.
    pub categories: Vec<String>,
}

/// The impact of an incident, computed from the ledger: who was reached, with what, and when.
/// Ids, names and counts only — never a personal value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Impact {
    pub incident: String,
    /// Ledger leaves read (the window's).
    pub leaves_scanned: u64,
    /// Allowed accesses of the scope's actors in the window.
    pub accesses: u64,
    /// Denied attempts of the scope's actors in the window (they reached no one).
    pub denied: u64,
    pub people: u64,
    pub by_category: Vec<CategoryCount>,
    pub subjects: Vec<AffectedPerson>,
    pub reach: Vec<Reach>,
}

wire_enum! {
    /// A containment step taken from an incident.
    pub enum ContainmentAction {
        /// Revoke an API key (`target`: its id): refused at once on every request.
        RevokeApiKey = "revoke_api_key",
        /// Disable a member of staff (`target`: their id): their sessions end, they cannot sign in.
        DisableStaff = "disable_staff",
        /// Stop a webhook subscription (`target`: its id): nothing more is sent to it; subscribe
        /// again for a new secret.
        RemoveWebhook = "remove_webhook",
        /// Remove a Data Rights Protocol agent (`target`: its id): its tokens stop working.
        RemoveAgent = "remove_agent",
        /// Pause a webhook subscription (`target`: its id): nothing is sent until it is resumed
        /// (`POST /v1/webhooks/{id}/resume`); what was held is then sent in order.
        PauseWebhook = "pause_webhook",
        /// Rotate a webhook subscription's signing secret (`target`: its id), the old one
        /// stopping at once; the answer carries the new secret, shown once.
        RotateWebhookSecret = "rotate_webhook_secret",
        /// Pause a Data Rights Protocol agent (`target`: its id): its tokens are refused until
        /// it is resumed (`mamori agent resume`).
        PauseAgent = "pause_agent",
    }
}

/// `POST /v1/incidents/{id}/containment`: take a containment step and record it on the timeline.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contain {
    /// The incident's version as last read.
    pub version: i64,
    pub action: ContainmentAction,
    /// The API key's or the member of staff's id.
    pub target: String,
    /// Why (1–4,000 characters; stored sealed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One duty to tell someone of the incident, and its clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Deadline {
    pub jurisdiction: String,
    /// `authority`, `authority_preliminary`, `authority_final`, `people`, `attorney_general`,
    /// `media`, `card_brands`.
    pub recipient: String,
    /// What the law allows: `72h`, `3bd` (business days), `30d`, or `asap` (no number).
    pub within: String,
    /// RFC 3339; absent when the law names no number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
    /// Whole hours left (negative: overdue by that much); absent without a due time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours_left: Option<i64>,
    pub overdue: bool,
    /// When the duty applies, in the law's terms.
    pub when: String,
    pub source: String,
    /// `within` is the business's own target from `mamori.toml`, not the law's.
    #[serde(default)]
    pub configured: bool,
    /// The due time before the incident's extension of it (RFC 3339), if it was extended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_from: Option<String>,
}

/// `GET /v1/incidents/{id}/deadlines`: who must be told, by when, from `detected_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IncidentDeadlines {
    pub incident: String,
    pub detected_at: String,
    /// When the table of duties was last reviewed (YYYY-MM-DD).
    pub table_reviewed: String,
    /// Duties without a number first, then by due time.
    pub deadlines: Vec<Deadline>,
}

/// `GET /v1/incidents/{id}/deadlines` query.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeadlineQuery {
    /// Laws to compute, comma-separated (`gdpr,lgpd,appi,ccpa,hipaa,pci`); default: the policy's.
    pub jurisdictions: Option<String>,
}

/// `POST /v1/drills`: start a tabletop drill from a shipped scenario.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartDrill {
    /// `lost_laptop`, `leaked_service_key`, `vendor_breach` or `misdirected_export`.
    pub scenario: String,
    /// The title's language (`en`, `ja`, `fr`; default `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// One milestone of the response, and when it was reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Milestone {
    /// `opened`, `assessing`, `first_containment`, `contained`, `notifying`, `closed`.
    pub milestone: String,
    /// RFC 3339; absent when not reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// Hours from awareness (`detected_at`) to the milestone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours_after_detection: Option<f64>,
}

/// A duty whose clock ran out before the response reached `notifying`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MissedDeadline {
    pub jurisdiction: String,
    pub recipient: String,
    pub due_at: String,
}

/// `GET /v1/incidents/{id}/drill-report`: how the response went, from the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DrillReport {
    pub incident: String,
    pub drill: bool,
    pub milestones: Vec<Milestone>,
    /// Milestones not reached (yet).
    pub skipped: Vec<String>,
    /// Deadlines (the policy's laws) that passed before `notifying` was reached, or that have
    /// passed while it is not.
    pub missed: Vec<MissedDeadline>,
}
