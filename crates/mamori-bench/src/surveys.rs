//! `mamori bench`: anonymous survey responses over HTTP (each one's free text scrubbed, its
//! commit durable before the answer), and the results of a survey with many responses.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use mamori_core::Vault;
use mamori_core::ledger::Item;
use serde_json::json;

pub const SLUG: &str = "bench-survey";

const DEFINITION: &str = include_str!("../../../examples/survey.toml");
const CLEAR: [&str; 3] = ["yes", "partly", "no"];

/// Creates the survey the measurements use (the built-in one under another slug).
pub async fn create(vault: &Vault) -> anyhow::Result<()> {
    let text = DEFINITION.replace("how-we-use-your-data", SLUG);
    let survey = mamori_core::surveys::Survey::from_toml(&vault.policy, &text)?;
    vault
        .create_survey(&mamori::context::operator(), survey)
        .await?;
    Ok(())
}

pub struct Ingestion {
    pub responses_per_s: f64,
    pub p99_ms: f64,
}

/// `connections` clients posting responses for `seconds`, as fast as they are answered.
pub async fn ingest(url: &str, seconds: f64, connections: usize) -> anyhow::Result<Ingestion> {
    let client = reqwest::Client::new();
    let endpoint = Arc::new(format!("{url}/v1/surveys/{SLUG}/responses"));
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for worker in 0..connections {
        let (client, endpoint) = (client.clone(), endpoint.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = worker;
            while Instant::now() < end {
                n += connections;
                let body = json!({"answers": {
                    "trust": 1 + n % 5,
                    "clear": CLEAR[n % 3],
                    "worries": ["marketing", "security"],
                    "comment": format!("Please stop mailing reader{n}@example.com or calling 06 12 34 {:02} {:02}, thanks", n % 100, (n / 100) % 100),
                }});
                let started = Instant::now();
                let r = client.post(endpoint.as_str()).json(&body).send().await;
                match r {
                    Ok(r) if r.status().as_u16() == 204 => latencies.push(started.elapsed().as_secs_f64() * 1000.0),
                    Ok(r) => anyhow::bail!("a survey response was answered {}", r.status()),
                    Err(e) => return Err(e).context("posting a survey response"),
                }
            }
            Ok(latencies)
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let p99 = all.get(all.len() * 99 / 100).copied().unwrap_or_default();
    Ok(Ingestion {
        responses_per_s: all.len() as f64 / elapsed,
        p99_ms: p99,
    })
}

/// Fills the survey up to `total` responses (in batches straight through the writer: filling a
/// million over HTTP would take minutes), then times its results; the median of three.
pub async fn results(vault: &Vault, total: usize) -> anyhow::Result<(usize, f64)> {
    let stored = vault.survey(SLUG).await?;
    let have = vault.bench_survey_response_count(&stored.id).await?;
    let day = vault.today();
    let mut n = have;
    while n < total {
        let batch = (total - n).min(10_000);
        let items = (n..n + batch)
            .map(|i| {
                let answers = json!({"trust": 1 + i % 5, "clear": CLEAR[i % 3], "worries": ["security"], "comment": "[EMAIL] should not be mailed so often"});
                Item {
                    changes: vec![mamori_core::surveys::response_change(&stored, &answers, day)],
                    events: vec![],
                }
            })
            .collect();
        for outcome in vault.bench_submit_all(items).await? {
            outcome.map_err(|e| anyhow::anyhow!("storing a bench response: {e:?}"))?;
        }
        n += batch;
    }
    let mut times = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let results = vault
            .survey_results(&mamori::context::operator(), SLUG, Some("clear"))
            .await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(
            results.responses == Some(n as u64),
            "results counted {:?} responses, not {n}",
            results.responses
        );
    }
    times.sort_by(f64::total_cmp);
    Ok((n, times[1]))
}
