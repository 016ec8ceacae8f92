//! What vendors owe after a person's erasure, correction or opt-out.

use crate::Id;

/// A vendor's task: ids, names, codes and times (never a personal value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorTaskRow {
    pub id: Id,
    /// The vendor's name in the policy.
    pub vendor: String,
    pub subject_id: Id,
    /// `erasure`, `correction` or `optout`.
    pub kind: String,
    /// For an opt-out: the purpose the person withdrew from.
    pub purpose: Option<String>,
    /// Category names the task concerns, comma-separated.
    pub categories: String,
    /// The disclosures (ids, hex, comma-separated) that gave the vendor the data concerned.
    pub disclosures: String,
    pub created_ms: i64,
    /// When the vendor should have confirmed by.
    pub due_ms: i64,
    /// When the next reminder goes out if the vendor has not confirmed.
    pub next_reminder_ms: i64,
    pub reminders: i64,
    pub confirmed_ms: Option<i64>,
}
