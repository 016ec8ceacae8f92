//! Status callbacks (DRP §3.04): when a request an agent filed changes, its status object is
//! POSTed to the callback URL the agent gave — in the background, with a few retries, since the
//! protocol asks for best effort and the agent can always read the status endpoint.

use std::sync::Arc;
use std::time::Duration;

use mamori_store::{DrpRequestRow, RequestRow};

use super::status_json;
use crate::outbound::HttpSender;
use crate::vault::Vault;

const ATTEMPTS: u32 = 4;
const FIRST_RETRY: Duration = Duration::from_millis(500);

impl Vault {
    /// After staff act on a request: if an agent filed it, its new status goes to the agent.
    pub async fn notify_agent_of(&self, sender: &Arc<dyn HttpSender>, row: &RequestRow) {
        match self.store.drp_request(&row.id).await {
            Ok(Some(drp)) => self.notify_agent(sender, row, &drp),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not look up a request's agent"),
        }
    }

    /// Posts the request's status to its callback, if it has one the outbound rules allow.
    pub fn notify_agent(
        &self,
        sender: &Arc<dyn HttpSender>,
        row: &RequestRow,
        drp: &DrpRequestRow,
    ) {
        let Some(url) = drp.status_callback.clone() else {
            return;
        };
        if self.outbound.check_url(&url).is_err() {
            tracing::warn!("a DRP status callback is not allowed by [outbound]; not sent");
            return;
        }
        let body = status_json(row, drp).to_string();
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
