//! Reaching people: the audience filter and one-click unsubscribe links.

use super::*;
use mamori_proto::ErrorCode;

pub(crate) async fn audience(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/v1/consent/filter"))
        .bearer_auth(&app.keys["marketing"])
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Five people: 0 and 4 granted e-mail, 1 granted then withdrew, 2 granted SMS only, 3 granted
/// and was erased. Their ids.
async fn five_people_with_different_consents(app: &TestApp) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..5 {
        let body = json!({"data": {"contact": {"name": format!("Audience {i}")}}});
        ids.push(create(app, &body).await);
    }
    let email = |granted: bool| json!({"purpose": "marketing_email", "channel": "email", "granted": granted});
    let sms = json!({"purpose": "marketing_sms", "channel": "sms", "granted": true});
    let decisions = [
        (0, email(true)),
        (1, email(true)),
        (3, email(true)),
        (4, email(true)),
        (1, email(false)),
        (2, sms),
    ];
    for (i, decision) in decisions {
        let r = consent(app, &ids[i], "service", decision).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let path = format!("/v1/subjects/{}", ids[3]);
    let erase = app.as_role(
        Method::DELETE,
        &path,
        "privacy_officer",
        "data_subject_rights",
    );
    assert_eq!(erase.send().await.unwrap().status(), StatusCode::OK);
    // The kept part's re-keying (a ledgered background step) is done before counting.
    app.vault.rekey_holds(10).await.unwrap();
    ids
}

/// Campaign filtering returns, in the order given, only subjects with a current grant for the
/// purpose and channel who are not erased; one ledger event per call.
pub(crate) async fn audience_filter_keeps_only_consented_live_subjects(app: TestApp) {
    let ids = five_people_with_different_consents(&app).await;
    let before = ledger_size(&app).await;
    let order: Vec<&String> = ids.iter().rev().collect();
    let body = json!({"purpose": "marketing_email", "channel": "email", "subjects": order});
    let r = audience(&app, &body).await;
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
    let body = json!({"purpose": "marketing_email", "channel": "email", "subjects": big});
    let r = audience(&app, &body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["allowed"], json!([ids[0], ids[4], ids[0]]));
    assert_eq!(ledger_size(&app).await, before + 2, "one event per call");
}

/// Bad audience requests: clear errors that repeat no value, nothing ledgered; size limits
/// before the body is read.
pub(crate) async fn bad_audience_requests_are_refused(app: TestApp) {
    let id = create(&app, &customer("audience-bad")).await;
    let before = ledger_size(&app).await;
    let body =
        json!({"purpose": "marketing_email", "channel": "email", "subjects": [id, "CANARY"]});
    let p = problem(
        audience(&app, &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_id",
    )
    .await;
    assert_eq!(p["field"], "subjects[1]");
    assert!(!p.to_string().contains("CANARY"));
    let body = json!({"purpose": "order_fulfilment", "subjects": []});
    problem(
        audience(&app, &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_consent_based",
    )
    .await;
    let many: Vec<&String> = (0..100_001).map(|_| &id).collect();
    let body = json!({"purpose": "marketing_email", "channel": "email", "subjects": many});
    problem(
        audience(&app, &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "too_many_subjects",
    )
    .await;
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
        .json(&json!({"purpose": "marketing_email", "channel": "email", "subjects": [id]}))
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

/// Someone who agreed to marketing by e-mail and by SMS; their id.
async fn agreed_to_email_and_sms(app: &TestApp) -> String {
    let id = create(app, &customer("unsub")).await;
    for (purpose, channel) in [("marketing_email", "email"), ("marketing_sms", "sms")] {
        let grant = json!({"purpose": purpose, "channel": channel, "granted": true});
        assert_eq!(
            consent(app, &id, "service", grant).await.status(),
            StatusCode::OK
        );
    }
    id
}

/// Asks for an unsubscribe link (as the service sending mail).
async fn unsubscribe_link(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/v1/consent/{id}/unsubscribe-link")))
        .bearer_auth(&app.keys["service"])
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The one-click POST, as a mail client sends it (RFC 8058).
async fn one_click(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap()
}

const SMS: &str = "purpose=marketing_sms&channel=sms";
const EMAIL: &str = "purpose=marketing_email&channel=email";

async fn reason(app: &TestApp, id: &str, query: &str) -> Value {
    let v: Value = consent_check(app, id, query).await.json().await.unwrap();
    v["reason"].clone()
}

/// A signed link withdraws exactly its subject × purpose × channel, by one POST without an API
/// key (RFC 8058); GET only shows a confirmation.
pub(crate) async fn one_click_unsubscribe_withdraws_that_consent(app: TestApp) {
    let id = agreed_to_email_and_sms(&app).await;
    let body = json!({"purpose": "marketing_email", "channel": "email", "ttl_days": 30});
    let r = unsubscribe_link(&app, &id, body).await;
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
    assert_eq!(reason(&app, &id, EMAIL).await, "granted");

    let before = ledger_size(&app).await;
    assert_eq!(one_click(&app, &path).await.status(), StatusCode::OK);
    assert_eq!(ledger_size(&app).await, before + 1);
    assert_eq!(reason(&app, &id, EMAIL).await, "withdrawn");
    let sms = reason(&app, &id, SMS).await;
    assert_eq!(sms, "granted", "only the link's own purpose and channel");
    let again = one_click(&app, &path).await.status();
    assert_eq!(again, StatusCode::OK, "a second use is harmless");
    let rows = app
        .store
        .consents(&mamori_core::parse_id(&id).unwrap())
        .await
        .unwrap();
    assert!(
        rows.iter()
            .any(|r| r.purpose == "marketing_email" && r.source == "portal" && !r.granted)
    );
}

/// Forged, altered and expired links are refused and change nothing; links for the wrong kind
/// of purpose or too long a life are refused at creation.
pub(crate) async fn forged_altered_and_expired_unsubscribe_links_are_refused(app: TestApp) {
    let id = agreed_to_email_and_sms(&app).await;
    let body = json!({"purpose": "marketing_sms", "channel": "sms", "ttl_days": 30});
    let sms_link: Value = unsubscribe_link(&app, &id, body)
        .await
        .json()
        .await
        .unwrap();
    app.clock
        .advance(std::time::Duration::from_secs(31 * 86_400));
    let expired = app
        .vault
        .unsubscribe(sms_link["token"].as_str().unwrap())
        .await;
    app.clock.reset();
    assert_eq!(expired.unwrap_err().code(), ErrorCode::ExpiredToken);
    let body = json!({"purpose": "marketing_email", "channel": "email", "ttl_days": 30});
    let link: Value = unsubscribe_link(&app, &id, body)
        .await
        .json()
        .await
        .unwrap();
    let (body, tag) = link["token"].as_str().unwrap().split_once('.').unwrap();
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
        let r = one_click(&app, &format!("/unsubscribe?token={bad}")).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_token").await;
    }
    let sms = reason(&app, &id, SMS).await;
    assert_eq!(sms, "granted", "an altered link changed nothing");
    let r = app
        .client
        .get(app.url("/unsubscribe?token=%3Cscript%3E"))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_token").await;
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
        let r = unsubscribe_link(&app, &id, body).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
}
