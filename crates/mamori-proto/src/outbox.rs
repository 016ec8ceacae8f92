//! The outbox on the wire: events as the pull feed and webhooks carry them. Their `data` holds
//! ids and states only, never a personal value.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An outbox event as the feed and webhooks show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OutboxEvent {
    /// Position in the feed; pass the last one seen as `after` to continue.
    pub seq: i64,
    pub id: String,
    /// consent.changed, subject.erased, request.opened, …
    #[serde(rename = "type")]
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
