//! Subjects and records through the API: purpose-scoped reads, denials, authentication, bad
//! input, concurrent updates.

use super::*;

pub(crate) async fn create_read_is_purpose_scoped_and_masked(app: TestApp) {
    let id = create(&app, &customer("one")).await;
    let path = format!("/v1/subjects/{id}");
    // The service sees what order fulfilment covers, unmasked.
    let (status, v) = app.get_as(&path, "service", "order_fulfilment").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["data"]["contact"]["email"], "ada.one@example.com");
    assert_eq!(v["data"]["contact"]["phone"], "+442079460123");
    assert_eq!(v["data"]["address"]["country"], "FR");
    assert_eq!(v["data"]["payment"]["card_last_digits"], "4242");
    // Support: masked per role.
    let (_, v) = app.get_as(&path, "support", "customer_support").await;
    assert_eq!(v["data"]["payment"]["card_last_digits"], "••••4242");
    assert_eq!(v["data"]["payment"]["card_brand"], "[redacted]");
    assert_eq!(v["data"]["contact"]["phone"], "••••0123");
    assert_eq!(v["data"]["contact"]["email"], "ada.one@example.com");
    // Analyst for analytics: neither contact nor address exists in its view.
    let (_, v) = app.get_as(&path, "analyst", "analytics").await;
    assert!(
        v["data"].get("contact").is_none() && v["data"].get("address").is_none(),
        "{v}"
    );
}

pub(crate) async fn lookups_follow_normalised_and_changed_identifiers(app: TestApp) {
    let id = create(&app, &customer("one")).await;
    // Lookups by each blind index find the subject, after normalisation.
    for q in [
        "email=ADA.one@Example.com",
        "phone=%2B44%2020%207946%200123",
        "external_id=ext-one",
    ] {
        assert_eq!(app.look_up(q).await, json!([id]), "{q}");
    }
    assert_eq!(app.look_up("email=nobody@example.com").await, json!([]));
    // PATCH changes a field and the e-mail index follows it.
    let r = app
        .as_role(
            Method::PATCH,
            &format!("/v1/subjects/{id}"),
            "support",
            "customer_support",
        )
        .json(&json!({"data": {"contact": {"email": "ada.new@example.com", "phone": null}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.look_up("email=ada.one@example.com").await, json!([]));
    assert_eq!(app.look_up("email=ada.new@example.com").await, json!([id]));
    let path = format!("/v1/subjects/{id}");
    let (_, v) = app.get_as(&path, "service", "order_fulfilment").await;
    assert!(v["data"]["contact"].get("phone").is_none());
    // A second subject may not take the same e-mail.
    let mut dup = customer("two");
    dup["data"]["contact"]["email"] = json!("ada.new@example.com");
    let r = app
        .as_role(Method::POST, "/v1/subjects", "service", "order_fulfilment")
        .json(&dup)
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::CONFLICT, "identifier_taken").await;
}

pub(crate) async fn denials_are_403_ledgered_and_reveal_nothing(app: TestApp) {
    let id = create(&app, &customer("d")).await;
    let missing = uuid::Uuid::new_v4().to_string();
    let cases = [
        ("marketing", "marketing_email", "consent_required"),
        (
            "analyst",
            "customer_support",
            "purpose_not_allowed_for_role",
        ),
        ("support", "no_such_purpose", "unknown_purpose"),
    ];
    for (role, purpose, code) in cases {
        for target in [&id, &missing] {
            let before = ledger_size(&app).await;
            let r = app
                .as_role(
                    Method::GET,
                    &format!("/v1/subjects/{target}"),
                    role,
                    purpose,
                )
                .send()
                .await
                .unwrap();
            let body = problem(r, StatusCode::FORBIDDEN, code).await;
            assert!(
                !body.to_string().contains(target.as_str()),
                "a denial must not echo the subject"
            );
            assert_eq!(
                ledger_size(&app).await,
                before + 1,
                "the denial is ledgered"
            );
        }
    }
    // Writes beyond the role are denied as well, and nothing changes.
    let r = app
        .as_role(
            Method::DELETE,
            &format!("/v1/subjects/{id}"),
            "support",
            "customer_support",
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "purpose_does_not_cover_category").await;
    let r = app
        .as_role(Method::POST, "/v1/subjects", "support", "customer_support")
        .json(&customer("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let leaves = app.store.leaves(0, 10_000).await.unwrap();
    let denied: Vec<String> = leaves
        .iter()
        .map(|l| String::from_utf8(l.data.clone()).unwrap())
        .filter(|t| t.contains("\"denied\""))
        .collect();
    assert!(denied.len() >= 8, "{denied:#?}");
    assert!(
        denied
            .iter()
            .any(|d| d.contains("consent_required") && d.contains(&id))
    );
    assert!(
        !denied.iter().any(|d| d.contains("no_such_purpose")),
        "attacker text must not reach the ledger"
    );
    // Reading a subject that does not exist, with a good purpose: 404.
    let r = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{missing}"),
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::NOT_FOUND, "subject_not_found").await;
}

pub(crate) async fn authentication_and_purpose_header(app: TestApp) {
    let id = create(&app, &customer("auth")).await;
    let path = app.url(&format!("/v1/subjects/{id}"));
    let r = app
        .client
        .get(&path)
        .header("Mamori-Purpose", "order_fulfilment")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let r = app
        .client
        .get(&path)
        .bearer_auth("mamori_notakey")
        .header("Mamori-Purpose", "order_fulfilment")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let r = app
        .client
        .get(&path)
        .header("Authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let r = app
        .client
        .get(&path)
        .bearer_auth(&app.keys["service"])
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::BAD_REQUEST, "missing_purpose").await;
    // Revoke a key: it stops working at once.
    let operator = mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    };
    let (key_id, token) = app
        .vault
        .create_api_key(&operator, "service", "short-lived")
        .await
        .unwrap();
    let ok = app
        .client
        .get(&path)
        .bearer_auth(&token)
        .header("Mamori-Purpose", "order_fulfilment")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    app.vault.revoke_api_key(&operator, &key_id).await.unwrap();
    let r = app
        .client
        .get(&path)
        .bearer_auth(&token)
        .header("Mamori-Purpose", "order_fulfilment")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert!(
        app.vault
            .create_api_key(&operator, "no_such_role", "x")
            .await
            .is_err()
    );
    // Stored keys are keyed hashes, never the token.
    let keys = app.store.api_keys().await.unwrap();
    assert!(keys.iter().all(|k| {
        !k.digest
            .windows(8)
            .any(|w| token.as_bytes().windows(8).any(|t| t == w))
    }));
}

pub(crate) async fn bad_input_gets_clear_errors_and_changes_nothing(app: TestApp) {
    let before = app.store.count_subjects().await.unwrap();
    let post = |body: reqwest::Body| {
        app.as_role(Method::POST, "/v1/subjects", "service", "order_fulfilment")
            .header("content-type", "application/json")
            .body(body)
    };
    for (body, status, code) in [
        ("{not json", StatusCode::BAD_REQUEST, "malformed_json"),
        (r#"{"data": 5}"#, StatusCode::BAD_REQUEST, "invalid_body"),
    ] {
        problem(post(body.into()).send().await.unwrap(), status, code).await;
    }
    let b = problem(
        post(r#"{"data": {}, "surprise": 1}"#.into())
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_body",
    )
    .await;
    assert!(b["detail"].as_str().unwrap().contains("surprise"));
    let r = app
        .as_role(Method::POST, "/v1/subjects", "service", "order_fulfilment")
        .body("{}")
        .send()
        .await
        .unwrap();
    problem(
        r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let huge = json!({"data": {"contact": {"name": "x".repeat(100_000)}}});
    let r = post(huge.to_string().into()).send().await.unwrap();
    problem(r, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
    let after = app.store.count_subjects().await.unwrap();
    assert_eq!(after, before, "bad input created nothing");
}

pub(crate) async fn invalid_values_name_their_field_and_change_nothing(app: TestApp) {
    let before = app.store.count_subjects().await.unwrap();
    let cases = [
        (
            json!({"hobbies": {"x": "y"}}),
            "undeclared_category",
            "data.hobbies",
        ),
        (
            json!({"contact": {"shoe_size": 42}}),
            "undeclared_field",
            "data.contact.shoe_size",
        ),
        (
            json!({"contact": {"email": "not-an-email"}}),
            "invalid_value",
            "data.contact.email",
        ),
        (
            json!({"contact": {"email": "p\u{0430}ypal@example.com"}}),
            "invalid_value",
            "data.contact.email",
        ),
        (
            json!({"contact": {"phone": "12345"}}),
            "invalid_value",
            "data.contact.phone",
        ),
        (
            json!({"contact": {"name": 42}}),
            "invalid_value",
            "data.contact.name",
        ),
        (
            json!({"address": {"country": "Atlantis"}}),
            "invalid_value",
            "data.address.country",
        ),
        (json!({}), "empty_data", "data"),
    ];
    let with_empty_external_id = json!({"external_id": "", "data": {"contact": {"name": "A"}}});
    let bodies = cases
        .into_iter()
        .map(|(data, code, field)| (json!({ "data": data }), code, field))
        .chain([(with_empty_external_id, "invalid_value", "external_id")]);
    for (body, code, field) in bodies {
        let r = app
            .as_role(Method::POST, "/v1/subjects", "service", "order_fulfilment")
            .json(&body)
            .send()
            .await
            .unwrap();
        let b = problem(r, StatusCode::UNPROCESSABLE_ENTITY, code).await;
        assert_eq!(b["field"], field, "{b}");
    }
    let after = app.store.count_subjects().await.unwrap();
    assert_eq!(after, before, "bad input created nothing");
}

pub(crate) async fn bad_ids_queries_and_routes_get_clear_errors(app: TestApp) {
    for (path, status, code) in [
        (
            "/v1/subjects/not-a-uuid",
            StatusCode::BAD_REQUEST,
            "invalid_id",
        ),
        (
            "/v1/subjects?email=a@b.co&phone=1",
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "/v1/ledger/proof/inclusion?leaf=-1",
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "/v1/ledger/proof/inclusion?leaf=99999999",
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
        ),
        (
            "/v1/ledger/proof/consistency?first=0&second=1",
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
        ),
    ] {
        let r = app
            .as_role(Method::GET, path, "service", "order_fulfilment")
            .send()
            .await
            .unwrap();
        problem(r, status, code).await;
    }
    let r = app.client.get(app.url("/v2/nothing")).send().await.unwrap();
    problem(r, StatusCode::NOT_FOUND, "no_such_route").await;
    // SQL-ish and unicode strings are stored and returned exactly.
    let tricky = "Robert'); DROP TABLE subjects;-- 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u{202e}";
    let id = create(&app, &json!({"data": {"contact": {"name": tricky}}})).await;
    let path = format!("/v1/subjects/{id}");
    let (_, v) = app.get_as(&path, "service", "order_fulfilment").await;
    assert_eq!(v["data"]["contact"]["name"], tricky);
}

pub(crate) async fn concurrent_updates_are_all_applied(app: TestApp) {
    let id = create(&app, &customer("c")).await;
    let fields = ["name", "email", "phone"];
    let mut handles = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        for round in 0..4 {
            let value = match *field {
                "name" => json!(format!("Name {round}")),
                "email" => json!(format!("c{round}@example.com")),
                _ => json!(format!("+3312345678{round}")),
            };
            let req = app
                .as_role(
                    Method::PATCH,
                    &format!("/v1/subjects/{id}"),
                    "support",
                    "customer_support",
                )
                .json(&json!({"data": {"contact": {*field: value}}}));
            handles.push(tokio::spawn(async move {
                (i, req.send().await.unwrap().status())
            }));
        }
    }
    let address = app
        .as_role(
            Method::PATCH,
            &format!("/v1/subjects/{id}"),
            "support",
            "customer_support",
        )
        .json(&json!({"data": {"address": {"city": "Lyon"}}}));
    handles.push(tokio::spawn(async move {
        (9, address.send().await.unwrap().status())
    }));
    for h in handles {
        assert_eq!(h.await.unwrap().1, StatusCode::NO_CONTENT);
    }
    let v: Value = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{id}"),
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"]["address"]["city"], "Lyon", "no update was lost");
    assert!(
        v["data"]["contact"]["name"]
            .as_str()
            .unwrap()
            .starts_with("Name ")
    );
    assert!(
        v["data"]["contact"]["email"]
            .as_str()
            .unwrap()
            .ends_with("@example.com")
    );
}

pub(crate) async fn records_are_appended_and_scoped(app: TestApp) {
    let id = create(&app, &customer("rec")).await;
    for n in 0..3 {
        let r = app.as_role(Method::POST, &format!("/v1/subjects/{id}/records"), "service", "order_fulfilment")
            .json(&json!({"category": "orders", "data": {"order_number": format!("K-{n}"), "total": 10 + n, "currency": "JPY"}})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let r = app.as_role(Method::POST, &format!("/v1/subjects/{id}/records"), "support", "customer_support")
        .json(&json!({"category": "support_tickets", "data": {"subject": "Late parcel", "message": "Where is it?", "status": "open"}})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{id}/records"),
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let records = v["records"].as_array().unwrap();
    assert_eq!(
        records.len(),
        3,
        "order fulfilment does not cover support tickets: {v}"
    );
    assert_eq!(records[1]["data"]["total"], 11);
    let v: Value = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{id}/records"),
            "analyst",
            "analytics",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["records"][0]["data"]["order_number"], "[redacted]");
    let v: Value = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{id}/records"),
            "support",
            "customer_support",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), 4);
    let bad = [
        (
            json!({"category": "orders", "data": {"currency": "BTC"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"category": "nope", "data": {"x": 1}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "undeclared_category",
        ),
        (
            json!({"category": "support_tickets", "data": {"subject": "x"}}),
            StatusCode::FORBIDDEN,
            "purpose_does_not_cover_category",
        ),
    ];
    for (body, status, code) in bad {
        let r = app
            .as_role(
                Method::POST,
                &format!("/v1/subjects/{id}/records"),
                "service",
                "order_fulfilment",
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        problem(r, status, code).await;
    }
}
