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

/// With nothing to send, a task waits for a commit in this process, or this long (events
/// written by another process, such as `mamori import consents`, are found by polling).
const IDLE_POLL: Duration = Duration::from_millis(250);
const RESCAN: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// Events read per page; progress is stored once per page (and at every failure), not per
/// delivery, so a fast target is not held to one commit per event. After a crash the rest of a
/// page is sent again: delivery is at least once, receivers de-duplicate on `webhook-id`.
const PAGE: i64 = 500;

/// Starts the supervisor that keeps one delivery task per active subscription.
pub fn spawn(vault: Vault, settings: WebhookSettings) -> tokio::task::JoinHandle<()> {
    tokio::spawn(supervise(vault, settings))
}

async fn supervise(vault: Vault, settings: WebhookSettings) {
    let client = match crate::outbound::client(vault.outbound.clone(), settings.timeout) {
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
    let mut commits = vault.ledger.commits();
    loop {
        commits.mark_unchanged();
        match deliver_page(&vault, &client, &id, settings).await {
            Ok(Step::Gone) => return,
            Ok(Step::Again) => {}
            Ok(Step::Idle) => {
                let _ = tokio::time::timeout(IDLE_POLL, commits.changed()).await;
            }
            Ok(Step::Wait(wait)) => tokio::time::sleep(wait).await,
            Err(e) => {
                tracing::warn!(error = %e, "webhook delivery bookkeeping failed; will retry");
                tokio::time::sleep(RESCAN).await;
            }
        }
    }
}

/// What a subscription's task does next.
enum Step {
    /// The subscription was removed.
    Gone,
    /// More may be waiting: go on at once.
    Again,
    /// Nothing to send: wait for a commit.
    Idle,
    /// Backing off after a failure.
    Wait(Duration),
}

/// Sends the next page of wanted events in order, stopping at the first failure, and stores
/// how far it got.
async fn deliver_page(
    vault: &Vault,
    client: &reqwest::Client,
    id: &[u8; 16],
    settings: WebhookSettings,
) -> anyhow::Result<Step> {
    let Some(hook) = vault.store.webhook(id).await? else {
        return Ok(Step::Gone);
    };
    if hook.removed_ms.is_some() {
        return Ok(Step::Gone);
    }
    let now = mamori_core::now_ms();
    if hook.next_attempt_ms > now {
        let wait = Duration::from_millis((hook.next_attempt_ms - now) as u64);
        return Ok(Step::Wait(wait.min(RESCAN)));
    }
    let events = vault.store.events_after(hook.cursor, PAGE).await?;
    if events.is_empty() {
        return Ok(Step::Idle);
    }
    let (mut cursor, mut status) = (hook.cursor, hook.last_status);
    // The stored attempts count belongs to the first wanted event of the page.
    let mut attempts_before = hook.attempts;
    for event in &events {
        if !wants(&hook, &event.kind) {
            cursor = event.seq;
            continue;
        }
        match send(vault, client, &hook, event).await {
            Some(code) if (200..300).contains(&code) => {
                (cursor, status, attempts_before) = (event.seq, Some(code), 0);
            }
            failed => {
                let failure = Failure {
                    event,
                    status: failed,
                    attempts_before,
                    cursor,
                };
                vault
                    .record_webhook_progress(after_failure(&hook, failure, settings))
                    .await?;
                return Ok(Step::Again);
            }
        }
    }
    vault
        .record_webhook_progress(vec![progress(&hook, cursor, 0, 0, status)])
        .await?;
    Ok(Step::Again)
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
        expected_cursor: Some(hook.cursor),
        cursor,
        attempts,
        next_attempt_ms,
        last_status,
    }
}

/// A failed delivery within a page.
struct Failure<'e> {
    event: &'e OutboxRow,
    status: Option<i64>,
    /// Failed attempts at this event before this one.
    attempts_before: i64,
    /// Where delivery stands: everything up to here was delivered or not wanted.
    cursor: i64,
}

/// A failed attempt: wait and retry, or dead-letter the event and move on.
fn after_failure(hook: &WebhookRow, failure: Failure, settings: WebhookSettings) -> Vec<Change> {
    let Failure {
        event,
        status,
        attempts_before,
        cursor,
    } = failure;
    let attempts = attempts_before + 1;
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
    // The cursor stays just before this event (everything before it was sent or not wanted).
    vec![progress(hook, cursor, attempts, next, status)]
}

/// POSTs one event; the HTTP status, or None if the target could not be reached in time.
async fn send(
    vault: &Vault,
    client: &reqwest::Client,
    hook: &WebhookRow,
    event: &OutboxRow,
) -> Option<i64> {
    if !crate::outbound::may_send(&vault.outbound, &hook.url) {
        tracing::warn!("a webhook target is no longer allowed by [outbound]; not sent");
        return None;
    }
    let msg_id = mamori_core::format_id(&event.id);
    let timestamp = mamori_core::now_ms() / 1000;
    let data = mamori_core::outbox::event_data(event);
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
