//! The outbox: the pull feed and signed webhook deliveries.

use super::*;

pub(crate) async fn feed(app: &TestApp, query: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/v1/events?{query}")))
        .bearer_auth(&app.keys["service"])
        .send()
        .await
        .unwrap()
}

/// Consent changes and erasures appear in the pull feed, in commit order, with ids and states
/// only; a cursor pages through it.
pub(crate) async fn outbox_feed_announces_consent_and_erasure(app: TestApp) {
    let officer = mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    };
    let published = app
        .vault
        .publish_policy(&officer, include_str!("../../../../examples/policy.toml"))
        .await
        .unwrap();
    assert!(matches!(
        published,
        mamori_core::publish::Published::New { .. }
    ));
    let id = create(&app, &customer("feed")).await;
    let grant = json!({"purpose": "marketing_email", "channel": "email", "granted": true, "source": "portal"});
    assert_eq!(
        consent(&app, &id, "service", grant).await.status(),
        StatusCode::OK
    );
    let r = app
        .as_role(
            Method::DELETE,
            &format!("/v1/subjects/{id}"),
            "privacy_officer",
            "data_subject_rights",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The kept part's re-keying (a ledgered background step) is done before counting.
    app.vault.rekey_holds(10).await.unwrap();

    let before = ledger_size(&app).await;
    let v: Value = feed(&app, "after=0&limit=1000").await.json().await.unwrap();
    assert_eq!(
        ledger_size(&app).await,
        before + 1,
        "reading the feed is ledgered"
    );
    let events = v["events"].as_array().unwrap();
    let mine: Vec<&Value> = events
        .iter()
        .filter(|e| e["data"]["subject"] == id)
        .collect();
    assert_eq!(mine.len(), 2, "{v}");
    assert_eq!(mine[0]["type"], "consent.changed");
    assert_eq!(mine[0]["data"]["purpose"], "marketing_email");
    assert_eq!(
        mine[0]["data"]["notice_version"], "v1",
        "a consent names the notice published when it was given"
    );
    assert!(events.iter().any(|e| e["type"] == "notice.published"));
    assert_eq!(mine[0]["data"]["granted"], true);
    assert_eq!(mine[1]["type"], "subject.erased");
    assert!(mine[0]["seq"].as_i64() < mine[1]["seq"].as_i64());
    assert!(
        !v.to_string().contains("Ada"),
        "no personal values in the feed"
    );
    assert_eq!(v["next"], events.last().unwrap()["seq"]);

    // Paging: one at a time from the start reaches the same events.
    let first: Value = feed(&app, "limit=1").await.json().await.unwrap();
    assert_eq!(first["events"].as_array().unwrap().len(), 1);
    let next = first["next"].as_i64().unwrap();
    let second: Value = feed(&app, &format!("after={next}&limit=1"))
        .await
        .json()
        .await
        .unwrap();
    assert!(second["events"][0]["seq"].as_i64().unwrap() > next);
    let end: Value = feed(&app, &format!("after={}", v["next"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(end["events"], json!([]));
    assert_eq!(end["next"], v["next"]);

    for query in ["after=-1", "limit=0", "limit=5000", "after=abc", "cursor=1"] {
        problem(
            feed(&app, query).await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        )
        .await;
    }
    let r = app.client.get(app.url("/v1/events")).send().await.unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

pub(crate) async fn subscribe(app: &TestApp, url: &str, events: Value) -> reqwest::Response {
    app.client
        .post(app.url("/v1/webhooks"))
        .bearer_auth(&app.keys["privacy_officer"])
        .json(&json!({"url": url, "events": events}))
        .send()
        .await
        .unwrap()
}

/// Subscribes each receiver to its events; the signing secrets by URL.
async fn subscribe_all(
    app: &TestApp,
    targets: &[(&common::Receiver, Value)],
) -> std::collections::HashMap<String, String> {
    let mut secrets = std::collections::HashMap::new();
    for (target, events) in targets {
        let r = subscribe(app, &target.url, events.clone()).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        let secret = v["secret"].as_str().unwrap();
        assert!(secret.starts_with("whsec_"));
        secrets.insert(target.url.clone(), secret.to_string());
    }
    secrets
}

/// The id of the subscription to `url`, as the webhook list shows it.
pub(crate) async fn hook_id(app: &TestApp, url: &str) -> String {
    let r = app
        .client
        .get(app.url("/v1/webhooks"))
        .bearer_auth(&app.keys["privacy_officer"]);
    let hooks: Value = r.send().await.unwrap().json().await.unwrap();
    let hook = hooks
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["url"] == url)
        .unwrap();
    hook["id"].as_str().unwrap().to_string()
}

/// Someone who just agreed to marketing e-mails (a `consent.changed` event); their id.
async fn someone_consents(app: &TestApp) -> String {
    let id = create(app, &customer("hook")).await;
    let grant = json!({"purpose": "marketing_email", "channel": "email", "granted": true});
    assert_eq!(
        consent(app, &id, "service", grant).await.status(),
        StatusCode::OK
    );
    id
}

/// Deliveries are signed, carry ids and states only, are retried with the same webhook-id until
/// accepted, are dead-lettered after the last attempt, and a hanging target delays nobody else.
pub(crate) async fn webhooks_are_signed_retried_and_isolated(app: TestApp) {
    let good = common::receiver(0, false).await;
    let flaky = common::receiver(1, false).await;
    let dead = common::receiver(usize::MAX, false).await;
    let hanging = common::receiver(0, true).await;
    let consent_changed = json!(["consent.changed"]);
    let secrets = subscribe_all(
        &app,
        &[
            (&hanging, json!(["*"])),
            (&good, consent_changed.clone()),
            (&flaky, consent_changed),
            (&dead, json!(["subject.erased"])),
        ],
    )
    .await;
    let id = someone_consents(&app).await;
    // The good target gets it promptly, although the hanging one never answers.
    let got = good.wait_for(1).await;
    let d = &got[0];
    assert!(signature_ok(&secrets[&good.url], d), "{d:?}");
    let body: Value = serde_json::from_str(&d.body).unwrap();
    assert_eq!(
        (&body["type"], &body["data"]["subject"]),
        (&json!("consent.changed"), &json!(id))
    );
    assert_eq!(body["data"]["granted"], true);
    assert!(!d.body.contains("Ada"), "no personal values in deliveries");
    // The flaky one answered 500 once: the same message comes again and is then accepted.
    let got = flaky.wait_for(2).await;
    assert_eq!(got[0].id, got[1].id, "a retry keeps its webhook-id");
    assert!(signature_ok(&secrets[&flaky.url], &got[1]));
    // subject.erased goes only to its subscriber, which always fails: three attempts, then a
    // dead letter, and delivery moves on.
    let path = format!("/v1/subjects/{id}");
    let erase = app.as_role(
        Method::DELETE,
        &path,
        "privacy_officer",
        "data_subject_rights",
    );
    assert_eq!(erase.send().await.unwrap().status(), StatusCode::OK);
    let got = dead.wait_for(3).await;
    assert!(got.iter().all(|d| d.id == got[0].id));
    let dead_id = mamori_core::parse_id(&hook_id(&app, &dead.url).await).unwrap();
    for _ in 0..250 {
        if !app.store.dead_letters(&dead_id).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let letters = app.store.dead_letters(&dead_id).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!((letters[0].1, letters[0].2), (3, Some(500)));
    let good_got = good.got.lock().unwrap().len();
    assert_eq!(good_got, 1, "the good target got consent.changed only");
}

/// A replay sends the same messages again (same webhook-id); bad replays, bad subscriptions
/// and removing one twice are clear errors.
pub(crate) async fn webhooks_replay_and_refuse_bad_subscriptions(app: TestApp) {
    let good = common::receiver(0, false).await;
    subscribe_all(&app, &[(&good, json!(["consent.changed"]))]).await;
    someone_consents(&app).await;
    good.wait_for(1).await;
    let good_id = hook_id(&app, &good.url).await;
    let replay = async |hook: &str, body: Value| {
        app.client
            .post(app.url(&format!("/v1/webhooks/{hook}/replay")))
            .bearer_auth(&app.keys["privacy_officer"])
            .json(&body)
            .send()
            .await
            .unwrap()
    };
    assert_eq!(
        replay(&good_id, json!({"from": 1})).await.status(),
        StatusCode::NO_CONTENT
    );
    let again = good.wait_for(2).await;
    assert_eq!(again[0].id, again[1].id);
    let r = replay(&good_id, json!({"from": 0})).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    assert!(
        replay(&good_id, json!({"from": "soon"}))
            .await
            .status()
            .is_client_error()
    );
    let unknown = uuid::Uuid::from_u128(7).to_string();
    let r = replay(&unknown, json!({"from": 1})).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_webhook").await;
    for (url, events, code) in [
        ("ftp://example.com/x", json!(["*"]), "invalid_url"),
        ("not a url", json!(["*"]), "invalid_url"),
        ("http://127.0.0.1:9/x", json!([]), "invalid_event_types"),
        (
            "http://127.0.0.1:9/x",
            json!(["consent.exploded"]),
            "invalid_event_types",
        ),
    ] {
        let r = subscribe(&app, url, events).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    let remove = async || {
        let r = app
            .client
            .delete(app.url(&format!("/v1/webhooks/{good_id}")));
        r.bearer_auth(&app.keys["privacy_officer"])
            .send()
            .await
            .unwrap()
    };
    assert_eq!(remove().await.status(), StatusCode::NO_CONTENT);
    problem(
        remove().await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_webhook",
    )
    .await;
}
