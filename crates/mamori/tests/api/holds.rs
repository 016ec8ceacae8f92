//! Holds that end one category at a time: under a policy whose legal obligation names no keeping
//! period of its own, each kept category is held for its own retention, so contact details (3
//! years) go before orders (7 years) — the sweep erases the first and re-seals nothing it drops,
//! then the rest. (The example policy's `retention = "7y"` on the obligation holds all for 7.)

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Backend, POLICY, TestApp, spawn_app_with_policy};

/// The example policy without the obligation's own keeping period.
fn policy_without_obligation_period() -> String {
    let line = "retention = \"7y\"     # what an erasure keeps for this obligation is kept this long, then erased\n";
    assert!(POLICY.contains(line));
    POLICY.replace(line, "")
}

async fn on(backend: Backend) {
    let Some(app) = spawn_app_with_policy(backend, &policy_without_obligation_period()).await
    else {
        return;
    };
    staged(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_end_category_by_category_on_sqlite() {
    on(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_end_category_by_category_on_postgres() {
    on(Backend::Postgres).await;
}

async fn staged(app: TestApp) {
    let id = crate::create(&app, &crate::customer_without_phone("staged")).await;
    let order = json!({"category": "orders", "data": {"order_number": "K-7", "total": 7, "currency": "EUR"}});
    let r = app
        .as_role(
            Method::POST,
            &format!("/v1/subjects/{id}/records"),
            "service",
            "order_fulfilment",
        )
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = crate::officer(&app, Method::DELETE, &format!("/v1/subjects/{id}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let subject = mamori_core::parse_id(&id).unwrap();
    app.vault.rekey_holds(10).await.unwrap();
    let erased = app
        .store
        .subject(&subject)
        .await
        .unwrap()
        .unwrap()
        .erased_ms
        .unwrap();
    let at = |years: &str| {
        mamori_policy::parse_retention(years)
            .unwrap()
            .end_ms(erased)
    };
    let held = async |app: &TestApp| -> Value {
        app.as_role(
            Method::GET,
            &format!("/v1/subjects/{id}"),
            "privacy_officer",
            "legal_accounting",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
    };
    let kept = |v: &Value| {
        v["data"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(kept(&held(&app).await), ["address", "contact", "payment"]);

    // Three calendar years on, contact and address go; orders and payment stay.
    assert_eq!(app.vault.end_holds(at("3y") - 1, 10).await.unwrap(), 0);
    assert_eq!(app.vault.end_holds(at("3y") + 1, 10).await.unwrap(), 1);
    assert_eq!(kept(&held(&app).await), ["payment"]);
    let records: Value = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{id}/records"),
            "privacy_officer",
            "legal_accounting",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(records["records"][0]["data"]["order_number"], "K-7");
    // Seven, everything.
    assert_eq!(app.vault.end_holds(at("7y") + 1, 10).await.unwrap(), 1);
    let r = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{id}"),
            "privacy_officer",
            "legal_accounting",
        )
        .send()
        .await
        .unwrap();
    crate::problem(r, StatusCode::NOT_FOUND, "subject_not_found").await;
}
