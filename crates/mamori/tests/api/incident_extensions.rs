//! A duty's deadline extended on the timeline, only later and only with its reason recorded:
//! the clock, the timeline and the reminders follow the new due time; bad extensions change
//! nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::incidents::open;

async fn deadlines(app: &TestApp, id: &str) -> Value {
    let r = (app
        .client
        .get(app.url(&format!("/v1/incidents/{id}/deadlines"))))
    .bearer_auth(&app.keys["privacy_officer"])
    .send()
    .await
    .unwrap();
    r.json().await.unwrap()
}

async fn entry(app: &TestApp, id: &str, body: &Value) -> reqwest::Response {
    (app.client
        .post(app.url(&format!("/v1/incidents/{id}/entries"))))
    .bearer_auth(&app.keys["privacy_officer"])
    .json(body)
    .send()
    .await
    .unwrap()
}

fn gdpr_authority(v: &Value) -> &Value {
    (v["deadlines"].as_array().unwrap().iter())
        .find(|d| d["jurisdiction"] == "gdpr" && d["recipient"] == "authority")
        .unwrap()
}

pub async fn a_deadline_is_extended_only_later_and_with_a_reason(app: TestApp) {
    // Detected 2026-01-01T09:00Z: the GDPR authority's 72 hours end on the 4th.
    let incident = open(&app, "Backup tape lost").await;
    let id = incident["id"].as_str().unwrap();
    let extend =
        |until: &str| json!({"jurisdiction": "gdpr", "recipient": "authority", "until": until});
    let later = extend("2026-01-10T09:00:00Z");
    for (body, code) in [
        (json!({"version": 1, "extend": later}), "invalid_value"),
        (
            json!({"version": 1, "extend": extend("2026-01-03T09:00:00Z"), "note": "x"}),
            "invalid_time",
        ),
        (
            json!({"version": 1, "extend": extend("soon"), "note": "x"}),
            "invalid_time",
        ),
        (
            json!({"version": 1, "extend": {"jurisdiction": "gdpr", "recipient": "people",
            "until": "2026-02-01T00:00:00Z"}, "note": "x"}),
            "invalid_value",
        ),
        (
            json!({"version": 1, "extend": {"jurisdiction": "mars", "recipient": "authority",
            "until": "2026-02-01T00:00:00Z"}, "note": "x"}),
            "invalid_value",
        ),
        (
            json!({"version": 1, "extend": later, "status": "assessing", "note": "x"}),
            "invalid_value",
        ),
    ] {
        crate::problem(
            entry(&app, id, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
        )
        .await;
    }
    let before = deadlines(&app, id).await;
    assert_eq!(gdpr_authority(&before)["due_at"], "2026-01-04T09:00:00Z");
    assert!(gdpr_authority(&before).get("extended_from").is_none());

    let reason = "The authority agreed to a phased report (Art. 33(4))";
    let r = entry(
        &app,
        id,
        &json!({"version": 1, "extend": later, "note": reason}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let detail: Value = r.json().await.unwrap();
    let last = &detail["timeline"][1];
    assert_eq!(
        (&last["kind"], &last["note"]),
        (&json!("extension"), &json!(reason))
    );
    assert_eq!(last["extension"], later);
    let after = deadlines(&app, id).await;
    let gdpr = gdpr_authority(&after);
    assert_eq!(
        (&gdpr["due_at"], &gdpr["extended_from"], &gdpr["configured"]),
        (
            &json!("2026-01-10T09:00:00Z"),
            &json!("2026-01-04T09:00:00Z"),
            &json!(false)
        )
    );
    // Only later than the extended time now; the timeline took nothing else.
    let again = json!({"version": 2, "extend": extend("2026-01-08T09:00:00Z"), "note": "x"});
    crate::problem(
        entry(&app, id, &again).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_time",
    )
    .await;
    let r = (app.client.get(app.url(&format!("/v1/incidents/{id}"))))
        .bearer_auth(&app.keys["privacy_officer"])
        .send()
        .await
        .unwrap();
    let now: Value = r.json().await.unwrap();
    assert_eq!(now["incident"]["version"], 2);
}
