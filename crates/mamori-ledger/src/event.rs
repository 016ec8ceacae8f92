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
    /// To whom data left, for a disclosure: the vendor's name in the policy. Absent otherwise,
    /// so the leaves written before it existed keep their exact bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
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

/// An event's time and actor read from the head of its leaf without decoding the rest: the
/// struct fixes the field order (`{"time_ms":…,"actor":"…",…`), so a scan over millions of
/// leaves decodes only those of the actors it looks for. None when the leaf does not start
/// that way (or the actor is escaped); decode it then.
pub fn leaf_time_and_actor(data: &[u8]) -> Option<(i64, &str)> {
    let rest = data.strip_prefix(br#"{"time_ms":"#)?;
    let digits = rest
        .iter()
        .position(|b| !(b.is_ascii_digit() || *b == b'-'))?;
    let time = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    let rest = rest[digits..].strip_prefix(br#","actor":""#)?;
    let end = rest.iter().position(|b| *b == b'"' || *b == b'\\')?;
    if rest[end] != b'"' {
        return None;
    }
    Some((time, std::str::from_utf8(&rest[..end]).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The head read agrees with the full decode for any event, or declines.
        #[test]
        fn the_head_read_agrees_with_decoding(time in any::<i64>(), actor in ".{0,40}", allowed in any::<bool>()) {
            let event = Event {
                time_ms: time,
                actor: actor.clone(),
                role: "support".into(),
                purpose: Some("customer_support".into()),
                action: "subject.read".into(),
                subject: None,
                categories: vec!["contact".into()],
                recipient: None,
                outcome: if allowed { Outcome::Allowed } else { Outcome::Denied { reason: "x".into() } },
            };
            let data = event.to_leaf_data();
            match leaf_time_and_actor(&data) {
                Some((t, a)) => prop_assert_eq!((t, a), (time, actor.as_str())),
                None => prop_assert!(actor.contains('"') || actor.contains('\\') || actor.chars().any(|c| c.is_control())),
            }
        }
    }

    #[test]
    fn a_leaf_that_is_not_an_event_head_is_declined() {
        assert_eq!(leaf_time_and_actor(b"{}"), None);
        assert_eq!(leaf_time_and_actor(br#"{"time_ms":12,"role":"x"}"#), None);
        assert_eq!(
            leaf_time_and_actor(br#"{"time_ms":12,"actor":"key:a"#),
            None
        );
        assert_eq!(
            leaf_time_and_actor(br#"{"time_ms":12,"actor":"key:a","role":"r"}"#),
            Some((12, "key:a"))
        );
    }
}
