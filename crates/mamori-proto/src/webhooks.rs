//! Webhook subscriptions on the wire (deliveries follow Standard Webhooks).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// The `seq` of the last event already processed (0 to start from the beginning).
    pub after: Option<i64>,
    /// At most this many events (1–1000, default 100).
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddWebhook {
    /// Where events are POSTed (http or https).
    pub url: String,
    /// Event types: consent.changed, subject.erased, or * for all.
    pub events: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookBody {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: String,
    /// Last outbox seq handled.
    pub cursor: i64,
    /// Failed attempts on the next event.
    pub attempts: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<i64>,
    /// Since when nothing is sent (RFC 3339), if paused; resuming sends what was held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_at: Option<String>,
    /// After a rotation with a grace period: until when the previous secret also signs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_until: Option<String>,
    /// Only when created or re-keyed: the Standard Webhooks signing secret (`whsec_…`), shown
    /// once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Deliver again every wanted event from this feed position (`seq`) on, dead letters included.
    pub from: i64,
}

/// `POST /v1/webhooks/{id}/rotate-secret`: a new signing secret.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// Hours the previous secret keeps signing beside the new one (0–168; 0: it stops at
    /// once, the choice when it leaked).
    #[schema(minimum = 0, maximum = 168)]
    pub grace_hours: u32,
}
