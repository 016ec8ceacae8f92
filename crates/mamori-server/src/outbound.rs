//! The HTTP client for Mamori's own outgoing requests (webhook deliveries, DRP status
//! callbacks), held to [`mamori_core::outbound`]: its resolver hands the connector only
//! addresses that pass, so the address checked is the address connected to; redirects are not
//! followed (a redirect could point anywhere); a URL whose host is an address is checked before
//! each send, since no resolver sees it.

use std::sync::Arc;
use std::time::Duration;

use mamori_core::outbound::{HttpSender, Outbound};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

struct CheckedResolver(Arc<Outbound>);

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let outbound = self.0.clone();
        Box::pin(async move {
            let addrs = outbound
                .resolve(name.as_str(), 0)
                .await
                .map_err(|r| Box::new(std::io::Error::other(r.message())))?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// A client for outgoing requests under `outbound`'s rules.
pub fn client(outbound: Arc<Outbound>, timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(CheckedResolver(outbound))
        .build()
}

/// What sends when no client could be built: nothing is sent (each attempt counts as failed).
pub struct Unavailable;

#[async_trait::async_trait]
impl HttpSender for Unavailable {
    async fn post_json(&self, _: &str, _: &[(&'static str, String)], _: String) -> Option<u16> {
        None
    }
}

/// A sender under `outbound`'s rules, or [`Unavailable`] (logged) if the client cannot start.
pub fn sender(
    outbound: Arc<Outbound>,
    timeout: Duration,
    purpose: &'static str,
) -> Arc<dyn HttpSender> {
    match client(outbound, timeout) {
        Ok(client) => Arc::new(Sender(client)),
        Err(e) => {
            tracing::error!(error = %e, purpose, "the HTTP client could not start; nothing will be sent");
            Arc::new(Unavailable)
        }
    }
}

/// Core's [`HttpSender`] over a client made by [`client`].
pub struct Sender(reqwest::Client);

#[async_trait::async_trait]
impl HttpSender for Sender {
    async fn post_json(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: String,
    ) -> Option<u16> {
        let mut request = self
            .0
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        match request.body(body).send().await {
            Ok(response) => Some(response.status().as_u16()),
            Err(e) => {
                // Without the URL: a callback URL is the agent's to choose and may carry anything.
                let e = e.without_url();
                tracing::debug!(error = %e, "an outgoing request's target was unreachable");
                None
            }
        }
    }
}
