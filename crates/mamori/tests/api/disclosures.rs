//! Disclosures to vendors: allowed only through the access decision and the vendor register
//! (the role may disclose to the vendor, which serves the purpose, may receive each category and
//! is under a current contract); each allowed or refused one a ledger event naming the vendor,
//! each allowed one recorded for the person.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Backend, POLICY, TestApp, spawn_app_with_policy};

async fn disclose(app: &TestApp, role: &str, id: &str, body: Value) -> reqwest::Response {
    let path = format!("/v1/subjects/{id}/disclosures");
    let r = app.client.post(app.url(&path)).bearer_auth(&app.keys[role]);
    r.json(&body).send().await.unwrap()
}

/// The recipients named by the ledger's `subject.disclose` events, with their outcomes.
async fn ledgered(app: &TestApp) -> Vec<(String, bool)> {
    app.ledger.flush().await.unwrap();
    let leaves = app.store.leaves(0, 1_000_000).await.unwrap();
    (leaves.iter())
        .filter_map(|l| mamori_ledger::Event::from_leaf_data(&l.data).ok())
        .filter(|e| e.action == "subject.disclose")
        .map(|e| (e.recipient.clone().unwrap_or_default(), e.is_allowed()))
        .collect()
}

pub async fn data_goes_to_a_vendor_only_for_what_it_serves(app: TestApp) {
    let id = crate::create(&app, &crate::customer("courier")).await;
    let to_courier = json!({"vendor": "kuroneko_logistics", "purpose": "order_fulfilment", "categories": ["contact", "address"]});
    let r = disclose(&app, "service", &id, to_courier).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let sent: Value = r.json().await.unwrap();
    assert_eq!(sent["vendor"], "kuroneko_logistics");
    assert_eq!(sent["categories"], json!(["address", "contact"]));
    assert!(sent["data"]["contact"]["name"].is_string(), "{sent}");
    assert!(sent["data"].get("payment").is_none(), "only what was asked");
    let subject = mamori_core::parse_id(&id).unwrap();
    let kept = app.store.subject_disclosures(&subject).await.unwrap();
    assert_eq!(
        (kept.len(), kept[0].vendor.as_str()),
        (1, "kuroneko_logistics")
    );
    assert_eq!(kept[0].categories, "address,contact");
    // Consent-based: refused until the person agrees, then allowed.
    let to_mailer =
        json!({"vendor": "postbird", "purpose": "marketing_email", "categories": ["contact"]});
    let r = disclose(&app, "service", &id, to_mailer.clone()).await;
    crate::problem(r, StatusCode::FORBIDDEN, "consent_required").await;
    let grant = json!({"purpose": "marketing_email", "channel": "email", "granted": true});
    assert_eq!(
        crate::consent(&app, &id, "service", grant).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        disclose(&app, "service", &id, to_mailer).await.status(),
        StatusCode::CREATED
    );
    let expected = [
        ("kuroneko_logistics", true),
        ("postbird", false),
        ("postbird", true),
    ];
    assert_eq!(
        ledgered(&app).await,
        expected.map(|(v, ok)| (v.to_string(), ok))
    );
}

pub async fn disclosures_outside_the_register_are_refused_and_ledgered(app: TestApp) {
    let id = crate::create(&app, &crate::customer("refused")).await;
    let ask = |vendor: &str, purpose: &str, categories: Value| json!({"vendor": vendor, "purpose": purpose, "categories": categories});
    let refusals = [
        (
            "service",
            ask("nobody_inc", "order_fulfilment", json!(["contact"])),
            "unknown_vendor",
        ),
        (
            "service",
            ask("postbird", "order_fulfilment", json!(["contact"])),
            "vendor_does_not_serve",
        ),
        (
            "service",
            ask("kuroneko_logistics", "order_fulfilment", json!(["payment"])),
            "vendor_does_not_serve",
        ),
        (
            "support",
            ask("kuroneko_logistics", "order_fulfilment", json!(["contact"])),
            "vendor_not_allowed_for_role",
        ),
        (
            "service",
            ask("kuroneko_logistics", "analytics", json!(["contact"])),
            "purpose_not_allowed_for_role",
        ),
    ];
    for (role, body, code) in refusals {
        let r = disclose(&app, role, &id, body.clone()).await;
        let problem = crate::problem(r, StatusCode::FORBIDDEN, code).await;
        assert!(
            !problem.to_string().contains("nobody_inc"),
            "never echoed: {problem}"
        );
    }
    let recipients: Vec<String> = ledgered(&app)
        .await
        .into_iter()
        .map(|(v, ok)| {
            assert!(!ok);
            v
        })
        .collect();
    assert!(
        recipients.contains(&"(unknown)".to_string())
            && !recipients.iter().any(|v| v == "nobody_inc")
    );
    for bad in [
        ask("kuroneko_logistics", "order_fulfilment", json!([])),
        ask("kuroneko_logistics", "order_fulfilment", json!(["gossip"])),
    ] {
        let r = disclose(&app, "service", &id, bad).await;
        crate::problem(r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_category").await;
    }
    let extra = json!({"vendor": "postbird", "purpose": "order_fulfilment", "categories": ["contact"], "records": 1});
    assert_eq!(
        disclose(&app, "service", &id, extra).await.status(),
        StatusCode::BAD_REQUEST
    );
    let ghost = uuid::Uuid::now_v7().to_string();
    let r = disclose(
        &app,
        "service",
        &ghost,
        ask("kuroneko_logistics", "order_fulfilment", json!(["contact"])),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let subject = mamori_core::parse_id(&id).unwrap();
    assert!(
        app.store
            .subject_disclosures(&subject)
            .await
            .unwrap()
            .is_empty(),
        "nothing recorded"
    );
}

/// The example policy with the courier's contract ended, and the mailer's review failed.
fn lapsed_policy() -> String {
    let courier = "contract = { reference = \"SVC-2025-031\", start = 2025-04-01 }";
    let review = "review = { on = 2026-06-01, result = \"passed\" }";
    assert!(POLICY.contains(courier) && POLICY.contains(review));
    POLICY
        .replace(
            courier,
            "contract = { reference = \"SVC-2025-031\", start = 2025-04-01, end = 2025-12-31 }",
        )
        .replace(review, "review = { on = 2026-06-01, result = \"failed\" }")
}

async fn lapsed(backend: Backend) {
    let Some(app) = spawn_app_with_policy(backend, &lapsed_policy()).await else {
        return;
    };
    let id = crate::create(&app, &crate::customer("lapsed")).await;
    let grant = json!({"purpose": "marketing_email", "channel": "email", "granted": true});
    assert_eq!(
        crate::consent(&app, &id, "service", grant).await.status(),
        StatusCode::OK
    );
    for (vendor, purpose) in [
        ("kuroneko_logistics", "order_fulfilment"),
        ("postbird", "marketing_email"),
    ] {
        let body = json!({"vendor": vendor, "purpose": purpose, "categories": ["contact"]});
        let r = disclose(&app, "service", &id, body).await;
        crate::problem(r, StatusCode::FORBIDDEN, "vendor_not_contracted").await;
    }
    let subject = mamori_core::parse_id(&id).unwrap();
    assert!(
        app.store
            .subject_disclosures(&subject)
            .await
            .unwrap()
            .is_empty()
    );
    let _ = Method::GET;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_vendor_receives_nothing_on_sqlite() {
    lapsed(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_vendor_receives_nothing_on_postgres() {
    lapsed(Backend::Postgres).await;
}

/// The person sees, on My data, who received what, for which purpose, when and where — in
/// their language; nobody else's.
pub async fn people_see_who_their_data_was_shared_with(app: TestApp) {
    let id = crate::create(&app, &crate::customer_without_phone("shared")).await;
    let other = crate::create(&app, &crate::customer_without_phone("unshared")).await;
    let body = json!({"vendor": "kuroneko_logistics", "purpose": "order_fulfilment", "categories": ["address"]});
    assert_eq!(
        disclose(&app, "service", &id, body).await.status(),
        StatusCode::CREATED
    );
    let subject = mamori_core::parse_id(&id).unwrap();
    let me = mamori_core::Actor {
        id: mamori_core::access::self_actor_id(&mamori_core::parse_id(&id).unwrap()),
        role: "self".into(),
    };
    let seen = app
        .vault
        .disclosures_for_person(&me, &subject)
        .await
        .unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].vendor.as_str(), seen[0].countries.as_slice()),
        ("Kuroneko Logistics K.K.", ["JP".to_string()].as_slice())
    );
    assert_eq!(
        (seen[0].purpose.as_str(), seen[0].categories.as_slice()),
        ("order_fulfilment", ["address".to_string()].as_slice())
    );
    // Another person's are not theirs to read.
    let theirs = mamori_core::parse_id(&other).unwrap();
    assert!(
        app.vault
            .disclosures_for_person(&me, &theirs)
            .await
            .is_err()
    );
    let (client, jar, _) = crate::signed_in_browser(&app, "ada.shared@example.com").await;
    for (lang, says) in [
        ("en", "Who we shared your data with"),
        ("ja", "お客様のデータの提供先"),
        ("fr", "Avec qui nous avons partagé vos données"),
    ] {
        let r = client.get(app.url(&format!("/privacy/me?lang={lang}")));
        let page = r
            .header("cookie", &jar)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(says) && page.contains("Kuroneko Logistics K.K."),
            "{lang}: {page}"
        );
    }
    // The export (and so the download) tells it too.
    let path = format!("/v1/subjects/{id}/export");
    let export: Value = (crate::officer(&app, Method::GET, &path, None)
        .await
        .json()
        .await)
        .unwrap();
    let told = &export["disclosures"][0];
    let vendor_purpose = (&told["vendor"], &told["purpose"]);
    assert_eq!(
        vendor_purpose,
        (
            &json!("Kuroneko Logistics K.K."),
            &json!("order_fulfilment")
        )
    );
    assert!(
        told["disclosed_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{told}"
    );
    // The access log names the vendor, and the person's activity page says it in their words.
    let log = export["access_log"].as_array().unwrap();
    let named =
        |e: &&Value| e["action"] == "subject.disclose" && e["recipient"] == "kuroneko_logistics";
    assert!(log.iter().any(|e| named(&e)), "{log:?}");
    let r = client.get(app.url("/privacy/me/activity?lang=ja"));
    let page = r
        .header("cookie", &jar)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("データを提供した先：Kuroneko Logistics K.K."),
        "{page}"
    );
}

/// Adds a record of `category` for `purpose` as `role`; its id.
async fn record(app: &TestApp, id: &str, role: &str, purpose: &str, body: Value) -> String {
    let path = format!("/v1/subjects/{id}/records");
    let r = app.as_role(Method::POST, &path, role, purpose).json(&body);
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .into()
}

pub async fn records_go_with_a_disclosure_only_when_theirs_and_disclosed(app: TestApp) {
    let (id, other) = (
        crate::create(&app, &crate::customer("parcel")).await,
        crate::create(&app, &crate::customer_without_phone("neighbour")).await,
    );
    let order = |n: &str| json!({"category": "orders", "data": {"order_number": n, "total": 12, "currency": "EUR"}});
    let mine = record(&app, &id, "service", "order_fulfilment", order("K-77")).await;
    let theirs = record(&app, &other, "service", "order_fulfilment", order("K-78")).await;
    let ticket = json!({"category": "support_tickets", "data": {"subject": "Hi", "message": "Lid?", "status": "open"}});
    let ticket = record(&app, &id, "support", "customer_support", ticket).await;
    let ask = |records: Value| json!({"vendor": "kuroneko_logistics", "purpose": "order_fulfilment", "categories": ["contact", "orders"], "records": records});
    let r = disclose(&app, "service", &id, ask(json!([mine, mine]))).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let sent: Value = r.json().await.unwrap();
    assert_eq!(sent["records"].as_array().unwrap().len(), 1, "{sent}");
    assert_eq!(sent["records"][0]["id"], json!(mine));
    assert_eq!(sent["records"][0]["data"]["order_number"], "K-77");
    let subject = mamori_core::parse_id(&id).unwrap();
    let kept = app.store.subject_disclosures(&subject).await.unwrap();
    assert_eq!(kept[0].records, mine);
    // Another person's record, one of a category not disclosed, too many, or not an id: refused,
    // never saying which, and nothing more recorded.
    let too_many: Vec<String> = (0..101).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    for (records, status, code) in [
        (
            json!([theirs]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_records",
        ),
        (
            json!([mine, ticket]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_records",
        ),
        (
            json!(too_many),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_records",
        ),
        (
            json!(["K-78"]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_id",
        ),
        (json!("K-78"), StatusCode::BAD_REQUEST, "invalid_body"),
    ] {
        let r = disclose(&app, "service", &id, ask(records)).await;
        let problem = crate::problem(r, status, code).await.to_string();
        assert!(
            !problem.contains(&theirs) && !problem.contains("K-78"),
            "{problem}"
        );
    }
    let again = app.store.subject_disclosures(&subject).await.unwrap();
    assert_eq!(again.len(), 1);
    // The refusal after the decision is ledgered naming the vendor.
    let outcomes = ledgered(&app).await;
    assert_eq!(
        outcomes.iter().filter(|(_, ok)| !ok).count(),
        2,
        "{outcomes:?}"
    );
    let path = format!("/v1/disclosures?{}", crate::period(&app));
    let r = crate::officer(&app, Method::GET, &path, None).await;
    let listed: Value = r.json().await.unwrap();
    assert_eq!(listed["records"][0]["records"], json!([mine]));
}
