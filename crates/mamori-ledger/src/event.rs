//! Ledger events: who did what, to whom, for which purpose, and whether it was allowed.
//! An event holds ids, names from the policy and outcomes — never a personal value.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Allowed,
    /// `reason` is a stable code such as `purpose_not_allowed_for_role`.
    Denied {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// A pseudonymous actor id: `key:<uuid>` for API keys, `cli` for the operator's console.
    pub actor: String,
    pub role: String,
    pub purpose: Option<String>,
    /// What was attempted, e.g. `subject.read`, `subject.erase`, `record.create`.
    pub action: String,
    /// The subject's random id, if the action concerns one.
    pub subject: Option<String>,
    pub categories: Vec<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl Event {
    /// The exact bytes stored and hashed as the leaf. Field order is fixed by the struct.
    pub fn to_leaf_data(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an event always serialises")
    }

    pub fn from_leaf_data(data: &[u8]) -> Result<Event, serde_json::Error> {
        serde_json::from_slice(data)
    }

    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allowed
    }
}
