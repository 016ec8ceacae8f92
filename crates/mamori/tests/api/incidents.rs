//! The incident register: opened, worked through an append-only timeline and closed by roles
//! with `admin = ["incidents"]`; titles and notes sealed; two writers of one version cannot both
//! win; bad input changes nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::TestApp;

async fn post(app: &TestApp, role: &str, path: &str, body: &Value) -> reqwest::Response {
    (app.client.post(app.url(path)))
        .bearer_auth(&app.keys[role])
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn get(app: &TestApp, role: &str, path: &str) -> reqwest::Response {
    (app.client.get(app.url(path)))
        .bearer_auth(&app.keys[role])
        .send()
        .await
        .unwrap()
}

/// Adds an entry to incident `id`'s timeline as the privacy officer; it must be taken.
pub(crate) async fn add_entry(app: &TestApp, id: &str, entry: &Value) {
    let r = post(
        app,
        "privacy_officer",
        &format!("/v1/incidents/{id}/entries"),
        entry,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

pub(crate) async fn open(app: &TestApp, title: &str) -> Value {
    let body = json!({"title": title, "kind": "leaked_credential", "severity": "high",
        "detected_at": "2026-01-01T09:00:00Z"});
    let r = post(app, "privacy_officer", "/v1/incidents", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

pub async fn incidents_are_opened_worked_and_closed_on_an_append_only_timeline(app: TestApp) {
    let canary = format!("incident-canary-{}", uuid::Uuid::new_v4().simple());
    let incident = open(&app, &format!("Support laptop lost ({canary})")).await;
    let id = incident["id"].as_str().unwrap().to_string();
    assert_eq!(
        (
            &incident["status"],
            &incident["version"],
            &incident["detected_at"]
        ),
        (&json!("open"), &json!(1), &json!("2026-01-01T09:00:00Z"))
    );
    let entries = format!("/v1/incidents/{id}/entries");
    let steps = [
        json!({"version": 1, "note": format!("Called the owner; {canary} noted")}),
        json!({"version": 2, "status": "assessing"}),
        json!({"version": 3, "severity": "critical", "note": "payment data on the disk"}),
        json!({"version": 4, "link": {"kind": "vendor", "id": format!("Laptop Repairs {canary}")}}),
        json!({"version": 5, "status": "closed", "note": "recovered, disk encrypted"}),
    ];
    for step in &steps {
        let r = post(&app, "privacy_officer", &entries, step).await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "{step}: {}",
            r.text().await.unwrap()
        );
    }
    let detail: Value = get(&app, "privacy_officer", &format!("/v1/incidents/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = (detail["timeline"].as_array().unwrap().iter())
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["opened", "note", "status", "severity", "link", "status"]
    );
    assert_eq!(detail["incident"]["severity"], "critical");
    assert_eq!(detail["incident"]["status"], "closed");
    assert_eq!(
        detail["incident"]["links"][0]["id"],
        format!("Laptop Repairs {canary}")
    );
    assert!(
        detail["timeline"][1]["note"]
            .as_str()
            .unwrap()
            .contains(&canary)
    );
    // Closed: nothing more is added.
    let r = post(
        &app,
        "privacy_officer",
        &entries,
        &json!({"version": 6, "note": "x"}),
    )
    .await;
    crate::problem(r, StatusCode::CONFLICT, "incident_closed").await;
    let list: Value = get(&app, "privacy_officer", "/v1/incidents")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["incidents"][0]["id"], id.as_str());
    app.assert_canary_nowhere(&canary).await;
}

pub async fn two_writers_of_one_incident_version_cannot_both_win(app: TestApp) {
    let incident = open(&app, "Misdirected export").await;
    let entries = format!("/v1/incidents/{}/entries", incident["id"].as_str().unwrap());
    let (first, second) = (
        json!({"version": 1, "status": "assessing"}),
        json!({"version": 1, "status": "contained"}),
    );
    let a = post(&app, "privacy_officer", &entries, &first);
    let b = post(&app, "privacy_ops", &entries, &second);
    let (a, b) = tokio::join!(a, b);
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let loser = if a.status() == StatusCode::CONFLICT {
        a
    } else {
        b
    };
    crate::problem(loser, StatusCode::CONFLICT, "concurrent_update").await;
    let detail: Value = get(&app, "privacy_officer", &entries.replace("/entries", ""))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        detail["timeline"].as_array().unwrap().len(),
        2,
        "one winner"
    );
    // An old version is refused, and so is a status moving backwards.
    let r = post(
        &app,
        "privacy_officer",
        &entries,
        &json!({"version": 1, "note": "late"}),
    )
    .await;
    crate::problem(r, StatusCode::CONFLICT, "concurrent_update").await;
    let r = post(
        &app,
        "privacy_officer",
        &entries,
        &json!({"version": 2, "status": "open"}),
    )
    .await;
    crate::problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
}

pub async fn bad_incident_input_is_refused_and_changes_nothing(app: TestApp) {
    let before = crate::ledger_size(&app).await;
    let r = post(
        &app,
        "support",
        "/v1/incidents",
        &json!({"title": "x", "kind": "other", "severity": "low"}),
    )
    .await;
    crate::problem(r, StatusCode::FORBIDDEN, "permission_not_granted").await;
    assert_eq!(
        crate::ledger_size(&app).await,
        before + 1,
        "the refusal is ledgered"
    );
    let secret = "do-not-echo-7731";
    let long = "x".repeat(201);
    for (body, status, code) in [
        (
            json!({"title": "  ", "kind": "other", "severity": "low"}),
            422,
            "invalid_value",
        ),
        (
            json!({"title": long, "kind": "other", "severity": "low"}),
            422,
            "text_too_long",
        ),
        (
            json!({"title": "t", "kind": secret, "severity": "low"}),
            400,
            "invalid_body",
        ),
        (
            json!({"title": "t", "kind": "other", "severity": "low", "detected_at": "2999-01-01T00:00:00Z"}),
            422,
            "invalid_time",
        ),
        (
            json!({"title": "t", "kind": "other", "severity": "low", "detected_at": secret}),
            422,
            "invalid_time",
        ),
        (
            json!({"title": "t\u{0}", "kind": "other", "severity": "low"}),
            422,
            "invalid_value",
        ),
    ] {
        let r = post(&app, "privacy_officer", "/v1/incidents", &body).await;
        let problem = crate::problem(r, StatusCode::from_u16(status).unwrap(), code).await;
        assert!(!problem.to_string().contains(secret), "{problem}");
    }
    let incident = open(&app, "Ransomware note on the file server").await;
    let entries = format!("/v1/incidents/{}/entries", incident["id"].as_str().unwrap());
    for (body, status, code) in [
        (json!({"version": 1}), 422, "invalid_value"),
        (
            json!({"version": 1, "status": "contained", "severity": "low"}),
            422,
            "invalid_value",
        ),
        (
            json!({"version": 1, "link": {"kind": "api_key", "id": secret}}),
            422,
            "invalid_value",
        ),
        (
            json!({"version": 1, "link": {"kind": "staff", "id": uuid::Uuid::new_v4().to_string()}}),
            422,
            "invalid_value",
        ),
        (
            json!({"version": 1, "note": "x".repeat(4001)}),
            422,
            "text_too_long",
        ),
    ] {
        let r = post(&app, "privacy_officer", &entries, &body).await;
        let problem = crate::problem(r, StatusCode::from_u16(status).unwrap(), code).await;
        assert!(!problem.to_string().contains(secret), "{problem}");
    }
    let r = get(&app, "privacy_officer", "/v1/incidents/not-an-id").await;
    crate::problem(r, StatusCode::BAD_REQUEST, "invalid_id").await;
    let missing = format!("/v1/incidents/{}", uuid::Uuid::new_v4());
    let r = get(&app, "privacy_officer", &missing).await;
    crate::problem(r, StatusCode::NOT_FOUND, "incident_not_found").await;
    let list: Value = get(&app, "privacy_officer", "/v1/incidents")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["incidents"].as_array().unwrap().len(),
        1,
        "nothing else was opened"
    );
    let detail: Value = get(&app, "privacy_officer", &entries.replace("/entries", ""))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["incident"]["version"], 1, "nothing was added");
}

/// An RFC 3339 time in Unix milliseconds.
pub(crate) fn ms(text: &str) -> i64 {
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339);
    (t.unwrap().unix_timestamp_nanos() / 1_000_000) as i64
}
