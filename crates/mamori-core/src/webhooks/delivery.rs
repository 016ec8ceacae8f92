//! Webhook delivery: one task per subscription reads the outbox in order from its cursor and
//! POSTs each wanted event, signed per the Standard Webhooks specification (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`). Failures are retried with
//! exponential backoff and full jitter, then dead-lettered; a slow or dead target holds up only
//! its own subscription. Progress is stored, so a restart resumes where delivery stood: an event
//! is sent at least once (receivers de-duplicate on `webhook-id`).
//!
//! The job runner ([`crate::jobs`]) calls [`Deliveries::reconcile`] to keep one task per active
//! subscription; the HTTP client is the server's, behind [`HttpSender`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mamori_store::{Change, OutboxRow, WebhookRow};

use super::wants;
use crate::error::Result;
use crate::leases::Lease;
use crate::outbound::HttpSender;
use crate::vault::Vault;
use crate::{format_id, format_time};

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
/// How often the subscriptions are read again (new ones start, removed ones stop).
pub(crate) const RESCAN: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// Events read per page; progress is stored once per page (and at every failure), not per
/// delivery, so a fast target is not held to one commit per event. After a crash the rest of a
/// page is sent again: delivery is at least once, receivers de-duplicate on `webhook-id`.
const PAGE: i64 = 500;

/// One delivery task per active subscription; dropping this stops them all.
pub(crate) struct Deliveries {
    vault: Vault,
    /// This server's name for its leases: each subscription is delivered by one server.
    holder: Arc<str>,
    sender: Arc<dyn HttpSender>,
    settings: WebhookSettings,
    tasks: HashMap<[u8; 16], tokio::task::JoinHandle<()>>,
}

impl Drop for Deliveries {
    fn drop(&mut self) {
        for task in self.tasks.values() {
            task.abort();
        }
    }
}

impl Deliveries {
    pub(crate) fn new(
        vault: Vault,
        sender: Arc<dyn HttpSender>,
        settings: WebhookSettings,
        holder: Arc<str>,
    ) -> Self {
        Deliveries {
            vault,
            holder,
            sender,
            settings,
            tasks: HashMap::new(),
        }
    }

    /// Starts a task for each new subscription and stops those of removed ones.
    pub(crate) async fn reconcile(&mut self) -> Result<()> {
        let list = self.vault.store.webhooks().await?;
        self.tasks.retain(|id, task| {
            let keep = list.iter().any(|w| &w.id == id) && !task.is_finished();
            if !keep {
                task.abort();
            }
            keep
        });
        for w in list {
            let (vault, sender, settings) =
                (self.vault.clone(), self.sender.clone(), self.settings);
            let lease = Lease::new(
                format!("webhook:{}", hex::encode(w.id)),
                self.holder.clone(),
            );
            self.tasks.entry(w.id).or_insert_with(|| {
                tokio::spawn(deliver_loop(vault, sender, w.id, settings, lease))
            });
        }
        Ok(())
    }
}

async fn deliver_loop(
    vault: Vault,
    sender: Arc<dyn HttpSender>,
    id: [u8; 16],
    settings: WebhookSettings,
    mut lease: Lease,
) {
    let mut commits = vault.ledger.commits();
    loop {
        commits.mark_unchanged();
        // Another server delivers this subscription while it holds the lease; this one looks
        // again now and then, to take over if that server stops.
        let held = match lease.hold(&*vault.store).await {
            Ok(Some(held)) => held,
            Ok(None) => {
                tokio::time::sleep(RESCAN).await;
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, code = e.code().as_str(), "webhook delivery lease unavailable; will retry");
                tokio::time::sleep(RESCAN).await;
                continue;
            }
        };
        let page = deliver_page(&vault, &*sender, &id, settings);
        match crate::leases::HELD.scope(held, page).await {
            Ok(Step::Gone) => return,
            Ok(Step::Again) => {}
            Ok(Step::Idle) => {
                let _ = tokio::time::timeout(IDLE_POLL, commits.changed()).await;
            }
            Ok(Step::Wait(wait)) => tokio::time::sleep(wait).await,
            Err(e) => {
                // Refused as stale: the lease may have passed to another server.
                lease.forget();
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
    sender: &dyn HttpSender,
    id: &[u8; 16],
    settings: WebhookSettings,
) -> Result<Step> {
    let Some(hook) = vault.store.webhook(id).await? else {
        return Ok(Step::Gone);
    };
    if hook.removed_ms.is_some() {
        return Ok(Step::Gone);
    }
    if hook.paused_ms.is_some() {
        // Held, not skipped: the cursor stays where it is until the subscription is resumed.
        return Ok(Step::Wait(RESCAN));
    }
    let now = vault.now_ms();
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
        match send(vault, sender, &hook, event).await {
            Some(code) if (200..300).contains(&code) => {
                (cursor, status, attempts_before) = (event.seq, Some(i64::from(code)), 0);
            }
            failed => {
                let failure = Failure {
                    event,
                    status: failed.map(i64::from),
                    attempts_before,
                    cursor,
                };
                record(
                    vault,
                    after_failure(&hook, failure, settings, vault.now_ms()),
                )
                .await?;
                return Ok(Step::Again);
            }
        }
    }
    record(vault, vec![progress(&hook, cursor, 0, 0, status)]).await?;
    Ok(Step::Again)
}

/// Stores where a subscription's delivery stands (and a dead letter if one was given up). No
/// ledger event: delivery bookkeeping is not an access to personal data, and the outbox
/// events it sends were ledgered when they were written.
async fn record(vault: &Vault, changes: Vec<Change>) -> Result<()> {
    vault.ledger.submit(changes, vec![]).await??;
    Ok(())
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
fn after_failure(
    hook: &WebhookRow,
    failure: Failure,
    settings: WebhookSettings,
    now: i64,
) -> Vec<Change> {
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
                failed_ms: now,
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
    let next = now + wait.as_millis() as i64;
    // The cursor stays just before this event (everything before it was sent or not wanted).
    vec![progress(hook, cursor, attempts, next, status)]
}

/// POSTs one event; the HTTP status, or None if the target could not be reached in time.
async fn send(
    vault: &Vault,
    sender: &dyn HttpSender,
    hook: &WebhookRow,
    event: &OutboxRow,
) -> Option<u16> {
    if vault.outbound.check_url(&hook.url).is_err() {
        tracing::warn!("a webhook target is no longer allowed by [outbound]; not sent");
        return None;
    }
    let msg_id = format_id(&event.id);
    let timestamp = vault.now_ms() / 1000;
    let body = serde_json::json!({
        "type": event.kind,
        "timestamp": format_time(event.created_ms),
        "data": crate::outbox::event_data(event),
    })
    .to_string();
    let signed = format!("{msg_id}.{timestamp}.{body}");
    let signature = |version: i64| {
        let secret = vault.keyring.webhook_secret(&hook.id, version);
        let mac = mamori_crypto::hmac_sha256(secret.as_ref(), signed.as_bytes());
        format!("v1,{}", STANDARD.encode(mac))
    };
    let mut signatures = signature(hook.secret_version);
    // During a rotation's grace period the previous secret signs too (space-separated, as
    // Standard Webhooks allows), so a receiver still holding it verifies.
    if hook
        .previous_secret_until_ms
        .is_some_and(|until| until > vault.now_ms())
    {
        signatures = format!("{signatures} {}", signature(hook.secret_version - 1));
    }
    let headers = [
        ("webhook-id", msg_id),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signatures),
    ];
    sender.post_json(&hook.url, &headers, body).await
}
