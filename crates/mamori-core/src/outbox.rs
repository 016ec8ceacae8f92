//! The transactional outbox: every change other systems must hear about (a consent changed, a
//! subject was erased, …) is written as an event in the same transaction as the change, so it
//! can be neither lost nor announced without having happened. Webhook delivery and the pull feed
//! read from it. Payloads carry ids and states, never personal values.

use mamori_policy::AdminPermission;
pub use mamori_proto::outbox::EventType;
use mamori_store::{Change, OutboxRow};
use serde_json::Value;

use crate::access::Permission;
use crate::error::Result;
use crate::vault::{Actor, Vault};
use crate::{format_id, format_time, new_id};

/// Events per feed page at most.
pub const MAX_FEED_PAGE: i64 = 1_000;

/// An event's payload as stored: its wire type as JSON (plain structs of text, numbers and
/// lists, which always serialise).
pub(crate) fn payload(data: &impl serde::Serialize) -> String {
    serde_json::to_string(data).unwrap_or_else(|_| "null".into())
}

/// The change that announces `kind` about `subject` with `data`, at `created_ms`.
pub fn announce(
    kind: EventType,
    subject: Option<&[u8; 16]>,
    data: &impl serde::Serialize,
    created_ms: i64,
) -> Change {
    Change::Announce(OutboxRow {
        seq: 0,
        id: new_id(),
        kind: kind.as_str().to_string(),
        subject_id: subject.copied(),
        payload: payload(data),
        created_ms,
    })
}

impl crate::Vault {
    /// The change that announces `kind` about `subject` with `data`, now.
    pub(crate) fn announce(
        &self,
        kind: EventType,
        subject: Option<&[u8; 16]>,
        data: &impl serde::Serialize,
    ) -> Change {
        announce(kind, subject, data, self.now_ms())
    }
}

/// An outbox event as the feed and webhooks show it (the wire type).
pub use mamori_proto::outbox::OutboxEvent as FeedEvent;

/// An event's `data` as the feed and webhooks send it.
pub fn event_data(row: &OutboxRow) -> Value {
    let mut data = serde_json::from_str(&row.payload).unwrap_or(Value::Null);
    // Events announced to many subjects at once store the subject only in its column.
    if let (Some(subject), Value::Object(map)) = (row.subject_id, &mut data) {
        map.entry("subject")
            .or_insert_with(|| Value::String(format_id(&subject)));
    }
    data
}

/// A stored outbox row as the feed shows it.
pub fn feed_event(row: OutboxRow) -> FeedEvent {
    let data = event_data(&row);
    FeedEvent {
        seq: row.seq,
        id: format_id(&row.id),
        kind: row.kind,
        timestamp: format_time(row.created_ms),
        data,
    }
}

impl Vault {
    /// Events after `after` (oldest first, at most `limit`); the read is ledgered.
    pub async fn events_after(
        &self,
        actor: &Actor,
        after: i64,
        limit: i64,
    ) -> Result<Vec<FeedEvent>> {
        let events = Permission::Admin(AdminPermission::Events);
        let granted = self.grant(actor, events, "events.read").await?;
        let rows = self
            .store
            .events_after(after.max(0), limit.clamp(1, MAX_FEED_PAGE))
            .await?;
        self.ledger.submit(vec![], vec![granted.event()]).await??;
        Ok(rows.into_iter().map(feed_event).collect())
    }
}
