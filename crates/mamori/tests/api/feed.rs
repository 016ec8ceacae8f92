//! The feed promises ids and states: random text put in every field that can reach it, through
//! the API and the consent import, never comes out of `GET /v1/events`.

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, TestRunner};
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::TestApp;

/// Random printable strings of 6 to 40 characters, letters and symbols of any script, with a
/// marker so that no word of the feed's own vocabulary is mistaken for one.
fn random_texts(n: usize) -> Vec<String> {
    let mut runner = TestRunner::new(Config {
        rng_seed: proptest::test_runner::RngSeed::Fixed(17),
        ..Config::default()
    });
    let strategy = "[^\\x00-\\x1f\\x7f-\\x9f]{6,40}".prop_map(|s| format!("Z{s}"));
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

/// The text cut to what a label may be (64 bytes).
fn label(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if out.len() + c.len_utf8() > 64 {
            break;
        }
        out.push(c);
    }
    out
}

async fn whole_feed(app: &TestApp) -> String {
    let mut out = String::new();
    let mut after = 0;
    loop {
        let page: Value = app
            .client
            .get(app.url(&format!("/v1/events?after={after}&limit=1000")))
            .bearer_auth(&app.keys["service"])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let events = page["events"].as_array().unwrap();
        if events.is_empty() {
            return out;
        }
        out.push_str(&page.to_string());
        after = page["next"].as_i64().unwrap();
    }
}

pub async fn random_text_in_any_field_never_reaches_the_feed(app: TestApp) {
    let subject = crate::create(&app, &crate::customer("feed")).await;
    let texts = random_texts(40);
    let mut consent_fields = 0;
    for (i, text) in texts.iter().enumerate() {
        // Consent changes: every string field, one at a time, the others valid.
        let mut body = json!({"purpose": "marketing_email", "channel": "email", "granted": i % 2 == 0, "source": "portal"});
        let field = ["purpose", "channel", "source", "notice_version"][i % 4];
        body[field] = json!(text);
        let r = crate::consent(&app, &subject, "service", body).await;
        assert!(r.status().is_client_error(), "{field}: {}", r.status());
        consent_fields += 1;
        // Requests: kind, jurisdiction, source; then a state change's state and reason.
        let mut request = json!({"kind": "access", "jurisdiction": "gdpr", "source": "staff", "subject": subject});
        request[["kind", "jurisdiction", "source"][i % 3]] = json!(text);
        let r = crate::officer(&app, Method::POST, "/v1/requests", Some(request)).await;
        assert!(r.status().is_client_error(), "request: {}", r.status());
    }
    let opened: Value = crate::officer(
        &app,
        Method::POST,
        "/v1/requests",
        Some(json!({"kind": "access", "jurisdiction": "gdpr", "source": "staff", "subject": subject})),
    )
    .await
    .json()
    .await
    .unwrap();
    let request = opened["id"].as_str().unwrap();
    for text in &texts[..10] {
        for body in [
            json!({"state": "denied", "reason": text}),
            json!({"state": text}),
        ] {
            let r = crate::officer(
                &app,
                Method::POST,
                &format!("/v1/requests/{request}/state"),
                Some(body),
            )
            .await;
            assert!(r.status().is_client_error(), "state: {}", r.status());
        }
        let r = crate::officer(
            &app,
            Method::POST,
            &format!("/v1/requests/{request}/extend"),
            Some(json!({"reason": text})),
        )
        .await;
        assert!(r.status().is_client_error(), "extend: {}", r.status());
    }
    // The import keeps an older system's label in the history, but not in the feed.
    let operator = mamori_core::Actor {
        id: "cli".into(),
        role: "service".into(),
    };
    let rows = texts[..10]
        .iter()
        .enumerate()
        .map(|(i, text)| mamori_core::consent_import::ConsentImportRow {
            line: i as u64 + 1,
            subject: subject.clone(),
            change: mamori_core::consent::ConsentChange {
                purpose: "marketing_email".into(),
                channel: Some("email".into()),
                granted: true,
                source: Some("import".into()),
                notice_version: Some(label(text)),
            },
            at_ms: mamori_core::now_ms() - 86_400_000 + i as i64,
        })
        .collect();
    let imported = app.vault.import_consents(&operator, rows).await.unwrap();
    let feed = whole_feed(&app).await;
    assert_eq!(imported.imported, 10, "{:?}", imported.rejected);
    assert!(feed.contains("consent.changed"), "{feed}");
    for text in texts.iter().chain(
        texts[..10]
            .iter()
            .map(|t| label(t))
            .collect::<Vec<_>>()
            .iter(),
    ) {
        let json_form = serde_json::to_string(text).unwrap();
        let inner = &json_form[1..json_form.len() - 1];
        assert!(!feed.contains(inner), "{text:?} reached the feed");
    }
    assert_eq!(consent_fields, texts.len());
}
