//! Several servers on one database, as behind a load balancer: each background job and each
//! webhook subscription's deliveries run on one of them at a time (leases), so in steady state
//! every event is delivered once, whichever server committed it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{self, TestApp};

/// Creates someone through the server at `base` and grants them e-mail marketing there.
async fn someone_consents_via(app: &TestApp, base: &str, n: usize) {
    let person = crate::customer_without_phone(&format!("multi{n}"));
    let r = (app.client.post(format!("{base}/v1/subjects")))
        .bearer_auth(&app.keys["service"])
        .header("Mamori-Purpose", "order_fulfilment")
        .json(&person);
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let grant = json!({"purpose": "marketing_email", "channel": "email", "granted": true});
    let r = (app.client.put(format!("{base}/v1/consent/{id}")))
        .bearer_auth(&app.keys["service"])
        .json(&grant);
    assert_eq!(r.send().await.unwrap().status(), StatusCode::OK);
}

pub async fn two_servers_deliver_each_webhook_once(app: TestApp) {
    let other = common::second_server(&app).await;
    let target = common::receiver(0, false).await;
    let r = crate::subscribe(&app, &target.url, json!(["consent.changed"])).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let people = 12;
    for n in 0..people {
        let base = if n % 2 == 0 { &app.base } else { &other.base };
        someone_consents_via(&app, base, n).await;
    }
    let got = target.wait_for(people).await;
    // Long enough for a second server's deliveries, were it delivering too.
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let got_all = target.got.lock().unwrap().clone();
    let mut ids: Vec<&str> = got_all.iter().map(|d| d.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        (got.len(), ids.len(), got_all.len()),
        (people, people, people)
    );
}

/// Waits up to `seconds` for `n` distinct deliveries.
async fn distinct_deliveries(target: &common::Receiver, n: usize, seconds: u64) -> usize {
    for _ in 0..seconds * 10 {
        let mut ids: Vec<String> = (target.got.lock().unwrap().iter())
            .map(|d| d.id.clone())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() >= n {
            return ids.len();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} distinct deliveries after {seconds} s");
}

pub async fn a_crashed_server_s_deliveries_are_taken_over(app: TestApp) {
    let other = common::second_server(&app).await;
    let target = common::receiver(0, false).await;
    let r = crate::subscribe(&app, &target.url, json!(["consent.changed"])).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    for n in 0..4 {
        someone_consents_via(&app, &other.base, n).await;
    }
    distinct_deliveries(&target, 4, 10).await;
    // A third server takes the subscription's lease and dies at once (as under `kill -9`).
    let lapse_ms = mamori_core::leases::LEASE_MS;
    let until = mamori_core::now_ms() + lapse_ms;
    let steal = format!(
        "UPDATE job_leases SET holder = 'server-crashed', fence = fence + 1, expires_ms = {until} WHERE job LIKE 'webhook:%'"
    );
    app.execute_sql(&steal).await;
    for n in 4..8 {
        let base = if n % 2 == 0 { &app.base } else { &other.base };
        someone_consents_via(&app, base, n).await;
    }
    // Once its lease lapses, one of the living servers delivers the rest: nothing is lost.
    let seconds = lapse_ms as u64 / 1000 + 15;
    assert_eq!(distinct_deliveries(&target, 8, seconds).await, 8);
}

pub async fn a_key_revoked_on_one_server_is_refused_by_the_other_within_two_seconds(app: TestApp) {
    let other = common::second_server(&app).await;
    let operator = mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    };
    let (id, token) = (app
        .vault
        .create_api_key(&operator, "service", "short-lived"))
    .await
    .unwrap();
    let read = async || {
        let r = app
            .client
            .get(format!("{}/v1/events?after=0&limit=1", other.base));
        r.bearer_auth(&token).send().await.unwrap().status()
    };
    assert_eq!(
        read().await,
        StatusCode::OK,
        "the other server knows the key"
    );
    app.vault.revoke_api_key(&operator, &id).await.unwrap();
    // Every request that starts more than 2 s after the revocation is refused.
    let revoked = std::time::Instant::now();
    loop {
        let started = revoked.elapsed();
        if read().await != StatusCode::OK {
            break;
        }
        assert!(started < std::time::Duration::from_secs(2), "{started:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(read().await, StatusCode::UNAUTHORIZED);
}

pub async fn staff_disabled_on_one_server_are_signed_out_of_the_other_at_once(app: TestApp) {
    let other = common::second_server(&app).await;
    let email = "dan.desk@example.com";
    let (session, _) = crate::staff_sign_in::signed_in_as(&app, email, "support").await;
    let console = async || {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
        let r = client
            .build()
            .unwrap()
            .get(format!("{}/console", other.base));
        let r = r.header("cookie", format!("mamori_staff={session}"));
        r.send().await.unwrap().status()
    };
    assert_eq!(console().await, StatusCode::OK, "signed in on both");
    let operator = mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    };
    let staff = app.vault.list_staff(&operator).await.unwrap();
    let desk = staff.iter().find(|s| s.email == email).unwrap();
    app.vault.disable_staff(&operator, &desk.id).await.unwrap();
    assert!(
        console().await.is_redirection(),
        "sessions are read, never cached"
    );
}

pub async fn the_ledger_verifies_after_concurrent_writes_through_both_servers(app: TestApp) {
    let other = common::second_server(&app).await;
    let create = |base: String, n: usize| {
        let client = app.client.clone();
        let key = app.keys["service"].clone();
        async move {
            let person = crate::customer_without_phone(&format!("both{n}"));
            let r = (client.post(format!("{base}/v1/subjects")))
                .bearer_auth(key)
                .header("Mamori-Purpose", "order_fulfilment")
                .json(&person);
            r.send().await.unwrap().status()
        }
    };
    let writes = (0..60).map(|n| {
        let base = if n % 2 == 0 { &app.base } else { &other.base };
        tokio::spawn(create(base.clone(), n))
    });
    for done in futures_util::future::join_all(writes).await {
        assert_eq!(done.unwrap(), StatusCode::CREATED);
    }
    other.ledger.flush().await.unwrap();
    app.ledger.flush().await.unwrap();
    let officer = mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    };
    let counted = std::sync::atomic::AtomicU64::new(0);
    let verdict = app
        .vault
        .verify_ledger_now(&officer, &counted)
        .await
        .unwrap();
    match verdict {
        mamori_core::ledger_verify::Verdict::Ok { leaves, .. } => assert!(leaves >= 60),
        mamori_core::ledger_verify::Verdict::Failed(why) => panic!("{why}"),
    }
}
