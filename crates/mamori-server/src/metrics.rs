//! Prometheus metrics. Labels are route templates and status codes only: never ids or values.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteOnly {
    pub route: String,
}

/// A readiness check by name (`database`, `storage`, `disk_space`, …).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CheckLabel {
    pub check: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RouteLabels, Counter>,
    pub latency: Family<RouteOnly, Histogram>,
    pub ledger_size: Gauge,
    /// 1 when a readiness check passed at the last look, 0 when it failed.
    pub ready: Family<CheckLabel, Gauge>,
    /// Seconds since the last good scheduled backup (-1: none yet; absent without `[backup]`).
    pub backup_age: Gauge,
    /// 1 when the last backup attempt failed.
    pub backup_failed: Gauge,
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("mamori");
        let requests = Family::<RouteLabels, Counter>::default();
        let latency = Family::<RouteOnly, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 14))
        });
        let ledger_size = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            latency.clone(),
        );
        registry.register(
            "ledger_leaves",
            "Committed ledger leaves",
            ledger_size.clone(),
        );
        let ready = Family::<CheckLabel, Gauge>::default();
        registry.register(
            "ready",
            "Readiness checks: 1 passed, 0 failed (updated by /readyz and /metrics)",
            ready.clone(),
        );
        let backup_age = Gauge::default();
        registry.register(
            "backup_age_seconds",
            "Seconds since the last good scheduled backup (-1: none yet)",
            backup_age.clone(),
        );
        let backup_failed = Gauge::default();
        registry.register(
            "backup_last_attempt_failed",
            "1 when the last scheduled backup failed",
            backup_failed.clone(),
        );
        Arc::new(Metrics {
            registry,
            requests,
            latency,
            ledger_size,
            ready,
            backup_age,
            backup_failed,
        })
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
