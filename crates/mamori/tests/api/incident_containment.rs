//! Containment from an incident: a leaked key revoked and a member of staff disabled in one
//! step each, recorded on the timeline and linked; each step ledgered; a stale version, an
//! unknown target or a closed incident change nothing.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::incidents::open;
use crate::staff_sign_in::{console_get, signed_in_as};

async fn contain(app: &TestApp, incident: &str, body: &Value) -> reqwest::Response {
    (app.client
        .post(app.url(&format!("/v1/incidents/{incident}/containment"))))
    .bearer_auth(&app.keys["privacy_officer"])
    .json(body)
    .send()
    .await
    .unwrap()
}

pub async fn a_leaked_key_and_a_staff_account_are_contained_from_the_incident(app: TestApp) {
    let operator = mamori::context::operator();
    let (key_id, token) = app
        .vault
        .create_api_key(&operator, "service", "leaked")
        .await
        .unwrap();
    let read = || {
        (app.client
            .get(app.url("/v1/subjects?email=nobody@example.com")))
        .bearer_auth(&token)
        .header("Mamori-Purpose", "order_fulfilment")
        .send()
    };
    assert_eq!(read().await.unwrap().status(), StatusCode::OK);
    let (session, _) = signed_in_as(&app, "lost.laptop@staff.example", "support").await;
    let staff = app.vault.list_staff(&operator).await.unwrap();
    let member = staff
        .iter()
        .find(|m| m.email == "lost.laptop@staff.example")
        .unwrap();
    let incident = open(&app, "Laptop and key lost together").await;
    let id = incident["id"].as_str().unwrap();

    let revoke = json!({"version": 1, "action": "revoke_api_key", "target": key_id, "note": "pasted in a chat"});
    let r = contain(&app, id, &revoke).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        read().await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "revoked at once"
    );
    let disable = json!({"version": 2, "action": "disable_staff", "target": member.id});
    let detail: Value = contain(&app, id, &disable).await.json().await.unwrap();
    let (status, to) = console_get(&app, &session, "/console").await;
    assert!(
        status.is_redirection() && to.contains("/console/sign-in"),
        "their session ended"
    );
    let entries = detail["timeline"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(
        (
            &entries[1]["kind"],
            &entries[1]["link"]["kind"],
            &entries[1]["link"]["id"]
        ),
        (&json!("containment"), &json!("api_key"), &json!(key_id))
    );
    assert_eq!(entries[1]["note"], "pasted in a chat");
    assert_eq!(
        (&entries[2]["link"]["kind"], &entries[2]["link"]["id"]),
        (&json!("staff"), &json!(member.id))
    );
    assert_eq!(detail["incident"]["links"].as_array().unwrap().len(), 2);
}

/// A stale version, an unknown key, an unknown step or a closed incident change nothing.
pub async fn bad_containment_steps_change_nothing(app: TestApp) {
    let operator = mamori::context::operator();
    let (key_id, _) = app
        .vault
        .create_api_key(&operator, "service", "k")
        .await
        .unwrap();
    let incident = open(&app, "Bad steps").await;
    let id = incident["id"].as_str().unwrap();
    crate::incidents::add_entry(&app, id, &json!({"version": 1, "note": "first look"})).await;
    let r = contain(
        &app,
        id,
        &json!({"version": 2, "action": "revoke_api_key", "target": key_id}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let ghost = uuid::Uuid::new_v4().to_string();
    for (body, status, code) in [
        (
            json!({"version": 1, "action": "revoke_api_key", "target": key_id}),
            409,
            "concurrent_update",
        ),
        (
            json!({"version": 3, "action": "revoke_api_key", "target": ghost}),
            422,
            "unknown_key",
        ),
        (
            json!({"version": 3, "action": "shutdown", "target": ghost}),
            400,
            "invalid_body",
        ),
    ] {
        let r = contain(&app, id, &body).await;
        crate::problem(r, StatusCode::from_u16(status).unwrap(), code).await;
    }
    crate::incidents::add_entry(&app, id, &json!({"version": 3, "status": "closed"})).await;
    let (other, _) = app
        .vault
        .create_api_key(&operator, "service", "other")
        .await
        .unwrap();
    let late = json!({"version": 4, "action": "revoke_api_key", "target": other});
    crate::problem(
        contain(&app, id, &late).await,
        StatusCode::CONFLICT,
        "incident_closed",
    )
    .await;
    let keys = app.vault.list_api_keys(&operator).await.unwrap();
    assert!(
        keys.iter().any(|k| k.id == other && !k.revoked),
        "a closed incident revokes nothing"
    );
    let r = app
        .as_role(
            Method::GET,
            &format!("/v1/incidents/{id}"),
            "privacy_officer",
            "x",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["timeline"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

pub async fn a_webhook_and_an_agent_are_stopped_from_the_incident(app: TestApp) {
    let operator = mamori::context::operator();
    let hook = "http://127.0.0.1:9/incident";
    let (webhook, _) = (app.vault)
        .add_webhook(&operator, hook, &["*".to_string()])
        .await
        .unwrap();
    let key = "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=";
    (app.vault
        .register_agent(&operator, "LEAKY", "Leaky agent", key))
    .await
    .unwrap();
    let incident = open(&app, "A partner's systems were breached").await;
    let id = incident["id"].as_str().unwrap();
    let step = json!({"version": 1, "action": "remove_webhook", "target": webhook.id, "note": "stop sending"});
    let r = contain(&app, id, &step).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let step = json!({"version": 2, "action": "remove_agent", "target": "LEAKY"});
    let r = contain(&app, id, &step).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let detail: Value = r.json().await.unwrap();
    let links: Vec<&Value> = (detail["timeline"].as_array().unwrap().iter())
        .filter_map(|e| e.get("link"))
        .collect();
    assert_eq!(links[0], &json!({"kind": "webhook", "id": webhook.id}));
    assert_eq!(links[1], &json!({"kind": "agent", "id": "LEAKY"}));
    let hooks = app.vault.list_webhooks(&operator).await.unwrap();
    assert!(hooks.iter().all(|h| h.id != webhook.id), "stopped");
    let agents = app.vault.list_agents(&operator).await.unwrap();
    assert!(
        agents
            .iter()
            .all(|a| a.id != "LEAKY" || a.removed_ms.is_some())
    );
    // Unknown targets are refused and add nothing.
    for (action, target) in [("remove_webhook", "nope"), ("remove_agent", "NOBODY")] {
        let step = json!({"version": 3, "action": action, "target": target});
        let r = contain(&app, id, &step).await;
        assert!(r.status().is_client_error(), "{action}");
    }
}
