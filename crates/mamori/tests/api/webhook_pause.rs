//! Containment that can be undone: a paused subscription holds its events and resuming sends
//! them, in order; a rotated secret signs from then on, and the previous one beside it only for
//! the grace period asked for.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{self, TestApp};
use crate::outbox_events::{hook_id, subscribe};
use crate::{problem, signature_ok};

async fn post(app: &TestApp, path: &str, body: Option<Value>) -> reqwest::Response {
    let r = (app.client.post(app.url(path))).bearer_auth(&app.keys["privacy_officer"]);
    match body {
        Some(b) => r.json(&b),
        None => r,
    }
    .send()
    .await
    .unwrap()
}

/// A new person who just agreed to marketing e-mails (a `consent.changed` event); their id.
async fn someone_consents(app: &TestApp, tag: &str) -> String {
    let id = crate::create(app, &crate::customer_without_phone(tag)).await;
    let grant = json!({"purpose": "marketing_email", "channel": "email", "granted": true});
    let r = crate::consent(app, &id, "service", grant).await;
    assert_eq!(r.status(), StatusCode::OK);
    id
}

async fn listed(app: &TestApp) -> Value {
    let r = app.client.get(app.url("/v1/webhooks"));
    let r = r
        .bearer_auth(&app.keys["privacy_officer"])
        .send()
        .await
        .unwrap();
    r.json().await.unwrap()
}

/// Subscribes a fresh receiver to consent changes; it, its subscription's id and secret.
async fn subscribed(app: &TestApp) -> (common::Receiver, String, String) {
    let target = common::receiver(0, false).await;
    let r = subscribe(app, &target.url, json!(["consent.changed"])).await;
    let secret = r.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let id = hook_id(app, &target.url).await;
    (target, id, secret)
}

pub(crate) async fn a_paused_webhook_holds_its_events_until_resumed(app: TestApp) {
    let (target, id, secret) = subscribed(&app).await;
    let r = post(&app, &format!("/v1/webhooks/{id}/pause"), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let hooks = listed(&app).await;
    assert!(hooks[0]["paused_at"].is_string(), "{hooks}");
    let (first, second) = (
        someone_consents(&app, "first").await,
        someone_consents(&app, "second").await,
    );
    // Longer than the delivery task's rescan: a running subscription would have sent by now.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(
        target.got.lock().unwrap().is_empty(),
        "nothing while paused"
    );
    let r = post(&app, &format!("/v1/webhooks/{id}/resume"), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let got = target.wait_for(2).await;
    let subjects: Vec<Value> = (got.iter())
        .map(|d| serde_json::from_str::<Value>(&d.body).unwrap()["data"]["subject"].clone())
        .collect();
    assert_eq!(
        subjects,
        [json!(first), json!(second)],
        "held, then sent in order"
    );
    assert!(got.iter().all(|d| signature_ok(&secret, d)));
    let hooks = listed(&app).await;
    assert!(hooks[0].get("paused_at").is_none());
}

pub(crate) async fn a_rotated_secret_signs_and_the_old_one_only_during_its_grace(app: TestApp) {
    let (target, id, original) = subscribed(&app).await;
    let rotate = async |grace: Value| {
        let r = post(
            &app,
            &format!("/v1/webhooks/{id}/rotate-secret"),
            Some(grace),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()
    };
    let graced = rotate(json!({"grace_hours": 24})).await;
    let second = graced["secret"].as_str().unwrap().to_string();
    assert!(second.starts_with("whsec_") && second != original);
    assert!(graced["previous_secret_until"].is_string());
    someone_consents(&app, "graced").await;
    let d = target.wait_for(1).await.remove(0);
    assert!(
        signature_ok(&second, &d) && signature_ok(&original, &d),
        "both sign in grace"
    );
    // Rotated again with no grace (it leaked): only the newest signs.
    let third = rotate(json!({"grace_hours": 0})).await["secret"]
        .as_str()
        .unwrap()
        .to_string();
    someone_consents(&app, "leaked").await;
    let d = target.wait_for(2).await.remove(1);
    assert!(signature_ok(&third, &d), "{d:?}");
    assert!(!signature_ok(&second, &d) && !signature_ok(&original, &d));
    assert_eq!(d.signature.split(' ').count(), 1);
}

pub(crate) async fn pausing_and_rotating_refuse_bad_input(app: TestApp) {
    let (_target, id, _) = subscribed(&app).await;
    let unknown = uuid::Uuid::from_u128(7).to_string();
    for action in ["pause", "resume"] {
        let r = post(&app, &format!("/v1/webhooks/{unknown}/{action}"), None).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_webhook").await;
        let r = post(&app, &format!("/v1/webhooks/not-an-id/{action}"), None).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_id").await;
    }
    let path = format!("/v1/webhooks/{id}/rotate-secret");
    let r = post(&app, &path, Some(json!({"grace_hours": 169}))).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    for bad in [
        json!({"grace_hours": -1}),
        json!({"grace": 1}),
        json!({}),
        json!([]),
    ] {
        let r = post(&app, &path, Some(bad.clone())).await;
        assert!(r.status().is_client_error(), "{bad}");
    }
    let r = post(
        &app,
        &format!("/v1/webhooks/{unknown}/rotate-secret"),
        Some(json!({"grace_hours": 0})),
    )
    .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_webhook").await;
    // The refusals changed nothing: the subscription runs under its first secret.
    let hooks = listed(&app).await;
    assert!(hooks[0].get("paused_at").is_none() && hooks[0].get("previous_secret_until").is_none());
    let r = app
        .client
        .post(app.url(&format!("/v1/webhooks/{id}/pause")))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
}
