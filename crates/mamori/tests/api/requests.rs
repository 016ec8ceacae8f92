//! The register of requests: DRP states, deadlines, reminders, and requests agents file.

use super::*;

pub(crate) async fn officer(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let r = app.as_role(method, path, "privacy_officer", "data_subject_rights");
    match body {
        Some(b) => r.json(&b),
        None => r,
    }
    .send()
    .await
    .unwrap()
}

/// Requests as objects: a deadline from the jurisdiction, one extension with a reason where the
/// law allows it, DRP states and denial reasons, the queue by due date with paging, every step
/// ledgered and announced, and bad input refused without changing anything.
pub(crate) async fn requests_are_worked_through_drp_states_before_their_deadline(app: TestApp) {
    let ada = create(&app, &customer("requests")).await;
    let r = officer(&app, Method::POST, "/v1/requests", Some(json!({"kind": "access", "subject": ada, "jurisdiction": "gdpr", "received_at": mamori_core::format_time(mamori_core::now_ms() - 86_400_000)}))).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let gdpr: Value = r.json().await.unwrap();
    assert_eq!(gdpr["state"], "open");
    assert_eq!(gdpr["source"], "staff");
    let lgpd: Value = officer(
        &app,
        Method::POST,
        "/v1/requests",
        Some(json!({"kind": "erasure", "jurisdiction": "lgpd"})),
    )
    .await
    .json()
    .await
    .unwrap();
    let ccpa: Value = officer(&app, Method::POST, "/v1/requests", Some(json!({"kind": "opt_out_of_sale", "subject": ada, "jurisdiction": "ccpa", "source": "agent"}))).await.json().await.unwrap();
    // LGPD's 15 days come before CCPA's 45 days; GDPR's month sits between.
    let queue: Value = officer(&app, Method::GET, "/v1/requests", None)
        .await
        .json()
        .await
        .unwrap();
    let order: Vec<&str> = queue["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["erasure", "access", "opt_out_of_sale"], "{queue}");
    let first: Value = officer(&app, Method::GET, "/v1/requests?limit=1", None)
        .await
        .json()
        .await
        .unwrap();
    let next = first["next"].as_str().unwrap().to_string();
    let rest: Value = officer(
        &app,
        Method::GET,
        &format!("/v1/requests?limit=5&after={next}"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(rest["requests"].as_array().unwrap().len(), 2);
    assert_eq!(rest["requests"][0]["kind"], "access");
    assert!(rest["next"].is_null());
    let mine: Value = officer(
        &app,
        Method::GET,
        &format!("/v1/requests?subject={ada}"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(mine["requests"].as_array().unwrap().len(), 2);

    // Extension: once, with a reason, as far as the law allows; LGPD allows none.
    let id = gdpr["id"].as_str().unwrap();
    let due = |v: &Value| v["due_at"].as_str().unwrap().to_string();
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{id}/extend"),
        Some(json!({"reason": "complexity"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let extended: Value = r.json().await.unwrap();
    assert_eq!(extended["extension"], "complexity");
    assert!(due(&extended) > due(&gdpr));
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{id}/extend"),
        Some(json!({"reason": "complexity"})),
    )
    .await;
    problem(r, StatusCode::CONFLICT, "already_extended").await;
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{}/extend", lgpd["id"].as_str().unwrap()),
        Some(json!({"reason": "number_of_requests"})),
    )
    .await;
    problem(r, StatusCode::CONFLICT, "no_extension").await;
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{id}/extend"),
        Some(json!({"reason": "we are busy"})),
    )
    .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_reason").await;

    // States: in progress, then fulfilled; a closed request stays closed. A denial needs a reason.
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{id}/state"),
        Some(json!({"state": "in_progress"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{id}/state"),
        Some(json!({"state": "fulfilled"})),
    )
    .await;
    let done: Value = r.json().await.unwrap();
    assert_eq!(done["state"], "fulfilled");
    assert!(done["closed_at"].is_string());
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{id}/state"),
        Some(json!({"state": "in_progress"})),
    )
    .await;
    problem(r, StatusCode::CONFLICT, "request_closed").await;
    let other = ccpa["id"].as_str().unwrap();
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{other}/state"),
        Some(json!({"state": "denied"})),
    )
    .await;
    problem(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "denial_reason_required",
    )
    .await;
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{other}/state"),
        Some(json!({"state": "denied", "reason": "no_match"})),
    )
    .await;
    assert_eq!(r.json::<Value>().await.unwrap()["reason"], "no_match");
    let queue: Value = officer(&app, Method::GET, "/v1/requests", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        queue["requests"].as_array().unwrap().len(),
        1,
        "only the LGPD request is still open"
    );
    let fulfilled: Value = officer(&app, Method::GET, "/v1/requests?state=fulfilled", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fulfilled["requests"][0]["id"], id);

    // Each step was ledgered about the person and announced to other systems.
    let log = access_log_page(&app, &ada, "?limit=500").await;
    for action in ["request.open", "request.extend", "request.state"] {
        assert!(
            log["events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == action),
            "{action}"
        );
    }
    let events: Value = feed(&app, "after=0&limit=1000").await.json().await.unwrap();
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default())
        .collect();
    assert!(
        kinds.contains(&"request.opened") && kinds.contains(&"request.changed"),
        "{events}"
    );

    // Bad input changes nothing.
    let before = ledger_size(&app).await;
    for (body, code) in [
        (
            json!({"kind": "gossip", "jurisdiction": "gdpr"}),
            "unknown_kind",
        ),
        (
            json!({"kind": "access", "jurisdiction": "mars"}),
            "unknown_jurisdiction",
        ),
        (
            json!({"kind": "access", "jurisdiction": "gdpr", "source": "pigeon"}),
            "unknown_source",
        ),
        (
            json!({"kind": "access", "jurisdiction": "gdpr", "received_at": "yesterday"}),
            "invalid_time",
        ),
        (
            json!({"kind": "access", "jurisdiction": "gdpr", "received_at": "2099-01-01T00:00:00Z"}),
            "out_of_range",
        ),
    ] {
        let r = officer(&app, Method::POST, "/v1/requests", Some(body)).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    let r = officer(
        &app,
        Method::POST,
        "/v1/requests",
        Some(json!({"kind": "access", "jurisdiction": "gdpr", "extra": 1})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = officer(&app, Method::GET, "/v1/requests?limit=0", None).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range").await;
    let r = officer(&app, Method::GET, "/v1/requests?after=nonsense", None).await;
    problem(r, StatusCode::BAD_REQUEST, "invalid_cursor").await;
    let r = officer(&app, Method::GET, "/v1/requests?state=lost", None).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_state").await;
    let r = officer(&app, Method::GET, "/v1/requests/not-an-id", None).await;
    problem(r, StatusCode::BAD_REQUEST, "invalid_id").await;
    let r = officer(
        &app,
        Method::GET,
        &format!("/v1/requests/{}", mamori_core::format_id(&[7; 16])),
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        ledger_size(&app).await,
        before,
        "refused requests changed nothing and read nothing"
    );
    // A role without the rights purpose may not see the queue; an erased person takes no new request.
    let r = app
        .as_role(Method::GET, "/v1/requests", "support", "customer_support")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "purpose_not_allowed_for_role").await;
    let r = officer(&app, Method::DELETE, &format!("/v1/subjects/{ada}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = officer(
        &app,
        Method::POST,
        "/v1/requests",
        Some(json!({"kind": "erasure", "subject": ada, "jurisdiction": "gdpr"})),
    )
    .await;
    problem(r, StatusCode::CONFLICT, "subject_erased").await;
}

/// A deadline less than three days away is announced once (`request.due_soon`), and again only
/// if an extension moves it; requests far from their deadline and closed ones are not.
pub(crate) async fn request_deadlines_are_reminded_once(app: TestApp) {
    let ada = create(&app, &customer("reminders")).await;
    let days_ago = |days: i64| mamori_core::format_time(mamori_core::now_ms() - days * 86_400_000);
    let open = async |body: Value| -> String {
        let r = officer(&app, Method::POST, "/v1/requests", Some(body)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // GDPR: a month from 29 days ago is at most two days away. LGPD: 15 days from 13 days ago.
    let soon = open(json!({"kind": "access", "subject": ada, "jurisdiction": "gdpr", "received_at": days_ago(29)})).await;
    let closed =
        open(json!({"kind": "erasure", "jurisdiction": "lgpd", "received_at": days_ago(13)})).await;
    let later = open(json!({"kind": "access", "subject": ada, "jurisdiction": "ccpa"})).await;
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{closed}/state"),
        Some(json!({"state": "fulfilled"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);

    app.vault.send_due_reminders().await.unwrap();
    app.vault.send_due_reminders().await.unwrap();
    let reminders = async || -> Vec<String> {
        let v: Value = feed(&app, "after=0&limit=1000").await.json().await.unwrap();
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "request.due_soon")
            .map(|e| e["data"]["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        reminders().await,
        vec![soon.clone()],
        "one reminder, for the request due soon"
    );

    // Extending the deadline (GDPR: to three months) puts it out of the window: nothing more.
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{soon}/extend"),
        Some(json!({"reason": "complexity"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.vault.send_due_reminders().await.unwrap();
    assert_eq!(reminders().await, vec![soon.clone()]);
    assert!(!reminders().await.contains(&later));
}

/// Data Rights Protocol v0.9.4: an agent registered out of band pairs with a signed message,
/// files a signed request that lands in the register matched to the person, reads its status,
/// hears of staff's changes on its callback and revokes it. Bad signatures, expired or
/// future-dated messages, another business, unknown agents, other agents' tokens and requests
/// are refused and change nothing.
pub(crate) async fn drp_agents_file_and_track_requests(app: TestApp) {
    use base64::Engine;
    let b64 = |k: &ed25519_dalek::SigningKey| {
        base64::engine::general_purpose::STANDARD.encode(k.verifying_key().to_bytes())
    };
    let agent_key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let other_key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let operator = mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    };
    app.vault
        .register_agent(&operator, "TEST_AGENT", "Test agent", &b64(&agent_key))
        .await
        .unwrap();
    app.vault
        .register_agent(&operator, "OTHER_AGENT", "Other agent", &b64(&other_key))
        .await
        .unwrap();
    let bad = app
        .vault
        .register_agent(&operator, "BAD", "x", "not-a-key")
        .await
        .unwrap_err();
    assert_eq!(bad.code(), "invalid_value");
    let again = app
        .vault
        .register_agent(&operator, "TEST_AGENT", "x", &b64(&agent_key))
        .await
        .unwrap_err();
    assert_eq!(again.code(), "agent_exists");
    let business = "KITSUNE_GOODS_LTD";
    let client = reqwest::Client::new();
    let post = |path: &str, token: Option<&str>, body: String| {
        let mut r = client
            .post(app.url(path))
            .header("content-type", "text/plain")
            .body(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };

    // Pair-wise key setup: a bare 403 for anything wrong.
    for (url_agent, key, envelope) in [
        (
            "TEST_AGENT",
            &other_key,
            drp_envelope("TEST_AGENT", business, -5, 300),
        ),
        (
            "NOBODY",
            &agent_key,
            drp_envelope("NOBODY", business, -5, 300),
        ),
        (
            "TEST_AGENT",
            &agent_key,
            drp_envelope("OTHER_AGENT", business, -5, 300),
        ),
        (
            "TEST_AGENT",
            &agent_key,
            drp_envelope("TEST_AGENT", "ANOTHER_SHOP", -5, 300),
        ),
        (
            "TEST_AGENT",
            &agent_key,
            drp_envelope("TEST_AGENT", business, -600, -300),
        ),
        (
            "TEST_AGENT",
            &agent_key,
            drp_envelope("TEST_AGENT", business, 600, 900),
        ),
    ] {
        let r = post(
            &format!("/v1/agent/{url_agent}"),
            None,
            drp_signed(key, &envelope),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{envelope}");
        assert!(r.text().await.unwrap().is_empty());
    }
    let r = post("/v1/agent/TEST_AGENT", None, "%%% not base64".into())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let pair = async |agent: &str, key: &ed25519_dalek::SigningKey| -> String {
        let r = post(
            &format!("/v1/agent/{agent}"),
            None,
            drp_signed(key, &drp_envelope(agent, business, -5, 300)),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["agent-id"], agent);
        v["token"].as_str().unwrap().to_string()
    };
    let token = pair("TEST_AGENT", &agent_key).await;
    let other_token = pair("OTHER_AGENT", &other_key).await;
    let info = |agent: &str, t: &str| {
        client
            .get(app.url(&format!("/v1/agent/{agent}")))
            .bearer_auth(t.to_string())
            .send()
    };
    assert_eq!(
        info("TEST_AGENT", &token).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        info("TEST_AGENT", &other_token).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        info("TEST_AGENT", "forged").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );

    // A request, matched to the person by e-mail.
    let person = create(&app, &customer("drp")).await;
    let callback = common::receiver(0, false).await;
    let request = |envelope: Value, extra: Value| {
        let mut m = envelope;
        for (k, v) in extra.as_object().unwrap() {
            m[k] = v.clone();
        }
        m
    };
    let deletion = json!({"exercise": "deletion", "regime": "ccpa", "agent-request-id": "r-1",
        "email": "ada.drp@example.com", "email_verified": true, "status_callback": callback.url});
    let open_before = officer(&app, Method::GET, "/v1/requests", None)
        .await
        .json::<Value>()
        .await
        .unwrap()["requests"]
        .as_array()
        .unwrap()
        .len();
    let refused = [
        (
            drp_signed(
                &other_key,
                &request(
                    drp_envelope("TEST_AGENT", business, -5, 300),
                    deletion.clone(),
                ),
            ),
            Some(token.as_str()),
            StatusCode::FORBIDDEN,
        ),
        (
            drp_signed(
                &agent_key,
                &request(
                    drp_envelope("TEST_AGENT", business, -5, 300),
                    deletion.clone(),
                ),
            ),
            Some(other_token.as_str()),
            StatusCode::FORBIDDEN,
        ),
        (
            drp_signed(
                &agent_key,
                &request(
                    drp_envelope("TEST_AGENT", business, -5, 300),
                    deletion.clone(),
                ),
            ),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            drp_signed(
                &agent_key,
                &request(
                    drp_envelope("TEST_AGENT", business, -600, -1),
                    deletion.clone(),
                ),
            ),
            Some(token.as_str()),
            StatusCode::BAD_REQUEST,
        ),
        (
            drp_signed(
                &agent_key,
                &request(
                    drp_envelope("TEST_AGENT", "ANOTHER_SHOP", -5, 300),
                    deletion.clone(),
                ),
            ),
            Some(token.as_str()),
            StatusCode::FORBIDDEN,
        ),
        (
            drp_signed(
                &agent_key,
                &request(
                    drp_envelope("TEST_AGENT", business, -5, 300),
                    json!({"exercise": "sale:opt_in"}),
                ),
            ),
            Some(token.as_str()),
            StatusCode::BAD_REQUEST,
        ),
        (
            drp_signed(
                &agent_key,
                &request(
                    drp_envelope("TEST_AGENT", business, -5, 300),
                    json!({"exercise": "access", "regime": "hipaa"}),
                ),
            ),
            Some(token.as_str()),
            StatusCode::BAD_REQUEST,
        ),
        (
            "bm90IHNpZ25lZA==".to_string(),
            Some(token.as_str()),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (body, t, status) in refused {
        let r = post("/v1/data-rights-request", t, body).await.unwrap();
        assert_eq!(r.status(), status);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["code"], status.as_u16().to_string(), "{e}");
        assert!(e["message"].as_str().unwrap().len() > 10);
    }
    let open_after = officer(&app, Method::GET, "/v1/requests", None)
        .await
        .json::<Value>()
        .await
        .unwrap()["requests"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(open_before, open_after, "refused requests changed nothing");

    let r = post(
        "/v1/data-rights-request",
        Some(&token),
        drp_signed(
            &agent_key,
            &request(
                drp_envelope("TEST_AGENT", business, -5, 300),
                deletion.clone(),
            ),
        ),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let status: Value = r.json().await.unwrap();
    assert_eq!(status["status"], "open");
    assert_eq!(status["agent_request_id"], "r-1");
    let id = status["request_id"].as_str().unwrap().to_string();
    let received = status["received_at"].as_str().unwrap();
    assert!(status["expected_by"].as_str().unwrap() > received);
    let stored: Value = officer(&app, Method::GET, &format!("/v1/requests/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["kind"], "erasure");
    assert_eq!(stored["source"], "agent");
    assert_eq!(stored["jurisdiction"], "ccpa");
    assert_eq!(stored["subject"], person, "matched through the blind index");
    callback.wait_for(1).await;

    // Status: this agent only.
    let get = |t: &str| {
        client
            .get(app.url(&format!("/v1/data-rights-request/{id}")))
            .bearer_auth(t.to_string())
            .send()
    };
    let r = get(&token).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "open");
    assert_eq!(
        get(&other_token).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );

    // Staff take it on: the agent hears it on its callback.
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{id}/state"),
        Some(json!({"state": "in_progress"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let got = callback.wait_for(2).await;
    let pushed: Value = serde_json::from_str(&got[1].body).unwrap();
    assert_eq!(pushed["status"], "in_progress");
    assert_eq!(pushed["request_id"], id.as_str());
    assert!(
        !got[1].body.contains("ada.drp@example.com"),
        "no personal values in callbacks"
    );

    // Revoke: signed by the agent; by another agent's token refused; once only.
    let revoke = |t: &str, key: &ed25519_dalek::SigningKey| {
        client
            .delete(app.url(&format!("/v1/data-rights-request/{id}")))
            .bearer_auth(t.to_string())
            .header("content-type", "text/plain")
            .body(drp_signed(key, &json!({"reason": "changed my mind"})))
            .send()
    };
    assert_eq!(
        revoke(&token, &other_key).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        revoke(&other_token, &other_key).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let r = revoke(&token, &agent_key).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "revoked");
    assert_eq!(
        revoke(&token, &agent_key).await.unwrap().status(),
        StatusCode::CONFLICT
    );

    // Removing the agent ends its tokens.
    app.vault
        .remove_agent(&operator, "TEST_AGENT")
        .await
        .unwrap();
    assert_eq!(get(&token).await.unwrap().status(), StatusCode::FORBIDDEN);
    let leaves = app.store.leaves(0, 100_000).await.unwrap();
    let by_agent = leaves
        .iter()
        .filter(|l| String::from_utf8_lossy(&l.data).contains("drp:TEST_AGENT"))
        .count();
    assert!(by_agent >= 4, "the agent's steps are ledgered ({by_agent})");
    let refusals = leaves
        .iter()
        .filter(|l| String::from_utf8_lossy(&l.data).contains("drp_verification_failed"))
        .count();
    assert!(
        refusals >= 8,
        "refused messages are ledgered as denials ({refusals})"
    );
    assert!(
        !leaves
            .iter()
            .any(|l| String::from_utf8_lossy(&l.data).contains("NOBODY")),
        "an unregistered agent id is not copied into the ledger"
    );
}
