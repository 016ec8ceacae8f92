//! Legal holds over HTTP: placed, listed and lifted by a role with the `retention` permission,
//! each ledgered; a held person's erasure is refused until the hold is lifted; bad input is
//! refused with a stable code, never echoed, and changes nothing.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::{create, customer, ledger_size, officer, problem};

async fn holds(app: &TestApp) -> Vec<Value> {
    let r = officer(app, Method::GET, "/v1/holds", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    body["holds"].as_array().unwrap().clone()
}

pub async fn legal_holds_keep_a_person_until_lifted(app: TestApp) {
    let ada = create(&app, &customer("held")).await;
    let until = mamori_core::format_time(app.vault.now_ms() + 30 * 86_400_000);
    let before = ledger_size(&app).await;
    let body = json!({"subject": ada, "reason": "litigation", "until": until});
    let r = officer(&app, Method::POST, "/v1/holds", Some(body)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let hold: Value = r.json().await.unwrap();
    assert_eq!(
        (hold["subject"].as_str(), hold["reason"].as_str()),
        (Some(ada.as_str()), Some("litigation"))
    );
    assert_eq!(ledger_size(&app).await, before + 1);
    let listed = holds(&app).await;
    assert_eq!(listed, std::slice::from_ref(&hold));

    let erase = format!("/v1/subjects/{ada}");
    let r = officer(&app, Method::DELETE, &erase, None).await;
    let p = problem(r, StatusCode::CONFLICT, "subject_under_legal_hold").await;
    assert!(!p.to_string().contains("Ada"), "{p}");
    let r = officer(&app, Method::GET, &erase, None).await;
    assert_eq!(r.status(), StatusCode::OK, "still there");

    let id = hold["id"].as_str().unwrap();
    let r = officer(&app, Method::DELETE, &format!("/v1/holds/{id}"), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(holds(&app).await.is_empty());
    let r = officer(&app, Method::DELETE, &format!("/v1/holds/{id}"), None).await;
    problem(r, StatusCode::NOT_FOUND, "hold_not_found").await;
    let r = officer(&app, Method::DELETE, &erase, None).await;
    assert_eq!(r.status(), StatusCode::OK);

    // A category held for everyone does not stop one person's erasure.
    let bea = create(&app, &crate::customer_without_phone("category")).await;
    let body = json!({"category": "orders", "reason": "tax_audit"});
    let r = officer(&app, Method::POST, "/v1/holds", Some(body)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = officer(&app, Method::DELETE, &format!("/v1/subjects/{bea}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
}

pub async fn bad_hold_requests_change_nothing(app: TestApp) {
    let ada = create(&app, &customer("bad-holds")).await;
    let canary = "CANARY-7Q";
    let past = mamori_core::format_time(app.vault.now_ms() - 1000);
    let ghost = uuid::Uuid::now_v7().to_string();
    let cases = [
        (
            json!({"reason": "litigation"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"category": canary, "reason": "litigation"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"subject": ada, "reason": "litigation", "until": past}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"subject": ada, "reason": "litigation", "until": canary}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_time",
        ),
        (
            json!({"subject": canary, "reason": "litigation"}),
            StatusCode::BAD_REQUEST,
            "invalid_id",
        ),
        (
            json!({"subject": ghost, "reason": "litigation"}),
            StatusCode::NOT_FOUND,
            "subject_not_found",
        ),
    ];
    for (body, status, code) in cases {
        let r = officer(&app, Method::POST, "/v1/holds", Some(body.clone())).await;
        let p = problem(r, status, code).await;
        assert!(!p.to_string().contains(canary), "{body}: {p}");
    }
    for body in [
        json!({"subject": ada, "reason": canary}),
        json!({"subject": ada, "reason": "litigation", "note": canary}),
    ] {
        let r = officer(&app, Method::POST, "/v1/holds", Some(body.clone())).await;
        assert!(r.status().is_client_error(), "{body}");
        assert!(!r.text().await.unwrap().contains(canary), "{body}");
    }
    let r = officer(&app, Method::DELETE, &format!("/v1/holds/{canary}"), None).await;
    problem(r, StatusCode::BAD_REQUEST, "invalid_id").await;
    let r = officer(&app, Method::DELETE, &format!("/v1/holds/{ghost}"), None).await;
    problem(r, StatusCode::NOT_FOUND, "hold_not_found").await;
    // A role without the permission is refused, and the refusal ledgered.
    let before = ledger_size(&app).await;
    let r = app
        .as_role(Method::POST, "/v1/holds", "support", "customer_support")
        .json(&json!({"subject": ada, "reason": "litigation"}))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "permission_not_granted").await;
    assert_eq!(ledger_size(&app).await, before + 1);
    assert!(holds(&app).await.is_empty());
}
