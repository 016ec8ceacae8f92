//! `mamori bench`: consent change → webhook received, on loopback. A receiver in the bench
//! process notes when each delivery arrives; latency is timed from sending the consent change
//! (so it includes the change's own commit), throughput by replaying a backlog.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

/// Consent changes timed for latency, sent at a steady rate.
const CHANGES: usize = 400;
const CHANGE_RATE: f64 = 200.0;
/// Deliveries timed for throughput.
const BACKLOG: usize = 20_000;

#[derive(Default)]
struct Received {
    /// Arrival of the first delivery per subject (latency phase).
    by_subject: HashMap<String, Instant>,
    /// Every arrival, in order (throughput phase).
    arrivals: Vec<Instant>,
}

type Inbox = Arc<Mutex<Received>>;

async fn receive(State(inbox): State<Inbox>, _headers: HeaderMap, body: String) -> StatusCode {
    let now = Instant::now();
    let subject = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["data"]["subject"].as_str().map(str::to_string));
    let mut inbox = inbox.lock().unwrap_or_else(|p| p.into_inner());
    inbox.arrivals.push(now);
    if let Some(subject) = subject {
        inbox.by_subject.entry(subject).or_insert(now);
    }
    StatusCode::NO_CONTENT
}

pub struct WebhookFigures {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub deliveries_per_s: f64,
}

/// Runs both phases against the server at `base` with the given keys.
pub async fn measure(
    base: &str,
    service_key: &str,
    officer_key: &str,
    ids: &[[u8; 16]],
) -> anyhow::Result<WebhookFigures> {
    let inbox: Inbox = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(inbox.clone());
    let receiver = tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::new();
    let hook: Value = client
        .post(format!("{base}/v1/webhooks"))
        .bearer_auth(officer_key)
        .json(&json!({"url": url, "events": ["consent.changed"]}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let hook_id = hook["id"].as_str().unwrap_or_default().to_string();

    let (p50_ms, p99_ms) = latency(base, service_key, ids, &client, &inbox).await?;
    let deliveries_per_s = throughput(base, officer_key, &hook_id, &client, &inbox).await?;

    client
        .delete(format!("{base}/v1/webhooks/{hook_id}"))
        .bearer_auth(officer_key)
        .send()
        .await?;
    receiver.abort();
    Ok(WebhookFigures {
        p50_ms,
        p99_ms,
        deliveries_per_s,
    })
}

async fn latency(
    base: &str,
    key: &str,
    ids: &[[u8; 16]],
    client: &reqwest::Client,
    inbox: &Inbox,
) -> anyhow::Result<(f64, f64)> {
    let mut sent = HashMap::new();
    let interval = Duration::from_secs_f64(1.0 / CHANGE_RATE);
    let mut next = Instant::now();
    for id in ids.iter().take(CHANGES) {
        tokio::time::sleep_until(next.into()).await;
        next += interval;
        let subject = mamori_core::format_id(id);
        sent.insert(subject.clone(), Instant::now());
        client
            .put(format!("{base}/v1/consent/{subject}"))
            .bearer_auth(key)
            .json(&json!({"purpose": "marketing_sms", "channel": "sms", "granted": true}))
            .send()
            .await?
            .error_for_status()?;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let done = inbox
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_subject
            .len()
            >= sent.len();
        anyhow::ensure!(
            done || Instant::now() < deadline,
            "webhooks did not all arrive"
        );
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let inbox = inbox.lock().unwrap_or_else(|p| p.into_inner());
    let mut latencies: Vec<f64> = sent
        .iter()
        .filter_map(|(s, at)| {
            Some(inbox.by_subject.get(s)?.duration_since(*at).as_secs_f64() * 1000.0)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    Ok((pct(0.50), pct(0.99)))
}

/// Replays the subscription from the start of the feed (the bench's imported grants are a
/// backlog of tens of thousands of consent.changed events) and times the first deliveries.
async fn throughput(
    base: &str,
    key: &str,
    hook_id: &str,
    client: &reqwest::Client,
    inbox: &Inbox,
) -> anyhow::Result<f64> {
    let before = inbox
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .arrivals
        .len();
    let started = Instant::now();
    client
        .post(format!("{base}/v1/webhooks/{hook_id}/replay"))
        .bearer_auth(key)
        .json(&json!({"from": 1}))
        .send()
        .await?
        .error_for_status()?;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last_count = before;
    let mut quiet_since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let count = inbox
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .arrivals
            .len();
        if count - before >= BACKLOG || Instant::now() > deadline {
            break;
        }
        // A backlog smaller than BACKLOG: done once nothing has arrived for a second.
        if count != last_count {
            (last_count, quiet_since) = (count, Instant::now());
        } else if count > before && quiet_since.elapsed() > Duration::from_secs(1) {
            break;
        }
    }
    let inbox = inbox.lock().unwrap_or_else(|p| p.into_inner());
    let got = &inbox.arrivals[before..];
    anyhow::ensure!(!got.is_empty(), "the replay delivered nothing");
    let n = got.len().min(BACKLOG);
    let took = got[n - 1].duration_since(started).as_secs_f64();
    Ok(n as f64 / took)
}
