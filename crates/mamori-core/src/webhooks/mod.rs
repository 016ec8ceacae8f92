//! Webhook subscriptions: who wants which outbox events, and where each subscription's delivery
//! stands. The delivery worker ([`delivery`]) reads the outbox in order for each subscription
//! and records what happened; signing follows the Standard Webhooks specification, with a
//! per-subscription secret derived from the master key (never stored).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mamori_policy::AdminPermission;
use mamori_proto::ErrorCode;
use mamori_proto::outbox::EventType;
use mamori_store::{Change, WebhookRow};

use crate::access::Permission;
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};
use crate::{format_id, format_time, new_id, parse_id};

mod delivery;
mod pause;
pub use delivery::WebhookSettings;
pub(crate) use delivery::{Deliveries, RESCAN};

const WEBHOOKS: Permission = Permission::Admin(AdminPermission::Webhooks);

/// The event types a subscription may ask for (`*` = all).
pub const EVENT_TYPES: [EventType; 10] = [
    EventType::ConsentChanged,
    EventType::SubjectErased,
    EventType::NoticePublished,
    EventType::LedgerHeadSigned,
    EventType::VendorErasureRequested,
    EventType::VendorCorrectionRequested,
    EventType::VendorOptoutRequested,
    EventType::VendorTaskReminder,
    EventType::VendorTaskConfirmed,
    EventType::VendorReviewDue,
];

fn event_type_list() -> String {
    EVENT_TYPES.map(EventType::as_str).join(", ")
}

#[derive(Debug, Clone)]
pub struct WebhookInfo {
    pub id: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub created_at: String,
    /// Last outbox seq handled.
    pub cursor: i64,
    /// Failed attempts on the next event.
    pub attempts: i64,
    pub last_status: Option<i64>,
    /// Since when nothing is sent (RFC 3339), if paused.
    pub paused_at: Option<String>,
    /// Until when the previous signing secret also signs, after a rotation with a grace period.
    pub previous_secret_until: Option<String>,
}

impl From<&WebhookRow> for WebhookInfo {
    fn from(w: &WebhookRow) -> Self {
        WebhookInfo {
            id: format_id(&w.id),
            url: w.url.clone(),
            event_types: w.event_types.split(',').map(str::to_string).collect(),
            created_at: format_time(w.created_ms),
            cursor: w.cursor,
            attempts: w.attempts,
            last_status: w.last_status,
            paused_at: w.paused_ms.map(format_time),
            previous_secret_until: w.previous_secret_until_ms.map(format_time),
        }
    }
}

/// Whether a subscription wants an event of `kind`.
pub fn wants(row: &WebhookRow, kind: &str) -> bool {
    row.event_types.split(',').any(|t| t == "*" || t == kind)
}

fn check_url(url: &str) -> Result<()> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2000
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid(
            ErrorCode::InvalidUrl,
            "url",
            "give an http:// or https:// URL of at most 2000 characters",
        ))
    }
}

fn check_types(types: &[String]) -> Result<String> {
    if types.is_empty() {
        return Err(CoreError::invalid(
            ErrorCode::InvalidEventTypes,
            "events",
            format!("name at least one event type: {} or *", event_type_list()),
        ));
    }
    for t in types {
        if t != "*" && !EVENT_TYPES.iter().any(|e| e.as_str() == t) {
            return Err(CoreError::invalid(
                ErrorCode::InvalidEventTypes,
                "events",
                format!("event types are: {} or *", event_type_list()),
            ));
        }
    }
    Ok(types.join(","))
}

fn unknown_webhook() -> CoreError {
    CoreError::invalid(
        ErrorCode::UnknownWebhook,
        "id",
        "no active webhook has this id",
    )
}

fn webhook_id(text: &str) -> Result<[u8; 16]> {
    parse_id(text).ok_or_else(|| {
        CoreError::invalid(
            ErrorCode::InvalidId,
            "id",
            "expected a webhook id (UUID) from `mamori webhook list`",
        )
    })
}

impl Vault {
    /// A version of the subscription's signing secret in Standard Webhooks form
    /// (`whsec_<base64>`).
    pub fn webhook_secret(&self, id: &[u8; 16], version: i64) -> String {
        format!(
            "whsec_{}",
            STANDARD.encode(*self.keyring.webhook_secret(id, version))
        )
    }

    /// Subscribes `url` to `types`, from the next event on. Returns it and its secret (shown once).
    pub async fn add_webhook(
        &self,
        by: &Actor,
        url: &str,
        types: &[String],
    ) -> Result<(WebhookInfo, String)> {
        let granted = self.grant(by, WEBHOOKS, "webhook.add").await?;
        check_url(url)?;
        self.outbound.check_target(url).await?;
        let event_types = check_types(types)?;
        let row = WebhookRow {
            id: new_id(),
            url: url.to_string(),
            event_types,
            created_ms: self.now_ms(),
            removed_ms: None,
            cursor: self.store.last_event_seq().await?,
            attempts: 0,
            next_attempt_ms: 0,
            last_status: None,
            paused_ms: None,
            secret_version: 0,
            previous_secret_until_ms: None,
        };
        let event = granted.event();
        self.ledger
            .submit(vec![Change::InsertWebhook(row.clone())], vec![event])
            .await??;
        Ok((WebhookInfo::from(&row), self.webhook_secret(&row.id, 0)))
    }

    pub async fn list_webhooks(&self, by: &Actor) -> Result<Vec<WebhookInfo>> {
        self.grant_and_ledger(by, WEBHOOKS, "webhook.list").await?;
        Ok(self
            .store
            .webhooks()
            .await?
            .iter()
            .map(WebhookInfo::from)
            .collect())
    }

    pub async fn remove_webhook(&self, by: &Actor, id: &str) -> Result<()> {
        let granted = self.grant(by, WEBHOOKS, "webhook.remove").await?;
        let id = webhook_id(id)?;
        let change = Change::RemoveWebhook {
            id,
            removed_ms: self.now_ms(),
        };
        let event = granted.event();
        self.ledger
            .submit(vec![change], vec![event])
            .await?
            .map_err(|_| unknown_webhook())
    }

    /// Sends everything again from outbox seq `from` on (dead letters included).
    pub async fn replay_webhook(&self, by: &Actor, id: &str, from: i64) -> Result<()> {
        let granted = self.grant(by, WEBHOOKS, "webhook.replay").await?;
        let id = webhook_id(id)?;
        self.active_webhook(&id).await?;
        let change = Change::WebhookProgress {
            id,
            expected_cursor: None,
            cursor: (from - 1).max(0),
            attempts: 0,
            next_attempt_ms: 0,
            last_status: None,
        };
        let event = granted.event();
        self.ledger.submit(vec![change], vec![event]).await??;
        Ok(())
    }

    async fn active_webhook(&self, id: &[u8; 16]) -> Result<WebhookRow> {
        (self.store.webhook(id).await?)
            .filter(|w| w.removed_ms.is_none())
            .ok_or_else(unknown_webhook)
    }
}
