//! Who must be told of an incident, by when: each law's duties with clocks from `detected_at`
//! (hours, calendar days, business days), the ones without a number first, overdue once past;
//! unknown laws and bad queries refused.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::TestApp;

async fn get(app: &TestApp, role: &str, path: &str) -> reqwest::Response {
    (app.client.get(app.url(path)))
        .bearer_auth(&app.keys[role])
        .send()
        .await
        .unwrap()
}

async fn opened(app: &TestApp, detected_at: &str) -> String {
    let body = json!({"title": "Backup tape lost", "kind": "lost_device", "severity": "high", "detected_at": detected_at});
    let r = (app.client.post(app.url("/v1/incidents")))
        .bearer_auth(&app.keys["privacy_officer"])
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn duty<'v>(v: &'v Value, law: &str, recipient: &str) -> &'v Value {
    (v["deadlines"].as_array().unwrap().iter())
        .find(|d| d["jurisdiction"] == law && d["recipient"] == recipient)
        .unwrap_or_else(|| panic!("{law} {recipient}: {v:#}"))
}

pub async fn incident_deadlines_run_per_law_from_awareness(app: TestApp) {
    let ten_hours_ago = mamori_core::format_time(app.vault.now_ms() - 10 * 3_600_000);
    let id = opened(&app, &ten_hours_ago).await;
    let path = format!("/v1/incidents/{id}/deadlines");
    let v: Value = get(&app, "privacy_officer", &path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["table_reviewed"], "2026-12-07");
    let laws: Vec<&str> = (v["deadlines"].as_array().unwrap().iter())
        .map(|d| d["jurisdiction"].as_str().unwrap())
        .collect();
    assert!(
        laws.contains(&"gdpr") && laws.contains(&"appi") && !laws.contains(&"hipaa"),
        "the policy's laws: {laws:?}"
    );
    assert_eq!(
        v["deadlines"][0]["within"], "asap",
        "no number: due now, listed first"
    );
    let gdpr = duty(&v, "gdpr", "authority");
    assert_eq!(
        (&gdpr["within"], &gdpr["overdue"]),
        (&json!("72h"), &json!(false))
    );
    let left = gdpr["hours_left"].as_i64().unwrap();
    assert!((61..=62).contains(&left), "{gdpr}");
    assert!(gdpr["source"].as_str().unwrap().contains("Art. 33"));
    // Three days later the authority's 72 hours are past.
    app.clock.advance(Duration::from_secs(3 * 86_400));
    let v: Value = get(&app, "privacy_officer", &path)
        .await
        .json()
        .await
        .unwrap();
    let gdpr = duty(&v, "gdpr", "authority");
    assert_eq!(gdpr["overdue"], true);
    assert!(gdpr["hours_left"].as_i64().unwrap() < 0);

    // Business days skip the weekend: a Friday's three business days end on Wednesday.
    let friday = opened(&app, "2026-12-04T09:00:00Z").await;
    let path = format!("/v1/incidents/{friday}/deadlines?jurisdictions=lgpd,hipaa");
    let v: Value = get(&app, "privacy_officer", &path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        duty(&v, "lgpd", "authority")["due_at"],
        "2026-12-09T09:00:00Z"
    );
    assert_eq!(duty(&v, "hipaa", "media")["due_at"], "2027-02-02T09:00:00Z");
    assert!(!v.to_string().contains("gdpr"), "only the laws asked for");
}

pub async fn bad_deadline_queries_are_refused(app: TestApp) {
    let id = opened(&app, "2026-12-04T09:00:00Z").await;
    let base = format!("/v1/incidents/{id}/deadlines");
    let r = get(
        &app,
        "privacy_officer",
        &format!("{base}?jurisdictions=mars"),
    )
    .await;
    crate::problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let r = get(&app, "privacy_officer", &format!("{base}?jurisdictions=,")).await;
    crate::problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let r = get(&app, "privacy_officer", &format!("{base}?law=gdpr")).await;
    crate::problem(r, StatusCode::BAD_REQUEST, "invalid_query").await;
    let missing = format!("/v1/incidents/{}/deadlines", uuid::Uuid::new_v4());
    let r = get(&app, "privacy_officer", &missing).await;
    crate::problem(r, StatusCode::NOT_FOUND, "incident_not_found").await;
    let r = get(&app, "support", &base).await;
    crate::problem(r, StatusCode::FORBIDDEN, "permission_not_granted").await;
}

/// A duty due within a day is announced once (`incident.deadline_soon`: ids and codes, never
/// the title); a closed incident is reminded of nothing.
pub async fn incident_deadlines_are_reminded_once(app: TestApp) {
    let sixty_hours_ago = mamori_core::format_time(app.vault.now_ms() - 60 * 3_600_000);
    let id = opened(&app, &sixty_hours_ago).await;
    let closed = opened(&app, &sixty_hours_ago).await;
    crate::incidents::add_entry(&app, &closed, &json!({"version": 1, "status": "closed"})).await;
    // GDPR's 72 hours end in 12: that duty is reminded; APPI's five days are not near yet.
    assert_eq!(app.vault.send_incident_reminders().await.unwrap(), 1);
    assert_eq!(
        app.vault.send_incident_reminders().await.unwrap(),
        0,
        "once"
    );
    let v: Value = crate::outbox_events::feed(&app, "after=0&limit=1000")
        .await
        .json()
        .await
        .unwrap();
    let soon: Vec<&Value> = (v["events"].as_array().unwrap().iter())
        .filter(|e| e["type"] == "incident.deadline_soon")
        .collect();
    assert_eq!(soon.len(), 1, "{v:#}");
    assert_eq!(soon[0]["data"]["incident"], id.as_str());
    assert_eq!(
        (
            &soon[0]["data"]["jurisdiction"],
            &soon[0]["data"]["recipient"]
        ),
        (&json!("gdpr"), &json!("authority"))
    );
    assert!(
        !soon[0].to_string().contains("Backup tape"),
        "never the title"
    );
    // Four days on, APPI's preliminary report is within a day.
    app.clock.advance(Duration::from_secs(4 * 86_400));
    assert_eq!(app.vault.send_incident_reminders().await.unwrap(), 1);
}
