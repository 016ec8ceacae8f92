//! Telling people and regulators of an incident: notices to the people it affected (one per
//! person, in their language, sent once) and draft reports to regulators (counts and
//! categories only).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::codes::wire_enum;
use crate::incidents::ImpactScope;

wire_enum! {
    /// Where one person's notice stands.
    pub enum NoticeState {
        /// Waiting to be sent.
        Pending = "pending",
        /// Handed to the mailer; not yet confirmed.
        Sending = "sending",
        /// The mailer accepted it.
        Sent = "sent",
        /// The server stopped while handing it over: it may or may not have gone out. Never
        /// sent again by itself (a notice goes out at most once); staff check and decide.
        Uncertain = "uncertain",
        /// The person holds no e-mail address the notice could go to.
        NoAddress = "no_address",
        /// The person was erased: counted, never brought back to be told.
        Erased = "erased",
        /// The policy no longer lets the preparer read the person's address for the purpose.
        Denied = "denied",
        /// The mailer refused it again and again.
        Failed = "failed",
        /// A drill's notice: written, never sent.
        Drafted = "drafted",
    }
}

/// What the business tells people they can do, in each language it writes (the policy's
/// languages; absent ones use generic advice).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeAdvice {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fr: Option<String>,
}

/// `POST /v1/incidents/{id}/notices`: prepare notices to the people the scope's accesses
/// reached (computed like the impact), and queue them for sending. People already noticed for
/// this incident are not noticed again. Needs a `Mamori-Purpose` under which the caller's role
/// may read the people's contact details: each address is read through the access decision
/// when its notice goes out.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrepareNotices {
    pub scope: ImpactScope,
    /// What people can do (1–2,000 characters per language; stored sealed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advice: Option<NoticeAdvice>,
    /// The language of a person whose own is not known (one of the policy's; default: its
    /// first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// How many notices stand where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NoticeCount {
    pub state: NoticeState,
    pub people: u64,
}

/// An incident's notices to people: how many, where they stand, and per category how many
/// people were told of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NoticeSummary {
    pub incident: String,
    pub drill: bool,
    /// People added by this call (0 for a read).
    pub added: u64,
    pub people: u64,
    pub by_state: Vec<NoticeCount>,
    pub by_category: Vec<crate::incidents::CategoryCount>,
    /// People per law covering them, by their address's country as read when their notice went
    /// out (`gdpr`, `lgpd`, `appi`; `unknown` until read, or where no law is known).
    pub by_jurisdiction: Vec<JurisdictionCount>,
}

/// People covered by one law.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JurisdictionCount {
    pub jurisdiction: String,
    pub people: u64,
}

/// `GET /v1/incidents/{id}/regulator-draft`: which law's report, in which form.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, IntoParams)]
pub struct RegulatorDraftQuery {
    /// `gdpr`, `lgpd`, `appi`, `ccpa`, `hipaa` or `pci`.
    pub jurisdiction: String,
    /// `markdown` (default) or `html`.
    pub format: Option<String>,
    /// `en` (default), `ja` or `fr`.
    pub lang: Option<String>,
}
