//! The HTTP client for Mamori's own outgoing requests (webhook deliveries, DRP status
//! callbacks), held to [`mamori_core::outbound`]: its resolver hands the connector only
//! addresses that pass, so the address checked is the address connected to; redirects are not
//! followed (a redirect could point anywhere); a URL whose host is an address is checked before
//! each send, since no resolver sees it.

use std::sync::Arc;
use std::time::Duration;

use mamori_core::outbound::Outbound;
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

/// Whether `url` may be sent to now: its form, and its host if that is an address.
pub fn may_send(outbound: &Outbound, url: &str) -> bool {
    outbound.check_url(url).is_ok()
}
