//! Records of processing (GDPR Art. 30) over the API: every format and language, the published
//! version they are, the permission that guards them, and bad queries refused.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::TestApp;

async fn records(app: &TestApp, query: &str) -> reqwest::Response {
    let path = format!("/v1/records-of-processing{query}");
    crate::officer(app, Method::GET, &path, None).await
}

pub async fn records_of_processing_come_in_every_format_and_language(app: TestApp) {
    let r = records(&app, "?lang=fr").await;
    assert_eq!(r.status(), StatusCode::OK);
    let json: Value = r.json().await.unwrap();
    assert_eq!(json["title"], "Registre des activités de traitement");
    assert!(
        json["version"].as_str().unwrap().starts_with("Brouillon"),
        "not published yet"
    );
    let purposes = app.vault.policy.purposes.len();
    assert_eq!(json["activities"].as_array().unwrap().len(), purposes);
    assert_eq!(json["processors"].as_array().unwrap().len(), 2);
    // Once published, the records say which version they are.
    crate::consents::publish(&app, &app.vault.policy.source).await;
    let md = records(&app, "?format=md").await.text().await.unwrap();
    assert!(md.contains("_Version v1, published "), "{md}");
    assert!(
        md.contains("## Processors acting for us (GDPR Art. 30(2))"),
        "{md}"
    );
    let r = records(&app, "?format=csv&lang=ja").await;
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    assert_eq!(csv.lines().count(), purposes + 1, "{csv}");
    assert!(csv.starts_with("id,利用目的,法的根拠"), "{csv}");
    // The document names both record shapes apart (a subject's records, the records of processing).
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schemas = &doc["components"]["schemas"];
    assert!(
        schemas["Records"]["properties"]["records"].is_object(),
        "{}",
        schemas["Records"]
    );
    assert!(schemas["ProcessingRecords"]["properties"]["activities"].is_object());
    let html = records(&app, "?format=html").await.text().await.unwrap();
    assert!(
        html.contains("id=\"activity-order_fulfilment\"")
            && html.contains("Kuroneko Logistics K.K. (Processor)")
    );
}

pub async fn records_of_processing_refuse_bad_queries_and_other_roles(app: TestApp) {
    for (query, status, code) in [
        (
            "?lang=de",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            "?format=pdf",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        ("?colour=blue", StatusCode::BAD_REQUEST, "invalid_query"),
    ] {
        crate::problem(records(&app, query).await, status, code).await;
    }
    let r = app.as_role(
        Method::GET,
        "/v1/records-of-processing",
        "service",
        "order_fulfilment",
    );
    let r = r.send().await.unwrap();
    crate::problem(r, StatusCode::FORBIDDEN, "permission_not_granted").await;
}
