//! POST /v1/scrub removes personal data from free text.

use super::*;

pub(crate) async fn scrub(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/v1/scrub"))
        .bearer_auth(&app.keys["service"])
        .json(body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn scrub_removes_personal_data_and_refuses_bad_input(app: TestApp) {
    let canary = format!("canary{}@example.com", uuid::Uuid::new_v4().simple());
    let texts = [
        format!("Please mail {canary} about it."),
        "カード４１１１　１１１１　１１１１　１１１１で払いました".to_string(),
        "IBAN FR14 2004 1010 0505 0001 3M02 606, order #12345678, v2.3.1, 19.99 €".to_string(),
        "田中太郎と申します。電話は090-1234-5678です".to_string(),
    ];
    let r = scrub(&app, &json!({"texts": texts, "spans": true})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["texts"],
        json!([
            "Please mail [EMAIL] about it.",
            "カード[CARD]で払いました",
            "IBAN [IBAN], order #12345678, v2.3.1, 19.99 €",
            "[NAME]と申します。電話は[PHONE]です"
        ])
    );
    assert_eq!(
        v["spans"][0],
        json!([{"kind": "email", "start": 12, "end": 12 + canary.len()}])
    );
    let r = scrub(
        &app,
        &json!({"texts": ["4111-1111-1111-1111"], "modes": {"payment_card": "mask"}}),
    )
    .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["texts"], json!(["****-****-****-1111"]));
    assert!(v.get("spans").is_none());

    // Bad input: a clear error, and the texts never appear in it or in the logs.
    let cases = [
        (
            json!({"texts": [canary], "modes": {"passport": "mask"}}),
            "unknown_kind",
        ),
        (
            json!({"texts": [canary], "modes": {"email": "hash"}}),
            "unknown_mode",
        ),
        (
            json!({"texts": vec![canary.clone(); 1001]}),
            "too_many_texts",
        ),
        (json!({"texts": ["x".repeat(20_001)]}), "text_too_long"),
    ];
    for (body, code) in cases {
        let r = scrub(&app, &body).await;
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, code).await;
        assert!(!p.to_string().contains(&canary), "{p}");
    }
    for body in [json!({"text": [canary]}), json!({"texts": canary})] {
        let r = scrub(&app, &body).await;
        let p = problem(r, StatusCode::BAD_REQUEST, "invalid_body").await;
        assert!(!p.to_string().contains(&canary), "{p}");
    }
    let r = scrub(&app, &json!({"texts": ["x".repeat(1_100_000)]})).await;
    problem(r, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
    let r = app
        .client
        .post(app.url("/v1/scrub"))
        .json(&json!({"texts": [canary]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let logs = String::from_utf8_lossy(&common::captured_logs().lock().unwrap()).to_string();
    assert!(!logs.contains(&canary), "logs leaked the canary");
}
