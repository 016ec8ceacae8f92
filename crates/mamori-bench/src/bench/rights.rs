//! Rights and requests under load: erasures, proofs over HTTP, exports and access logs, and the
//! request queue.

use super::*;

/// Median time of `DELETE /v1/subjects/{id}` for subjects with one record, and for subjects
/// with `records_large` records each.
pub(super) async fn erasures(
    server: &Server,
    ids: &[[u8; 16]],
    plan: &Plan,
) -> anyhow::Result<(f64, f64)> {
    let needed = plan.erase_small + plan.erase_large;
    anyhow::ensure!(
        ids.len() >= needed,
        "not enough subjects for the erase test"
    );
    // Take subjects from the end: the read test's ids stay valid if it is ever rerun.
    let victims = &ids[ids.len() - needed..];
    let (small, large) = victims.split_at(plan.erase_small);
    for id in small {
        add_records(server, id, 1).await?;
    }
    for id in large {
        add_records(server, id, plan.records_large).await?;
    }
    let client = reqwest::Client::new();
    let erase = async |id: &[u8; 16]| -> anyhow::Result<f64> {
        let sent = Instant::now();
        let response = client
            .delete(format!(
                "{}/v1/subjects/{}",
                server.url,
                mamori_core::format_id(id)
            ))
            .header("authorization", format!("Bearer {}", server.keys.officer))
            .header("mamori-purpose", "data_subject_rights")
            .send()
            .await?;
        let took = sent.elapsed().as_secs_f64() * 1000.0;
        anyhow::ensure!(
            response.status().is_success(),
            "erase answered {}",
            response.status()
        );
        Ok(took)
    };
    let mut small_times = vec![];
    for id in small {
        small_times.push(erase(id).await?);
    }
    let mut large_times = vec![];
    for id in large {
        large_times.push(erase(id).await?);
    }
    Ok((median(small_times), median(large_times)))
}

/// `GET /v1/ledger/proof/inclusion` for 500 random leaves of the whole ledger, one at a time,
/// sent to last byte: each reads its leaf's block back from the database. Median and p99, ms.
pub(super) async fn proofs_over_http(server: &Server) -> anyhow::Result<(f64, f64)> {
    let client = reqwest::Client::new();
    let head: Value = client
        .get(format!("{}/v1/ledger/head", server.url))
        .bearer_auth(&server.keys.service)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let size = head["size"]
        .as_u64()
        .context("ledger head without a size")?;
    let mut times = Vec::with_capacity(500);
    let mut n = 99u64;
    for _ in 0..500 {
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let leaf = (n >> 11) % size;
        let url = format!(
            "{}/v1/ledger/proof/inclusion?leaf={leaf}&size={size}",
            server.url
        );
        let sent = Instant::now();
        let answer = client
            .get(url)
            .bearer_auth(&server.keys.service)
            .send()
            .await?;
        anyhow::ensure!(
            answer.status().is_success(),
            "proof answered {}",
            answer.status()
        );
        answer.bytes().await?;
        times.push(sent.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times[times.len() * 99 / 100]))
}

pub(super) struct RightsFigures {
    pub(super) export_ms: f64,
    pub(super) page_p95_ms: Vec<(&'static str, f64)>,
}

/// Issue 4's targets: the export of a person with `records` records and as many ledger events
/// about them (the record creations), and the privacy-center pages as that person, signed in.
pub(super) async fn rights_figures(
    server: &Server,
    records: usize,
) -> anyhow::Result<RightsFigures> {
    let person = server.keys.person;
    add_records(server, &person, records).await?;
    // The subject index runs once a second; measure what a person sees once it caught up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    // No redirects: a page that sends the person to sign in must count as a failure.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let timed = async |request: reqwest::RequestBuilder| -> anyhow::Result<f64> {
        let sent = Instant::now();
        let response = request.send().await?;
        let status = response.status();
        response.bytes().await?;
        anyhow::ensure!(status == reqwest::StatusCode::OK, "answered {status}");
        Ok(sent.elapsed().as_secs_f64() * 1000.0)
    };
    let export_url = format!(
        "{}/v1/subjects/{}/export",
        server.url,
        mamori_core::format_id(&person)
    );
    let mut exports = vec![];
    for _ in 0..5 {
        let request = client
            .get(&export_url)
            .bearer_auth(&server.keys.officer)
            .header("mamori-purpose", "data_subject_rights");
        exports.push(timed(request).await?);
    }
    let cookie = format!("mamori_session={}", server.keys.session);
    let mut page_p95_ms = vec![];
    for (name, path) in [
        ("page_my_data_p95_ms", "/privacy/me"),
        ("page_my_choices_p95_ms", "/privacy/choices"),
        ("page_access_log_p95_ms", "/privacy/me/activity"),
    ] {
        let mut times = vec![];
        for _ in 0..200 {
            let request = client
                .get(format!("{}{path}", server.url))
                .header("cookie", &cookie);
            times.push(timed(request).await?);
        }
        times.sort_by(f64::total_cmp);
        page_p95_ms.push((name, times[times.len() * 95 / 100]));
    }
    Ok(RightsFigures {
        export_ms: median(exports),
        page_p95_ms,
    })
}

pub(super) struct QueueFigures {
    pub(super) opened_per_s: f64,
    pub(super) page_median_ms: f64,
    pub(super) page_p95_ms: f64,
}

/// Opens `n` requests over the API, 64 at a time (kinds, laws and arrival days mixed, so due
/// dates spread): how many per second.
async fn open_requests(
    server: &Server,
    ids: &[[u8; 16]],
    n: usize,
    today: time::OffsetDateTime,
) -> anyhow::Result<f64> {
    const KINDS: [&str; 4] = ["access", "erasure", "rectification", "opt_out_of_sale"];
    const LAWS: [&str; 4] = ["gdpr", "ccpa", "lgpd", "appi"];
    let client = reqwest::Client::new();
    let url = format!("{}/v1/requests", server.url);
    let auth = format!("Bearer {}", server.keys.officer);
    let started = Instant::now();
    let mut pending = tokio::task::JoinSet::new();
    for i in 0..n {
        if pending.len() >= 64 {
            pending.join_next().await.expect("non-empty")??;
        }
        let received = today - time::Duration::days((i % 10) as i64);
        let body = json!({
            "kind": KINDS[i % 4],
            "jurisdiction": LAWS[(i / 4) % 4],
            "subject": mamori_core::format_id(&ids[(i * 7919) % ids.len()]),
            "received_at": received.format(&time::format_description::well_known::Rfc3339)?,
        });
        let request = client
            .post(&url)
            .header("authorization", &auth)
            .header("mamori-purpose", "data_subject_rights")
            .json(&body);
        pending.spawn(async move {
            let response = request.send().await?;
            let status = response.status();
            anyhow::ensure!(status.is_success(), "opening a request answered {status}");
            Ok(())
        });
    }
    while let Some(done) = pending.join_next().await {
        done??;
    }
    let opened_per_s = n as f64 / started.elapsed().as_secs_f64();
    Ok(opened_per_s)
}

/// Opens `n` requests over the API (kinds, laws and arrival days mixed, so due dates spread),
/// then times the staff's view of the queue: the first page, a page further on by cursor, and
/// the requests due within a week — 100 rows each, 60 times each.
pub(super) async fn request_queue(
    server: &Server,
    ids: &[[u8; 16]],
    n: usize,
) -> anyhow::Result<QueueFigures> {
    let client = reqwest::Client::new();
    let url = format!("{}/v1/requests", server.url);
    let auth = format!("Bearer {}", server.keys.officer);
    let today = time::OffsetDateTime::now_utc();
    let opened_per_s = open_requests(server, ids, n, today).await?;
    let first: Value = client
        .get(format!("{url}?limit=100"))
        .header("authorization", &auth)
        .header("mamori-purpose", "data_subject_rights")
        .send()
        .await?
        .json()
        .await?;
    let mut cursor = first["next"].as_str().unwrap_or_default().to_string();
    let week =
        (today + time::Duration::days(7)).format(&time::format_description::well_known::Rfc3339)?;
    let mut times = vec![];
    for round in 0..60 {
        let query = match round % 3 {
            0 => "limit=100".to_string(),
            1 => format!("limit=100&after={cursor}"),
            _ => format!("limit=100&due_before={}", urlencode(&week)),
        };
        let sent = Instant::now();
        let response = client
            .get(format!("{url}?{query}"))
            .header("authorization", &auth)
            .header("mamori-purpose", "data_subject_rights")
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "the queue answered {}",
            response.status()
        );
        let page: Value = response.json().await?;
        times.push(sent.elapsed().as_secs_f64() * 1000.0);
        if round % 3 == 1
            && let Some(next) = page["next"].as_str()
        {
            cursor = next.to_string();
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(QueueFigures {
        opened_per_s,
        page_median_ms: times[times.len() / 2],
        page_p95_ms: times[times.len() * 95 / 100],
    })
}

/// Percent-encodes the characters of an RFC 3339 time that a query string cannot carry as is.
pub(super) fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

/// Adds `n` order records to one subject over the API, 64 requests at a time.
pub(super) async fn add_records(server: &Server, id: &[u8; 16], n: usize) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let url = format!(
        "{}/v1/subjects/{}/records",
        server.url,
        mamori_core::format_id(id)
    );
    let auth = format!("Bearer {}", server.keys.service);
    let body = json!({"category": "orders", "data": {
        "order_number": "A-1", "total": 12.5, "currency": "EUR", "items": "1 × tea"
    }});
    let mut pending = tokio::task::JoinSet::new();
    for _ in 0..n {
        if pending.len() >= 64 {
            pending.join_next().await.expect("non-empty")??;
        }
        let request = client
            .post(&url)
            .header("authorization", &auth)
            .header("mamori-purpose", "order_fulfilment")
            .json(&body);
        pending.spawn(async move {
            let status = request.send().await?.status();
            anyhow::ensure!(status.is_success(), "adding a record answered {status}");
            Ok(())
        });
    }
    while let Some(done) = pending.join_next().await {
        done??;
    }
    Ok(())
}
