//! Request references people can read out: `R-XXXX-XXXX`, unique, found again by staff however
//! the person types them (any case, dashes or not), open or closed; a malformed one is a 400.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::TestApp;

fn is_reference(text: &str) -> bool {
    let crockford = |c: char| c.is_ascii_digit() || (c.is_ascii_uppercase() && !"ILOU".contains(c));
    text.len() == 11
        && text.starts_with("R-")
        && text.as_bytes()[6] == b'-'
        && text[2..6].chars().chain(text[7..].chars()).all(crockford)
}

pub async fn requests_have_short_unique_references_staff_can_look_up(app: TestApp) {
    let mut references = std::collections::HashSet::new();
    let mut last = Value::Null;
    for _ in 0..20 {
        let body = json!({"kind": "access", "jurisdiction": "gdpr", "source": "staff"});
        let r = crate::officer(&app, Method::POST, "/v1/requests", Some(body)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        last = r.json().await.unwrap();
        let reference = last["reference"].as_str().unwrap().to_string();
        assert!(is_reference(&reference), "{reference}");
        assert!(references.insert(reference), "unique");
    }
    let reference = last["reference"].as_str().unwrap();
    let typed = reference
        .to_lowercase()
        .replace('-', "")
        .replacen('r', "", 1);
    for query in [reference.to_string(), typed] {
        let path = format!("/v1/requests?reference={query}");
        let v: Value = crate::officer(&app, Method::GET, &path, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["requests"].as_array().unwrap().len(), 1, "{v}");
        assert_eq!(v["requests"][0]["id"], last["id"]);
    }
    // Closed, it is still found by its reference.
    let id = last["id"].as_str().unwrap();
    let close = json!({"state": "denied", "reason": "no_match"});
    let r = crate::officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{id}/state"),
        Some(close),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let path = format!("/v1/requests?reference={reference}");
    let v: Value = crate::officer(&app, Method::GET, &path, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["requests"][0]["state"], "denied", "{v}");

    for bad in [
        "R-0000",
        "R-UUUU-UUUU",
        "%C3%80%C3%80%C3%80%C3%80%C3%80%C3%80%C3%80%C3%80",
    ] {
        let r = crate::officer(
            &app,
            Method::GET,
            &format!("/v1/requests?reference={bad}"),
            None,
        )
        .await;
        crate::problem(r, StatusCode::BAD_REQUEST, "invalid_reference").await;
    }
}
