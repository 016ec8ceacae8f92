//! Automatic signals: a key reading many more people than its own average, and a storm of
//! denials, each open one draft incident, once; titles hold ids and counts, never a value.

use mamori_core::incidents::signals::SignalSettings;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::TestApp;

pub async fn signals_open_draft_incidents_once(app: TestApp) {
    let canary = format!(
        "signal-canary-{}@example.com",
        uuid::Uuid::new_v4().simple()
    );
    for n in 0..12 {
        let email = if n == 0 {
            canary.clone()
        } else {
            format!("s{n}@example.com")
        };
        crate::create(&app, &json!({"data": {"contact": {"email": email}}})).await;
    }
    for _ in 0..3 {
        let r = app.as_role(
            Method::GET,
            "/v1/subjects?email=x%40example.com",
            "support",
            "marketing_email",
        );
        assert_eq!(r.send().await.unwrap().status(), StatusCode::FORBIDDEN);
    }
    let quiet = SignalSettings {
        reads_factor: 5.0,
        reads_min: 100,
        denials_per_hour: 100,
    };
    assert_eq!(
        app.vault.check_signals(&quiet).await.unwrap(),
        0,
        "below the thresholds"
    );
    let settings = SignalSettings {
        reads_factor: 5.0,
        reads_min: 10,
        denials_per_hour: 3,
    };
    assert_eq!(app.vault.check_signals(&settings).await.unwrap(), 2);
    assert_eq!(
        app.vault.check_signals(&settings).await.unwrap(),
        0,
        "once each"
    );
    let r = (app.client.get(app.url("/v1/incidents")))
        .bearer_auth(&app.keys["privacy_officer"])
        .send()
        .await
        .unwrap();
    let list: Value = r.json().await.unwrap();
    let incidents = list["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 2, "{list:#}");
    for i in incidents {
        assert_eq!(
            (&i["reported_by"], &i["status"]),
            (&json!("signals"), &json!("draft"))
        );
        let title = i["title"].as_str().unwrap();
        assert!(title.starts_with("Automatic signal: "), "{title}");
        assert!(
            !title.contains("example.com"),
            "no value in a title: {title}"
        );
    }
    let titles: Vec<&str> = incidents
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert!(
        titles
            .iter()
            .any(|t| t.contains("read 12 people in the last hour")),
        "{titles:?}"
    );
    assert!(
        titles.iter().any(|t| t.contains("3 denied attempts")),
        "{titles:?}"
    );
    // Announced to the response team's tools: ids and codes, never a title.
    let (status, feed) = app
        .get_as("/v1/events?after=0", "service", "order_fulfilment")
        .await;
    assert_eq!(status, StatusCode::OK);
    let opened: Vec<&Value> = (feed["events"].as_array().unwrap().iter())
        .filter(|e| e["type"] == "incident.opened")
        .collect();
    assert_eq!(opened.len(), 2, "{feed:#}");
    assert!(
        opened.iter().all(|e| e["data"]["reported_by"] == "signals"),
        "{opened:?}"
    );
    assert!(
        !feed.to_string().contains("Automatic signal"),
        "no title in the feed"
    );
    // A draft is confirmed by moving it on, or dismissed by closing it; never back to draft.
    let (first, second) = (
        incidents[0]["id"].as_str().unwrap(),
        incidents[1]["id"].as_str().unwrap(),
    );
    crate::incidents::add_entry(&app, first, &json!({"version": 1, "status": "open"})).await;
    let back = json!({"version": 2, "status": "draft"});
    let path = format!("/v1/incidents/{first}/entries");
    let r = (app.client.post(app.url(&path))).bearer_auth(&app.keys["privacy_officer"]);
    assert_eq!(
        r.json(&back).send().await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let dismiss = json!({"version": 1, "status": "closed", "note": "a planned export"});
    crate::incidents::add_entry(&app, second, &dismiss).await;
    app.assert_canary_nowhere(&canary).await;
}

pub async fn a_ledger_that_no_longer_matches_its_head_opens_an_incident(app: TestApp) {
    let settings = SignalSettings::default();
    assert_eq!(app.vault.check_signals(&settings).await.unwrap(), 0);
    app.ledger
        .report_integrity_problem("leaf 3 differs from the signed head".into());
    assert_eq!(app.vault.check_signals(&settings).await.unwrap(), 1);
    assert_eq!(
        app.vault.check_signals(&settings).await.unwrap(),
        0,
        "once a day"
    );
    let r = (app.client.get(app.url("/v1/incidents")))
        .bearer_auth(&app.keys["privacy_officer"])
        .send()
        .await
        .unwrap();
    let list: Value = r.json().await.unwrap();
    let i = &list["incidents"][0];
    assert_eq!(
        (&i["severity"], &i["reported_by"]),
        (&json!("critical"), &json!("signals"))
    );
    assert!(
        i["title"]
            .as_str()
            .unwrap()
            .contains("no longer matches its signed head")
    );
}
