//! Webhook delivery: one task per subscription reads the outbox in order from its cursor and
//! POSTs each wanted event, signed per the Standard Webhooks specification (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`). Failures are retried with
//! exponential backoff and full jitter, then dead-lettered; a slow or dead target holds up only
//! its own subscription. Progress is stored, so a restart resumes where delivery stood: an event
//! is sent at least once (receivers de-duplicate on `webhook-id`).

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mamori_core::Vault;
use mamori_core::webhooks::wants;
use mamori_store::{Change, OutboxRow, WebhookRow};

/// How deliveries are retried.
#[derive(Debug, Clone, Copy)]
pub struct WebhookSettings {
    /// Attempts per event before it is dead-lettered.
    pub max_attempts: u32,
    /// The first retry waits up to this long; each further one doubles it (capped at 10 min).
    pub backoff_base: Duration,
    /// A target that has not answered by then counts as failed.
    pub timeout: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            max_attempts: 8,
            backoff_base: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
        }
    }
}

const IDLE_POLL: Duration = Duration::from_millis(50);
const RESCAN: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(600);

/// Starts the supervisor that keeps one delivery task per active subscription.
pub fn spawn(vault: Vault, settings: WebhookSettings) -> tokio::task::JoinHandle<()> {
    tokio::spawn(supervise(vault, settings))
}

async fn supervise(vault: Vault, settings: WebhookSettings) {
    let client = match reqwest::Client::builder().timeout(settings.timeout).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook client could not start; no deliveries");
            return;
        }
    };
    let mut tasks: HashMap<[u8; 16], tokio::task::JoinHandle<()>> = HashMap::new();
    loop {
        match vault.store.webhooks().await {
            Ok(list) => {
                tasks.retain(|id, task| {
                    let keep = list.iter().any(|w| &w.id == id) && !task.is_finished();
                    if !keep {
                        task.abort();
                    }
                    keep
                });
                for w in list {
                    tasks.entry(w.id).or_insert_with(|| {
                        tokio::spawn(deliver_loop(vault.clone(), client.clone(), w.id, settings))
                    });
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading webhook subscriptions failed; will retry")
            }
        }
        tokio::time::sleep(RESCAN).await;
    }
}

async fn deliver_loop(
    vault: Vault,
    client: reqwest::Client,
    id: [u8; 16],
    settings: WebhookSettings,
) {
    loop {
        match deliver_next(&vault, &client, &id, settings).await {
            Ok(Some(wait)) => tokio::time::sleep(wait).await,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "webhook delivery bookkeeping failed; will retry");
                tokio::time::sleep(RESCAN).await;
            }
        }
    }
}

/// Handles the next step for one subscription; returns how long to wait before the next one,
/// or None once the subscription is gone.
async fn deliver_next(
    vault: &Vault,
    client: &reqwest::Client,
    id: &[u8; 16],
    settings: WebhookSettings,
) -> anyhow::Result<Option<Duration>> {
    let Some(hook) = vault.store.webhook(id).await? else {
        return Ok(None);
    };
    if hook.removed_ms.is_some() {
        return Ok(None);
    }
    let now = mamori_core::now_ms();
    if hook.next_attempt_ms > now {
        let wait = Duration::from_millis((hook.next_attempt_ms - now) as u64);
        return Ok(Some(wait.min(RESCAN)));
    }
    let events = vault.store.events_after(hook.cursor, 200).await?;
    let Some(last) = events.last() else {
        return Ok(Some(IDLE_POLL));
    };
    let Some(event) = events.iter().find(|e| wants(&hook, &e.kind)) else {
        // Nothing this subscription wants: move past these events.
        vault
            .record_webhook_progress(vec![progress(&hook, last.seq, 0, 0, hook.last_status)])
            .await?;
        return Ok(Some(Duration::ZERO));
    };
    let status = send(vault, client, &hook, event).await;
    let changes = match status {
        Some(code) if (200..300).contains(&code) => {
            vec![progress(&hook, event.seq, 0, 0, Some(code))]
        }
        failed => after_failure(&hook, event, failed, settings),
    };
    vault.record_webhook_progress(changes).await?;
    Ok(Some(Duration::ZERO))
}

fn progress(
    hook: &WebhookRow,
    cursor: i64,
    attempts: i64,
    next_attempt_ms: i64,
    last_status: Option<i64>,
) -> Change {
    Change::WebhookProgress {
        id: hook.id,
        cursor,
        attempts,
        next_attempt_ms,
        last_status,
    }
}

/// A failed attempt: wait and retry, or dead-letter the event and move on.
fn after_failure(
    hook: &WebhookRow,
    event: &OutboxRow,
    status: Option<i64>,
    settings: WebhookSettings,
) -> Vec<Change> {
    let attempts = hook.attempts + 1;
    if attempts >= i64::from(settings.max_attempts) {
        tracing::warn!(seq = event.seq, attempts, "webhook event dead-lettered");
        return vec![
            Change::DeadLetter {
                webhook_id: hook.id,
                seq: event.seq,
                attempts,
                last_status: status,
                failed_ms: mamori_core::now_ms(),
            },
            progress(hook, event.seq, 0, 0, status),
        ];
    }
    let exponent = (attempts - 1).clamp(0, 20) as u32;
    let ceiling = settings
        .backoff_base
        .saturating_mul(1 << exponent)
        .min(MAX_BACKOFF);
    // Full jitter: anywhere up to the ceiling, so many subscribers do not retry in lock-step.
    let wait = ceiling.mul_f64(rand::random_range(0.0..1.0));
    let next = mamori_core::now_ms() + wait.as_millis() as i64;
    // The cursor stays just before this event (events in between were not wanted).
    vec![progress(hook, event.seq - 1, attempts, next, status)]
}

/// POSTs one event; the HTTP status, or None if the target could not be reached in time.
async fn send(
    vault: &Vault,
    client: &reqwest::Client,
    hook: &WebhookRow,
    event: &OutboxRow,
) -> Option<i64> {
    let msg_id = mamori_core::format_id(&event.id);
    let timestamp = mamori_core::now_ms() / 1000;
    let data: serde_json::Value = serde_json::from_str(&event.payload).unwrap_or_default();
    let body = serde_json::json!({
        "type": event.kind,
        "timestamp": mamori_core::format_time(event.created_ms),
        "data": data,
    })
    .to_string();
    let secret = vault.keyring.webhook_secret(&hook.id);
    let signed = format!("{msg_id}.{timestamp}.{body}");
    let signature = STANDARD.encode(mamori_crypto::hmac_sha256(
        secret.as_ref(),
        signed.as_bytes(),
    ));
    let response = client
        .post(&hook.url)
        .header("content-type", "application/json")
        .header("webhook-id", &msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", format!("v1,{signature}"))
        .body(body)
        .send()
        .await;
    match response {
        Ok(r) => Some(i64::from(r.status().as_u16())),
        Err(e) => {
            tracing::debug!(error = %e, "webhook target unreachable");
            None
        }
    }
}
