//! What must never happen: altered ciphertext read as data, canaries leaking, a bulk import
//! half-applied, guessed keys, an export racing an erasure.

use super::*;
use mamori_proto::ErrorCode;

/// A request of every kind that takes or returns personal data, each carrying the canary
/// (in the person's data, a lookup, a bad value, a channel, a URL…).
fn requests_carrying(app: &TestApp, id: &str, canary: &str) -> Vec<reqwest::RequestBuilder> {
    let email = format!("{canary}@example.com");
    let record = json!({"category": "orders", "data": {"order_number": format!("{canary}-ord"), "total": 1, "currency": "EUR"}});
    vec![
        app.as_role(
            Method::POST,
            &format!("/v1/subjects/{id}/records"),
            "service",
            "order_fulfilment",
        )
        .json(&record),
        app.as_role(
            Method::GET,
            &format!("/v1/subjects/{id}"),
            "marketing",
            "marketing_email",
        ),
        app.as_role(
            Method::GET,
            &format!("/v1/subjects?email={email}"),
            "analyst",
            "analytics",
        ),
        app.as_role(
            Method::GET,
            &format!("/v1/subjects?email={email}"),
            "service",
            "order_fulfilment",
        ),
        app.as_role(
            Method::PATCH,
            &format!("/v1/subjects/{id}"),
            "support",
            "customer_support",
        )
        .json(&json!({"data": {"contact": {"email": format!("{canary}-bad")}}})),
        app.as_role(
            Method::PATCH,
            &format!("/v1/subjects/{id}"),
            "support",
            "customer_support",
        )
        .json(&json!({"data": {"contact": {"name": 5, "email": canary}}})),
        app.as_role(Method::POST, "/v1/subjects", "service", "order_fulfilment")
            .json(&json!({"data": {"contact": {"phone": canary}}})),
        app.as_role(Method::POST, "/v1/subjects", "service", "order_fulfilment")
            .header("content-type", "application/json")
            .body(format!(
                r#"{{"data": {{"contact": {{"name": ["{canary}"]}}}}, "x": "{canary}"#
            )),
        app.as_role(Method::POST, "/v1/subjects", "service", "order_fulfilment")
            .header("content-type", "application/json")
            .body(format!(r#"{{"external_id": 7, "data": "{canary}"}}"#)),
        app.as_role(
            Method::GET,
            &format!("/v1/subjects/{id}/records"),
            "analyst",
            "analytics",
        ),
        // Consent, audience filter, unsubscribe link, feed and webhooks: ids and states only.
        app.client
            .put(app.url(&format!("/v1/consent/{id}")))
            .bearer_auth(&app.keys["service"])
            .json(&json!({"purpose": "marketing_email", "channel": "email", "granted": true})),
        app.client
            .put(app.url(&format!("/v1/consent/{id}")))
            .bearer_auth(&app.keys["service"])
            .json(&json!({"purpose": "marketing_email", "channel": canary, "granted": true, "notice_version": canary})),
        app.client
            .post(app.url("/v1/consent/filter"))
            .bearer_auth(&app.keys["marketing"])
            .json(&json!({"purpose": "marketing_email", "channel": "email", "subjects": [id, canary]})),
        app.client
            .post(app.url(&format!("/v1/consent/{id}/unsubscribe-link")))
            .bearer_auth(&app.keys["service"])
            .json(&json!({"purpose": "marketing_email", "channel": "email"})),
        app.client
            .post(app.url("/v1/webhooks"))
            .bearer_auth(&app.keys["privacy_officer"])
            .json(&json!({"url": format!("http://{canary}.invalid/"), "events": [canary]})),
        app.client.get(app.url("/v1/events?after=0")).bearer_auth(&app.keys["service"]),
    ]
}

pub(crate) async fn canaries_never_leak(app: TestApp) {
    let canary = format!("canary{}", uuid::Uuid::new_v4().simple());
    let email = format!("{canary}@example.com");
    let body = json!({"external_id": format!("{canary}-ext"), "data": {
        "contact": {"name": format!("{canary} name"), "email": email},
        "address": {"street": format!("{canary} street"), "city": "Paris", "postal_code": "75001", "country": "FR"}}});
    let id = create(&app, &body).await;
    let mut responses = Vec::new();
    let reqs = requests_carrying(&app, &id, &canary);
    for req in reqs {
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        if !status.is_success() {
            assert!(
                !text.contains(&canary),
                "error response leaked the canary: {text}"
            );
        }
        responses.push((status, text));
    }
    let r = app
        .as_role(
            Method::DELETE,
            &format!("/v1/subjects/{id}"),
            "privacy_officer",
            "data_subject_rights",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Ledger: ids and names only.
    for leaf in app.store.leaves(0, 100_000).await.unwrap() {
        assert!(
            !String::from_utf8_lossy(&leaf.data).contains(&canary),
            "ledger leaked the canary"
        );
    }
    // Logs.
    let logs = String::from_utf8_lossy(&common::captured_logs().lock().unwrap()).to_string();
    assert!(!logs.contains(&canary), "logs leaked the canary");
    // Database files, including the WAL.
    if app.backend == common::Backend::Sqlite {
        let files = app.sqlite_files();
        assert!(!files.is_empty());
        for f in files {
            let bytes = std::fs::read(&f).unwrap();
            assert!(
                !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                "{} holds the canary in plaintext",
                f.display()
            );
        }
    }
}

/// The import path on both stores: the bulk insert when nothing conflicts, the row-by-row
/// fallback when something does, the checkpoint, and per-row rejections without values.
pub(crate) async fn bulk_import_commits_batches_and_rejects_rows(app: TestApp) {
    let service = mamori_core::Actor {
        id: "cli:import".into(),
        role: "service".into(),
    };
    let import_id = [7u8; 32];
    let before = ledger_size(&app).await;
    // A clean batch takes the multi-row path.
    let rows: Vec<_> = (1..=40)
        .map(|i| import_row(i, &i.to_string(), &format!("bulk{i}@example.com")))
        .collect();
    let report = app
        .vault
        .import_batch(&service, "order_fulfilment", import_id, 40, rows)
        .await
        .unwrap();
    assert_eq!(report.imported, 40);
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(
        ledger_size(&app).await,
        before + 40,
        "one event per subject"
    );
    assert_eq!(app.vault.import_resume_point(&import_id).await.unwrap(), 40);
    // A batch with a taken e-mail, a duplicate inside the batch and an invalid value.
    let mut rows: Vec<_> = (41..=60)
        .map(|i| import_row(i, &i.to_string(), &format!("bulk{i}@example.com")))
        .collect();
    rows[0] = import_row(41, "41", "bulk3@example.com");
    rows[5] = import_row(46, "dup", "bulk45@example.com");
    rows[9] = import_row(50, "50", "CANARY-not-an-email");
    let report = app
        .vault
        .import_batch(&service, "order_fulfilment", import_id, 60, rows)
        .await
        .unwrap();
    assert_eq!(report.imported, 17, "{:?}", report.rejected);
    let rejected: Vec<_> = report
        .rejected
        .iter()
        .map(|r| (r.line, r.code.as_str()))
        .collect();
    assert_eq!(
        rejected,
        vec![
            (41, "identifier_taken"),
            (46, "identifier_taken"),
            (50, "invalid_value")
        ]
    );
    assert_eq!(
        report.rejected[2].field.as_deref(),
        Some("data.contact.email")
    );
    assert!(
        report
            .rejected
            .iter()
            .all(|r| !r.message.contains("CANARY"))
    );
    assert_eq!(app.vault.import_resume_point(&import_id).await.unwrap(), 60);
    // Imported subjects are real subjects: found by blind index, readable for the purpose.
    let v: Value = app
        .as_role(
            Method::GET,
            "/v1/subjects?email=bulk60@example.com",
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["ids"].as_array().unwrap().len(), 1, "{v}");
    // Row-independent denials stop the import, and are ledgered.
    let size = ledger_size(&app).await;
    let err = app
        .vault
        .import_batch(&service, "legal_accounting", import_id, 61, vec![])
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PurposeNotAllowedForRole);
    assert_eq!(ledger_size(&app).await, size + 1);
    // A category the purpose does not cover rejects that row, ledgered as denied.
    let size = ledger_size(&app).await;
    let mut row = import_row(1, "prefs", "prefs@example.com");
    row.data.insert(
        "preferences".into(),
        [("language".to_string(), json!("fr"))].into(),
    );
    let report = app
        .vault
        .import_batch(&service, "order_fulfilment", [8u8; 32], 1, vec![row])
        .await
        .unwrap();
    assert_eq!(report.imported, 0);
    assert_eq!(
        report.rejected[0].code,
        ErrorCode::PurposeDoesNotCoverCategory
    );
    assert_eq!(ledger_size(&app).await, size + 1);
}

/// A ciphertext changed in the database fails authentication on open: 500 integrity_failure,
/// ledgered, and no plaintext of any kind in the answer.
pub(crate) async fn tampered_ciphertext_is_an_integrity_failure(app: TestApp) {
    let id = create(&app, &customer("tamper")).await;
    let raw_id = mamori_core::parse_id(&id).unwrap();
    let row = app.store.subject(&raw_id).await.unwrap().unwrap();
    let mut fields = row.fields.unwrap();
    let last = fields.len() - 1;
    fields[last] ^= 0x01;
    app.execute_raw(
        "UPDATE subjects SET fields = $1 WHERE id = $2",
        &fields,
        &raw_id,
    )
    .await;
    let before = ledger_size(&app).await;
    let r = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{id}"),
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap();
    let body = problem(r, StatusCode::INTERNAL_SERVER_ERROR, "integrity_failure").await;
    assert!(!body.to_string().contains("Ada"), "{body}");
    assert_eq!(
        ledger_size(&app).await,
        before + 1,
        "the failed read is ledgered"
    );
    let leaf = app.store.leaves(before, 1).await.unwrap();
    let event = String::from_utf8(leaf[0].data.clone()).unwrap();
    assert!(event.contains("integrity_failure"), "{event}");
}

/// Failed authentications are limited per address (the test server allows 4/s, bursts of 20);
/// past that the address gets 429 with Retry-After, even with a valid key, for a while.
pub(crate) async fn guessing_keys_gets_an_address_shut_out(app: TestApp) {
    let mut statuses = Vec::new();
    for i in 0..25 {
        let r = app
            .client
            .get(app.url("/v1/ledger/head"))
            .bearer_auth(format!("mamori_guess{i}"))
            .send()
            .await
            .unwrap();
        statuses.push(r.status());
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            // The shut-out lasts 10 s, and the answer says so (it used to say 1).
            let wait: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((9..=10).contains(&wait), "Retry-After: {wait}");
            problem(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
        }
    }
    let unauthorized = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert!((20..25).contains(&unauthorized), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
    let r = app
        .as_role(
            Method::GET,
            "/v1/ledger/head",
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

/// Two exports at once both give the whole answer; exports racing an erasure either finish
/// before it or answer that the person is erased (or kept only for the law) — never a partial
/// export, never an integrity failure.
pub(crate) async fn exports_race_erasure_cleanly(app: TestApp) {
    let export = |id: String| {
        let request = app.as_role(
            Method::GET,
            &format!("/v1/subjects/{id}/export"),
            "privacy_officer",
            "data_subject_rights",
        );
        async move { request.send().await.unwrap() }
    };
    for round in 0..3 {
        let id = create(&app, &customer(&format!("race{round}"))).await;
        for n in 0..60 {
            let (category, role, purpose, data) = if n % 2 == 0 {
                (
                    "orders",
                    "service",
                    "order_fulfilment",
                    json!({"order_number": format!("K-{n}"), "total": n, "currency": "EUR"}),
                )
            } else {
                (
                    "support_tickets",
                    "support",
                    "customer_support",
                    json!({"subject": "Hi", "message": format!("m{n}"), "status": "open"}),
                )
            };
            let r = app
                .as_role(
                    Method::POST,
                    &format!("/v1/subjects/{id}/records"),
                    role,
                    purpose,
                )
                .json(&json!({"category": category, "data": data}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
        }
        // Twice at once: the same complete answer.
        let (a, b) = tokio::join!(export(id.clone()), export(id.clone()));
        let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
        assert_eq!(a["records"].as_array().unwrap().len(), 60);
        assert_eq!(a["records"], b["records"]);
        assert_eq!(a["data"], b["data"]);

        // Racing an erasure.
        let exports: Vec<_> = (0..6).map(|_| tokio::spawn(export(id.clone()))).collect();
        let erased = officer(&app, Method::DELETE, &format!("/v1/subjects/{id}"), None).await;
        assert_eq!(erased.status(), StatusCode::OK);
        for e in exports {
            let r = e.await.unwrap();
            match r.status() {
                StatusCode::OK => {
                    let v: Value = r.json().await.unwrap();
                    assert_eq!(
                        v["records"].as_array().unwrap().len(),
                        60,
                        "complete or nothing"
                    );
                }
                StatusCode::FORBIDDEN => {
                    problem(r, StatusCode::FORBIDDEN, "kept_under_legal_hold").await;
                }
                other => panic!(
                    "an export racing an erasure answered {other}: {}",
                    r.text().await.unwrap()
                ),
            }
        }
    }
}
