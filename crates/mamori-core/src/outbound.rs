//! Where Mamori may send requests of its own (webhook deliveries, DRP status callbacks).
//!
//! A URL someone gives Mamori must not turn it into a proxy into the business's own network
//! (server-side request forgery): by default a target must be `https://` and every address
//! its host resolves to must be public — not loopback, private, link-local (which holds the
//! clouds' metadata services), carrier-grade NAT, unspecified, multicast or reserved. The
//! operator may allow networks (`[outbound] allow = ["10.1.0.0/16"]` in `mamori.toml`; the demo
//! and tests allow loopback); plain `http://` is accepted only to allowed networks.
//!
//! Names are resolved once per connection by the HTTP client's resolver, which hands the
//! client only addresses that pass ([`Outbound::resolve`]), so a name that re-resolves to an
//! internal address between the check and the connection (DNS rebinding) is still refused.

use mamori_proto::ErrorCode;
use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

use crate::error::{CoreError, Result};

/// Networks the operator allows beyond the public internet.
#[derive(Debug, Clone, Default)]
pub struct Outbound {
    allow: Vec<IpNet>,
}

/// Why a target was refused. Never carries the URL or an address: it is shown to callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not an absolute http(s) URL with a host.
    Malformed,
    /// `http://` to a network the operator did not allow.
    PlainHttp,
    /// The host is (or resolves to) an internal address of this kind.
    Internal(&'static str),
    /// The host name does not resolve.
    Unresolvable,
}

impl Refusal {
    pub fn message(self) -> String {
        match self {
            Refusal::Malformed => "give an absolute http:// or https:// URL with a host".into(),
            Refusal::PlainHttp => {
                "plain http:// is accepted only to networks allowed in [outbound] allow of \
                 mamori.toml; use https://"
                    .into()
            }
            Refusal::Internal(kind) => format!(
                "the URL's host is a {kind} address; Mamori sends nothing to internal networks \
                 unless [outbound] allow in mamori.toml names them"
            ),
            Refusal::Unresolvable => "the URL's host name does not resolve".into(),
        }
    }

    pub fn into_error(self, field: &'static str) -> CoreError {
        CoreError::invalid(ErrorCode::OutboundNotAllowed, field, self.message())
    }
}

/// The kind of internal address `ip` is, or None for a public one.
pub fn internal_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() {
                Some("private")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if a == 100 && (64..128).contains(&b) {
                Some("shared (carrier-grade NAT)")
            } else if v4.is_unspecified() || a == 0 {
                Some("unspecified")
            } else if v4.is_multicast() || v4.is_broadcast() || a >= 240 {
                Some("multicast or reserved")
            } else if (a, b, c) == (192, 0, 0) || (a == 198 && (b == 18 || b == 19)) {
                Some("reserved")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            // An IPv4 address written as IPv6 is judged as the IPv4 address it is.
            if let Some(v4) = v6.to_ipv4_mapped() {
                return internal_kind(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if first & 0xfe00 == 0xfc00 {
                Some("private")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if v6.is_multicast() {
                Some("multicast or reserved")
            } else if first == 0x64 && v6.segments()[1] == 0xff9b {
                // NAT64 reaches IPv4 addresses, internal ones included.
                Some("NAT64")
            } else {
                None
            }
        }
    }
}

/// An address as one to check: IPv4-mapped IPv6 addresses as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl Outbound {
    /// Allows `networks` (CIDR such as `10.0.0.0/8`, or a single address).
    pub fn allowing(networks: &[String]) -> std::result::Result<Outbound, String> {
        let mut allow = Vec::new();
        for n in networks {
            let net = n
                .parse::<IpNet>()
                .or_else(|_| n.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!("`{n}` is not a network: write an address or a CIDR like 10.0.0.0/8")
                })?;
            allow.push(net);
        }
        Ok(Outbound { allow })
    }

    /// Loopback only (IPv4 and IPv6): for the demo and tests, whose receivers run locally.
    pub fn loopback() -> Outbound {
        Outbound::allowing(&["127.0.0.0/8".into(), "::1/128".into()]).unwrap_or_default()
    }

    fn allowed(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.allow.iter().any(|n| n.contains(&ip))
    }

    /// Whether a connection to `ip` may be made (public, or in an allowed network).
    pub fn permits(&self, ip: IpAddr) -> std::result::Result<(), Refusal> {
        match internal_kind(ip) {
            Some(kind) if !self.allowed(ip) => Err(Refusal::Internal(kind)),
            _ => Ok(()),
        }
    }

    /// Checks a URL's form and, if its host is an address, the address. Names are checked
    /// where they are resolved.
    pub fn check_url(&self, text: &str) -> std::result::Result<Target, Refusal> {
        let url = url::Url::parse(text).map_err(|_| Refusal::Malformed)?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(Refusal::Malformed),
        };
        let port = url.port_or_known_default().ok_or(Refusal::Malformed)?;
        let host = match url.host().ok_or(Refusal::Malformed)? {
            url::Host::Domain(d) => Host::Name(d.to_string()),
            url::Host::Ipv4(a) => Host::Address(IpAddr::V4(a)),
            url::Host::Ipv6(a) => Host::Address(IpAddr::V6(a)),
        };
        if let Host::Address(ip) = host {
            self.permits(ip)?;
            if !https && !self.allowed(ip) {
                return Err(Refusal::PlainHttp);
            }
        }
        Ok(Target { host, port, https })
    }

    /// Resolves `host` and keeps only the addresses that may be reached; refuses when none is
    /// left. This is what the HTTP client connects to, so the check and the connection use the
    /// same answer.
    pub async fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> std::result::Result<Vec<SocketAddr>, Refusal> {
        let found: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| Refusal::Unresolvable)?
            .collect();
        let mut refusal = Refusal::Unresolvable;
        let mut kept = Vec::new();
        for addr in found {
            match self.permits(addr.ip()) {
                Ok(()) => kept.push(addr),
                Err(r) => refusal = r,
            }
        }
        if kept.is_empty() {
            Err(refusal)
        } else {
            Ok(kept)
        }
    }

    /// The whole check for a URL someone gives Mamori to call later: its form, its addresses
    /// (every one must pass), and plain http only where every address is allowed.
    pub async fn check_target(&self, text: &str) -> Result<()> {
        let refuse = |r: Refusal| r.into_error("url");
        let target = self.check_url(text).map_err(refuse)?;
        let Host::Name(name) = &target.host else {
            return Ok(());
        };
        let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), target.port))
            .await
            .map_err(|_| refuse(Refusal::Unresolvable))?
            .collect();
        if found.is_empty() {
            return Err(refuse(Refusal::Unresolvable));
        }
        for addr in &found {
            self.permits(addr.ip()).map_err(refuse)?;
            if !target.https && !self.allowed(addr.ip()) {
                return Err(refuse(Refusal::PlainHttp));
            }
        }
        Ok(())
    }
}

/// Sends Mamori's own HTTP requests. Core decides what is sent, when and how often (webhook
/// deliveries, DRP status callbacks); the server supplies the client, whose resolver applies
/// [`Outbound::resolve`] to every connection, so core carries no HTTP stack.
#[async_trait::async_trait]
pub trait HttpSender: Send + Sync {
    /// POSTs `body` (JSON) with `headers`; the HTTP status, or None if the target could not be
    /// reached in time.
    async fn post_json(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: String,
    ) -> Option<u16>;
}

/// A checked URL's destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: Host,
    pub port: u16,
    pub https: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Name(String),
    Address(IpAddr),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn internal_addresses_are_named_and_public_ones_pass() {
        for (text, kind) in [
            ("127.0.0.1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("100.64.0.1", "shared (carrier-grade NAT)"),
            ("0.0.0.0", "unspecified"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fd00:ec2::254", "private"),
            ("fe80::1", "link-local"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "link-local"),
            ("64:ff9b::a00:1", "NAT64"),
            ("224.0.0.1", "multicast or reserved"),
        ] {
            assert_eq!(internal_kind(ip(text)), Some(kind), "{text}");
        }
        for text in [
            "93.184.216.34",
            "2606:2800:220:1:248:1893:25c8:1946",
            "8.8.8.8",
        ] {
            assert_eq!(internal_kind(ip(text)), None, "{text}");
        }
    }

    #[test]
    fn urls_need_https_and_a_public_or_allowed_host() {
        let strict = Outbound::default();
        assert!(strict.check_url("https://93.184.216.34/hook").is_ok());
        assert!(strict.check_url("https://hooks.example/x").is_ok());
        assert_eq!(
            strict.check_url("http://127.0.0.1:9000/").unwrap_err(),
            Refusal::Internal("loopback")
        );
        assert_eq!(
            strict.check_url("https://[::ffff:10.0.0.1]/").unwrap_err(),
            Refusal::Internal("private")
        );
        assert_eq!(
            strict.check_url("http://93.184.216.34/").unwrap_err(),
            Refusal::PlainHttp
        );
        for bad in [
            "ftp://x.example/",
            "hooks.example",
            "https://",
            "file:///etc/passwd",
        ] {
            assert_eq!(
                strict.check_url(bad).unwrap_err(),
                Refusal::Malformed,
                "{bad}"
            );
        }
        let local = Outbound::loopback();
        assert!(local.check_url("http://127.0.0.1:9000/").is_ok());
        assert!(local.check_url("http://[::1]:9000/").is_ok());
        assert!(local.check_url("http://10.0.0.1/").is_err());
        assert!(Outbound::allowing(&["not a net".into()]).is_err());
        let lan = Outbound::allowing(&["10.1.0.0/16".into()]).unwrap();
        assert!(lan.check_url("http://10.1.2.3/").is_ok());
        assert!(lan.check_url("http://10.2.0.1/").is_err());
    }

    #[tokio::test]
    async fn names_are_resolved_and_checked() {
        let strict = Outbound::default();
        assert_eq!(
            strict.resolve("localhost", 80).await.unwrap_err(),
            Refusal::Internal("loopback")
        );
        let e = strict.check_target("https://localhost/hook").await;
        assert!(matches!(
            e,
            Err(CoreError::Invalid {
                code: ErrorCode::OutboundNotAllowed,
                ..
            })
        ));
        let local = Outbound::loopback();
        assert!(local.resolve("localhost", 80).await.is_ok());
        assert!(local.check_target("http://localhost:9/").await.is_ok());
    }
}
