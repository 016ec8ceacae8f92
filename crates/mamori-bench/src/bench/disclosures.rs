//! Batch disclosures against the audience filter, in the same run on the same server and the
//! same ids: people per second each (10,000 per call, the batch's maximum; median of 5 calls,
//! interleaved), and their ratio. The filter only seeks consent rows; a disclosure also opens
//! each person's key and fields and commits a record and a ledger event per person, so the
//! raw AEAD rate measured in the same run is given beside it for scale.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{Value, json};

use super::{Server, median, note, round3};

/// People per call: the batch's maximum.
const PEOPLE: usize = 10_000;
const CALLS: usize = 5;

async fn timed(server: &Server, path: &str, body: &[u8]) -> anyhow::Result<(f64, Value)> {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let answer = (client.post(format!("{}{path}", server.url)))
        .bearer_auth(&server.keys.service)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok((ms, serde_json::from_slice(&answer)?))
}

pub(super) async fn figures(
    server: &Server,
    ids: &[[u8; 16]],
    out: &mut BTreeMap<&'static str, Value>,
) -> anyhow::Result<()> {
    note("batch disclosures against the audience filter");
    let people: Vec<String> = (ids.iter().cycle().take(PEOPLE))
        .map(mamori_core::format_id)
        .collect();
    let filter = serde_json::to_vec(
        &json!({"purpose": "marketing_email", "channel": "email", "subjects": people}),
    )?;
    let batch = serde_json::to_vec(
        &json!({"vendor": "kuroneko_logistics", "purpose": "order_fulfilment",
        "categories": ["contact", "address"], "subjects": people}),
    )?;
    let (mut filter_ms, mut batch_ms) = (Vec::new(), Vec::new());
    for _ in 0..CALLS {
        let (ms, allowed) = timed(server, "/v1/consent/filter", &filter).await?;
        anyhow::ensure!(
            allowed["allowed"].is_array(),
            "the filter answered {allowed}"
        );
        filter_ms.push(ms);
        let (ms, answer) = timed(server, "/v1/disclosures/batch", &batch).await?;
        let outcomes = answer["outcomes"].as_array().map_or(0, Vec::len);
        anyhow::ensure!(
            outcomes == people.len(),
            "the batch answered {outcomes} outcomes"
        );
        let disclosed = answer["outcomes"][0]["data"]["contact"].is_object();
        anyhow::ensure!(disclosed, "the batch disclosed nothing");
        batch_ms.push(ms);
    }
    let per_s = |ms: f64| PEOPLE as f64 / (ms / 1000.0);
    let (filter_ms, batch_ms) = (median(filter_ms), median(batch_ms));
    out.insert("disclosure_batch_median_ms", json!(round3(batch_ms)));
    out.insert(
        "disclosure_batch_people_per_s",
        json!(per_s(batch_ms).round()),
    );
    out.insert(
        "disclosure_filter_people_per_s",
        json!(per_s(filter_ms).round()),
    );
    out.insert(
        "disclosure_batch_vs_filter",
        json!(round3(filter_ms / batch_ms)),
    );
    Ok(())
}
