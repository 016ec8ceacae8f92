//! Reaching people: the audience filter and one-click unsubscribe links.

use super::*;

pub(crate) async fn audience(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/v1/consent/filter"))
        .bearer_auth(&app.keys["marketing"])
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Campaign filtering returns, in the order given, only subjects with a current grant for the
/// purpose and channel who are not erased; one ledger event per call.
pub(crate) async fn audience_filter_keeps_only_consented_live_subjects(app: TestApp) {
    let mut ids = Vec::new();
    for i in 0..5 {
        let body = json!({"data": {"contact": {"name": format!("Audience {i}")}}});
        ids.push(create(&app, &body).await);
    }
    let grant = |granted: bool| json!({"purpose": "marketing_email", "channel": "email", "granted": granted});
    for i in [0, 1, 3, 4] {
        assert_eq!(
            consent(&app, &ids[i], "service", grant(true))
                .await
                .status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        consent(&app, &ids[1], "service", grant(false))
            .await
            .status(),
        StatusCode::OK
    );
    let sms = json!({"purpose": "marketing_sms", "channel": "sms", "granted": true});
    assert_eq!(
        consent(&app, &ids[2], "service", sms).await.status(),
        StatusCode::OK
    );
    let r = app
        .as_role(
            Method::DELETE,
            &format!("/v1/subjects/{}", ids[3]),
            "privacy_officer",
            "data_subject_rights",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The kept part's re-keying (a ledgered background step) is done before counting.
    app.vault.rekey_holds(10).await.unwrap();

    let before = ledger_size(&app).await;
    let order = vec![
        ids[4].clone(),
        ids[3].clone(),
        ids[2].clone(),
        ids[1].clone(),
        ids[0].clone(),
    ];
    let r = audience(
        &app,
        &json!({"purpose": "marketing_email", "channel": "email", "subjects": order}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["allowed"], json!([ids[4], ids[0]]));
    assert_eq!(ledger_size(&app).await, before + 1);
    // A full-size audience is answered in several streamed parts; the order and the JSON hold
    // across them (granted ids placed in different parts, the rest unknown ids; repeats kept).
    let mut big: Vec<String> = (0..100_000u128)
        .map(|i| uuid::Uuid::from_u128(i + 1).to_string())
        .collect();
    big[5] = ids[0].clone();
    big[15_000] = ids[4].clone();
    big[99_999] = ids[0].clone();
    let r = audience(
        &app,
        &json!({"purpose": "marketing_email", "channel": "email", "subjects": big}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["allowed"], json!([ids[0], ids[4], ids[0]]));
    assert_eq!(ledger_size(&app).await, before + 2, "one event per call");

    // Bad input.
    let before = ledger_size(&app).await;
    let r = audience(
        &app,
        &json!({"purpose": "marketing_email", "channel": "email", "subjects": [ids[0], "CANARY"]}),
    )
    .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_id").await;
    assert_eq!(p["field"], "subjects[1]");
    assert!(!p.to_string().contains("CANARY"));
    let r = audience(
        &app,
        &json!({"purpose": "order_fulfilment", "subjects": []}),
    )
    .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "not_consent_based").await;
    let many: Vec<String> = (0..100_001).map(|_| ids[0].clone()).collect();
    let r = audience(
        &app,
        &json!({"purpose": "marketing_email", "channel": "email", "subjects": many}),
    )
    .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "too_many_subjects").await;
    // Over 8 MiB: refused from Content-Length, before the body is read. The server may answer
    // and close while the client is still writing, so a broken pipe is the same refusal.
    // A client of its own: the connection the server closes must not go back to the shared pool.
    let huge = "x".repeat(9 * 1024 * 1024);
    let sent = reqwest::Client::new()
        .post(app.url("/v1/consent/filter"))
        .bearer_auth(&app.keys["marketing"])
        .json(&json!({"purpose": huge, "subjects": []}))
        .send()
        .await;
    match sent {
        Ok(r) => {
            problem(r, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
        }
        Err(e) => assert!(e.is_request(), "{e}"),
    }
    assert_eq!(ledger_size(&app).await, before);
    let r = app
        .client
        .post(app.url("/v1/consent/filter"))
        .bearer_auth(&app.keys["analyst"])
        .json(&json!({"purpose": "marketing_email", "channel": "email", "subjects": [ids[0]]}))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "purpose_not_allowed_for_role").await;
    // The general 64 KiB limit still holds everywhere else.
    let r = app
        .as_role(Method::POST, "/v1/subjects", "service", "order_fulfilment")
        .json(&json!({"data": {"contact": {"name": "x".repeat(70_000)}}}))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
}

/// A signed link withdraws exactly its subject × purpose × channel, by one POST without an API
/// key (RFC 8058); GET only shows a confirmation; forged, altered and expired links are refused.
pub(crate) async fn one_click_unsubscribe_withdraws_that_consent(app: TestApp) {
    let id = create(&app, &customer("unsub")).await;
    for purpose in [("marketing_email", "email"), ("marketing_sms", "sms")] {
        let grant = json!({"purpose": purpose.0, "channel": purpose.1, "granted": true});
        assert_eq!(
            consent(&app, &id, "service", grant).await.status(),
            StatusCode::OK
        );
    }
    let r = app
        .client
        .post(app.url(&format!("/v1/consent/{id}/unsubscribe-link")))
        .bearer_auth(&app.keys["service"])
        .json(&json!({"purpose": "marketing_email", "channel": "email", "ttl_days": 30}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let link: Value = r.json().await.unwrap();
    assert_eq!(link["list_unsubscribe_post"], "List-Unsubscribe=One-Click");
    let path = link["path"].as_str().unwrap().to_string();
    assert!(!path.contains("Ada") && !path.contains("example.com"));

    // GET changes nothing (mail scanners follow links); it offers a button.
    let page = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("<form method=\"post\""), "{html}");
    let v: Value = consent_check(&app, &id, "purpose=marketing_email&channel=email")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["reason"], "granted");

    // The one-click POST, as a mail client sends it.
    let before = ledger_size(&app).await;
    let one_click = |path: String| {
        app.client
            .post(app.url(&path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
    };
    let r = one_click(path.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(ledger_size(&app).await, before + 1);
    let v: Value = consent_check(&app, &id, "purpose=marketing_email&channel=email")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["reason"], "withdrawn");
    let v: Value = consent_check(&app, &id, "purpose=marketing_sms&channel=sms")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["reason"], "granted",
        "only the link's own purpose and channel"
    );
    assert_eq!(
        one_click(path.clone()).await.unwrap().status(),
        StatusCode::OK,
        "a second use is harmless"
    );
    let rows = app
        .store
        .consents(&mamori_core::parse_id(&id).unwrap())
        .await
        .unwrap();
    assert!(
        rows.iter()
            .any(|r| r.purpose == "marketing_email" && r.source == "portal" && !r.granted)
    );

    // Forged, altered and expired links.
    let token = link["token"].as_str().unwrap();
    let sms_link: Value = app
        .client
        .post(app.url(&format!("/v1/consent/{id}/unsubscribe-link")))
        .bearer_auth(&app.keys["service"])
        .json(&json!({"purpose": "marketing_sms", "channel": "sms", "ttl_days": 30}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    app.clock
        .advance(std::time::Duration::from_secs(31 * 86_400));
    let expired = app
        .vault
        .unsubscribe(sms_link["token"].as_str().unwrap())
        .await
        .unwrap_err();
    app.clock.reset();
    assert_eq!(expired.code(), "expired_token");
    let (body, tag) = token.split_once('.').unwrap();
    let altered = {
        use base64::Engine;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let text = String::from_utf8(engine.decode(body).unwrap()).unwrap();
        let text = text
            .replace("marketing_email", "marketing_sms")
            .replace("|email|", "|sms|");
        format!("{}.{tag}", engine.encode(text))
    };
    for bad in [altered.as_str(), "x.y", "nodot", "<script>"] {
        let r = one_click(format!("/unsubscribe?token={bad}"))
            .await
            .unwrap();
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_token").await;
    }
    let v: Value = consent_check(&app, &id, "purpose=marketing_sms&channel=sms")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["reason"], "granted", "an altered link changed nothing");
    let r = app
        .client
        .get(app.url("/unsubscribe?token=%3Cscript%3E"))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_token").await;
    // Links for the wrong kind of purpose or too long a life are refused at creation.
    for (body, code) in [
        (json!({"purpose": "order_fulfilment"}), "not_consent_based"),
        (
            json!({"purpose": "marketing_email", "channel": "email", "ttl_days": 0}),
            "invalid_value",
        ),
        (
            json!({"purpose": "marketing_email", "channel": "email", "ttl_days": 400}),
            "invalid_value",
        ),
    ] {
        let r = app
            .client
            .post(app.url(&format!("/v1/consent/{id}/unsubscribe-link")))
            .bearer_auth(&app.keys["service"])
            .json(&body)
            .send()
            .await
            .unwrap();
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
}
