//! Rate limits: per API key for authenticated requests, and per client address for failed
//! authentication (so a guessing client is shut out before its guesses are even checked).
//! GCRA via `governor`; answers are 429 problem+json with `Retry-After`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Limits chosen by the operator (`mamori serve --rate-limit`), and webhook retry settings.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub webhooks: mamori_core::webhooks::WebhookSettings,
    /// Requests per second allowed to one API key (bursts of twice that). 0 disables the limit.
    pub per_key: u32,
    /// Failed authentications per second allowed from one address (bursts of five times that).
    pub failed_auth_per_ip: u32,
    /// Privacy-center sign-in posts (code requests and code entries) per minute per client address.
    pub signin_per_ip_per_minute: u32,
    /// `mamori demo`: messages to people (sign-in codes) are kept in memory and shown at
    /// `/privacy/demo/outbox` instead of being mailed.
    pub demo_outbox: bool,
    /// Announce deadlines coming up (`request.due_soon`) once a minute in the background. Tests
    /// that send reminders themselves turn it off, so a background pass cannot race them.
    pub deadline_reminders: bool,
    /// Send the notices incidents prepared in the background. Tests that send them themselves
    /// (through their own mailer) turn it off.
    pub incident_notices: bool,
    /// Anonymous survey responses per minute from one client address (kept in memory only).
    pub survey_responses_per_ip_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            webhooks: mamori_core::webhooks::WebhookSettings::default(),
            per_key: 1_000,
            failed_auth_per_ip: 10,
            signin_per_ip_per_minute: 30,
            demo_outbox: false,
            deadline_reminders: true,
            incident_notices: true,
            survey_responses_per_ip_per_minute: 30,
        }
    }
}

/// How long an address that exceeded the failed-authentication limit is refused outright.
pub const SHUT_OUT: Duration = Duration::from_secs(10);

/// The client a limit is kept for: an IPv4 address, or an IPv6 address's /64 (one subscriber's
/// network; a client given a /64 can use any of its 2^64 addresses). IPv4-mapped addresses
/// count as the IPv4 address.
pub fn client(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// A wait in whole seconds, rounded up, at least one (the unit of `Retry-After`).
pub fn whole_seconds(d: Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}
/// Keyed limiters keep a small state per key; beyond this many keys, stale ones are dropped.
const MAX_TRACKED: usize = 10_000;

pub struct RateLimits {
    per_key: Option<DefaultKeyedRateLimiter<String>>,
    failed_auth: DefaultKeyedRateLimiter<IpAddr>,
    shut_out: Mutex<HashMap<IpAddr, Instant>>,
    signin_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    /// Code requests per address, keyed by a salted hash kept in memory only: each request mails
    /// the person, so one address cannot be flooded from many clients.
    signin_per_address: DefaultKeyedRateLimiter<[u8; 32]>,
    address_salt: [u8; 32],
    survey_per_ip: DefaultKeyedRateLimiter<IpAddr>,
}

/// Code requests to one address: this many per ten minutes.
const CODES_PER_ADDRESS: u32 = 5;

fn quota(per_second: u32, burst_factor: u32) -> Option<Quota> {
    let rate = NonZeroU32::new(per_second)?;
    let burst = NonZeroU32::new(per_second.saturating_mul(burst_factor)).unwrap_or(rate);
    Some(Quota::per_second(rate).allow_burst(burst))
}

impl RateLimits {
    pub fn new(limits: Limits) -> RateLimits {
        let failed = quota(limits.failed_auth_per_ip.max(1), 5).expect("non-zero");
        let per_minute = NonZeroU32::new(limits.signin_per_ip_per_minute.max(1)).expect("non-zero");
        let per_address = NonZeroU32::new(CODES_PER_ADDRESS).expect("non-zero");
        let every = Duration::from_secs(600 / u64::from(CODES_PER_ADDRESS));
        RateLimits {
            per_key: quota(limits.per_key, 2).map(RateLimiter::keyed),
            failed_auth: RateLimiter::keyed(failed),
            shut_out: Mutex::default(),
            signin_per_ip: RateLimiter::keyed(Quota::per_minute(per_minute)),
            signin_per_address: RateLimiter::keyed(
                Quota::with_period(every)
                    .expect("non-zero period")
                    .allow_burst(per_address),
            ),
            address_salt: rand::random(),
            survey_per_ip: RateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(limits.survey_responses_per_ip_per_minute.max(1))
                    .expect("non-zero"),
            )),
        }
    }

    /// Whether `ip` may post one more sign-in form now.
    pub fn allow_signin(&self, ip: IpAddr) -> bool {
        let ip = client(ip);
        if self.signin_per_ip.len() > MAX_TRACKED {
            self.signin_per_ip.retain_recent();
        }
        self.signin_per_ip.check_key(&ip).is_ok()
    }

    /// Whether `ip` may send one more survey response now.
    pub fn allow_survey_response(&self, ip: IpAddr) -> bool {
        let ip = client(ip);
        if self.survey_per_ip.len() > MAX_TRACKED {
            self.survey_per_ip.retain_recent();
        }
        self.survey_per_ip.check_key(&ip).is_ok()
    }

    /// Whether one more code may be sent to `address` now. The limit is per address, not per
    /// spelling: an e-mail address counts lower-cased, a phone number as E.164, whatever
    /// spaces, dashes or national prefix it was typed with.
    pub fn allow_code_to(&self, address: &str) -> bool {
        use mamori_policy::value::{normalise_email, normalise_phone};
        use sha2::Digest;
        let canonical = normalise_email(address)
            .or_else(|_| normalise_phone(address))
            .unwrap_or_else(|_| address.trim().to_lowercase());
        let mut hasher = sha2::Sha256::new();
        hasher.update(self.address_salt);
        hasher.update(canonical.as_bytes());
        let key: [u8; 32] = hasher.finalize().into();
        if self.signin_per_address.len() > MAX_TRACKED {
            self.signin_per_address.retain_recent();
        }
        self.signin_per_address.check_key(&key).is_ok()
    }

    /// Whether an authenticated caller (by actor id) may make one more request now.
    pub fn allow_key(&self, actor: &str) -> bool {
        let Some(limiter) = &self.per_key else {
            return true;
        };
        if limiter.len() > MAX_TRACKED {
            limiter.retain_recent();
        }
        limiter.check_key(&actor.to_string()).is_ok()
    }

    /// Whether requests from `ip` are currently refused for too many failed authentications:
    /// the whole seconds left (what `Retry-After` says), or None.
    pub fn shut_out_for(&self, ip: IpAddr) -> Option<u64> {
        let ip = client(ip);
        let mut map = self.shut_out.lock().expect("rate limit lock");
        let now = Instant::now();
        match map.get(&ip) {
            Some(until) if *until > now => Some(whole_seconds(*until - now)),
            Some(_) => {
                map.remove(&ip);
                None
            }
            None => None,
        }
    }

    /// Counts a failed authentication from `ip`; returns false once the address is over its
    /// limit, which also shuts it out for a while.
    pub fn record_failed_auth(&self, ip: IpAddr) -> bool {
        let ip = client(ip);
        if self.failed_auth.len() > MAX_TRACKED {
            self.failed_auth.retain_recent();
        }
        if self.failed_auth.check_key(&ip).is_ok() {
            return true;
        }
        let mut map = self.shut_out.lock().expect("rate limit lock");
        if map.len() > MAX_TRACKED {
            let now = Instant::now();
            map.retain(|_, until| *until > now);
        }
        map.insert(ip, Instant::now() + SHUT_OUT);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_limit_allows_the_burst_then_refuses() {
        let limits = RateLimits::new(Limits {
            per_key: 5,
            failed_auth_per_ip: 1,
            ..Limits::default()
        });
        let allowed = (0..20).filter(|_| limits.allow_key("key:a")).count();
        assert_eq!(allowed, 10, "burst of twice the rate");
        assert!(limits.allow_key("key:b"), "keys are limited separately");
    }

    #[test]
    fn sign_in_is_limited_per_client_and_per_address() {
        let limits = RateLimits::new(Limits {
            signin_per_ip_per_minute: 3,
            ..Limits::default()
        });
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        assert_eq!((0..10).filter(|_| limits.allow_signin(ip)).count(), 3);
        let sent = (0..10)
            .filter(|_| limits.allow_code_to(" Ada@Example.com"))
            .count();
        assert_eq!(sent, CODES_PER_ADDRESS as usize);
        assert!(
            !limits.allow_code_to("ada@example.com "),
            "the same address, however written"
        );
        assert!(limits.allow_code_to("bob@example.com"));
    }

    #[test]
    fn an_ipv6_network_counts_as_one_client() {
        let limits = RateLimits::new(Limits {
            failed_auth_per_ip: 1,
            ..Limits::default()
        });
        // Every guess from a new address of the same /64: still one client.
        let shut = (0..50u16)
            .map(|i| std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, i, i, i, i))
            .filter(|a| !limits.record_failed_auth(IpAddr::V6(*a)))
            .count();
        assert!(shut > 40, "only {shut} refused");
        let inside: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert!(limits.shut_out_for(inside).is_some());
        let next_net: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(limits.shut_out_for(next_net).is_none());
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn zero_disables_the_key_limit() {
        let limits = RateLimits::new(Limits {
            per_key: 0,
            failed_auth_per_ip: 1,
            ..Limits::default()
        });
        assert!((0..10_000).all(|_| limits.allow_key("key:a")));
    }

    #[test]
    fn failed_auth_shuts_an_address_out() {
        let limits = RateLimits::new(Limits {
            per_key: 0,
            failed_auth_per_ip: 2,
            ..Limits::default()
        });
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        assert!((0..10).all(|_| limits.record_failed_auth(ip)));
        assert!(!limits.record_failed_auth(ip));
        assert!(
            limits
                .shut_out_for(ip)
                .is_some_and(|s| (9..=10).contains(&s))
        );
        assert!(limits.shut_out_for(other).is_none());
    }
}
