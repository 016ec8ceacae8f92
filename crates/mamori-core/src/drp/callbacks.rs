//! Status callbacks (DRP §3.04): when a request an agent filed is opened or changes, its status
//! object is POSTed to the callback URL the agent gave — in the background, with a few retries,
//! since the protocol asks for best effort and the agent can always read the status endpoint.
//! The callbacks consume the outbox (`request.opened`, `request.changed`), as webhook delivery
//! does, so a change made by any process reaches the agent, through core's `HttpSender`.

use std::sync::Arc;
use std::time::Duration;

use mamori_proto::Request;
use mamori_proto::outbox::EventType;
use mamori_store::{DrpRequestRow, RequestRow};

use super::status_json;
use crate::error::Result;
use crate::outbound::HttpSender;
use crate::vault::Vault;

/// Outbox events read per pass.
const PAGE: i64 = 500;

const ATTEMPTS: u32 = 4;
const FIRST_RETRY: Duration = Duration::from_millis(500);

/// The outbox consumer behind the callbacks: where it has read up to. It starts at the end of
/// the outbox (a restart does not send again what was sent before it).
pub struct Callbacks {
    sender: Arc<dyn HttpSender>,
    after: Option<i64>,
}

impl Callbacks {
    pub fn new(sender: Arc<dyn HttpSender>) -> Callbacks {
        Callbacks {
            sender,
            after: None,
        }
    }

    /// Sends the callbacks of the request events committed since the last pass; whether a
    /// full page was read (there may be more).
    pub async fn pass(&mut self, vault: &Vault) -> Result<bool> {
        let Some(after) = self.after else {
            self.after = Some(vault.store.last_event_seq().await?);
            return Ok(false);
        };
        let events = vault.store.events_after(after, PAGE).await?;
        for event in &events {
            self.after = Some(event.seq);
            let kind = EventType::parse(&event.kind);
            if !matches!(
                kind,
                Some(EventType::RequestOpened | EventType::RequestChanged)
            ) {
                continue;
            }
            let request = serde_json::from_str::<Request>(&event.payload).ok();
            if let Some(id) = request.and_then(|r| crate::parse_id(&r.id)) {
                vault.notify_agent_of(&self.sender, &id).await?;
            }
        }
        Ok(events.len() as i64 == PAGE)
    }
}

impl Vault {
    /// If an agent filed the request, its current status goes to the agent.
    async fn notify_agent_of(&self, sender: &Arc<dyn HttpSender>, id: &[u8; 16]) -> Result<()> {
        let (Some(row), Some(drp)) = (
            self.store.request(id).await?,
            self.store.drp_request(id).await?,
        ) else {
            return Ok(());
        };
        self.notify_agent(sender, &row, &drp);
        Ok(())
    }

    /// Posts the request's status to its callback, if it has one the outbound rules allow.
    fn notify_agent(&self, sender: &Arc<dyn HttpSender>, row: &RequestRow, drp: &DrpRequestRow) {
        let Some(url) = drp.status_callback.clone() else {
            return;
        };
        if self.outbound.check_url(&url).is_err() {
            tracing::warn!("a DRP status callback is not allowed by [outbound]; not sent");
            return;
        }
        let body = crate::outbox::payload(&status_json(row, drp));
        let sender = sender.clone();
        tokio::spawn(async move {
            for attempt in 0..ATTEMPTS {
                let status = sender.post_json(&url, &[], body.clone()).await;
                if status.is_some_and(|s| (200..300).contains(&s)) {
                    return;
                }
                tokio::time::sleep(FIRST_RETRY * 2u32.pow(attempt)).await;
            }
            tracing::warn!("a DRP status callback was not accepted after {ATTEMPTS} attempts");
        });
    }
}
