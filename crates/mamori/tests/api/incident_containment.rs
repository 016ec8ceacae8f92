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

/// Pausing is containment that can be undone, and a re-keyed webhook's new secret is shown once
/// in the answer; a paused agent cannot pair until it is resumed.
pub async fn a_webhook_and_an_agent_are_paused_and_rekeyed_from_the_incident(app: TestApp) {
    let operator = mamori::context::operator();
    let (webhook, original) = (app.vault)
        .add_webhook(&operator, "http://127.0.0.1:9/paused", &["*".to_string()])
        .await
        .unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[12; 32]);
    let verify_key = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(key.verifying_key().to_bytes())
    };
    (app.vault
        .register_agent(&operator, "SLOW", "Slow agent", &verify_key))
    .await
    .unwrap();
    let pair = async |nonce: i64| {
        let message = crate::drp_envelope("SLOW", "KITSUNE_GOODS_LTD", -5 - nonce, 300);
        let r = app.client.post(app.url("/v1/agent/SLOW"));
        let r = r.header("content-type", "text/plain");
        r.body(crate::drp_signed(&key, &message))
            .send()
            .await
            .unwrap()
            .status()
    };
    let incident = open(&app, "A partner's signing secret was pasted in a ticket").await;
    let id = incident["id"].as_str().unwrap();
    for (version, action, target) in [
        (1, "pause_webhook", webhook.id.as_str()),
        (2, "pause_agent", "SLOW"),
    ] {
        let step = json!({"version": version, "action": action, "target": target});
        let r = contain(&app, id, &step).await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "{action}: {}",
            r.text().await.unwrap()
        );
    }
    let step = json!({"version": 3, "action": "rotate_webhook_secret", "target": webhook.id});
    let detail: Value = contain(&app, id, &step).await.json().await.unwrap();
    let secret = detail["new_secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_") && secret != original);
    assert_eq!(detail["timeline"].as_array().unwrap().len(), 4);
    let hooks = app.vault.list_webhooks(&operator).await.unwrap();
    let hook = hooks.iter().find(|h| h.id == webhook.id).unwrap();
    assert!(hook.paused_at.is_some() && hook.previous_secret_until.is_none());
    assert_eq!(
        pair(0).await,
        StatusCode::FORBIDDEN,
        "a paused agent cannot pair"
    );
    app.vault.resume_agent(&operator, "SLOW").await.unwrap();
    assert_eq!(pair(1).await, StatusCode::OK, "resumed");
    app.vault
        .resume_webhook(&operator, &webhook.id)
        .await
        .unwrap();
    let hooks = app.vault.list_webhooks(&operator).await.unwrap();
    assert!(hooks.iter().all(|h| h.paused_at.is_none()));
    // Unknown targets are refused and add nothing.
    for action in ["pause_webhook", "rotate_webhook_secret", "pause_agent"] {
        let step = json!({"version": 4, "action": action, "target": "NOBODY"});
        assert!(
            contain(&app, id, &step).await.status().is_client_error(),
            "{action}"
        );
    }
}
