//! Tabletop drills: a drill incident from a shipped scenario, marked as a drill, worked like a
//! real one; its report tells when each milestone was reached, what was skipped and which
//! deadlines ran out first; an unknown scenario or language is refused and opens nothing.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::incidents::add_entry;

async fn post(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    (app.client.post(app.url(path)))
        .bearer_auth(&app.keys["privacy_officer"])
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn report(app: &TestApp, id: &str) -> Value {
    let r = (app
        .client
        .get(app.url(&format!("/v1/incidents/{id}/drill-report"))))
    .bearer_auth(&app.keys["privacy_officer"])
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

pub async fn a_drill_is_run_and_reported_from_its_timeline(app: TestApp) {
    let r = post(
        &app,
        "/v1/drills",
        &json!({"scenario": "lost_laptop", "lang": "ja"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let drill: Value = r.json().await.unwrap();
    assert_eq!(
        (&drill["drill"], &drill["kind"]),
        (&json!(true), &json!("lost_device"))
    );
    assert!(
        drill["title"].as_str().unwrap().starts_with("訓練："),
        "{drill}"
    );
    let id = drill["id"].as_str().unwrap();
    app.clock.advance(Duration::from_secs(2 * 3600));
    add_entry(&app, id, &json!({"version": 1, "status": "assessing"})).await;
    app.clock.advance(Duration::from_secs(3 * 3600));
    add_entry(&app, id, &json!({"version": 2, "status": "contained"})).await;
    let v = report(&app, id).await;
    let at = |m: &str| {
        (v["milestones"].as_array().unwrap().iter())
            .find(|x| x["milestone"] == m)
            .map(|x| x["hours_after_detection"].as_f64().unwrap())
    };
    assert_eq!(
        (at("opened"), at("assessing"), at("contained")),
        (Some(0.0), Some(2.0), Some(5.0)),
        "{v:#}"
    );
    let skipped: Vec<&str> = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(
        skipped,
        [
            "first_containment",
            "impact_computed",
            "notices_prepared",
            "notifying",
            "regulator_draft",
            "closed"
        ]
    );
    assert!(
        v["missed"].as_array().unwrap().is_empty(),
        "nothing due yet: {v:#}"
    );
    // Four days pass before anyone is told: GDPR's 72 hours to the authority were missed.
    app.clock.advance(Duration::from_secs(4 * 86_400));
    add_entry(&app, id, &json!({"version": 3, "status": "notifying"})).await;
    let v = report(&app, id).await;
    let missed = v["missed"].as_array().unwrap();
    assert!(
        missed
            .iter()
            .any(|m| m["jurisdiction"] == "gdpr" && m["recipient"] == "authority"),
        "{v:#}"
    );
    let list: Value = (app.client.get(app.url("/v1/incidents")))
        .bearer_auth(&app.keys["privacy_officer"])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["incidents"][0]["drill"], true,
        "marked as a drill in the register"
    );
}

pub async fn bad_drills_are_refused(app: TestApp) {
    for (body, status, code) in [
        (json!({"scenario": "flood"}), 422, "invalid_value"),
        (
            json!({"scenario": "lost_laptop", "lang": "de"}),
            422,
            "invalid_value",
        ),
        (
            json!({"scenario": "lost_laptop", "real": true}),
            400,
            "invalid_body",
        ),
    ] {
        let r = post(&app, "/v1/drills", &body).await;
        crate::problem(r, StatusCode::from_u16(status).unwrap(), code).await;
    }
    let r = (app.client.post(app.url("/v1/drills")))
        .bearer_auth(&app.keys["support"])
        .json(&json!({"scenario": "lost_laptop"}))
        .send()
        .await
        .unwrap();
    crate::problem(r, StatusCode::FORBIDDEN, "permission_not_granted").await;
    let operator = mamori::context::operator();
    assert!(
        app.vault.incidents(&operator).await.unwrap().is_empty(),
        "nothing was opened"
    );
}
