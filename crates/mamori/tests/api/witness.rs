//! Signed heads offered to witnesses: `ledger.head_signed` on the outbox (feed and webhooks)
//! carries each new head, signed by the ledger's key, once; a witness can subscribe to it.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::TestApp;

pub async fn new_signed_heads_are_offered_to_witnesses_on_the_outbox(app: TestApp) {
    crate::create(&app, &crate::customer("witness")).await;
    let announced = app.vault.announce_head(0).await.unwrap();
    assert!(announced > 0);
    assert_eq!(
        app.vault.announce_head(announced).await.unwrap(),
        announced,
        "once"
    );

    let feed: Value = app
        .as_role(
            Method::GET,
            "/v1/events?after=0",
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let heads: Vec<&Value> = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "ledger.head_signed")
        .collect();
    assert_eq!(heads.len(), 1, "{feed}");
    let data = &heads[0]["data"];
    assert_eq!(data["size"], announced);
    // Checked as a witness would: against the key the ledger publishes.
    let published: Value = app
        .as_role(
            Method::GET,
            "/v1/ledger/head",
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(data["public_key"], published["public_key"]);
    let key: [u8; 32] = hex::decode(published["public_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let key = mamori_ledger::VerifyingKey::from_bytes(&key).unwrap();
    let head: mamori_ledger::SignedTreeHead = serde_json::from_value(data.clone()).unwrap();
    assert!(mamori_ledger::verify_head(&key, &head));
    let mut forged = head.clone();
    forged.head.size += 1;
    assert!(!mamori_ledger::verify_head(&key, &forged));

    // A witness may subscribe to heads alone.
    let r = crate::officer(
        &app,
        Method::POST,
        "/v1/webhooks",
        Some(json!({"url": "http://127.0.0.1:9/", "events": ["ledger.head_signed"]})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}
