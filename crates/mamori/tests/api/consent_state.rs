//! Consent state edited in the database: a withdrawal flipped into a grant, a grant copied to
//! another person, a MAC removed. Each read of it is an integrity failure (500, ledgered),
//! never a grant — for the consent check, the access decision and the audience filter alike.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::TestApp;

pub async fn edited_consent_state_is_an_integrity_failure_not_a_grant(app: TestApp) {
    let person = crate::customer_without_phone;
    let (ada, bob) = (
        crate::create(&app, &person("state-a")).await,
        crate::create(&app, &person("state-b")).await,
    );
    let grant = |granted: bool| json!({"purpose": "marketing_email", "channel": "email", "granted": granted});
    assert_eq!(
        crate::consent(&app, &ada, "service", grant(true))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        crate::consent(&app, &bob, "service", grant(true))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        crate::consent(&app, &bob, "service", grant(false))
            .await
            .status(),
        StatusCode::OK
    );
    let check = async |id: &str| {
        crate::consent_check(&app, id, "purpose=marketing_email&channel=email").await
    };
    let filter = async |id: &str| {
        app.client
            .post(app.url("/v1/consent/filter"))
            .bearer_auth(&app.keys["marketing"])
            .json(&json!({"purpose": "marketing_email", "channel": "email", "subjects": [id]}))
            .send()
            .await
            .unwrap()
    };
    assert_eq!(
        check(&bob).await.json::<serde_json::Value>().await.unwrap()["allowed"],
        false
    );
    let (a, b) = (
        mamori_core::parse_id(&ada).unwrap(),
        mamori_core::parse_id(&bob).unwrap(),
    );

    // Bob's withdrawal flipped into a grant.
    app.execute_raw(
        "UPDATE consent_state SET granted = 1 WHERE subject_id = $1 AND purpose = 'marketing_email' AND $2 = $2",
        &b,
        &b,
    )
    .await;
    let before = crate::ledger_size(&app).await;
    crate::problem(
        check(&bob).await,
        StatusCode::INTERNAL_SERVER_ERROR,
        "integrity_failure",
    )
    .await;
    let r = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{bob}"),
            "marketing",
            "marketing_email",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "the decision does not see a grant"
    );
    // The audience streams part by part: a part that fails its check cuts the answer short.
    let body = filter(&bob).await.text().await.unwrap_or_default();
    assert!(
        !body.contains(&bob),
        "the audience does not include Bob: {body}"
    );
    let actions = crate::actions_since(&app, before).await;
    assert!(
        actions.iter().any(|a| a == "consent.integrity_check"),
        "{actions:?}"
    );

    // Ada's grant copied over Bob's row.
    app.execute_raw(
        "UPDATE consent_state SET mac = (SELECT mac FROM consent_state WHERE subject_id = $1 AND purpose = 'marketing_email'), \
         updated_ms = (SELECT updated_ms FROM consent_state WHERE subject_id = $1 AND purpose = 'marketing_email'), \
         source = (SELECT source FROM consent_state WHERE subject_id = $1 AND purpose = 'marketing_email') \
         WHERE subject_id = $2 AND purpose = 'marketing_email'",
        &a,
        &b,
    )
    .await;
    crate::problem(
        check(&bob).await,
        StatusCode::INTERNAL_SERVER_ERROR,
        "integrity_failure",
    )
    .await;

    // A MAC removed.
    app.execute_raw(
        "UPDATE consent_state SET mac = NULL WHERE subject_id = $1 AND $2 = $2",
        &a,
        &a,
    )
    .await;
    crate::problem(
        check(&ada).await,
        StatusCode::INTERNAL_SERVER_ERROR,
        "integrity_failure",
    )
    .await;
}

/// Rows from before MACs (the migration leaves a marker) are sealed once at start, ledgered;
/// without the marker, a row without a MAC stays a failure.
pub async fn consent_rows_from_before_macs_are_sealed_once(app: TestApp) {
    let person = crate::customer_without_phone("seal");
    let id = crate::create(&app, &person).await;
    let grant = json!({"purpose": "marketing_email", "channel": "email", "granted": true});
    assert_eq!(
        crate::consent(&app, &id, "service", grant).await.status(),
        StatusCode::OK
    );
    let subject = mamori_core::parse_id(&id).unwrap();
    app.execute_raw(
        "UPDATE consent_state SET mac = NULL WHERE subject_id = $1 AND $2 = $2",
        &subject,
        &subject,
    )
    .await;
    let check =
        async || crate::consent_check(&app, &id, "purpose=marketing_email&channel=email").await;
    assert_eq!(check().await.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        app.vault.seal_unsealed_consent_state().await.unwrap(),
        0,
        "no marker, no sealing"
    );
    app.execute_raw(
        "INSERT INTO consent_state_unsealed (pending) SELECT 1 WHERE $1 = $2",
        b"x",
        b"x",
    )
    .await;
    assert_eq!(app.vault.seal_unsealed_consent_state().await.unwrap(), 1);
    let answer: serde_json::Value = check().await.json().await.unwrap();
    assert_eq!(answer["allowed"], true, "{answer}");
    assert_eq!(
        app.vault.seal_unsealed_consent_state().await.unwrap(),
        0,
        "once"
    );
}
