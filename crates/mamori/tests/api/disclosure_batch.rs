//! Batch disclosures: decided once for the role, purpose and vendor, then per person as a single
//! disclosure would be (consent, erasure), each outcome ledgered naming the vendor; a batch with
//! an unknown id or bad input is refused whole and discloses nothing.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::TestApp;

async fn batch(app: &TestApp, body: Value) -> reqwest::Response {
    let r = app.client.post(app.url("/v1/disclosures/batch"));
    let r = r.bearer_auth(&app.keys["service"]).json(&body);
    r.send().await.unwrap()
}

/// The `subject.disclose` events: (subject, recipient, outcome code).
async fn disclose_events(app: &TestApp) -> Vec<(Option<String>, String, String)> {
    app.ledger.flush().await.unwrap();
    let leaves = app.store.leaves(0, 1_000_000).await.unwrap();
    (leaves.iter())
        .filter_map(|l| mamori_ledger::Event::from_leaf_data(&l.data).ok())
        .filter(|e| e.action == "subject.disclose")
        .map(|e| {
            let outcome = match &e.outcome {
                mamori_ledger::Outcome::Allowed => "allowed".to_string(),
                mamori_ledger::Outcome::Denied { reason } => reason.clone(),
            };
            (
                e.subject.clone(),
                e.recipient.clone().unwrap_or_default(),
                outcome,
            )
        })
        .collect()
}

pub async fn a_batch_decides_each_person_as_one_disclosure_would(app: TestApp) {
    let agreed = crate::create(&app, &crate::customer_without_phone("batch-agreed")).await;
    let silent = crate::create(&app, &crate::customer_without_phone("batch-silent")).await;
    let erased = crate::create(&app, &crate::customer_without_phone("batch-erased")).await;
    let grant = json!({"purpose": "marketing_email", "channel": "email", "granted": true});
    assert_eq!(
        crate::consent(&app, &agreed, "service", grant)
            .await
            .status(),
        StatusCode::OK
    );
    let r = crate::officer(
        &app,
        Method::DELETE,
        &format!("/v1/subjects/{erased}"),
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let ask = json!({"vendor": "postbird", "purpose": "marketing_email", "categories": ["contact"],
        "subjects": [agreed, silent, erased]});
    let r = batch(&app, ask).await;
    assert_eq!(r.status(), StatusCode::OK);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(
        (answer["vendor"].as_str(), &answer["categories"]),
        (Some("postbird"), &json!(["contact"]))
    );
    let outcomes = answer["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 3);
    assert_eq!(outcomes[0]["subject"], agreed.as_str());
    assert!(
        outcomes[0]["data"]["contact"]["email"].is_string()
            && outcomes[0]["disclosure"].is_string()
    );
    assert_eq!(
        (&outcomes[1]["refused"], outcomes[1].get("data")),
        (&json!("consent_required"), None)
    );
    assert_eq!(outcomes[2]["refused"], "subject_erased");
    let recorded = |id: &str| {
        let id = mamori_core::parse_id(id).unwrap();
        let store = app.store.clone();
        async move { store.subject_disclosures(&id).await.unwrap().len() }
    };
    assert_eq!((recorded(&agreed).await, recorded(&silent).await), (1, 0));
    let expected = [
        (agreed, "allowed"),
        (silent, "consent_required"),
        (erased.clone(), "subject_erased"),
    ];
    let expected: Vec<_> = (expected.into_iter())
        .map(|(id, code)| (Some(id), "postbird".to_string(), code.to_string()))
        .collect();
    assert_eq!(disclose_events(&app).await, expected);
    // One at a time, an erased person is refused with the same code (not as unknown).
    let one = json!({"vendor": "kuroneko_logistics", "purpose": "order_fulfilment", "categories": ["address"]});
    let path = format!("/v1/subjects/{erased}/disclosures");
    let r = app
        .client
        .post(app.url(&path))
        .bearer_auth(&app.keys["service"]);
    let r = r.json(&one).send().await.unwrap();
    crate::problem(r, StatusCode::CONFLICT, "subject_erased").await;
    let last = disclose_events(&app).await.pop().unwrap();
    assert_eq!(
        (last.1.as_str(), last.2.as_str()),
        ("kuroneko_logistics", "subject_erased")
    );
}

pub async fn bad_batches_are_refused_whole_and_disclose_nothing(app: TestApp) {
    let id = crate::create(&app, &crate::customer("batch-bad")).await;
    let ghost = mamori_core::format_id(&[9; 16]);
    let ask = |vendor: &str, purpose: &str, subjects: Value| json!({"vendor": vendor, "purpose": purpose, "categories": ["address"], "subjects": subjects});
    let many: Vec<String> = (0..10_001).map(|_| id.clone()).collect();
    let cases = [
        (
            ask("kuroneko_logistics", "order_fulfilment", json!([id, ghost])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_subjects",
        ),
        (
            ask(
                "kuroneko_logistics",
                "order_fulfilment",
                json!([id, "not-a-uuid"]),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_id",
        ),
        (
            ask("kuroneko_logistics", "order_fulfilment", json!([])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many_subjects",
        ),
        (
            ask("kuroneko_logistics", "order_fulfilment", json!(many)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many_subjects",
        ),
        (
            ask("postbird", "order_fulfilment", json!([id])),
            StatusCode::FORBIDDEN,
            "vendor_does_not_serve",
        ),
        (
            ask("nobody_inc", "order_fulfilment", json!([id])),
            StatusCode::FORBIDDEN,
            "unknown_vendor",
        ),
        (
            ask("kuroneko_logistics", "analytics_nope", json!([id])),
            StatusCode::FORBIDDEN,
            "unknown_purpose",
        ),
        (
            json!({"vendor": "kuroneko_logistics", "subjects": [id]}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        let r = batch(&app, body).await;
        let problem = crate::problem(r, status, code).await;
        assert!(
            !problem.to_string().contains("nobody_inc"),
            "never echoed: {problem}"
        );
    }
    let subject = mamori_core::parse_id(&id).unwrap();
    assert!(
        app.store
            .subject_disclosures(&subject)
            .await
            .unwrap()
            .is_empty()
    );
    let refusals = disclose_events(&app).await;
    let codes: Vec<&str> = refusals.iter().map(|(_, _, code)| code.as_str()).collect();
    assert_eq!(
        codes,
        ["vendor_does_not_serve", "unknown_vendor", "unknown_purpose"]
    );
    assert!(
        refusals.iter().all(|(subject, _, _)| subject.is_none()),
        "no person was read"
    );
}
