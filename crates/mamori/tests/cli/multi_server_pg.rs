//! Two `mamori serve` processes on one PostgreSQL database, as behind a load balancer: webhook
//! events committed through either are delivered once; the one delivering is killed with SIGKILL
//! and the other takes over once its lease lapses — nothing lost; the ledger verifies.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use super::restore::install;
use mamori_testkit::Backend;

/// A webhook target on a free port: every `webhook-id` it was sent, in order.
async fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let sink = sink.clone();
            async move {
                let id = headers.get("webhook-id").and_then(|v| v.to_str().ok());
                sink.lock()
                    .unwrap()
                    .push(id.unwrap_or_default().to_string());
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

/// Waits up to `seconds` for `n` distinct deliveries; how many were sent in all.
async fn delivered(got: &Mutex<Vec<String>>, n: usize, seconds: u64) -> usize {
    for _ in 0..seconds * 10 {
        let all = got.lock().unwrap().clone();
        if all.iter().collect::<HashSet<_>>().len() >= n {
            return all.len();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} distinct deliveries in {seconds} s");
}

/// Someone created and granted e-mail marketing through `base`.
async fn someone_consents(client: &reqwest::Client, base: &str, key: &str) {
    let body = serde_json::json!({"data": {"contact": {"name": "Two Servers"}}});
    let created = (client.post(format!("{base}/v1/subjects")))
        .bearer_auth(key)
        .header("mamori-purpose", "order_fulfilment")
        .json(&body);
    let created: serde_json::Value = created.send().await.unwrap().json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let grant =
        serde_json::json!({"purpose": "marketing_email", "channel": "email", "granted": true});
    let r = client
        .put(format!("{base}/v1/consent/{id}"))
        .bearer_auth(key);
    assert_eq!(r.json(&grant).send().await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_deliver_once_and_the_survivor_of_a_kill_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mamori) = install(Backend::Postgres, dir.path()).await else {
        return;
    };
    let allow = "[outbound]\nallow = [\"127.0.0.1\"]\n";
    std::fs::write(mamori.data.join("mamori.toml"), allow).unwrap();
    let key = mamori.ok(&["apikey", "create", "--role", "service", "--name", "s"]);
    let key = key.trim();
    let (url, got) = receiver().await;
    let events = ["--events", "consent.changed"];
    mamori.ok(&[&["webhook", "add", "--url", &url][..], &events].concat());
    let client = reqwest::Client::new();
    // The first server alone: it takes the subscription's lease.
    let (mut first, first_base) = mamori.serve();
    super::wait_up(&client, &first_base).await;
    for _ in 0..3 {
        someone_consents(&client, &first_base, key).await;
    }
    delivered(&got, 3, 10).await;
    // A second server joins; events through it are delivered once, by the lease holder.
    let (mut second, second_base) = mamori.serve();
    super::wait_up(&client, &second_base).await;
    for _ in 0..3 {
        someone_consents(&client, &second_base, key).await;
    }
    delivered(&got, 6, 10).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    assert_eq!(
        got.lock().unwrap().len(),
        6,
        "each event once in steady state"
    );
    // The holder is killed without warning; the survivor finishes once the lease lapses.
    first.kill().unwrap();
    first.wait().unwrap();
    for _ in 0..3 {
        someone_consents(&client, &second_base, key).await;
    }
    let lapse = mamori_core::leases::LEASE_MS as u64 / 1000;
    delivered(&got, 9, lapse + 20).await;
    second.kill().unwrap();
    second.wait().unwrap();
    // One ledger through both servers (and the kill), verified whole.
    mamori.ok(&["ledger", "verify"]);
}
