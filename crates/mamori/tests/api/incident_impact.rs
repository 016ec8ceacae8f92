//! An incident's impact from the ledger: the people a key reached in a window, per person the
//! categories, actions and times; denied attempts counted apart; an erased person still counted
//! (never read again); bad scopes refused.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::incidents::open;

pub(crate) async fn key_actor(app: &TestApp, role: &str) -> String {
    let keys = (app.vault.list_api_keys(&mamori::context::operator()).await).unwrap();
    let key = keys
        .iter()
        .find(|k| k.name == format!("test {role}"))
        .unwrap();
    format!("key:{}", key.id)
}

async fn read(app: &TestApp, id: &str, purpose: &str) -> StatusCode {
    let path = format!("/v1/subjects/{id}");
    let r = app
        .as_role(Method::GET, &path, "support", purpose)
        .send()
        .await
        .unwrap();
    r.status()
}

async fn impact(app: &TestApp, incident: &str, scope: &Value) -> reqwest::Response {
    (app.client
        .post(app.url(&format!("/v1/incidents/{incident}/impact"))))
    .bearer_auth(&app.keys["privacy_officer"])
    .json(scope)
    .send()
    .await
    .unwrap()
}

pub async fn an_incidents_impact_is_computed_from_the_ledger(app: TestApp) {
    let body = |n: u32| json!({"data": {"contact": {"name": format!("P{n}"), "email": format!("p{n}@example.com")}}});
    let (a, b, c) = (
        crate::create(&app, &body(1)).await,
        crate::create(&app, &body(2)).await,
        crate::create(&app, &body(3)).await,
    );
    let start = mamori_core::format_time(app.vault.now_ms());
    app.clock.advance(Duration::from_secs(60));
    for (id, purpose, expected) in [
        (&a, "customer_support", StatusCode::OK),
        (&a, "customer_support", StatusCode::OK),
        (&b, "order_fulfilment", StatusCode::OK),
        (&c, "marketing_email", StatusCode::FORBIDDEN),
    ] {
        assert_eq!(read(&app, id, purpose).await, expected);
    }
    app.clock.advance(Duration::from_secs(60));
    let end = mamori_core::format_time(app.vault.now_ms());
    let support = key_actor(&app, "support").await;
    let incident = open(&app, "Support key posted in a chat").await;
    let incident = incident["id"].as_str().unwrap();
    // B asks to be erased afterwards: still counted, never read again.
    let r = app
        .as_role(
            Method::DELETE,
            &format!("/v1/subjects/{b}"),
            "privacy_officer",
            "data_subject_rights",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let scope = json!({"actors": [support], "from": start, "to": end});
    let r = impact(&app, incident, &scope).await;
    assert_eq!(r.status(), StatusCode::OK);
    let found: Value = r.json().await.unwrap();
    assert_eq!(
        (&found["people"], &found["accesses"], &found["denied"]),
        (&json!(2), &json!(3), &json!(1)),
        "{found:#}"
    );
    let people: Vec<&str> = (found["subjects"].as_array().unwrap().iter())
        .map(|p| p["subject"].as_str().unwrap())
        .collect();
    let mut expected = vec![a.as_str(), b.as_str()];
    expected.sort();
    assert_eq!(people, expected);
    let of_a = found["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["subject"] == a.as_str())
        .unwrap();
    assert_eq!(of_a["accesses"], 2);
    assert!(
        of_a["categories"]
            .as_array()
            .unwrap()
            .contains(&json!("contact")),
        "{of_a}"
    );
    assert!(
        found["by_category"]
            .as_array()
            .unwrap()
            .contains(&json!({"category": "contact", "people": 2})),
        "{found:#}"
    );
    assert_eq!(found["reach"][0]["role"], "support");
    assert!(
        found["reach"][0]["categories"]
            .as_array()
            .unwrap()
            .contains(&json!("payment"))
    );
    // Only one purpose; a window before the reads: nobody.
    let only =
        json!({"actors": [support], "from": start, "to": end, "purposes": ["order_fulfilment"]});
    let found: Value = impact(&app, incident, &only).await.json().await.unwrap();
    assert_eq!(found["people"], 1);
    let before = json!({"actors": [support], "from": "2020-01-01T00:00:00Z", "to": start});
    let found: Value = impact(&app, incident, &before).await.json().await.unwrap();
    assert_eq!(found["people"], 0);
    assert!(
        !found.to_string().contains("p2@example.com"),
        "ids and counts only"
    );
}

pub async fn bad_impact_scopes_are_refused(app: TestApp) {
    let incident = open(&app, "Scope checks").await;
    let incident = incident["id"].as_str().unwrap();
    let support = key_actor(&app, "support").await;
    let ghost = format!("key:{}", uuid::Uuid::new_v4());
    let (from, to) = ("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z");
    for (scope, status, code) in [
        (
            json!({"actors": [ghost], "from": from, "to": to}),
            422,
            "invalid_value",
        ),
        (
            json!({"actors": ["printer"], "from": from, "to": to}),
            422,
            "invalid_value",
        ),
        (
            json!({"actors": [], "from": from, "to": to}),
            422,
            "invalid_value",
        ),
        (
            json!({"actors": [support], "from": to, "to": from}),
            422,
            "invalid_time",
        ),
        (
            json!({"actors": [support], "from": from}),
            400,
            "invalid_body",
        ),
        (
            json!({"actors": [support], "from": from, "to": to, "purposes": ["spying"]}),
            422,
            "invalid_value",
        ),
        (
            json!({"actors": [support], "from": from, "to": to, "categories": ["dna"]}),
            422,
            "invalid_value",
        ),
    ] {
        let r = impact(&app, incident, &scope).await;
        crate::problem(r, StatusCode::from_u16(status).unwrap(), code).await;
    }
    let missing = uuid::Uuid::new_v4().to_string();
    let r = impact(
        &app,
        &missing,
        &json!({"actors": [support], "from": from, "to": to}),
    )
    .await;
    crate::problem(r, StatusCode::NOT_FOUND, "incident_not_found").await;
}
