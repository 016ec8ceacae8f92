//! The whole server over HTTP, on SQLite and PostgreSQL.

#[path = "api/authz.rs"]
mod authz;
#[path = "api/choices.rs"]
mod choices;
mod common;
#[path = "api/consent_state.rs"]
mod consent_state;
#[path = "api/drp.rs"]
mod drp;
#[path = "api/feed.rs"]
mod feed;
#[path = "api/forget.rs"]
mod forget;
#[path = "api/hardening.rs"]
mod hardening;
#[path = "api/holds.rs"]
mod holds;
#[path = "api/outage.rs"]
mod outage;
#[path = "api/records.rs"]
mod records;
#[path = "api/references.rs"]
mod references;
#[path = "api/witness.rs"]
mod witness;

use authz::{
    administrative_actions_need_a_permission_and_a_public_target,
    every_role_endpoint_and_purpose_is_answered_as_the_policy_implies,
};
use choices::gpc_in_the_privacy_center_is_honoured_and_a_later_own_choice_stands;
use consent_state::{
    consent_rows_from_before_macs_are_sealed_once,
    edited_consent_state_is_an_integrity_failure_not_a_grant,
};
use drp::drp_accepts_one_point_o_once_per_message_with_expiring_tokens;
use feed::random_text_in_any_field_never_reaches_the_feed;
use forget::every_table_naming_a_person_is_cleared_or_kept_for_a_reason;
use hardening::{
    code_limits_count_a_number_once_however_it_is_written,
    code_limits_count_a_person_once_across_their_addresses,
    forms_need_the_token_made_for_this_browser_and_this_origin,
    responses_carry_security_headers_and_files_are_private,
};
use outage::a_lost_database_fails_readiness_by_name_and_refuses_writes;
use records::records_are_listed_by_kind_newest_first_a_page_at_a_time;
use references::requests_have_short_unique_references_staff_can_look_up;
use witness::new_signed_heads_are_offered_to_witnesses_on_the_outbox;

use common::{Backend, TestApp};
use mamori_ledger::{b64, verify_consistency, verify_inclusion};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

both_backends!(
    every_table_naming_a_person_is_cleared_or_kept_for_a_reason,
    records_are_listed_by_kind_newest_first_a_page_at_a_time,
    a_lost_database_fails_readiness_by_name_and_refuses_writes,
    new_signed_heads_are_offered_to_witnesses_on_the_outbox,
    code_limits_count_a_person_once_across_their_addresses,
    requests_have_short_unique_references_staff_can_look_up,
    gpc_in_the_privacy_center_is_honoured_and_a_later_own_choice_stands,
    create_read_is_purpose_scoped_and_masked,
    denials_are_403_ledgered_and_reveal_nothing,
    authentication_and_purpose_header,
    bad_input_gets_clear_errors_and_changes_nothing,
    concurrent_updates_are_all_applied,
    erasure_crypto_shreds,
    erasure_keeps_what_the_law_requires,
    delete_my_account_shows_what_is_kept,
    drp_agents_file_and_track_requests,
    exports_race_erasure_cleanly,
    records_are_appended_and_scoped,
    ledger_proofs_verify,
    canaries_never_leak,
    bulk_import_commits_batches_and_rejects_rows,
    tampered_ciphertext_is_an_integrity_failure,
    ledger_streams_every_leaf_in_order,
    guessing_keys_gets_an_address_shut_out,
    consent_is_off_by_default_and_gates_access,
    global_privacy_control_opts_out_of_sale_and_sharing,
    audience_filter_keeps_only_consented_live_subjects,
    outbox_feed_announces_consent_and_erasure,
    webhooks_are_signed_retried_and_isolated,
    one_click_unsubscribe_withdraws_that_consent,
    widened_purposes_need_consent_again,
    receipts_prove_decisions_not_current_consent,
    privacy_center_sign_in_by_one_time_code,
    privacy_center_pages_sign_in_and_show_my_data,
    my_choices_change_consent_in_one_click,
    download_my_data_is_a_zip_of_json_and_csv,
    who_accessed_my_data_with_proofs,
    requests_are_worked_through_drp_states_before_their_deadline,
    correct_my_data_verifies_new_identifiers,
    request_deadlines_are_reminded_once,
    scrub_removes_personal_data_and_refuses_bad_input,
    a_dropped_ledger_lets_go_of_its_store,
    anonymous_surveys_keep_no_one_and_hide_small_groups,
    survey_pages_take_answers_in_three_languages,
    invited_surveys_take_one_unlinkable_response_each,
    private_releases_spend_a_budget_and_stop,
    the_privacy_report_shows_requests_surveys_and_sentiment,
    free_text_answers_are_listed_a_page_at_a_time,
    identified_surveys_need_consent_and_keep_answers_as_the_persons_record,
    survey_answers_are_limited_per_address,
    a_second_process_on_the_database_takes_turns_on_the_ledger,
    every_role_endpoint_and_purpose_is_answered_as_the_policy_implies,
    administrative_actions_need_a_permission_and_a_public_target,
    responses_carry_security_headers_and_files_are_private,
    code_limits_count_a_number_once_however_it_is_written,
    drp_accepts_one_point_o_once_per_message_with_expiring_tokens,
    forms_need_the_token_made_for_this_browser_and_this_origin,
    random_text_in_any_field_never_reaches_the_feed,
    edited_consent_state_is_an_integrity_failure_not_a_grant,
    consent_rows_from_before_macs_are_sealed_once,
);

/// The CLI beside a running server is a second process writing the same database. Each writer
/// takes in the events the other appended before adding its own, so both keep working and the
/// ledger stays one tree (a key created from the CLI used to leave the server failing every
/// write: the next leaf index it meant to use was taken).
async fn a_second_process_on_the_database_takes_turns_on_the_ledger(app: TestApp) {
    let store: std::sync::Arc<dyn mamori_store::Store> =
        std::sync::Arc::from(mamori_store::open(&app.database_url).await.unwrap());
    let keyring = mamori_crypto::Keyring::new(
        &mamori_crypto::MasterKey::from_hex(common::MASTER_HEX).unwrap(),
    );
    let signer = mamori_ledger::HeadSigner::from_seed(&keyring.ledger_signing_seed());
    let public = signer.public_key();
    let ledger = mamori_core::ledger::Ledger::start(store.clone(), signer)
        .await
        .unwrap();
    let cli = mamori_core::vault::Vault::new(
        app.vault.policy.clone(),
        std::sync::Arc::new(keyring),
        store.clone(),
        ledger,
    );
    let operator = mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    };
    for round in 0..3 {
        let (_, key) = cli
            .create_api_key(&operator, "service", &format!("from the CLI {round}"))
            .await
            .unwrap();
        let created = app
            .client
            .post(app.url("/v1/subjects"))
            .bearer_auth(&key)
            .header("Mamori-Purpose", "order_fulfilment")
            .json(&json!({"data": {"contact": {"name": format!("Turn {round}")}}}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            created.status(),
            StatusCode::CREATED,
            "round {round}: {}",
            created.text().await.unwrap()
        );
    }
    // At the same time too: the two writers take turns (on PostgreSQL, an advisory lock).
    let service = &app.keys["service"];
    for round in 0..10 {
        let name = format!("at once {round}");
        let (cli_write, api_write) = tokio::join!(
            cli.create_api_key(&operator, "service", &name),
            app.client
                .post(app.url("/v1/subjects"))
                .bearer_auth(service)
                .header("Mamori-Purpose", "order_fulfilment")
                .json(&json!({"data": {"contact": {"name": format!("At once {round}")}}}))
                .send()
        );
        cli_write.unwrap();
        assert_eq!(
            api_write.unwrap().status(),
            StatusCode::CREATED,
            "round {round}"
        );
    }
    // One tree: every stored leaf once, in order, and the server's latest signed head is the
    // root of all of them, the CLI's included.
    app.vault.ledger.flush().await.unwrap();
    let head = app.vault.ledger.latest_head().unwrap();
    assert!(mamori_ledger::verify_head(&public, &head));
    let hashes = store.leaf_hashes(0, i64::MAX).await.unwrap();
    assert_eq!(hashes.len() as u64, head.head.size);
    let mut tree = mamori_ledger::MerkleTree::new();
    hashes.iter().for_each(|h| tree.push_leaf_hash(*h));
    let root = tree
        .root(head.head.size, &mamori_ledger::Blocks::default())
        .unwrap();
    assert_eq!(root, head.head.root);
    // The last commit of the rounds may be the CLI's; the server's flush then took it in.
    let cli_head = cli.ledger.latest_head().unwrap();
    assert!(cli_head.head.size <= head.head.size);
    assert_eq!(
        tree.root(cli_head.head.size, &mamori_ledger::Blocks::default())
            .ok(),
        Some(cli_head.head.root),
        "the CLI's last head is a past state of the same tree"
    );
}

/// Once every handle of a ledger is gone its writer stops and lets go of the store, so the
/// database connections close (a writer that kept itself alive leaked a pool per start, and a
/// long test run ran PostgreSQL out of connections).
async fn a_dropped_ledger_lets_go_of_its_store(app: TestApp) {
    let store: std::sync::Arc<dyn mamori_store::Store> =
        std::sync::Arc::from(mamori_store::open(&app.database_url).await.unwrap());
    let keyring = mamori_crypto::Keyring::new(
        &mamori_crypto::MasterKey::from_hex(common::MASTER_HEX).unwrap(),
    );
    let ledger = mamori_core::ledger::Ledger::start(
        store.clone(),
        mamori_ledger::HeadSigner::from_seed(&keyring.ledger_signing_seed()),
    )
    .await
    .unwrap();
    ledger.flush().await.unwrap();
    assert!(
        std::sync::Arc::strong_count(&store) > 1,
        "the writer holds the store"
    );
    drop(ledger);
    for _ in 0..250 {
        if std::sync::Arc::strong_count(&store) == 1 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!(
        "the ledger writer still holds the store 5 s after its last handle was dropped ({} holders)",
        std::sync::Arc::strong_count(&store)
    );
}

fn customer(tag: &str) -> Value {
    json!({
        "external_id": format!("ext-{tag}"),
        "data": {
            "contact": {"name": format!("Ada {tag}"), "email": format!("ada.{tag}@example.com"), "phone": "+44 20 7946 0123"},
            "address": {"street": "1 Rue de Rivoli", "city": "Paris", "postal_code": "75001", "country": "fr"},
            "payment": {"card_last_digits": "4242", "card_brand": "visa"}
        }
    })
}

/// [`customer`] without the phone number they all share, for a second person in one test.
fn customer_without_phone(tag: &str) -> Value {
    let mut c = customer(tag);
    c["data"]["contact"]
        .as_object_mut()
        .unwrap()
        .remove("phone");
    c
}

async fn create(app: &TestApp, body: &Value) -> String {
    let r = app
        .as_role(Method::POST, "/v1/subjects", "service", "order_fulfilment")
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn problem(r: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status(), status);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    assert!(
        body["detail"].as_str().is_some_and(|d| d.len() > 10),
        "{body}"
    );
    body
}

async fn ledger_size(app: &TestApp) -> u64 {
    // Consent checks are ledgered in the next group commit, not before their answer.
    app.vault.ledger.flush().await.unwrap();
    app.vault.ledger.committed_size()
}

async fn create_read_is_purpose_scoped_and_masked(app: TestApp) {
    let id = create(&app, &customer("one")).await;
    // The service sees what order fulfilment covers, unmasked.
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
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["data"]["contact"]["email"], "ada.one@example.com");
    assert_eq!(v["data"]["contact"]["phone"], "+442079460123");
    assert_eq!(v["data"]["address"]["country"], "FR");
    assert_eq!(v["data"]["payment"]["card_last_digits"], "4242");
    // Support: masked per role.
    let v: Value = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{id}"),
            "support",
            "customer_support",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"]["payment"]["card_last_digits"], "••••4242");
    assert_eq!(v["data"]["payment"]["card_brand"], "[redacted]");
    assert_eq!(v["data"]["contact"]["phone"], "••••0123");
    assert_eq!(v["data"]["contact"]["email"], "ada.one@example.com");
    // Analyst for analytics: neither contact nor address exists in its view.
    let v: Value = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{id}"),
            "analyst",
            "analytics",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        v["data"].get("contact").is_none() && v["data"].get("address").is_none(),
        "{v}"
    );
    // Lookups by each blind index find the subject, after normalisation.
    for q in [
        "email=ADA.one@Example.com",
        "phone=%2B44%2020%207946%200123",
        "external_id=ext-one",
    ] {
        let v: Value = app
            .as_role(
                Method::GET,
                &format!("/v1/subjects?{q}"),
                "service",
                "order_fulfilment",
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["ids"], json!([id]), "{q}");
    }
    let v: Value = app
        .as_role(
            Method::GET,
            "/v1/subjects?email=nobody@example.com",
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["ids"], json!([]));
    // PATCH changes a field and the e-mail index follows it.
    let r = app
        .as_role(
            Method::PATCH,
            &format!("/v1/subjects/{id}"),
            "support",
            "customer_support",
        )
        .json(&json!({"data": {"contact": {"email": "ada.new@example.com", "phone": null}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let v: Value = app
        .as_role(
            Method::GET,
            "/v1/subjects?email=ada.one@example.com",
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["ids"], json!([]));
    let v: Value = app
        .as_role(
            Method::GET,
            "/v1/subjects?email=ada.new@example.com",
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["ids"], json!([id]));
    let v: Value = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{id}"),
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["data"]["contact"].get("phone").is_none());
    // A second subject may not take the same e-mail.
    let mut dup = customer("two");
    dup["data"]["contact"]["email"] = json!("ada.new@example.com");
    let r = app
        .as_role(Method::POST, "/v1/subjects", "service", "order_fulfilment")
        .json(&dup)
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::CONFLICT, "identifier_taken").await;
}

async fn denials_are_403_ledgered_and_reveal_nothing(app: TestApp) {
    let id = create(&app, &customer("d")).await;
    let missing = uuid::Uuid::new_v4().to_string();
    let cases = [
        ("marketing", "marketing_email", "consent_required"),
        (
            "analyst",
            "customer_support",
            "purpose_not_allowed_for_role",
        ),
        ("support", "no_such_purpose", "unknown_purpose"),
    ];
    for (role, purpose, code) in cases {
        for target in [&id, &missing] {
            let before = ledger_size(&app).await;
            let r = app
                .as_role(
                    Method::GET,
                    &format!("/v1/subjects/{target}"),
                    role,
                    purpose,
                )
                .send()
                .await
                .unwrap();
            let body = problem(r, StatusCode::FORBIDDEN, code).await;
            assert!(
                !body.to_string().contains(target.as_str()),
                "a denial must not echo the subject"
            );
            assert_eq!(
                ledger_size(&app).await,
                before + 1,
                "the denial is ledgered"
            );
        }
    }
    // Writes beyond the role are denied as well, and nothing changes.
    let r = app
        .as_role(
            Method::DELETE,
            &format!("/v1/subjects/{id}"),
            "support",
            "customer_support",
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "purpose_does_not_cover_category").await;
    let r = app
        .as_role(Method::POST, "/v1/subjects", "support", "customer_support")
        .json(&customer("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let leaves = app.vault.store.leaves(0, 10_000).await.unwrap();
    let denied: Vec<String> = leaves
        .iter()
        .map(|l| String::from_utf8(l.data.clone()).unwrap())
        .filter(|t| t.contains("\"denied\""))
        .collect();
    assert!(denied.len() >= 8, "{denied:#?}");
    assert!(
        denied
            .iter()
            .any(|d| d.contains("consent_required") && d.contains(&id))
    );
    assert!(
        !denied.iter().any(|d| d.contains("no_such_purpose")),
        "attacker text must not reach the ledger"
    );
    // Reading a subject that does not exist, with a good purpose: 404.
    let r = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{missing}"),
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::NOT_FOUND, "subject_not_found").await;
}

async fn authentication_and_purpose_header(app: TestApp) {
    let id = create(&app, &customer("auth")).await;
    let path = app.url(&format!("/v1/subjects/{id}"));
    let r = app
        .client
        .get(&path)
        .header("Mamori-Purpose", "order_fulfilment")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let r = app
        .client
        .get(&path)
        .bearer_auth("mamori_notakey")
        .header("Mamori-Purpose", "order_fulfilment")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let r = app
        .client
        .get(&path)
        .header("Authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let r = app
        .client
        .get(&path)
        .bearer_auth(&app.keys["service"])
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::BAD_REQUEST, "missing_purpose").await;
    // Revoke a key: it stops working at once.
    let operator = mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    };
    let (key_id, token) = app
        .vault
        .create_api_key(&operator, "service", "short-lived")
        .await
        .unwrap();
    let ok = app
        .client
        .get(&path)
        .bearer_auth(&token)
        .header("Mamori-Purpose", "order_fulfilment")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    app.vault.revoke_api_key(&operator, &key_id).await.unwrap();
    let r = app
        .client
        .get(&path)
        .bearer_auth(&token)
        .header("Mamori-Purpose", "order_fulfilment")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert!(
        app.vault
            .create_api_key(&operator, "no_such_role", "x")
            .await
            .is_err()
    );
    // Stored keys are keyed hashes, never the token.
    let keys = app.vault.store.api_keys().await.unwrap();
    assert!(keys.iter().all(|k| {
        !k.digest
            .windows(8)
            .any(|w| token.as_bytes().windows(8).any(|t| t == w))
    }));
}

async fn bad_input_gets_clear_errors_and_changes_nothing(app: TestApp) {
    let before = app.vault.store.count_subjects().await.unwrap();
    let post = |body: reqwest::Body| {
        app.as_role(Method::POST, "/v1/subjects", "service", "order_fulfilment")
            .header("content-type", "application/json")
            .body(body)
    };
    problem(
        post("{not json".into()).send().await.unwrap(),
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
    problem(
        post(r#"{"data": 5}"#.into()).send().await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_body",
    )
    .await;
    let b = problem(
        post(r#"{"data": {}, "surprise": 1}"#.into())
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_body",
    )
    .await;
    assert!(b["detail"].as_str().unwrap().contains("surprise"));
    let r = app
        .as_role(Method::POST, "/v1/subjects", "service", "order_fulfilment")
        .body("{}")
        .send()
        .await
        .unwrap();
    problem(
        r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let cases = [
        (
            json!({"data": {"hobbies": {"x": "y"}}}),
            "undeclared_category",
            "data.hobbies",
        ),
        (
            json!({"data": {"contact": {"shoe_size": 42}}}),
            "undeclared_field",
            "data.contact.shoe_size",
        ),
        (
            json!({"data": {"contact": {"email": "not-an-email"}}}),
            "invalid_value",
            "data.contact.email",
        ),
        (
            json!({"data": {"contact": {"email": "p\u{0430}ypal@example.com"}}}),
            "invalid_value",
            "data.contact.email",
        ),
        (
            json!({"data": {"contact": {"phone": "12345"}}}),
            "invalid_value",
            "data.contact.phone",
        ),
        (
            json!({"data": {"contact": {"name": 42}}}),
            "invalid_value",
            "data.contact.name",
        ),
        (
            json!({"data": {"address": {"country": "Atlantis"}}}),
            "invalid_value",
            "data.address.country",
        ),
        (json!({"data": {}}), "empty_data", "data"),
        (
            json!({"external_id": "", "data": {"contact": {"name": "A"}}}),
            "invalid_value",
            "external_id",
        ),
    ];
    for (body, code, field) in cases {
        let r = app
            .as_role(Method::POST, "/v1/subjects", "service", "order_fulfilment")
            .json(&body)
            .send()
            .await
            .unwrap();
        let b = problem(r, StatusCode::UNPROCESSABLE_ENTITY, code).await;
        assert_eq!(b["field"], field, "{b}");
    }
    // Oversized body.
    let huge = json!({"data": {"contact": {"name": "x".repeat(100_000)}}});
    let r = app
        .as_role(Method::POST, "/v1/subjects", "service", "order_fulfilment")
        .json(&huge)
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
    // Bad ids and queries.
    let r = app
        .as_role(
            Method::GET,
            "/v1/subjects/not-a-uuid",
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::BAD_REQUEST, "invalid_id").await;
    let r = app
        .as_role(
            Method::GET,
            "/v1/subjects?email=a@b.co&phone=1",
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::BAD_REQUEST, "invalid_query").await;
    let r = app
        .as_role(
            Method::GET,
            "/v1/ledger/proof/inclusion?leaf=-1",
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::BAD_REQUEST, "invalid_query").await;
    let r = app
        .as_role(
            Method::GET,
            "/v1/ledger/proof/inclusion?leaf=99999999",
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range").await;
    let r = app
        .as_role(
            Method::GET,
            "/v1/ledger/proof/consistency?first=0&second=1",
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range").await;
    let r = app.client.get(app.url("/v2/nothing")).send().await.unwrap();
    problem(r, StatusCode::NOT_FOUND, "no_such_route").await;
    assert_eq!(
        app.vault.store.count_subjects().await.unwrap(),
        before,
        "bad input created nothing"
    );
    // SQL-ish and unicode strings are stored and returned exactly.
    let tricky = "Robert'); DROP TABLE subjects;-- 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u{202e}";
    let id = create(&app, &json!({"data": {"contact": {"name": tricky}}})).await;
    let v: Value = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{id}"),
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"]["contact"]["name"], tricky);
}

async fn concurrent_updates_are_all_applied(app: TestApp) {
    let id = create(&app, &customer("c")).await;
    let fields = ["name", "email", "phone"];
    let mut handles = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        for round in 0..4 {
            let value = match *field {
                "name" => json!(format!("Name {round}")),
                "email" => json!(format!("c{round}@example.com")),
                _ => json!(format!("+3312345678{round}")),
            };
            let req = app
                .as_role(
                    Method::PATCH,
                    &format!("/v1/subjects/{id}"),
                    "support",
                    "customer_support",
                )
                .json(&json!({"data": {"contact": {*field: value}}}));
            handles.push(tokio::spawn(async move {
                (i, req.send().await.unwrap().status())
            }));
        }
    }
    let address = app
        .as_role(
            Method::PATCH,
            &format!("/v1/subjects/{id}"),
            "support",
            "customer_support",
        )
        .json(&json!({"data": {"address": {"city": "Lyon"}}}));
    handles.push(tokio::spawn(async move {
        (9, address.send().await.unwrap().status())
    }));
    for h in handles {
        assert_eq!(h.await.unwrap().1, StatusCode::NO_CONTENT);
    }
    let v: Value = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{id}"),
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"]["address"]["city"], "Lyon", "no update was lost");
    assert!(
        v["data"]["contact"]["name"]
            .as_str()
            .unwrap()
            .starts_with("Name ")
    );
    assert!(
        v["data"]["contact"]["email"]
            .as_str()
            .unwrap()
            .ends_with("@example.com")
    );
}

async fn erasure_crypto_shreds(app: TestApp) {
    // Someone with only data no law requires keeping is erased entirely.
    let body = json!({"data": {"support_tickets": {"subject": "Hello", "status": "open"}}});
    let r = app
        .as_role(Method::POST, "/v1/subjects", "service", "customer_support")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app.as_role(Method::POST, &format!("/v1/subjects/{id}/records"), "support", "customer_support")
        .json(&json!({"category": "support_tickets", "data": {"subject": "Hi", "message": "Lid?", "status": "open"}})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = officer(&app, Method::DELETE, &format!("/v1/subjects/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v, json!({"erased": ["support_tickets"], "kept": []}));
    let raw = app
        .vault
        .store
        .subject(&mamori_core::parse_id(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(raw.wrapped_dek.is_none() && raw.fields.is_none() && raw.erased_ms.is_some());
    for purpose in ["data_subject_rights", "legal_accounting"] {
        let r = app
            .as_role(
                Method::GET,
                &format!("/v1/subjects/{id}"),
                "privacy_officer",
                purpose,
            )
            .send()
            .await
            .unwrap();
        problem(r, StatusCode::NOT_FOUND, "subject_not_found").await;
    }
    let r = officer(&app, Method::DELETE, &format!("/v1/subjects/{id}"), None).await;
    problem(r, StatusCode::NOT_FOUND, "subject_not_found").await;
    // The background purge removes the now-unreadable records.
    assert!(app.vault.store.purge_erased(100).await.unwrap() >= 1);
}

/// Erasure keeps what a legal obligation requires (orders, payment, contact, address under
/// legal_accounting), re-sealed under a new key, readable only for that purpose, until each
/// category's retention ends; the rest goes at once.
async fn erasure_keeps_what_the_law_requires(app: TestApp) {
    let mut body = customer("gone");
    body["data"]["support_tickets"] = json!({"subject": "Hello", "status": "open"});
    let r = app
        .as_role(Method::POST, "/v1/subjects", "service", "customer_support")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let subject = mamori_core::parse_id(&id).unwrap();
    for (role, purpose, record) in [
        (
            "service",
            "order_fulfilment",
            json!({"category": "orders", "data": {"order_number": "K-1", "total": 42.5, "currency": "EUR"}}),
        ),
        (
            "support",
            "customer_support",
            json!({"category": "support_tickets", "data": {"subject": "Hi", "message": "Lid?", "status": "open"}}),
        ),
    ] {
        let r = app
            .as_role(
                Method::POST,
                &format!("/v1/subjects/{id}/records"),
                role,
                purpose,
            )
            .json(&record)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let before = app.vault.store.subject(&subject).await.unwrap().unwrap();
    let records_before = app.vault.store.records(&subject, 10).await.unwrap();

    // A role that may not erase changes nothing.
    let r = app
        .as_role(
            Method::DELETE,
            &format!("/v1/subjects/{id}"),
            "support",
            "customer_support",
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "purpose_does_not_cover_category").await;

    let r = officer(&app, Method::DELETE, &format!("/v1/subjects/{id}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["erased"], json!(["support_tickets"]));
    let kept: Vec<&str> = v["kept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["category"].as_str().unwrap())
        .collect();
    assert_eq!(kept, ["address", "contact", "orders", "payment"]);
    assert_eq!(v["kept"][0]["purposes"], json!(["legal_accounting"]));
    // legal_accounting's own `retention = "7y"` holds all four for seven calendar years (contact's
    // own retention is three): the date people read as "seven years" from today.
    let today = mamori_core::format_time(mamori_core::now_ms());
    let this_year: i32 = today[..4].parse().unwrap();
    let in_seven_years = format!("{}{}", this_year + 7, &today[4..10]);
    for k in v["kept"].as_array().unwrap() {
        assert_eq!(k["until"].as_str().unwrap()[..10], in_seven_years, "{k}");
    }

    let raw = app.vault.store.subject(&subject).await.unwrap().unwrap();
    assert!(raw.is_held() && raw.erased_ms.is_some());
    // Right after the erasure, the kept part is re-sealed under a fresh key (in the background;
    // run here too, so the test does not wait on timing) and the old key is gone.
    app.vault.rekey_holds(10).await.unwrap();
    let raw = app.vault.store.subject(&subject).await.unwrap().unwrap();
    assert_ne!(raw.wrapped_dek, before.wrapped_dek, "the key was replaced");
    assert_eq!(raw.rekey_requested_ms, None);
    assert_eq!(app.vault.rekey_holds(10).await.unwrap(), 0, "once");

    // Only a legal-obligation purpose reads what is kept; nobody changes it or adds to it.
    for (method, role, purpose) in [
        (Method::GET, "service", "order_fulfilment"),
        (Method::GET, "privacy_officer", "data_subject_rights"),
        (Method::PATCH, "support", "customer_support"),
    ] {
        let r = app
            .as_role(method.clone(), &format!("/v1/subjects/{id}"), role, purpose)
            .json(&json!({"data": {"contact": {"name": "B"}}}))
            .send()
            .await
            .unwrap();
        problem(r, StatusCode::FORBIDDEN, "kept_under_legal_hold").await;
    }
    let r = app.as_role(Method::POST, &format!("/v1/subjects/{id}/records"), "service", "order_fulfilment")
        .json(&json!({"category": "orders", "data": {"order_number": "K-2", "total": 1, "currency": "EUR"}})).send().await.unwrap();
    problem(r, StatusCode::FORBIDDEN, "kept_under_legal_hold").await;
    let held = |path: String| {
        let request = app.as_role(Method::GET, &path, "privacy_officer", "legal_accounting");
        async move {
            let r = request.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()
        }
    };
    let v = held(format!("/v1/subjects/{id}")).await;
    assert_eq!(v["data"]["contact"]["name"], "Ada gone");
    assert_eq!(v["data"]["address"]["city"], "Paris");
    assert!(v["data"].get("support_tickets").is_none());
    let v = held(format!("/v1/subjects/{id}/records")).await;
    let categories: Vec<&str> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["category"].as_str().unwrap())
        .collect();
    assert_eq!(categories, ["orders"], "the support ticket went at once");
    assert_eq!(v["records"][0]["data"]["order_number"], "K-1");

    // A re-key interrupted part-way (a crash between its transactions) leaves the old key beside
    // the new one and some records still sealed under the old: reads open each record with the
    // key it is under, and the next sweep finishes the job with the same new key.
    let order = records_before
        .iter()
        .find(|r| r.category == "orders")
        .unwrap();
    app.execute_raw(
        "UPDATE subjects SET previous_wrapped_dek = $1, rekey_requested_ms = 1 WHERE id = $2",
        before.wrapped_dek.as_ref().unwrap(),
        &subject,
    )
    .await;
    app.execute_raw(
        "UPDATE records SET sealed = $1 WHERE id = $2",
        &order.sealed,
        &order.id,
    )
    .await;
    let v = held(format!("/v1/subjects/{id}/records")).await;
    assert_eq!(
        v["records"][0]["data"]["order_number"], "K-1",
        "under the old key"
    );
    assert_eq!(
        app.vault.rekey_holds(10).await.unwrap(),
        1,
        "the sweep resumes"
    );
    let resumed = app.vault.store.subject(&subject).await.unwrap().unwrap();
    assert_eq!(resumed.previous_wrapped_dek, None, "the old key is gone");
    assert_eq!(resumed.rekey_requested_ms, None);
    assert_eq!(resumed.wrapped_dek, raw.wrapped_dek);
    let resealed = app.vault.store.records(&subject, 10).await.unwrap();
    assert_ne!(
        resealed[0].sealed, order.sealed,
        "re-sealed under the new key"
    );
    let v = held(format!("/v1/subjects/{id}/records")).await;
    assert_eq!(v["records"][0]["data"]["order_number"], "K-1");

    // The person cannot be found or sign in; the address can be used by someone new.
    let v: Value = app
        .as_role(
            Method::GET,
            "/v1/subjects?email=ada.gone@example.com",
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["ids"], json!([]), "blind indexes are destroyed");
    let r = officer(&app, Method::DELETE, &format!("/v1/subjects/{id}"), None).await;
    problem(r, StatusCode::FORBIDDEN, "kept_under_legal_hold").await;
    create(&app, &customer("gone")).await;

    // Three years on (contact's own retention), nothing goes: the obligation keeps all four for
    // its seven calendar years, to the day, then everything goes.
    let day = 86_400_000;
    let erased = raw.erased_ms.unwrap();
    let seven_years = mamori_policy::parse_retention("7y").unwrap().end_ms(erased);
    for (at, ended) in [
        (erased + 3 * 365 * day + 1, 0),
        (seven_years - 1, 0),
        (seven_years + 1, 1),
    ] {
        assert_eq!(app.vault.end_holds(at, 10).await.unwrap(), ended);
    }
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
    problem(r, StatusCode::NOT_FOUND, "subject_not_found").await;
    let raw = app.vault.store.subject(&subject).await.unwrap().unwrap();
    assert!(raw.wrapped_dek.is_none() && raw.held_until_ms.is_none());
    assert_eq!(
        raw.erased_ms,
        Some(erased),
        "the erasure time stays the first one"
    );
    assert!(app.vault.store.purge_erased(100).await.unwrap() >= 1);
    let events = app.vault.store.events_after(0, 10_000).await.unwrap();
    let erased_events = events
        .iter()
        .filter(|e| e.kind == "subject.erased" && e.subject_id == Some(subject))
        .count();
    assert_eq!(
        erased_events, 2,
        "announced at erasure and as the hold ended"
    );
}

async fn records_are_appended_and_scoped(app: TestApp) {
    let id = create(&app, &customer("rec")).await;
    for n in 0..3 {
        let r = app.as_role(Method::POST, &format!("/v1/subjects/{id}/records"), "service", "order_fulfilment")
            .json(&json!({"category": "orders", "data": {"order_number": format!("K-{n}"), "total": 10 + n, "currency": "JPY"}})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let r = app.as_role(Method::POST, &format!("/v1/subjects/{id}/records"), "support", "customer_support")
        .json(&json!({"category": "support_tickets", "data": {"subject": "Late parcel", "message": "Where is it?", "status": "open"}})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{id}/records"),
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let records = v["records"].as_array().unwrap();
    assert_eq!(
        records.len(),
        3,
        "order fulfilment does not cover support tickets: {v}"
    );
    assert_eq!(records[1]["data"]["total"], 11);
    let v: Value = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{id}/records"),
            "analyst",
            "analytics",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["records"][0]["data"]["order_number"], "[redacted]");
    let v: Value = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{id}/records"),
            "support",
            "customer_support",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), 4);
    let bad = [
        (
            json!({"category": "orders", "data": {"currency": "BTC"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"category": "nope", "data": {"x": 1}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "undeclared_category",
        ),
        (
            json!({"category": "support_tickets", "data": {"subject": "x"}}),
            StatusCode::FORBIDDEN,
            "purpose_does_not_cover_category",
        ),
    ];
    for (body, status, code) in bad {
        let r = app
            .as_role(
                Method::POST,
                &format!("/v1/subjects/{id}/records"),
                "service",
                "order_fulfilment",
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        problem(r, status, code).await;
    }
}

async fn ledger_proofs_verify(app: TestApp) {
    let id = create(&app, &customer("proof")).await;
    // More leaves than one block of the tree (256), so proofs of early leaves read their block's
    // leaf hashes back from the database.
    for _ in 0..300 {
        app.as_role(
            Method::GET,
            &format!("/v1/subjects/{id}"),
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap();
    }
    let head: Value = app
        .as_role(
            Method::GET,
            "/v1/ledger/head",
            "service",
            "order_fulfilment",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let size = head["size"].as_u64().unwrap();
    assert!(size > 300, "{head}");
    let sth = app.vault.ledger.latest_head().unwrap();
    assert!(mamori_ledger::verify_head(
        &app.vault.ledger.public_key(),
        &sth
    ));
    let root = b64::decode(head["root"].as_str().unwrap()).unwrap();
    for leaf in [0, size / 2, size - 1] {
        let p: Value = app
            .as_role(
                Method::GET,
                &format!("/v1/ledger/proof/inclusion?leaf={leaf}&size={size}"),
                "service",
                "x",
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let proof: Vec<Vec<u8>> = p["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| b64::decode(h.as_str().unwrap()).unwrap())
            .collect();
        let leaf_hash = b64::decode(p["leaf_hash"].as_str().unwrap()).unwrap();
        verify_inclusion(leaf, size, &leaf_hash, &proof, &root).unwrap();
        let stored = app.vault.store.leaves(leaf, 1).await.unwrap();
        assert_eq!(
            mamori_ledger::leaf_hash(&stored[0].data).to_vec(),
            leaf_hash
        );
    }
    let c: Value = app
        .as_role(
            Method::GET,
            &format!("/v1/ledger/proof/consistency?first=3&second={size}"),
            "service",
            "x",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let proof: Vec<Vec<u8>> = c["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| b64::decode(h.as_str().unwrap()).unwrap())
        .collect();
    let r1 = b64::decode(c["first_root"].as_str().unwrap()).unwrap();
    verify_consistency(3, size, &r1, &root, &proof).unwrap();
    // A leaf hash altered in the database no longer matches its block's root in the tree: the
    // proof is refused as an integrity failure, never answered from the altered hash.
    let first_leaf = app.vault.store.leaves(0, 1).await.unwrap().remove(0);
    app.execute_raw(
        "UPDATE ledger_leaves SET leaf_hash = $1 WHERE leaf_hash = $2",
        &[7u8; 32],
        &first_leaf.hash,
    )
    .await;
    let r = app
        .as_role(
            Method::GET,
            &format!("/v1/ledger/proof/inclusion?leaf=1&size={size}"),
            "service",
            "x",
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::INTERNAL_SERVER_ERROR, "integrity_failure").await;
    let r = app
        .client
        .get(app.url("/v1/ledger/head"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Health, metrics, spec.
    let h: Value = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(h["status"], "ok");
    let m = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains("mamori_http_requests_total") && m.contains("route=\"/v1/subjects/{id}\""),
        "{m}"
    );
    assert!(!m.contains(&id), "metrics carry route templates, not ids");
    let spec: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/subjects",
        "/v1/subjects/{id}",
        "/v1/subjects/{id}/records",
        "/v1/ledger/head",
        "/v1/ledger/proof/inclusion",
        "/v1/ledger/proof/consistency",
        "/v1/consent/{id}",
        "/v1/consent/filter",
        "/v1/webhooks",
        "/v1/requests",
        "/v1/scrub",
        "/v1/agent/{agent_id}",
        "/v1/data-rights-request",
        "/v1/data-rights-request/{request_id}",
        "/healthz",
    ] {
        assert!(spec["paths"].get(path).is_some(), "spec misses {path}");
    }
}

async fn canaries_never_leak(app: TestApp) {
    let canary = format!("canary{}", uuid::Uuid::new_v4().simple());
    let email = format!("{canary}@example.com");
    let body = json!({"external_id": format!("{canary}-ext"), "data": {
        "contact": {"name": format!("{canary} name"), "email": email},
        "address": {"street": format!("{canary} street"), "city": "Paris", "postal_code": "75001", "country": "FR"}}});
    let id = create(&app, &body).await;
    let mut responses = Vec::new();
    let record = json!({"category": "orders", "data": {"order_number": format!("{canary}-ord"), "total": 1, "currency": "EUR"}});
    let reqs = vec![
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
        .json(&json!({"data": {"contact": {"name": 5, "email": canary.clone()}}})),
        app.as_role(Method::POST, "/v1/subjects", "service", "order_fulfilment")
            .json(&json!({"data": {"contact": {"phone": canary.clone()}}})),
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
            .json(&json!({"purpose": "marketing_email", "channel": canary.clone(), "granted": true, "notice_version": canary.clone()})),
        app.client
            .post(app.url("/v1/consent/filter"))
            .bearer_auth(&app.keys["marketing"])
            .json(&json!({"purpose": "marketing_email", "channel": "email", "subjects": [id.clone(), canary.clone()]})),
        app.client
            .post(app.url(&format!("/v1/consent/{id}/unsubscribe-link")))
            .bearer_auth(&app.keys["service"])
            .json(&json!({"purpose": "marketing_email", "channel": "email"})),
        app.client
            .post(app.url("/v1/webhooks"))
            .bearer_auth(&app.keys["privacy_officer"])
            .json(&json!({"url": format!("http://{canary}.invalid/"), "events": [canary.clone()]})),
        app.client.get(app.url("/v1/events?after=0")).bearer_auth(&app.keys["service"]),
    ];
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
    for leaf in app.vault.store.leaves(0, 100_000).await.unwrap() {
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

fn import_row(line: u64, tag: &str, email: &str) -> mamori_core::import::ImportRow {
    let data = json!({
        "contact": {"name": format!("Bulk {tag}"), "email": email},
        "address": {"city": "Lyon", "country": "FR"}
    });
    mamori_core::import::ImportRow {
        line,
        external_id: Some(format!("bulk-{tag}")),
        data: serde_json::from_value(data).unwrap(),
    }
}

/// The import path on both stores: the bulk insert when nothing conflicts, the row-by-row
/// fallback when something does, the checkpoint, and per-row rejections without values.
async fn bulk_import_commits_batches_and_rejects_rows(app: TestApp) {
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
    let rejected: Vec<_> = report.rejected.iter().map(|r| (r.line, r.code)).collect();
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
    assert_eq!(err.code(), "purpose_not_allowed_for_role");
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
    assert_eq!(report.rejected[0].code, "purpose_does_not_cover_category");
    assert_eq!(ledger_size(&app).await, size + 1);
}

/// A ciphertext changed in the database fails authentication on open: 500 integrity_failure,
/// ledgered, and no plaintext of any kind in the answer.
async fn tampered_ciphertext_is_an_integrity_failure(app: TestApp) {
    let id = create(&app, &customer("tamper")).await;
    let raw_id = mamori_core::parse_id(&id).unwrap();
    let row = app.vault.store.subject(&raw_id).await.unwrap().unwrap();
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
    let leaf = app.vault.store.leaves(before, 1).await.unwrap();
    let event = String::from_utf8(leaf[0].data.clone()).unwrap();
    assert!(event.contains("integrity_failure"), "{event}");
}

/// The streaming read `ledger verify` uses returns exactly the stored leaves, in order.
async fn ledger_streams_every_leaf_in_order(app: TestApp) {
    for i in 0..5 {
        let body = json!({"data": {"contact": {"name": format!("Stream {i}")}}});
        create(&app, &body).await;
    }
    let stored = app.vault.store.leaves(0, 100_000).await.unwrap();
    assert!(stored.len() >= 5);
    let mut streamed = Vec::new();
    let mut pages = app.vault.store.stream_leaves(0);
    while let Some(page) = pages.recv().await {
        streamed.extend(page.unwrap());
    }
    assert_eq!(streamed.len(), stored.len());
    for (a, b) in streamed.iter().zip(&stored) {
        assert_eq!((a.index, &a.data, a.hash), (b.index, &b.data, b.hash));
    }
    let mut tail = app.vault.store.stream_leaves(3);
    let first = tail.recv().await.unwrap().unwrap();
    assert_eq!(first[0].index, 3);
}

/// Failed authentications are limited per address (the test server allows 4/s, bursts of 20);
/// past that the address gets 429 with Retry-After, even with a valid key, for a while.
async fn guessing_keys_gets_an_address_shut_out(app: TestApp) {
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

async fn consent(app: &TestApp, id: &str, role: &str, body: Value) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/v1/consent/{id}")))
        .bearer_auth(&app.keys[role])
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn consent_check(app: &TestApp, id: &str, query: &str) -> reqwest::Response {
    consent_check_as(app, "marketing", id, query).await
}

async fn consent_check_as(app: &TestApp, role: &str, id: &str, query: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/v1/consent/{id}?{query}")))
        .bearer_auth(&app.keys[role])
        .send()
        .await
        .unwrap()
}

/// No record means no consent; a grant opens the purpose to the roles that may use it, a
/// withdrawal closes it again at once; every change and check is ledgered.
async fn consent_is_off_by_default_and_gates_access(app: TestApp) {
    let id = create(&app, &customer("consent")).await;
    let read = async |app: &TestApp| {
        app.as_role(
            Method::GET,
            &format!("/v1/subjects/{id}"),
            "marketing",
            "marketing_email",
        )
        .send()
        .await
        .unwrap()
    };
    problem(read(&app).await, StatusCode::FORBIDDEN, "consent_required").await;
    let v: Value = consent_check(&app, &id, "purpose=marketing_email&channel=email")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["allowed"], false);
    assert_eq!(v["reason"], "no_record");

    // A notice version must be one Mamori published: free text is refused and changes nothing.
    let before = ledger_size(&app).await;
    for label in ["2026-11", "v0", "v1", "CANARY-ada@example.com"] {
        let r = consent(
            &app,
            &id,
            "service",
            json!({"purpose": "marketing_email", "channel": "email", "granted": true, "notice_version": label}),
        )
        .await;
        let body = problem(
            r,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_notice_version",
        )
        .await;
        assert!(
            label.len() < 5 || !body.to_string().contains(label),
            "{body}"
        );
    }
    assert_eq!(ledger_size(&app).await, before);
    let r = consent(
        &app,
        &id,
        "service",
        json!({"purpose": "marketing_email", "channel": "email", "granted": true, "source": "portal"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["allowed"].clone(), v["reason"].clone()),
        (json!(true), json!("granted"))
    );
    assert_eq!(ledger_size(&app).await, before + 1);
    let r = read(&app).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert!(body["data"]["contact"].is_object(), "{body}");
    let v: Value = consent_check(&app, &id, "purpose=marketing_email&channel=email")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["reason"], "granted");
    assert!(
        v["notice_version"].is_null(),
        "nothing published here yet: {v}"
    );
    // Granting one channel does not grant another purpose.
    let r = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{id}"),
            "marketing",
            "marketing_sms",
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "consent_required").await;

    // Withdrawing is as easy, and takes effect for the very next access.
    let r = consent(
        &app,
        &id,
        "marketing",
        json!({"purpose": "marketing_email", "channel": "email", "granted": false}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    problem(read(&app).await, StatusCode::FORBIDDEN, "consent_required").await;
    let v: Value = consent_check(&app, &id, "purpose=marketing_email&channel=email")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["reason"], "withdrawn");
    // Another legal basis needs no consent; a role may only ask about purposes it may use.
    let v: Value = consent_check_as(&app, "service", &id, "purpose=order_fulfilment")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["allowed"].clone(), v["reason"].clone()),
        (json!(true), json!("not_consent_based"))
    );
    let r = consent_check(&app, &id, "purpose=order_fulfilment").await;
    problem(r, StatusCode::FORBIDDEN, "purpose_not_allowed_for_role").await;
    let r = consent_check(&app, &id, "purpose=marketing_email&channel=email&x=1").await;
    problem(r, StatusCode::BAD_REQUEST, "invalid_query").await;

    // Bad input: each a clear error, nothing recorded.
    let before = ledger_size(&app).await;
    for (body, code) in [
        (
            json!({"purpose": "order_fulfilment", "granted": true}),
            "not_consent_based",
        ),
        (
            json!({"purpose": "marketing_email", "channel": "fax", "granted": true}),
            "unknown_channel",
        ),
        (
            json!({"purpose": "marketing_email", "granted": true}),
            "missing_channel",
        ),
        (
            json!({"purpose": "personalisation", "channel": "email", "granted": true}),
            "unknown_channel",
        ),
        (
            json!({"purpose": "nope", "granted": true}),
            "unknown_purpose",
        ),
        (
            json!({"purpose": "marketing_email", "channel": "email", "granted": true, "source": "CANARY"}),
            "invalid_source",
        ),
    ] {
        let r = consent(&app, &id, "service", body).await;
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, code).await;
        assert!(!p.to_string().contains("CANARY"), "{p}");
    }
    let r = consent(
        &app,
        &id,
        "service",
        json!({"purpose": "marketing_email", "granted": "yes"}),
    )
    .await;
    assert!(r.status().is_client_error());
    assert_eq!(ledger_size(&app).await, before);
    // A role that may not use the purpose is refused (and that is ledgered).
    let r = consent(
        &app,
        &id,
        "analyst",
        json!({"purpose": "marketing_email", "channel": "email", "granted": true}),
    )
    .await;
    problem(r, StatusCode::FORBIDDEN, "purpose_not_allowed_for_role").await;
    assert_eq!(ledger_size(&app).await, before + 1);
    // An erased subject cannot consent; an unknown one neither.
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
    let grant = json!({"purpose": "marketing_email", "channel": "email", "granted": true});
    let r = consent(&app, &id, "service", grant.clone()).await;
    problem(r, StatusCode::NOT_FOUND, "subject_not_found").await;
    let unknown = "01234567-89ab-7def-8123-456789abcdef";
    let r = consent(&app, unknown, "service", grant).await;
    problem(r, StatusCode::NOT_FOUND, "subject_not_found").await;
}

/// `Sec-GPC: 1` on the consent API withdraws every sale/sharing purpose (source gpc), once, even
/// for a role that may not use those purposes; `/.well-known/gpc.json` declares support.
async fn global_privacy_control_opts_out_of_sale_and_sharing(app: TestApp) {
    let id = create(&app, &customer("gpc")).await;
    let grant = json!({"purpose": "partner_sharing", "channel": "email", "granted": true});
    assert_eq!(
        consent(&app, &id, "service", grant).await.status(),
        StatusCode::OK
    );
    let marketing_grant =
        json!({"purpose": "marketing_email", "channel": "email", "granted": true});
    assert_eq!(
        consent(&app, &id, "service", marketing_grant)
            .await
            .status(),
        StatusCode::OK
    );

    let before = ledger_size(&app).await;
    let r = app
        .client
        .get(app.url(&format!(
            "/v1/consent/{id}?purpose=marketing_email&channel=email"
        )))
        .bearer_auth(&app.keys["marketing"])
        .header("Sec-GPC", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["allowed"], true,
        "GPC leaves purposes that are not sale or sharing alone"
    );
    assert_eq!(
        ledger_size(&app).await,
        before + 2,
        "one withdrawal and one check"
    );
    let v: Value = consent_check_as(
        &app,
        "service",
        &id,
        "purpose=partner_sharing&channel=email",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (v["allowed"].clone(), v["reason"].clone()),
        (json!(false), json!("withdrawn"))
    );
    let rows = app
        .vault
        .store
        .consents(&mamori_core::parse_id(&id).unwrap())
        .await
        .unwrap();
    let sharing = rows
        .iter()
        .find(|r| r.purpose == "partner_sharing")
        .unwrap();
    assert_eq!(sharing.source, "gpc");
    // Sent again, the signal records nothing new.
    let before = ledger_size(&app).await;
    let r = app
        .client
        .get(app.url(&format!(
            "/v1/consent/{id}?purpose=marketing_email&channel=email"
        )))
        .bearer_auth(&app.keys["marketing"])
        .header("Sec-GPC", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(ledger_size(&app).await, before + 1, "only the check");

    let v: Value = app
        .client
        .get(app.url("/.well-known/gpc.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["gpc"], true);
    assert!(v["lastUpdate"].as_str().is_some_and(|d| d.len() == 10));
}

async fn audience(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/v1/consent/filter"))
        .bearer_auth(&app.keys["marketing"])
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Campaign filtering returns, in the order given, only subjects with a current grant for the
/// purpose and channel who are not erased; one ledger event per call.
async fn audience_filter_keeps_only_consented_live_subjects(app: TestApp) {
    let mut ids = Vec::new();
    for i in 0..5 {
        let body = json!({"data": {"contact": {"name": format!("Audience {i}")}}});
        ids.push(create(&app, &body).await);
    }
    let grant = |granted: bool| json!({"purpose": "marketing_email", "channel": "email", "granted": granted});
    for i in [0, 1, 3, 4] {
        assert_eq!(
            consent(&app, &ids[i], "service", grant(true))
                .await
                .status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        consent(&app, &ids[1], "service", grant(false))
            .await
            .status(),
        StatusCode::OK
    );
    let sms = json!({"purpose": "marketing_sms", "channel": "sms", "granted": true});
    assert_eq!(
        consent(&app, &ids[2], "service", sms).await.status(),
        StatusCode::OK
    );
    let r = app
        .as_role(
            Method::DELETE,
            &format!("/v1/subjects/{}", ids[3]),
            "privacy_officer",
            "data_subject_rights",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The kept part's re-keying (a ledgered background step) is done before counting.
    app.vault.rekey_holds(10).await.unwrap();

    let before = ledger_size(&app).await;
    let order = vec![
        ids[4].clone(),
        ids[3].clone(),
        ids[2].clone(),
        ids[1].clone(),
        ids[0].clone(),
    ];
    let r = audience(
        &app,
        &json!({"purpose": "marketing_email", "channel": "email", "subjects": order}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["allowed"], json!([ids[4], ids[0]]));
    assert_eq!(ledger_size(&app).await, before + 1);
    // A full-size audience is answered in several streamed parts; the order and the JSON hold
    // across them (granted ids placed in different parts, the rest unknown ids; repeats kept).
    let mut big: Vec<String> = (0..100_000u128)
        .map(|i| uuid::Uuid::from_u128(i + 1).to_string())
        .collect();
    big[5] = ids[0].clone();
    big[15_000] = ids[4].clone();
    big[99_999] = ids[0].clone();
    let r = audience(
        &app,
        &json!({"purpose": "marketing_email", "channel": "email", "subjects": big}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["allowed"], json!([ids[0], ids[4], ids[0]]));
    assert_eq!(ledger_size(&app).await, before + 2, "one event per call");

    // Bad input.
    let before = ledger_size(&app).await;
    let r = audience(
        &app,
        &json!({"purpose": "marketing_email", "channel": "email", "subjects": [ids[0], "CANARY"]}),
    )
    .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_id").await;
    assert_eq!(p["field"], "subjects[1]");
    assert!(!p.to_string().contains("CANARY"));
    let r = audience(
        &app,
        &json!({"purpose": "order_fulfilment", "subjects": []}),
    )
    .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "not_consent_based").await;
    let many: Vec<String> = (0..100_001).map(|_| ids[0].clone()).collect();
    let r = audience(
        &app,
        &json!({"purpose": "marketing_email", "channel": "email", "subjects": many}),
    )
    .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "too_many_subjects").await;
    // Over 8 MiB: refused from Content-Length, before the body is read. The server may answer
    // and close while the client is still writing, so a broken pipe is the same refusal.
    // A client of its own: the connection the server closes must not go back to the shared pool.
    let huge = "x".repeat(9 * 1024 * 1024);
    let sent = reqwest::Client::new()
        .post(app.url("/v1/consent/filter"))
        .bearer_auth(&app.keys["marketing"])
        .json(&json!({"purpose": huge, "subjects": []}))
        .send()
        .await;
    match sent {
        Ok(r) => {
            problem(r, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
        }
        Err(e) => assert!(e.is_request(), "{e}"),
    }
    assert_eq!(ledger_size(&app).await, before);
    let r = app
        .client
        .post(app.url("/v1/consent/filter"))
        .bearer_auth(&app.keys["analyst"])
        .json(&json!({"purpose": "marketing_email", "channel": "email", "subjects": [ids[0]]}))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "purpose_not_allowed_for_role").await;
    // The general 64 KiB limit still holds everywhere else.
    let r = app
        .as_role(Method::POST, "/v1/subjects", "service", "order_fulfilment")
        .json(&json!({"data": {"contact": {"name": "x".repeat(70_000)}}}))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
}

async fn feed(app: &TestApp, query: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/v1/events?{query}")))
        .bearer_auth(&app.keys["service"])
        .send()
        .await
        .unwrap()
}

/// Consent changes and erasures appear in the pull feed, in commit order, with ids and states
/// only; a cursor pages through it.
async fn outbox_feed_announces_consent_and_erasure(app: TestApp) {
    let officer = mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    };
    let published = app
        .vault
        .publish_policy(&officer, include_str!("../../../examples/policy.toml"))
        .await
        .unwrap();
    assert!(matches!(
        published,
        mamori_core::publish::Published::New { .. }
    ));
    let id = create(&app, &customer("feed")).await;
    let grant = json!({"purpose": "marketing_email", "channel": "email", "granted": true, "source": "portal"});
    assert_eq!(
        consent(&app, &id, "service", grant).await.status(),
        StatusCode::OK
    );
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
    // The kept part's re-keying (a ledgered background step) is done before counting.
    app.vault.rekey_holds(10).await.unwrap();

    let before = ledger_size(&app).await;
    let v: Value = feed(&app, "after=0&limit=1000").await.json().await.unwrap();
    assert_eq!(
        ledger_size(&app).await,
        before + 1,
        "reading the feed is ledgered"
    );
    let events = v["events"].as_array().unwrap();
    let mine: Vec<&Value> = events
        .iter()
        .filter(|e| e["data"]["subject"] == id)
        .collect();
    assert_eq!(mine.len(), 2, "{v}");
    assert_eq!(mine[0]["type"], "consent.changed");
    assert_eq!(mine[0]["data"]["purpose"], "marketing_email");
    assert_eq!(
        mine[0]["data"]["notice_version"], "v1",
        "a consent names the notice published when it was given"
    );
    assert!(events.iter().any(|e| e["type"] == "notice.published"));
    assert_eq!(mine[0]["data"]["granted"], true);
    assert_eq!(mine[1]["type"], "subject.erased");
    assert!(mine[0]["seq"].as_i64() < mine[1]["seq"].as_i64());
    assert!(
        !v.to_string().contains("Ada"),
        "no personal values in the feed"
    );
    assert_eq!(v["next"], events.last().unwrap()["seq"]);

    // Paging: one at a time from the start reaches the same events.
    let first: Value = feed(&app, "limit=1").await.json().await.unwrap();
    assert_eq!(first["events"].as_array().unwrap().len(), 1);
    let next = first["next"].as_i64().unwrap();
    let second: Value = feed(&app, &format!("after={next}&limit=1"))
        .await
        .json()
        .await
        .unwrap();
    assert!(second["events"][0]["seq"].as_i64().unwrap() > next);
    let end: Value = feed(&app, &format!("after={}", v["next"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(end["events"], json!([]));
    assert_eq!(end["next"], v["next"]);

    for query in ["after=-1", "limit=0", "limit=5000", "after=abc", "cursor=1"] {
        problem(
            feed(&app, query).await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        )
        .await;
    }
    let r = app.client.get(app.url("/v1/events")).send().await.unwrap();
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

async fn subscribe(app: &TestApp, url: &str, events: Value) -> reqwest::Response {
    app.client
        .post(app.url("/v1/webhooks"))
        .bearer_auth(&app.keys["privacy_officer"])
        .json(&json!({"url": url, "events": events}))
        .send()
        .await
        .unwrap()
}

/// Checks a Standard Webhooks signature: v1,base64(HMAC-SHA256(key, id.timestamp.body)).
fn signature_ok(secret: &str, d: &common::Delivery) -> bool {
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let signed = format!("{}.{}.{}", d.id, d.timestamp, d.body);
    let expected = base64::engine::general_purpose::STANDARD
        .encode(mamori_crypto::hmac_sha256(&key, signed.as_bytes()));
    d.signature == format!("v1,{expected}")
}

/// Deliveries are signed, carry ids and states only, are retried with the same webhook-id until
/// accepted, are dead-lettered after the last attempt, and a hanging target delays nobody else.
async fn webhooks_are_signed_retried_and_isolated(app: TestApp) {
    let good = common::receiver(0, false).await;
    let flaky = common::receiver(1, false).await;
    let dead = common::receiver(usize::MAX, false).await;
    let hanging = common::receiver(0, true).await;
    let mut secrets = std::collections::HashMap::new();
    for (target, events) in [
        (&hanging, json!(["*"])),
        (&good, json!(["consent.changed"])),
        (&flaky, json!(["consent.changed"])),
        (&dead, json!(["subject.erased"])),
    ] {
        let r = subscribe(&app, &target.url, events).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        assert!(v["secret"].as_str().unwrap().starts_with("whsec_"));
        secrets.insert(
            target.url.clone(),
            v["secret"].as_str().unwrap().to_string(),
        );
    }
    let id = create(&app, &customer("hook")).await;
    let grant = json!({"purpose": "marketing_email", "channel": "email", "granted": true});
    assert_eq!(
        consent(&app, &id, "service", grant).await.status(),
        StatusCode::OK
    );

    // The good target gets it promptly, although the hanging one never answers.
    let got = good.wait_for(1).await;
    let d = &got[0];
    assert!(signature_ok(&secrets[&good.url], d), "{d:?}");
    let body: Value = serde_json::from_str(&d.body).unwrap();
    assert_eq!(body["type"], "consent.changed");
    assert_eq!(body["data"]["subject"], id);
    assert_eq!(body["data"]["granted"], true);
    assert!(!d.body.contains("Ada"), "no personal values in deliveries");
    // The flaky one answered 500 once: the same message comes again and is then accepted.
    let got = flaky.wait_for(2).await;
    assert_eq!(got[0].id, got[1].id, "a retry keeps its webhook-id");
    assert!(signature_ok(&secrets[&flaky.url], &got[1]));
    // subject.erased goes only to its subscriber, which always fails: three attempts, then a
    // dead letter, and delivery moves on.
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
    let got = dead.wait_for(3).await;
    assert!(got.iter().all(|d| d.id == got[0].id));
    let hooks: Value = app
        .client
        .get(app.url("/v1/webhooks"))
        .bearer_auth(&app.keys["privacy_officer"])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dead_hook = hooks
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["url"] == dead.url.as_str())
        .unwrap();
    let dead_id = mamori_core::parse_id(dead_hook["id"].as_str().unwrap()).unwrap();
    for _ in 0..250 {
        if !app
            .vault
            .store
            .dead_letters(&dead_id)
            .await
            .unwrap()
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let letters = app.vault.store.dead_letters(&dead_id).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].1, 3);
    assert_eq!(letters[0].2, Some(500));
    assert_eq!(
        good.got.lock().unwrap().len(),
        1,
        "the good target got consent.changed only"
    );

    // Replay over HTTP: the good target gets the same message again (same webhook-id).
    let good_id = hooks
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["url"] == good.url.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let replay = async |hook: &str, body: Value| {
        app.client
            .post(app.url(&format!("/v1/webhooks/{hook}/replay")))
            .bearer_auth(&app.keys["privacy_officer"])
            .json(&body)
            .send()
            .await
            .unwrap()
    };
    let r = replay(&good_id, json!({"from": 1})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let again = good.wait_for(2).await;
    assert_eq!(again[0].id, again[1].id);
    let r = replay(&good_id, json!({"from": 0})).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    let r = replay(&good_id, json!({"from": "soon"})).await;
    assert!(r.status().is_client_error());
    let unknown = uuid::Uuid::from_u128(7).to_string();
    let r = replay(&unknown, json!({"from": 1})).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_webhook").await;

    // Bad input and removal.
    for (url, events, code) in [
        ("ftp://example.com/x", json!(["*"]), "invalid_url"),
        ("not a url", json!(["*"]), "invalid_url"),
        ("http://127.0.0.1:9/x", json!([]), "invalid_event_types"),
        (
            "http://127.0.0.1:9/x",
            json!(["consent.exploded"]),
            "invalid_event_types",
        ),
    ] {
        problem(
            subscribe(&app, url, events).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
        )
        .await;
    }
    let r = app
        .client
        .delete(app.url(&format!(
            "/v1/webhooks/{}",
            dead_hook["id"].as_str().unwrap()
        )))
        .bearer_auth(&app.keys["privacy_officer"])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app
        .client
        .delete(app.url(&format!(
            "/v1/webhooks/{}",
            dead_hook["id"].as_str().unwrap()
        )))
        .bearer_auth(&app.keys["privacy_officer"])
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_webhook").await;
}

/// A signed link withdraws exactly its subject × purpose × channel, by one POST without an API
/// key (RFC 8058); GET only shows a confirmation; forged, altered and expired links are refused.
async fn one_click_unsubscribe_withdraws_that_consent(app: TestApp) {
    let id = create(&app, &customer("unsub")).await;
    for purpose in [("marketing_email", "email"), ("marketing_sms", "sms")] {
        let grant = json!({"purpose": purpose.0, "channel": purpose.1, "granted": true});
        assert_eq!(
            consent(&app, &id, "service", grant).await.status(),
            StatusCode::OK
        );
    }
    let r = app
        .client
        .post(app.url(&format!("/v1/consent/{id}/unsubscribe-link")))
        .bearer_auth(&app.keys["service"])
        .json(&json!({"purpose": "marketing_email", "channel": "email", "ttl_days": 30}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let link: Value = r.json().await.unwrap();
    assert_eq!(link["list_unsubscribe_post"], "List-Unsubscribe=One-Click");
    let path = link["path"].as_str().unwrap().to_string();
    assert!(!path.contains("Ada") && !path.contains("example.com"));

    // GET changes nothing (mail scanners follow links); it offers a button.
    let page = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("<form method=\"post\""), "{html}");
    let v: Value = consent_check(&app, &id, "purpose=marketing_email&channel=email")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["reason"], "granted");

    // The one-click POST, as a mail client sends it.
    let before = ledger_size(&app).await;
    let one_click = |path: String| {
        app.client
            .post(app.url(&path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
    };
    let r = one_click(path.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(ledger_size(&app).await, before + 1);
    let v: Value = consent_check(&app, &id, "purpose=marketing_email&channel=email")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["reason"], "withdrawn");
    let v: Value = consent_check(&app, &id, "purpose=marketing_sms&channel=sms")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["reason"], "granted",
        "only the link's own purpose and channel"
    );
    assert_eq!(
        one_click(path.clone()).await.unwrap().status(),
        StatusCode::OK,
        "a second use is harmless"
    );
    let rows = app
        .vault
        .store
        .consents(&mamori_core::parse_id(&id).unwrap())
        .await
        .unwrap();
    assert!(
        rows.iter()
            .any(|r| r.purpose == "marketing_email" && r.source == "portal" && !r.granted)
    );

    // Forged, altered and expired links.
    let token = link["token"].as_str().unwrap();
    let sms_link: Value = app
        .client
        .post(app.url(&format!("/v1/consent/{id}/unsubscribe-link")))
        .bearer_auth(&app.keys["service"])
        .json(&json!({"purpose": "marketing_sms", "channel": "sms", "ttl_days": 30}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let in_31_days = mamori_core::now_ms() + 31 * 86_400_000;
    let expired = app
        .vault
        .unsubscribe_at(sms_link["token"].as_str().unwrap(), in_31_days)
        .await
        .unwrap_err();
    assert_eq!(expired.code(), "expired_token");
    let (body, tag) = token.split_once('.').unwrap();
    let altered = {
        use base64::Engine;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let text = String::from_utf8(engine.decode(body).unwrap()).unwrap();
        let text = text
            .replace("marketing_email", "marketing_sms")
            .replace("|email|", "|sms|");
        format!("{}.{tag}", engine.encode(text))
    };
    for bad in [altered.as_str(), "x.y", "nodot", "<script>"] {
        let r = one_click(format!("/unsubscribe?token={bad}"))
            .await
            .unwrap();
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_token").await;
    }
    let v: Value = consent_check(&app, &id, "purpose=marketing_sms&channel=sms")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["reason"], "granted", "an altered link changed nothing");
    let r = app
        .client
        .get(app.url("/unsubscribe?token=%3Cscript%3E"))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_token").await;
    // Links for the wrong kind of purpose or too long a life are refused at creation.
    for (body, code) in [
        (json!({"purpose": "order_fulfilment"}), "not_consent_based"),
        (
            json!({"purpose": "marketing_email", "channel": "email", "ttl_days": 0}),
            "invalid_value",
        ),
        (
            json!({"purpose": "marketing_email", "channel": "email", "ttl_days": 400}),
            "invalid_value",
        ),
    ] {
        let r = app
            .client
            .post(app.url(&format!("/v1/consent/{id}/unsubscribe-link")))
            .bearer_auth(&app.keys["service"])
            .json(&body)
            .send()
            .await
            .unwrap();
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
}

const POLICY: &str = include_str!("../../../examples/policy.toml");

async fn publish(app: &TestApp, text: &str) -> mamori_core::publish::Published {
    let officer = mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    };
    app.vault.publish_policy(&officer, text).await.unwrap()
}

/// A consent covers what the notice it was given under described: a purpose widened since is
/// allowed only for its older categories until the person agrees again. Publishing the change
/// tells every live subject and asks the people it affects to agree again.
async fn widened_purposes_need_consent_again(app: TestApp) {
    use mamori_core::publish::Published;
    // v1 said marketing e-mails use contact details only; the policy in force adds preferences.
    let narrow = POLICY.replacen(
        "legal_basis = \"consent\"\ncategories = [\"contact\", \"preferences\"]\nchannels = [\"email\"]",
        "legal_basis = \"consent\"\ncategories = [\"contact\"]\nchannels = [\"email\"]",
        1,
    );
    assert_ne!(narrow, POLICY, "the fixture must narrow marketing_email");
    let notice_version = async |lang: &str| -> String {
        let url = app.url(&format!("/privacy/notice?format=json&lang={lang}"));
        let v: Value = app
            .client
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["version"].as_str().unwrap().to_string()
    };
    assert!(notice_version("en").await.starts_with("Draft"));
    assert_eq!(publish(&app, &narrow).await, Published::New { version: 1 });
    let id = create(&app, &customer("widen")).await;
    let r = app
        .as_role(
            Method::PATCH,
            &format!("/v1/subjects/{id}"),
            "privacy_officer",
            "data_subject_rights",
        )
        .json(&json!({"data": {"preferences": {"language": "fr", "interests": "tea"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let mut other = customer("bystander");
    other["data"]["contact"]["phone"] = json!("+33 1 23 45 67 89");
    let bystander = create(&app, &other).await;
    let grant = json!({"purpose": "marketing_email", "channel": "email", "granted": true});
    let v: Value = consent(&app, &id, "service", grant.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["notice_version"], "v1", "{v}");
    assert_eq!(v["covers"], json!(["contact"]), "{v}");
    assert_eq!(v["reconsent"], json!(["preferences"]), "{v}");
    let read = async || {
        let r = app
            .as_role(
                Method::GET,
                &format!("/v1/subjects/{id}"),
                "marketing",
                "marketing_email",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()
    };
    let seen = read().await;
    assert!(seen["data"]["contact"].is_object(), "{seen}");
    assert!(
        seen["data"].get("preferences").is_none(),
        "not covered by v1: {seen}"
    );
    let r = app
        .as_role(
            Method::PATCH,
            &format!("/v1/subjects/{id}"),
            "marketing",
            "marketing_email",
        )
        .json(&json!({"data": {"preferences": {"interests": "coffee"}}}))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "reconsent_required").await;
    // A notice that never described the purpose cannot carry a consent to it.
    let r = consent(&app, &id, "service", json!({"purpose": "marketing_email", "channel": "email", "granted": true, "notice_version": "v7"})).await;
    problem(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_notice_version",
    )
    .await;

    // Publishing the wider policy: everyone is told, the person who agreed is asked again.
    let after = app.vault.store.last_event_seq().await.unwrap();
    assert_eq!(publish(&app, POLICY).await, Published::New { version: 2 });
    assert_eq!(
        publish(&app, POLICY).await,
        Published::Unchanged { version: 2 }
    );
    let events: Value = feed(&app, &format!("after={after}&limit=1000"))
        .await
        .json()
        .await
        .unwrap();
    let events = events["events"].as_array().unwrap();
    let of = |kind: &str| -> Vec<&Value> { events.iter().filter(|e| e["type"] == kind).collect() };
    let published = of("notice.published");
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["data"]["version"], "v2");
    assert_eq!(
        published[0]["data"]["reconsent"],
        json!(["marketing_email"])
    );
    assert!(
        published[0]["data"]["changes"]
            .to_string()
            .contains("now also uses: preferences")
    );
    let told: Vec<&Value> = of("subject.notice_changed")
        .into_iter()
        .map(|e| &e["data"]["subject"])
        .collect();
    assert!(
        told.contains(&&json!(id)) && told.contains(&&json!(bystander)),
        "{told:?}"
    );
    let asked = of("subject.reconsent_requested");
    assert_eq!(
        asked.len(),
        1,
        "only the person who agreed under v1: {asked:?}"
    );
    assert_eq!(asked[0]["data"]["subject"], json!(id));
    assert_eq!(asked[0]["data"]["added_categories"], json!(["preferences"]));
    assert_eq!(asked[0]["data"]["version"], "v2");
    // Still only the older part until they agree again, then all of it.
    let seen = read().await;
    assert!(seen["data"].get("preferences").is_none(), "{seen}");
    let v: Value = consent_check(&app, &id, "purpose=marketing_email&channel=email")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["allowed"].clone(), v["reconsent"].clone()),
        (json!(true), json!(["preferences"])),
        "{v}"
    );
    let v: Value = consent(&app, &id, "service", grant)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["notice_version"], "v2");
    assert!(v.get("reconsent").is_none(), "{v}");
    let seen = read().await;
    assert_eq!(seen["data"]["preferences"]["interests"], "tea", "{seen}");
}

async fn verify_receipt(app: &TestApp, role: &str, receipt: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/consent/receipts/verify"))
        .bearer_auth(&app.keys[role])
        .json(&json!({ "receipt": receipt }))
        .send()
        .await
        .unwrap()
}

/// A receipt proves a decision was made, signed by this installation; a replayed receipt of a
/// decision since replaced is told apart from the current one, and a forged one is refused.
async fn receipts_prove_decisions_not_current_consent(app: TestApp) {
    let id = create(&app, &customer("receipt")).await;
    let change = |granted: bool| json!({"purpose": "marketing_email", "channel": "email", "granted": granted});
    let receipt = async |granted: bool| -> String {
        let v: Value = consent(&app, &id, "service", change(granted))
            .await
            .json()
            .await
            .unwrap();
        v["receipt"].as_str().unwrap().to_string()
    };
    let granted = receipt(true).await;
    let v: Value = verify_receipt(&app, "marketing", &granted)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["granted"].clone(), v["current"].clone()),
        (json!(true), json!(true)),
        "{v}"
    );
    assert_eq!(v["subject"], json!(id));
    assert_eq!(v["purpose"], "marketing_email");

    let withdrawn = receipt(false).await;
    let before = ledger_size(&app).await;
    let v: Value = verify_receipt(&app, "marketing", &granted)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["current"], false,
        "a replayed grant is not current consent: {v}"
    );
    assert_eq!(
        ledger_size(&app).await,
        before + 1,
        "verifying reads consent: ledgered"
    );
    let v: Value = verify_receipt(&app, "marketing", &withdrawn)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v["granted"].clone(), v["current"].clone()),
        (json!(false), json!(true))
    );

    // Forged, tampered, or not a receipt at all: refused, nothing ledgered.
    let before = ledger_size(&app).await;
    let mut parts: Vec<String> = granted.split('.').map(str::to_string).collect();
    use base64::Engine;
    let url_b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = url_b64.decode(&parts[1]).unwrap();
    let forged = String::from_utf8(payload)
        .unwrap()
        .replace("\"granted\":true", "\"granted\":false");
    assert!(forged.contains("\"granted\":false"));
    parts[1] = url_b64.encode(forged.as_bytes());
    let tampered_payload = parts.join(".");
    let mut tampered_signature = granted.clone();
    let last = tampered_signature.pop().unwrap();
    tampered_signature.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [
        tampered_payload.as_str(),
        tampered_signature.as_str(),
        "not.a.jws",
        "",
        "CANARY",
    ] {
        let r = verify_receipt(&app, "marketing", bad).await;
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_receipt").await;
        assert!(!p.to_string().contains("CANARY"));
    }
    assert_eq!(ledger_size(&app).await, before);
    let r = verify_receipt(&app, "analyst", &withdrawn).await;
    problem(r, StatusCode::FORBIDDEN, "purpose_not_allowed_for_role").await;

    // After erasure no decision of that person is current.
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
    let v: Value = verify_receipt(&app, "marketing", &withdrawn)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["current"], false, "{v}");
}

/// Signing in to the privacy center: a code for a known address only (same answer otherwise),
/// five tries, one use; the session acts as the person on their own record only.
async fn privacy_center_sign_in_by_one_time_code(app: TestApp) {
    use mamori_core::signin::CodeRefused;
    let vault = &app.vault;
    let me = create(&app, &customer("signin")).await;
    let mut body = customer("other");
    body["data"]["contact"]["phone"] = json!("+33 1 98 76 54 32");
    let other = create(&app, &body).await;
    let (me, other) = (
        mamori_core::parse_id(&me).unwrap(),
        mamori_core::parse_id(&other).unwrap(),
    );

    let unknown = vault.start_sign_in("nobody@example.com").await.unwrap();
    assert!(unknown.code.is_none(), "no code for an unknown address");
    let r = vault
        .finish_sign_in(&unknown.challenge, "000000")
        .await
        .unwrap();
    assert_eq!(r.unwrap_err(), CodeRefused::Wrong);
    let e = vault.start_sign_in("not an address").await.err().unwrap();
    assert_eq!(e.code(), "invalid_value");

    // Five wrong tries lock a challenge, even for the right code afterwards.
    let started = vault
        .start_sign_in("  ADA.signin@Example.com ")
        .await
        .unwrap();
    let code = started.code.expect("a code for a known address");
    let wrong = if code == "123456" { "654321" } else { "123456" };
    for _ in 0..4 {
        let r = vault
            .finish_sign_in(&started.challenge, wrong)
            .await
            .unwrap();
        assert_eq!(r.unwrap_err(), CodeRefused::Wrong);
    }
    let r = vault
        .finish_sign_in(&started.challenge, wrong)
        .await
        .unwrap();
    assert_eq!(r.unwrap_err(), CodeRefused::TooManyAttempts);
    let r = vault
        .finish_sign_in(&started.challenge, &code)
        .await
        .unwrap();
    assert_eq!(r.unwrap_err(), CodeRefused::TooManyAttempts);

    // The right code signs in once.
    let started = vault.start_sign_in("ada.signin@example.com").await.unwrap();
    let code = started.code.unwrap();
    for bad in ["", "12345", "1234567", "abcdef"] {
        let r = vault.finish_sign_in(&started.challenge, bad).await.unwrap();
        assert_eq!(r.unwrap_err(), CodeRefused::Wrong, "{bad:?}");
    }
    let (token, subject) = vault
        .finish_sign_in(&started.challenge, &code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(subject, me);
    let r = vault
        .finish_sign_in(&started.challenge, &code)
        .await
        .unwrap();
    assert_eq!(r.unwrap_err(), CodeRefused::AlreadyUsed);

    // The session acts as the person: their whole record, unmasked; nobody else's.
    let (who, actor) = vault.session_actor(&token).await.unwrap().unwrap();
    assert_eq!(who, me);
    let rights = mamori_policy::RIGHTS_PURPOSE;
    let view = vault.read_subject(&actor, rights, &me).await.unwrap();
    assert_eq!(view.data["contact"]["email"], "ada.signin@example.com");
    assert_eq!(
        view.data["contact"]["phone"], "+442079460123",
        "not masked for the person"
    );
    let e = vault
        .read_subject(&actor, rights, &other)
        .await
        .err()
        .unwrap();
    assert_eq!(e.code(), "not_own_record");
    let e = vault
        .read_subject(&actor, "marketing_email", &me)
        .await
        .err()
        .unwrap();
    assert_eq!(e.code(), "purpose_not_allowed_for_role");
    assert!(vault.session_actor("forged-token").await.unwrap().is_none());
    vault.sign_out(&token).await.unwrap();
    assert!(vault.session_actor(&token).await.unwrap().is_none());
    // An API key cannot be given the person's role.
    let officer = mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    };
    assert!(
        vault
            .create_api_key(&officer, "self", "nope")
            .await
            .is_err()
    );
}

/// The `name=value` of a Set-Cookie header for `name`, and its attributes.
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string()
}

/// The CSRF token a page's forms carry.
fn form_csrf(page: &str) -> String {
    between(page, "name=\"csrf\" value=\"", "\"").to_string()
}

fn between<'t>(text: &'t str, before: &str, after: &str) -> &'t str {
    let start = text.find(before).map(|i| i + before.len()).expect(before);
    let end = text[start..].find(after).expect(after);
    &text[start..start + end]
}

/// Through the pages, without JavaScript: request a code (CSRF-checked), read it from the demo
/// outbox, sign in, see "My data" unmasked with purposes and retention, sign out.
async fn privacy_center_pages_sign_in_and_show_my_data(app: TestApp) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let id = create(&app, &customer("pages")).await;
    // Orders and support requests are records: "My data" shows them with their kind.
    for (purpose, body) in [
        (
            "order_fulfilment",
            json!({"category": "orders", "data": {"order_number": "K-77881", "total": 42, "currency": "EUR"}}),
        ),
        (
            "customer_support",
            json!({"category": "support_tickets", "data": {"subject": "Colis en retard", "status": "open"}}),
        ),
    ] {
        let r = app
            .as_role(
                Method::POST,
                &format!("/v1/subjects/{id}/records"),
                "service",
                purpose,
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let r = client
        .get(app.url("/privacy/sign-in?lang=fr"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csrf_set = set_cookie(&r, "mamori_csrf").expect("a CSRF cookie");
    assert!(
        csrf_set.contains("HttpOnly") && csrf_set.contains("SameSite=Strict"),
        "{csrf_set}"
    );
    let browser = cookie_value(&csrf_set);
    let page = r.text().await.unwrap();
    assert!(page.contains("Adresse e-mail"), "{page}");
    // The form token is a keyed MAC of the browser's cookie, not the cookie itself.
    let csrf = form_csrf(&page);
    assert_ne!(csrf, browser);
    let jar = format!("mamori_csrf={browser}");
    let post = |path: &str, form: Vec<(&str, String)>, cookies: String| {
        client
            .post(app.url(path))
            .header("cookie", cookies)
            .form(&form)
            .send()
    };

    // Cross-site or token-less posts are refused and send nothing.
    let r = post(
        "/privacy/sign-in",
        vec![
            ("email", "ada.pages@example.com".into()),
            ("csrf", "forged".into()),
        ],
        jar.clone(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = client
        .post(app.url("/privacy/sign-in"))
        .header("cookie", jar.clone())
        .header("origin", "https://evil.example")
        .form(&[("email", "ada.pages@example.com"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let outbox = client
        .get(app.url("/privacy/demo/outbox"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !outbox.contains("ada.pages@example.com"),
        "nothing sent yet"
    );

    // Known and unknown addresses get the same page; only the known one gets mail.
    let ask = async |email: &str| {
        let form = vec![
            ("email", email.to_string()),
            ("csrf", csrf.clone()),
            ("lang", "fr".into()),
        ];
        let r = post("/privacy/sign-in", form, jar.clone()).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.text().await.unwrap()
    };
    let unknown = ask("stranger@example.com").await;
    let known = ask("ada.pages@example.com").await;
    let strip = |page: &str| page.replace(between(page, "name=\"challenge\" value=\"", "\""), "");
    assert_eq!(
        strip(&unknown),
        strip(&known),
        "the answer does not reveal customers"
    );
    assert!(known.contains("Si nous connaissons cette adresse"));
    let challenge = between(&known, "name=\"challenge\" value=\"", "\"").to_string();
    let mut code = String::new();
    for _ in 0..100 {
        let outbox = client
            .get(app.url("/privacy/demo/outbox"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if outbox.contains("ada.pages@example.com") {
            code = between(&outbox, "confidentialité est ", ".").to_string();
            assert!(!outbox.contains("stranger@example.com"));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(code.len(), 6, "the code reached the demo outbox");

    // A wrong code keeps the challenge; the right one signs in.
    let form = |code: &str| {
        vec![
            ("challenge", challenge.clone()),
            ("code", code.to_string()),
            ("csrf", csrf.clone()),
            ("lang", "fr".into()),
        ]
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = post("/privacy/sign-in/code", form(wrong), jar.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("pas le bon"));
    let r = post("/privacy/sign-in/code", form(&code), jar.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/privacy/me?lang=fr");
    let session_set = set_cookie(&r, "mamori_session").expect("a session cookie");
    assert!(session_set.contains("HttpOnly") && session_set.contains("SameSite=Strict"));
    let session = cookie_value(&session_set);
    let jar = format!("{jar}; mamori_session={session}");

    let before = ledger_size(&app).await;
    let r = client
        .get(app.url("/privacy/me?lang=fr"))
        .header("cookie", jar.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let me = r.text().await.unwrap();
    assert!(me.contains("Mes données"));
    assert!(
        me.contains("ada.pages@example.com") && me.contains("+442079460123"),
        "unmasked: {me}"
    );
    // Signed in, forms carry a token bound to the session.
    let session_csrf = form_csrf(&me);
    assert_ne!(session_csrf, csrf);
    assert!(me.contains("Utilisées pour"));
    // French typography: a narrow no-break space before the colon.
    assert!(me.contains("Utilisées pour\u{202f}: "), "{me}");
    assert!(!me.contains("pour: "));
    let orders = between(&me, "id=\"category-orders\"", "</section>");
    assert!(
        orders.contains("K-77881")
            && orders.contains("Enregistré le")
            && !orders.contains("Nous ne détenons rien"),
        "{orders}"
    );
    let tickets = between(&me, "id=\"category-support_tickets\"", "</section>");
    assert!(tickets.contains("Colis en retard"), "{tickets}");
    assert_eq!(
        ledger_size(&app).await,
        before + 2,
        "viewing my data is ledgered (the fields, and the records)"
    );
    let leaf = app.vault.store.leaves(before, 1).await.unwrap();
    let event = String::from_utf8(leaf[0].data.clone()).unwrap();
    assert!(
        event.contains(&id) && event.contains("\"role\":\"self\""),
        "{event}"
    );

    // Without a session, or with a forged one, "My data" sends you to sign in.
    for cookies in [String::new(), "mamori_session=forged".to_string()] {
        let r = client
            .get(app.url("/privacy/me"))
            .header("cookie", cookies)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    // The code is spent (asked from a browser without the session); signing out ends the
    // session.
    let r = post(
        "/privacy/sign-in/code",
        form(&code),
        format!("mamori_csrf={browser}"),
    )
    .await
    .unwrap();
    assert!(r.text().await.unwrap().contains("déjà été utilisé"));
    let r = post(
        "/privacy/sign-out",
        vec![("csrf", csrf.clone()), ("lang", "fr".into())],
        jar.clone(),
    )
    .await
    .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "the pre-session token is not the session's"
    );
    let r = post(
        "/privacy/sign-out",
        vec![("csrf", session_csrf.clone()), ("lang", "fr".into())],
        jar.clone(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = client
        .get(app.url("/privacy/me"))
        .header("cookie", jar.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The browser dropped the session cookie it was told to clear.
    let jar = format!("mamori_csrf={browser}");
    // A mistyped address says so; a challenge that is not one is refused.
    let form = vec![
        ("email", "not an address".to_string()),
        ("csrf", csrf.clone()),
        ("lang", "en".into()),
    ];
    let r = post("/privacy/sign-in", form, jar.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("does not look like an e-mail address")
    );
    let form = vec![
        ("challenge", "CANARY".to_string()),
        ("code", "123456".into()),
        ("csrf", csrf.clone()),
    ];
    let r = post("/privacy/sign-in/code", form, jar.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(!r.text().await.unwrap().contains("CANARY"));
    // Malformed forms get the same clear refusal, never a 500.
    let r = client
        .post(app.url("/privacy/sign-in/code"))
        .header("cookie", jar.clone())
        .body("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Each request mails the person, so one address gets a few codes per ten minutes at most.
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let form = vec![
            ("email", "ADA.pages@example.com".to_string()),
            ("csrf", csrf.clone()),
            ("lang", "fr".into()),
        ];
        let r = post("/privacy/sign-in", form, jar.clone()).await.unwrap();
        statuses.push(r.status());
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.headers()["retry-after"], "60");
            assert!(r.text().await.unwrap().contains("Patientez"));
            break;
        }
    }
    assert_eq!(
        statuses.len(),
        5,
        "four more codes, then a refusal: {statuses:?}"
    );
    assert_eq!(statuses[4], StatusCode::TOO_MANY_REQUESTS);
}

/// A browser on the sign-in page: a client that does not follow redirects, its pre-session
/// cookie's value and the page's form token.
async fn sign_in_page(app: &TestApp) -> (reqwest::Client, String, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .get(app.url("/privacy/sign-in"))
        .send()
        .await
        .unwrap();
    let browser = cookie_value(&set_cookie(&r, "mamori_csrf").unwrap());
    let csrf = form_csrf(&r.text().await.unwrap());
    (client, browser, csrf)
}

/// A signed-in browser for `email` (signed in through the core, as the pages do): a client that
/// does not follow redirects, its cookie header and its CSRF token.
async fn signed_in_browser(app: &TestApp, email: &str) -> (reqwest::Client, String, String) {
    let (client, browser, _) = sign_in_page(app).await;
    let started = app.vault.start_sign_in(email).await.unwrap();
    let code = started.code.unwrap();
    let (token, _) = app
        .vault
        .finish_sign_in(&started.challenge, &code)
        .await
        .unwrap()
        .unwrap();
    let jar = format!("mamori_csrf={browser}; mamori_session={token}");
    // The session's form token, from a page of the signed-in person.
    let page = client
        .get(app.url("/privacy/choices"))
        .header("cookie", jar.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (client, jar, form_csrf(&page))
}

/// My choices: one click grants or withdraws, recorded as the person's own decision (source
/// portal) and effective at once; "Do not sell or share" withdraws every sale/sharing purpose.
async fn my_choices_change_consent_in_one_click(app: TestApp) {
    let id = create(&app, &customer("choices")).await;
    let (client, jar, csrf) = signed_in_browser(&app, "ada.choices@example.com").await;
    let page = |client: &reqwest::Client| {
        client
            .get(app.url("/privacy/choices?lang=en"))
            .header("cookie", jar.clone())
            .send()
    };
    let r = page(&client).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"state-marketing_email-email\">E-mail: Off"),
        "off by default: {html}"
    );
    let choose = async |purpose: &str, channel: &str, granted: bool, token: &str| {
        let form = [
            ("purpose", purpose),
            ("channel", channel),
            ("granted", if granted { "true" } else { "false" }),
            ("csrf", token),
            ("lang", "en"),
        ];
        client
            .post(app.url("/privacy/choices"))
            .header("cookie", jar.clone())
            .form(&form)
            .send()
            .await
            .unwrap()
    };
    let r = choose("marketing_email", "email", true, &csrf).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Saved") && html.contains("E-mail: On"),
        "{html}"
    );
    let v: Value = consent_check(&app, &id, "purpose=marketing_email&channel=email")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["allowed"], true);
    let rows = app
        .vault
        .store
        .consents(&mamori_core::parse_id(&id).unwrap())
        .await
        .unwrap();
    assert!(rows.iter().all(|r| r.source == "portal"));

    // Sharing granted, then "Do not sell or share" turns it off again.
    choose("partner_sharing", "email", true, &csrf).await;
    let r = client
        .post(app.url("/privacy/choices/do-not-sell"))
        .header("cookie", jar.clone())
        .form(&[("csrf", csrf.as_str()), ("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("we will not sell or share")
    );
    let v: Value = consent_check_as(
        &app,
        "service",
        &id,
        "purpose=partner_sharing&channel=email",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (v["allowed"].clone(), v["reason"].clone()),
        (json!(false), json!("withdrawn"))
    );

    // Bad input: forged token, a purpose that is not consent-based, no session.
    let before = app
        .vault
        .store
        .consents(&mamori_core::parse_id(&id).unwrap())
        .await
        .unwrap();
    let r = choose("marketing_email", "email", false, "forged").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = choose("order_fulfilment", "", false, &csrf).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "not_consent_based").await;
    let r = client
        .post(app.url("/privacy/choices/do-not-sell"))
        .header("cookie", jar.clone())
        .form(&[("csrf", "forged"), ("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = choose("marketing_email", "fax", true, &csrf).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_channel").await;
    let after = app
        .vault
        .store
        .consents(&mamori_core::parse_id(&id).unwrap())
        .await
        .unwrap();
    assert_eq!(before, after, "refused choices change nothing");
    let r = client
        .get(app.url("/privacy/choices"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

/// Download my data: a zip with every field, record and consent, in JSON and CSV, for the
/// signed-in person only; never cached.
async fn download_my_data_is_a_zip_of_json_and_csv(app: TestApp) {
    let id = create(&app, &customer("download")).await;
    let r = app
        .as_role(Method::POST, &format!("/v1/subjects/{id}/records"), "support", "customer_support")
        .json(&json!({"category": "support_tickets", "data": {"subject": "Late parcel", "message": "Where is it?", "status": "open"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    // A grant, a withdrawal, a grant again: the history has all three, each with its receipt.
    for granted in [true, false, true] {
        let change = json!({"purpose": "marketing_email", "channel": "email", "granted": granted});
        assert_eq!(
            consent(&app, &id, "service", change).await.status(),
            StatusCode::OK
        );
    }
    let (client, jar, _) = signed_in_browser(&app, "ada.download@example.com").await;
    let before = ledger_size(&app).await;
    let r = client
        .get(app.url("/privacy/me/download"))
        .header("cookie", jar)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/zip");
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let bytes = r.bytes().await.unwrap();
    assert!(
        ledger_size(&app).await > before,
        "the export's reads are ledgered"
    );
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut read = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut archive.by_name(name).unwrap(), &mut text).unwrap();
        text
    };
    let data: Value = serde_json::from_str(&read("data.json")).unwrap();
    assert_eq!(data["id"], json!(id));
    assert_eq!(data["data"]["contact"]["email"], "ada.download@example.com");
    let records: Value = serde_json::from_str(&read("records.json")).unwrap();
    assert_eq!(records[0]["data"]["subject"], "Late parcel");
    let history: Value = serde_json::from_str(&read("consent-history.json")).unwrap();
    let granted: Vec<bool> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["granted"].as_bool().unwrap())
        .collect();
    assert_eq!(granted, [true, false, true], "the whole history: {history}");
    for h in history.as_array().unwrap() {
        let receipt = h["receipt"].as_str().unwrap();
        let check = verify_receipt(&app, "service", receipt).await;
        assert_eq!(check.status(), StatusCode::OK, "each receipt verifies");
    }
    assert_eq!(read("consent-history.csv").lines().count(), 4);
    assert!(
        read("records.csv").contains("support_tickets")
            && read("records.csv").contains("Late parcel"),
        "records as CSV too"
    );
    // The zip holds what the API's export holds.
    let api: Value = officer(
        &app,
        Method::GET,
        &format!("/v1/subjects/{id}/export"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(api["consent_history"], history);
    assert_eq!(api["records"], records);
    let consents: Value = serde_json::from_str(&read("consents.json")).unwrap();
    assert_eq!(consents[0]["purpose"], "marketing_email");
    assert!(read("data.csv").starts_with("category,field,value\n"));
    assert!(read("data.csv").contains("contact,email,ada.download@example.com"));
    assert!(read("consents.csv").contains("marketing_email,email,true"));
    // The access log: the ticket added by support, the consent recorded by the service.
    let log: Value = serde_json::from_str(&read("access-log.json")).unwrap();
    let log = log.as_array().unwrap();
    assert!(
        log.iter().any(|e| e["action"] == "record.create"
            && e["role"] == "support"
            && e["allowed"] == true),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|e| e["action"] == "consent.grant" && e["role"] == "service")
    );
    assert!(
        read("access-log.csv")
            .starts_with("event,at,role,purpose,action,categories,allowed,reason\n")
    );
    assert!(
        read("access-log.csv")
            .contains(",support,customer_support,record.create,support_tickets,true,")
    );
    let r = client
        .get(app.url("/privacy/me/download"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "signed out: no download");

    // Staff answering a request export the same through the API, with a role that may.
    let r = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{id}/export"),
            "privacy_officer",
            "data_subject_rights",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["data"]["contact"]["email"], "ada.download@example.com");
    assert_eq!(v["records"][0]["data"]["subject"], "Late parcel");
    assert_eq!(v["consents"][0]["purpose"], "marketing_email");
    assert!(
        v["access_log"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "record.create")
    );
    let r = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{id}/export"),
            "analyst",
            "analytics",
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "purpose_not_allowed_for_role").await;
    let r = app
        .as_role(
            Method::GET,
            "/v1/subjects/not-an-id/export",
            "privacy_officer",
            "data_subject_rights",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let unknown = uuid::Uuid::from_u128(42).to_string();
    let r = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{unknown}/export"),
            "privacy_officer",
            "data_subject_rights",
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::NOT_FOUND, "subject_not_found").await;
    // The person's own download is in the register of requests as a fulfilled access request;
    // the staff export is not a request of the person's.
    let register: Value = app
        .as_role(
            Method::GET,
            &format!("/v1/requests?subject={id}&state=fulfilled"),
            "privacy_officer",
            "data_subject_rights",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = register["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["access"], "{register}");
}

/// The events about a person as the ledger holds them, newest first (a full scan: the truth
/// the subject index must agree with).
async fn events_about(app: &TestApp, id: &str) -> Vec<u64> {
    let subject = mamori_core::parse_id(id).unwrap();
    let mut all: Vec<u64> = app
        .vault
        .store
        .leaves(0, 1_000_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.subject_id == Some(subject))
        .map(|l| l.index)
        .collect();
    all.reverse();
    all
}

async fn access_log_page(app: &TestApp, id: &str, query: &str) -> Value {
    let r = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{id}/access-log{query}"),
            "privacy_officer",
            "data_subject_rights",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

fn event_numbers(page: &Value) -> Vec<u64> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_u64().unwrap())
        .collect()
}

/// Who accessed my data: every ledger event about the person and none about anyone else, found
/// through the background subject index across merges (and before indexing), paged, shown on
/// the privacy-center page with an inclusion proof that checks against the signed head.
async fn who_accessed_my_data_with_proofs(app: TestApp) {
    use mamori_core::subject_index;
    let ada = create(&app, &customer("activity")).await;
    let mut someone_else = customer("activity-other");
    someone_else["data"]["contact"]["phone"] = json!("+33 1 23 45 67 89");
    let other = create(&app, &someone_else).await;
    let read = |id: &str, role: &'static str, purpose: &'static str| {
        app.as_role(Method::GET, &format!("/v1/subjects/{id}"), role, purpose)
            .send()
    };
    assert_eq!(
        read(&ada, "analyst", "order_fulfilment")
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    // Enough indexing passes for level-0 segments to be merged (16 make one).
    for _ in 0..20 {
        assert_eq!(
            read(&ada, "support", "customer_support")
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
        assert_eq!(
            read(&other, "support", "customer_support")
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
        subject_index::pass(&app.vault.ledger, &*app.vault.store)
            .await
            .unwrap();
    }
    let segments = app.vault.store.leaf_segments().await.unwrap();
    assert!(segments.iter().all(|s| s.level >= 0), "{segments:?}");
    assert!(segments.len() < 16, "merged: {segments:?}");
    // One more read not indexed yet: found by the scan of the newest leaves.
    assert_eq!(
        read(&ada, "support", "customer_support")
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let truth = events_about(&app, &ada).await;
    assert!(truth.len() >= 22, "{truth:?}");
    let page = access_log_page(&app, &ada, "?limit=500").await;
    assert_eq!(event_numbers(&page), truth);
    assert!(page["older"].is_null());
    let events = page["events"].as_array().unwrap();
    assert!(
        events.iter().any(|e| e["allowed"] == false
            && e["role"] == "analyst"
            && e["reason"] == "purpose_not_allowed_for_role"),
        "{page}"
    );
    assert!(events.iter().any(|e| e["action"] == "subject.read"
        && e["purpose"] == "customer_support"
        && e["categories"].as_array().is_some_and(|c| !c.is_empty())));
    // Paging: two at a time, no overlap, no gap (reading the log is itself an event).
    let truth = events_about(&app, &ada).await;
    let first = access_log_page(&app, &ada, "?limit=2").await;
    let older = first["older"].as_u64().unwrap();
    let second = access_log_page(&app, &ada, &format!("?limit=2&before={older}")).await;
    let both: Vec<u64> = event_numbers(&first)
        .into_iter()
        .chain(event_numbers(&second))
        .collect();
    assert_eq!(both, truth[..4]);

    // A merge that stopped half-way is invisible, and tidied away at the next start.
    let visible: Vec<i64> = segments.iter().map(|s| s.segment).collect();
    let target = visible.iter().max().unwrap() + 100;
    app.vault
        .ledger
        .submit(
            vec![mamori_store::Change::BeginSegmentMerge { target }],
            vec![],
        )
        .await
        .unwrap()
        .unwrap();
    app.vault
        .ledger
        .submit(
            vec![mamori_store::Change::MergeSegmentChunk {
                sources: visible.clone(),
                target,
                keys: mamori_store::KeyRange::ALL,
            }],
            vec![],
        )
        .await
        .unwrap()
        .unwrap();
    let truth = events_about(&app, &ada).await;
    assert_eq!(
        event_numbers(&access_log_page(&app, &ada, "?limit=500").await),
        truth
    );
    subject_index::tidy(&app.vault.ledger, &*app.vault.store)
        .await
        .unwrap();
    assert!(
        app.vault
            .store
            .leaf_segments()
            .await
            .unwrap()
            .iter()
            .all(|s| s.segment != target)
    );

    // A merge in several chunks, cut at sampled keys (here one falls inside Ada's own run of
    // leaves) copies every entry exactly once; the retired segments are then dropped chunk by
    // chunk until none is left.
    let current = app.vault.store.leaf_segments().await.unwrap();
    let sources: Vec<i64> = current.iter().map(|s| s.segment).collect();
    let entries: i64 = current.iter().map(|s| s.entries).sum();
    let target = sources.iter().max().unwrap() + 1;
    let key = |id: &str, idx: u64| mamori_store::LeafKey {
        subject: mamori_core::parse_id(id).unwrap(),
        idx: idx as i64,
    };
    let bounds = [key(&ada, truth[truth.len() / 2]), key(&other, 0)];
    let mut changes = vec![mamori_store::Change::BeginSegmentMerge { target }];
    for keys in mamori_store::KeyRange::split_at(&bounds) {
        changes.push(mamori_store::Change::MergeSegmentChunk {
            sources: sources.clone(),
            target,
            keys,
        });
    }
    changes.push(mamori_store::Change::FinishSegmentMerge {
        sources: sources.clone(),
        target,
        level: 1,
    });
    for change in changes {
        app.vault
            .ledger
            .submit(vec![change], vec![])
            .await
            .unwrap()
            .unwrap();
    }
    // Retired segments lose their entries a few at a time (the indexer takes 8,192 a job).
    let mut drops = 0;
    for &segment in &sources {
        let drop = || mamori_store::Change::DropSegmentEntries { segment, limit: 3 };
        while app.vault.ledger.submit(vec![drop()], vec![]).await.unwrap()
            != Err(mamori_store::JobError::Gone)
        {
            drops += 1;
        }
    }
    assert!(
        drops as i64 >= entries / 3,
        "{drops} drops of {entries} entries"
    );
    subject_index::tidy(&app.vault.ledger, &*app.vault.store)
        .await
        .unwrap();
    // (The server's own indexer may have added a segment of newer leaves meanwhile.)
    let segments = app.vault.store.leaf_segments().await.unwrap();
    assert!(
        segments.iter().any(|s| s.segment == target && s.level == 1)
            && segments
                .iter()
                .all(|s| s.level >= 0 && !sources.contains(&s.segment)),
        "{segments:?}"
    );
    let truth = events_about(&app, &ada).await;
    assert_eq!(
        event_numbers(&access_log_page(&app, &ada, "?limit=500").await),
        truth
    );

    // Bad input and roles that may not read the log.
    let r = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{ada}/access-log"),
            "support",
            "customer_support",
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "purpose_not_allowed_for_role").await;
    let r = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{ada}/access-log?limit=0"),
            "privacy_officer",
            "data_subject_rights",
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range").await;
    let r = app
        .as_role(
            Method::GET,
            &format!("/v1/subjects/{ada}/access-log?before=x"),
            "privacy_officer",
            "data_subject_rights",
        )
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::BAD_REQUEST, "invalid_query").await;

    // The person's own page, in each language, and a proof for one event.
    let (client, jar, _) = signed_in_browser(&app, "ada.activity@example.com").await;
    let r = client
        .get(app.url("/privacy/me/activity?lang=fr"))
        .header("cookie", &jar)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Qui a accédé à mes données")
            && html.contains("Refusé")
            && html.contains("analyst"),
        "{html}"
    );
    let staff_read = *truth.iter().rev().nth(3).unwrap();
    assert!(html.contains(&format!("id=\"event-{staff_read}\"")));
    assert!(!html.contains("activity-other"));
    let ja = client
        .get(app.url("/privacy/me/activity?lang=ja"))
        .header("cookie", &jar)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ja.contains("データへのアクセス履歴"));
    let r = client
        .get(app.url(&format!("/privacy/me/activity/proof?leaf={staff_read}")))
        .header("cookie", &jar)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let proof: Value = r.json().await.unwrap();
    let leaf_data = b64::decode(proof["leaf_data"].as_str().unwrap()).unwrap();
    let leaf_hash = mamori_ledger::leaf_hash(&leaf_data);
    assert_eq!(b64::encode(&leaf_hash), proof["leaf_hash"]);
    let sth: mamori_ledger::SignedTreeHead =
        serde_json::from_value(proof["signed_tree_head"].clone()).unwrap();
    let key = b64::decode(proof["public_key"].as_str().unwrap()).unwrap();
    let key = mamori_ledger::VerifyingKey::from_bytes(&key.try_into().unwrap()).unwrap();
    assert_eq!(key, app.vault.ledger.public_key());
    assert!(mamori_ledger::verify_head(&key, &sth));
    let path: Vec<Vec<u8>> = proof["audit_path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| b64::decode(h.as_str().unwrap()).unwrap())
        .collect();
    verify_inclusion(staff_read, sth.head.size, &leaf_hash, &path, &sth.head.root).unwrap();
    assert_eq!(proof["event"]["subject"], ada.as_str());
    // Someone else's event, a bad number, and no session.
    let theirs = events_about(&app, &other).await[0];
    let r = client
        .get(app.url(&format!("/privacy/me/activity/proof?leaf={theirs}")))
        .header("cookie", &jar)
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::NOT_FOUND, "no_such_event").await;
    let r = client
        .get(app.url("/privacy/me/activity/proof?leaf=-1"))
        .header("cookie", &jar)
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::BAD_REQUEST, "invalid_query").await;
    let r = client
        .get(app.url("/privacy/me/activity"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

async fn officer(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let r = app.as_role(method, path, "privacy_officer", "data_subject_rights");
    match body {
        Some(b) => r.json(&b),
        None => r,
    }
    .send()
    .await
    .unwrap()
}

/// Requests as objects: a deadline from the jurisdiction, one extension with a reason where the
/// law allows it, DRP states and denial reasons, the queue by due date with paging, every step
/// ledgered and announced, and bad input refused without changing anything.
async fn requests_are_worked_through_drp_states_before_their_deadline(app: TestApp) {
    let ada = create(&app, &customer("requests")).await;
    let r = officer(&app, Method::POST, "/v1/requests", Some(json!({"kind": "access", "subject": ada, "jurisdiction": "gdpr", "received_at": mamori_core::format_time(mamori_core::now_ms() - 86_400_000)}))).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let gdpr: Value = r.json().await.unwrap();
    assert_eq!(gdpr["state"], "open");
    assert_eq!(gdpr["source"], "staff");
    let lgpd: Value = officer(
        &app,
        Method::POST,
        "/v1/requests",
        Some(json!({"kind": "erasure", "jurisdiction": "lgpd"})),
    )
    .await
    .json()
    .await
    .unwrap();
    let ccpa: Value = officer(&app, Method::POST, "/v1/requests", Some(json!({"kind": "opt_out_of_sale", "subject": ada, "jurisdiction": "ccpa", "source": "agent"}))).await.json().await.unwrap();
    // LGPD's 15 days come before CCPA's 45 days; GDPR's month sits between.
    let queue: Value = officer(&app, Method::GET, "/v1/requests", None)
        .await
        .json()
        .await
        .unwrap();
    let order: Vec<&str> = queue["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["erasure", "access", "opt_out_of_sale"], "{queue}");
    let first: Value = officer(&app, Method::GET, "/v1/requests?limit=1", None)
        .await
        .json()
        .await
        .unwrap();
    let next = first["next"].as_str().unwrap().to_string();
    let rest: Value = officer(
        &app,
        Method::GET,
        &format!("/v1/requests?limit=5&after={next}"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(rest["requests"].as_array().unwrap().len(), 2);
    assert_eq!(rest["requests"][0]["kind"], "access");
    assert!(rest["next"].is_null());
    let mine: Value = officer(
        &app,
        Method::GET,
        &format!("/v1/requests?subject={ada}"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(mine["requests"].as_array().unwrap().len(), 2);

    // Extension: once, with a reason, as far as the law allows; LGPD allows none.
    let id = gdpr["id"].as_str().unwrap();
    let due = |v: &Value| v["due_at"].as_str().unwrap().to_string();
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{id}/extend"),
        Some(json!({"reason": "complexity"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let extended: Value = r.json().await.unwrap();
    assert_eq!(extended["extension"], "complexity");
    assert!(due(&extended) > due(&gdpr));
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{id}/extend"),
        Some(json!({"reason": "complexity"})),
    )
    .await;
    problem(r, StatusCode::CONFLICT, "already_extended").await;
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{}/extend", lgpd["id"].as_str().unwrap()),
        Some(json!({"reason": "number_of_requests"})),
    )
    .await;
    problem(r, StatusCode::CONFLICT, "no_extension").await;
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{id}/extend"),
        Some(json!({"reason": "we are busy"})),
    )
    .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_reason").await;

    // States: in progress, then fulfilled; a closed request stays closed. A denial needs a reason.
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{id}/state"),
        Some(json!({"state": "in_progress"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{id}/state"),
        Some(json!({"state": "fulfilled"})),
    )
    .await;
    let done: Value = r.json().await.unwrap();
    assert_eq!(done["state"], "fulfilled");
    assert!(done["closed_at"].is_string());
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{id}/state"),
        Some(json!({"state": "in_progress"})),
    )
    .await;
    problem(r, StatusCode::CONFLICT, "request_closed").await;
    let other = ccpa["id"].as_str().unwrap();
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{other}/state"),
        Some(json!({"state": "denied"})),
    )
    .await;
    problem(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "denial_reason_required",
    )
    .await;
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{other}/state"),
        Some(json!({"state": "denied", "reason": "no_match"})),
    )
    .await;
    assert_eq!(r.json::<Value>().await.unwrap()["reason"], "no_match");
    let queue: Value = officer(&app, Method::GET, "/v1/requests", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        queue["requests"].as_array().unwrap().len(),
        1,
        "only the LGPD request is still open"
    );
    let fulfilled: Value = officer(&app, Method::GET, "/v1/requests?state=fulfilled", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fulfilled["requests"][0]["id"], id);

    // Each step was ledgered about the person and announced to other systems.
    let log = access_log_page(&app, &ada, "?limit=500").await;
    for action in ["request.open", "request.extend", "request.state"] {
        assert!(
            log["events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == action),
            "{action}"
        );
    }
    let events: Value = feed(&app, "after=0&limit=1000").await.json().await.unwrap();
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default())
        .collect();
    assert!(
        kinds.contains(&"request.opened") && kinds.contains(&"request.changed"),
        "{events}"
    );

    // Bad input changes nothing.
    let before = ledger_size(&app).await;
    for (body, code) in [
        (
            json!({"kind": "gossip", "jurisdiction": "gdpr"}),
            "unknown_kind",
        ),
        (
            json!({"kind": "access", "jurisdiction": "mars"}),
            "unknown_jurisdiction",
        ),
        (
            json!({"kind": "access", "jurisdiction": "gdpr", "source": "pigeon"}),
            "unknown_source",
        ),
        (
            json!({"kind": "access", "jurisdiction": "gdpr", "received_at": "yesterday"}),
            "invalid_time",
        ),
        (
            json!({"kind": "access", "jurisdiction": "gdpr", "received_at": "2099-01-01T00:00:00Z"}),
            "out_of_range",
        ),
    ] {
        let r = officer(&app, Method::POST, "/v1/requests", Some(body)).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    let r = officer(
        &app,
        Method::POST,
        "/v1/requests",
        Some(json!({"kind": "access", "jurisdiction": "gdpr", "extra": 1})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = officer(&app, Method::GET, "/v1/requests?limit=0", None).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range").await;
    let r = officer(&app, Method::GET, "/v1/requests?after=nonsense", None).await;
    problem(r, StatusCode::BAD_REQUEST, "invalid_cursor").await;
    let r = officer(&app, Method::GET, "/v1/requests?state=lost", None).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_state").await;
    let r = officer(&app, Method::GET, "/v1/requests/not-an-id", None).await;
    problem(r, StatusCode::BAD_REQUEST, "invalid_id").await;
    let r = officer(
        &app,
        Method::GET,
        &format!("/v1/requests/{}", mamori_core::format_id(&[7; 16])),
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        ledger_size(&app).await,
        before,
        "refused requests changed nothing and read nothing"
    );
    // A role without the rights purpose may not see the queue; an erased person takes no new request.
    let r = app
        .as_role(Method::GET, "/v1/requests", "support", "customer_support")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "purpose_not_allowed_for_role").await;
    let r = officer(&app, Method::DELETE, &format!("/v1/subjects/{ada}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = officer(
        &app,
        Method::POST,
        "/v1/requests",
        Some(json!({"kind": "erasure", "subject": ada, "jurisdiction": "gdpr"})),
    )
    .await;
    problem(r, StatusCode::CONFLICT, "subject_erased").await;
}

/// Correct my data: ordinary fields change at once (validated by the policy's types, ledgered);
/// a new e-mail address is stored only once the code sent to it comes back, and the sign-in
/// address moves with it; bad values, customer numbers, forged pending values, wrong codes and
/// cross-site posts change nothing.
async fn correct_my_data_verifies_new_identifiers(app: TestApp) {
    let id = create(&app, &customer("fix")).await;
    let mut other = customer("taken");
    other["data"]["contact"]["phone"] = json!("+44 20 7946 0999");
    let other_id = create(&app, &other).await;
    let (client, jar, csrf) = signed_in_browser(&app, "ada.fix@example.com").await;
    let page = client
        .get(app.url("/privacy/me/correct?lang=en"))
        .header("cookie", jar.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("value=\"Paris\""), "current values shown");
    let post = async |path: &str, form: &[(&str, &str)]| {
        let mut all = vec![("csrf", csrf.as_str()), ("lang", "en")];
        all.extend_from_slice(form);
        client
            .post(app.url(path))
            .header("cookie", jar.clone())
            .form(&all)
            .send()
            .await
            .unwrap()
    };
    let correct = async |category: &str, field: &str, value: &str| {
        post(
            "/privacy/me/correct",
            &[("category", category), ("field", field), ("value", value)],
        )
        .await
    };
    let stored = async || {
        app.as_role(
            Method::GET,
            &format!("/v1/subjects/{id}"),
            "privacy_officer",
            "data_subject_rights",
        )
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()
    };

    // An ordinary field: saved at once, ledgered as the person's own update.
    let r = correct("address", "city", "Lyon").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("We have recorded the correction")
    );
    assert_eq!(stored().await["data"]["address"]["city"], "Lyon");
    let log = access_log_page(&app, &id, "").await;
    assert!(
        log["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "subject.update"
                && e["role"] == "self"
                && e["allowed"] == true),
        "{log}"
    );

    // The phone number and e-mail address already held, however written: recorded as they
    // are, and no code is sent anywhere (each used to send one).
    let outbox = async || {
        client
            .get(app.url("/privacy/demo/outbox"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let sent_before = outbox().await;
    for (field, same) in [
        ("phone", "+44-20-7946-0123"),
        ("email", " ADA.fix@Example.com "),
    ] {
        let r = correct("contact", field, same).await;
        assert_eq!(r.status(), StatusCode::OK, "{field}");
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("We have recorded the correction")
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(outbox().await, sent_before, "no code was sent");

    // Bad values and fields the person may not change: 422, nothing stored.
    for (category, field, value) in [
        ("address", "country", "Narnia"),
        ("contact", "email", "not an address"),
        ("contact", "nickname", "x"),
        ("nowhere", "city", "x"),
    ] {
        let r = correct(category, field, value).await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{category}.{field}"
        );
        let html = r.text().await.unwrap();
        assert!(
            !html.contains("Narnia"),
            "the bad value is not echoed in an error"
        );
    }
    let after = stored().await;
    assert_eq!(after["data"]["address"]["country"], "FR");
    assert_eq!(after["data"]["contact"]["email"], "ada.fix@example.com");

    // A form missing its fields, or with an id that is not one, changes nothing.
    let r = post("/privacy/me/correct", &[("category", "address")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post(
        "/privacy/me/correct/confirm",
        &[
            ("category", "contact"),
            ("field", "email"),
            ("challenge", "nope"),
            ("pending", "x"),
            ("code", "123456"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A cross-site post is refused.
    let r = client
        .post(app.url("/privacy/me/correct"))
        .header("cookie", jar.clone())
        .header("origin", "https://evil.example")
        .form(&[
            ("csrf", csrf.as_str()),
            ("category", "address"),
            ("field", "city"),
            ("value", "Nice"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(stored().await["data"]["address"]["city"], "Lyon");

    // A new e-mail address: a code goes to the new address; nothing changes until it returns.
    let r = correct("contact", "email", "Ada.New@Example.com").await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        !html.contains("ada.new@example.com"),
        "the pending value is sealed in the form"
    );
    let challenge = between(&html, "name=\"challenge\" value=\"", "\"").to_string();
    let pending = between(&html, "name=\"pending\" value=\"", "\"").to_string();
    assert_eq!(
        stored().await["data"]["contact"]["email"],
        "ada.fix@example.com"
    );
    let outbox = client
        .get(app.url("/privacy/demo/outbox"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        outbox.contains("<span class=\"to\">ada.new@example.com</span>"),
        "sent to the new address"
    );
    let code = between(&outbox, "privacy center is ", ".").to_string();
    assert_eq!(code.len(), 6);
    let confirm = async |pending: &str, code: &str| {
        post(
            "/privacy/me/correct/confirm",
            &[
                ("category", "contact"),
                ("field", "email"),
                ("challenge", challenge.as_str()),
                ("pending", pending),
                ("code", code),
            ],
        )
        .await
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = confirm(&pending, wrong).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("That code is not right"));
    // A pending value altered in the form does not open.
    let mut forged = pending.clone().into_bytes();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let r = confirm(std::str::from_utf8(&forged).unwrap(), &code).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        stored().await["data"]["contact"]["email"],
        "ada.fix@example.com"
    );
    // … and spends nothing: only the wrong code counted as a try, the challenge is unused.
    let row = app
        .vault
        .store
        .challenge(&mamori_core::parse_id(&challenge).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.attempts, row.used_ms), (1, None));

    // The right code (here on a fresh challenge) stores the address.
    let r = correct("contact", "email", "ada.new@example.com").await;
    let html = r.text().await.unwrap();
    let challenge2 = between(&html, "name=\"challenge\" value=\"", "\"").to_string();
    let pending2 = between(&html, "name=\"pending\" value=\"", "\"").to_string();
    let outbox = client
        .get(app.url("/privacy/demo/outbox"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let code2 = between(&outbox, "privacy center is ", ".").to_string();
    let r = post(
        "/privacy/me/correct/confirm",
        &[
            ("category", "contact"),
            ("field", "email"),
            ("challenge", challenge2.as_str()),
            ("pending", pending2.as_str()),
            ("code", code2.as_str()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Confirmed and saved"));
    assert_eq!(
        stored().await["data"]["contact"]["email"],
        "ada.new@example.com"
    );
    // The same code again: used.
    let r = post(
        "/privacy/me/correct/confirm",
        &[
            ("category", "contact"),
            ("field", "email"),
            ("challenge", challenge2.as_str()),
            ("pending", pending2.as_str()),
            ("code", code2.as_str()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Sign-in now finds the person by the new address, not the old one.
    assert!(
        app.vault
            .start_sign_in("ada.new@example.com")
            .await
            .unwrap()
            .code
            .is_some()
    );
    assert!(
        app.vault
            .start_sign_in("ada.fix@example.com")
            .await
            .unwrap()
            .code
            .is_none()
    );

    // Someone else's challenge does not confirm a change for this person.
    let (other_client, other_jar, other_csrf) =
        signed_in_browser(&app, "ada.taken@example.com").await;
    let r = other_client
        .post(app.url("/privacy/me/correct/confirm"))
        .header("cookie", other_jar)
        .form(&[
            ("csrf", other_csrf.as_str()),
            ("category", "contact"),
            ("field", "email"),
            ("challenge", challenge2.as_str()),
            ("pending", pending2.as_str()),
            ("code", code2.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Each correction the person made is in the register of requests, fulfilled by themselves.
    let register: Value = app
        .as_role(
            Method::GET,
            &format!("/v1/requests?subject={id}&state=fulfilled"),
            "privacy_officer",
            "data_subject_rights",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fulfilled = register["requests"].as_array().unwrap();
    assert_eq!(
        fulfilled.len(),
        2,
        "the city and the e-mail address: {register}"
    );
    assert!(fulfilled.iter().all(|r| r["kind"] == "rectification"
        && r["source"] == "privacy_center"
        && r["state"] == "fulfilled"));

    // The core decides before a code is sent: staff roles and other people are refused.
    let subject = mamori_core::parse_id(&id).unwrap();
    let other_person = mamori_core::Actor {
        id: mamori_core::access::self_actor_id(&mamori_core::parse_id(&other_id).unwrap()),
        role: "self".into(),
    };
    let analyst = mamori_core::Actor {
        id: "cli".into(),
        role: "analyst".into(),
    };
    for actor in [other_person, analyst] {
        let tried = app
            .vault
            .correct_own(&actor, &subject, "contact", "email", "mallory@example.com")
            .await;
        assert!(
            matches!(tried, Err(mamori_core::CoreError::Denied(_))),
            "{}: {tried:?}",
            actor.role
        );
    }

    // Signed out: the pages send the person to sign in.
    let r = client
        .get(app.url("/privacy/me/correct"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

/// A deadline less than three days away is announced once (`request.due_soon`), and again only
/// if an extension moves it; requests far from their deadline and closed ones are not.
async fn request_deadlines_are_reminded_once(app: TestApp) {
    let ada = create(&app, &customer("reminders")).await;
    let days_ago = |days: i64| mamori_core::format_time(mamori_core::now_ms() - days * 86_400_000);
    let open = async |body: Value| -> String {
        let r = officer(&app, Method::POST, "/v1/requests", Some(body)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // GDPR: a month from 29 days ago is at most two days away. LGPD: 15 days from 13 days ago.
    let soon = open(json!({"kind": "access", "subject": ada, "jurisdiction": "gdpr", "received_at": days_ago(29)})).await;
    let closed =
        open(json!({"kind": "erasure", "jurisdiction": "lgpd", "received_at": days_ago(13)})).await;
    let later = open(json!({"kind": "access", "subject": ada, "jurisdiction": "ccpa"})).await;
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{closed}/state"),
        Some(json!({"state": "fulfilled"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);

    app.vault.send_due_reminders().await.unwrap();
    app.vault.send_due_reminders().await.unwrap();
    let reminders = async || -> Vec<String> {
        let v: Value = feed(&app, "after=0&limit=1000").await.json().await.unwrap();
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "request.due_soon")
            .map(|e| e["data"]["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        reminders().await,
        vec![soon.clone()],
        "one reminder, for the request due soon"
    );

    // Extending the deadline (GDPR: to three months) puts it out of the window: nothing more.
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{soon}/extend"),
        Some(json!({"reason": "complexity"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.vault.send_due_reminders().await.unwrap();
    assert_eq!(reminders().await, vec![soon.clone()]);
    assert!(!reminders().await.contains(&later));
}

/// "Delete my account": the page shows what goes and what the law keeps (why, until when);
/// nothing happens without the tick box or from another site; once confirmed the person is
/// erased except what is kept, signed out, and the register holds the fulfilled request.
async fn delete_my_account_shows_what_is_kept(app: TestApp) {
    let mut body = customer("bye");
    body["data"]["support_tickets"] = json!({"subject": "Hello", "status": "open"});
    let r = app
        .as_role(Method::POST, "/v1/subjects", "service", "customer_support")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let subject = mamori_core::parse_id(&id).unwrap();
    let (client, jar, csrf) = signed_in_browser(&app, "ada.bye@example.com").await;
    let get = async |path: &str| {
        client
            .get(app.url(path))
            .header("cookie", jar.clone())
            .send()
            .await
            .unwrap()
    };

    let r = get("/privacy/me/delete?lang=en").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"id="erased-support_tickets""#), "{html}");
    for kept in ["contact", "address", "payment"] {
        assert!(
            html.contains(&format!(r#"id="kept-{kept}""#)),
            "{kept} is kept"
        );
    }
    assert!(!html.contains(r#"id="kept-support_tickets""#));
    assert!(
        !html.contains(r#"id="kept-orders""#),
        "only categories the person has data in"
    );
    assert!(html.contains("Keeping accounts as the law requires"), "why");
    let this_year: i32 = mamori_core::format_time(mamori_core::now_ms())[..4]
        .parse()
        .unwrap();
    assert!(
        html.contains(&format!("Kept until <time datetime=\"{}-", this_year + 7)),
        "until when"
    );
    assert!(
        !html.contains("Ada bye"),
        "the page names categories, not values"
    );
    let r = get("/privacy/me/delete?lang=ja").await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("法令により保存が必要なもの")
    );
    let r = get("/privacy/me/delete?lang=fr").await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Ce que la loi nous oblige à conserver")
    );
    assert!(
        get("/privacy/me?lang=en")
            .await
            .text()
            .await
            .unwrap()
            .contains("/privacy/me/delete?lang=en")
    );

    let post = async |form: &[(&str, &str)], origin: Option<&str>| {
        let mut request = client
            .post(app.url("/privacy/me/delete"))
            .header("cookie", jar.clone())
            .form(form);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send().await.unwrap()
    };
    let live = async || {
        app.vault
            .store
            .subject(&subject)
            .await
            .unwrap()
            .unwrap()
            .erased_ms
            .is_none()
    };
    // Without the tick box: asked again, nothing erased.
    let r = post(&[("csrf", &csrf), ("lang", "en")], None).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Tick the box"));
    assert!(live().await);
    // From another site, or without the form token: refused, nothing erased.
    let r = post(
        &[("csrf", &csrf), ("lang", "en"), ("confirm", "yes")],
        Some("https://evil.example"),
    )
    .await;
    assert_ne!(r.status(), StatusCode::OK);
    let r = post(
        &[("csrf", "forged"), ("lang", "en"), ("confirm", "yes")],
        None,
    )
    .await;
    assert_ne!(r.status(), StatusCode::OK);
    let r = post(&[("lang", "en"), ("confirm", "yes")], None).await;
    assert_ne!(r.status(), StatusCode::OK);
    assert!(live().await);
    // Signed out: sent to sign in.
    let r = client
        .get(app.url("/privacy/sign-in"))
        .send()
        .await
        .unwrap();
    let browser = cookie_value(&set_cookie(&r, "mamori_csrf").unwrap());
    let token = form_csrf(&r.text().await.unwrap());
    let r = client
        .post(app.url("/privacy/me/delete"))
        .header("cookie", format!("mamori_csrf={browser}"))
        .form(&[("csrf", token.as_str()), ("lang", "en"), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(live().await);

    let r = post(&[("csrf", &csrf), ("lang", "en"), ("confirm", "yes")], None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let cleared = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().unwrap().starts_with("mamori_session=;"));
    assert!(cleared, "the browser forgets the session");
    let html = r.text().await.unwrap();
    assert!(html.contains("Your account is deleted"));
    assert!(html.contains(r#"id="kept-contact""#));
    let reference = html
        .split(r#"<code id="reference">"#)
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();

    let raw = app.vault.store.subject(&subject).await.unwrap().unwrap();
    assert!(raw.is_held(), "erased except what the law keeps");
    // The old session is gone: the pages send the person to sign in.
    let r = get("/privacy/me?lang=en").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        app.vault
            .start_sign_in("ada.bye@example.com")
            .await
            .unwrap()
            .code
            .is_none(),
        "the address is no longer known"
    );
    // The register holds the fulfilled erasure request, under the reference shown.
    let found: Value = officer(
        &app,
        Method::GET,
        &format!("/v1/requests?reference={reference}"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let request = &found["requests"][0];
    assert_eq!(request["reference"], reference.as_str());
    assert_eq!(request["kind"], "erasure");
    assert_eq!(request["state"], "fulfilled");
    assert_eq!(request["source"], "privacy_center");
    // Ledgered as the person's own erasure.
    let log = access_log_page(&app, &id, "").await;
    let erase = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "subject.erase")
        .expect("ledgered");
    assert_eq!(erase["role"], "self");
    assert_eq!(erase["categories"], json!(["support_tickets"]));
}

/// A DRP agent's message: base64 of the Ed25519 signature followed by the JSON.
fn drp_signed(key: &ed25519_dalek::SigningKey, message: &Value) -> String {
    use base64::Engine;
    use ed25519_dalek::Signer;
    let json = serde_json::to_vec(message).unwrap();
    let mut raw = key.sign(&json).to_bytes().to_vec();
    raw.extend_from_slice(&json);
    base64::engine::general_purpose::STANDARD.encode(raw)
}

fn drp_envelope(agent: &str, business: &str, issued_offset_s: i64, expires_offset_s: i64) -> Value {
    let at = |offset: i64| mamori_core::format_time(mamori_core::now_ms() + offset * 1000);
    json!({
        "agent-id": agent,
        "business-id": business,
        "issued-at": at(issued_offset_s),
        "expires-at": at(expires_offset_s),
        "drp.version": "0.9.4",
    })
}

/// Data Rights Protocol v0.9.4: an agent registered out of band pairs with a signed message,
/// files a signed request that lands in the register matched to the person, reads its status,
/// hears of staff's changes on its callback and revokes it. Bad signatures, expired or
/// future-dated messages, another business, unknown agents, other agents' tokens and requests
/// are refused and change nothing.
async fn drp_agents_file_and_track_requests(app: TestApp) {
    use base64::Engine;
    let b64 = |k: &ed25519_dalek::SigningKey| {
        base64::engine::general_purpose::STANDARD.encode(k.verifying_key().to_bytes())
    };
    let agent_key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let other_key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let operator = mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    };
    app.vault
        .register_agent(&operator, "TEST_AGENT", "Test agent", &b64(&agent_key))
        .await
        .unwrap();
    app.vault
        .register_agent(&operator, "OTHER_AGENT", "Other agent", &b64(&other_key))
        .await
        .unwrap();
    let bad = app
        .vault
        .register_agent(&operator, "BAD", "x", "not-a-key")
        .await
        .unwrap_err();
    assert_eq!(bad.code(), "invalid_value");
    let again = app
        .vault
        .register_agent(&operator, "TEST_AGENT", "x", &b64(&agent_key))
        .await
        .unwrap_err();
    assert_eq!(again.code(), "agent_exists");
    let business = "KITSUNE_GOODS_LTD";
    let client = reqwest::Client::new();
    let post = |path: &str, token: Option<&str>, body: String| {
        let mut r = client
            .post(app.url(path))
            .header("content-type", "text/plain")
            .body(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };

    // Pair-wise key setup: a bare 403 for anything wrong.
    for (url_agent, key, envelope) in [
        (
            "TEST_AGENT",
            &other_key,
            drp_envelope("TEST_AGENT", business, -5, 300),
        ),
        (
            "NOBODY",
            &agent_key,
            drp_envelope("NOBODY", business, -5, 300),
        ),
        (
            "TEST_AGENT",
            &agent_key,
            drp_envelope("OTHER_AGENT", business, -5, 300),
        ),
        (
            "TEST_AGENT",
            &agent_key,
            drp_envelope("TEST_AGENT", "ANOTHER_SHOP", -5, 300),
        ),
        (
            "TEST_AGENT",
            &agent_key,
            drp_envelope("TEST_AGENT", business, -600, -300),
        ),
        (
            "TEST_AGENT",
            &agent_key,
            drp_envelope("TEST_AGENT", business, 600, 900),
        ),
    ] {
        let r = post(
            &format!("/v1/agent/{url_agent}"),
            None,
            drp_signed(key, &envelope),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{envelope}");
        assert!(r.text().await.unwrap().is_empty());
    }
    let r = post("/v1/agent/TEST_AGENT", None, "%%% not base64".into())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let pair = async |agent: &str, key: &ed25519_dalek::SigningKey| -> String {
        let r = post(
            &format!("/v1/agent/{agent}"),
            None,
            drp_signed(key, &drp_envelope(agent, business, -5, 300)),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["agent-id"], agent);
        v["token"].as_str().unwrap().to_string()
    };
    let token = pair("TEST_AGENT", &agent_key).await;
    let other_token = pair("OTHER_AGENT", &other_key).await;
    let info = |agent: &str, t: &str| {
        client
            .get(app.url(&format!("/v1/agent/{agent}")))
            .bearer_auth(t.to_string())
            .send()
    };
    assert_eq!(
        info("TEST_AGENT", &token).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        info("TEST_AGENT", &other_token).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        info("TEST_AGENT", "forged").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );

    // A request, matched to the person by e-mail.
    let person = create(&app, &customer("drp")).await;
    let callback = common::receiver(0, false).await;
    let request = |envelope: Value, extra: Value| {
        let mut m = envelope;
        for (k, v) in extra.as_object().unwrap() {
            m[k] = v.clone();
        }
        m
    };
    let deletion = json!({"exercise": "deletion", "regime": "ccpa", "agent-request-id": "r-1",
        "email": "ada.drp@example.com", "email_verified": true, "status_callback": callback.url});
    let open_before = officer(&app, Method::GET, "/v1/requests", None)
        .await
        .json::<Value>()
        .await
        .unwrap()["requests"]
        .as_array()
        .unwrap()
        .len();
    let refused = [
        (
            drp_signed(
                &other_key,
                &request(
                    drp_envelope("TEST_AGENT", business, -5, 300),
                    deletion.clone(),
                ),
            ),
            Some(token.as_str()),
            StatusCode::FORBIDDEN,
        ),
        (
            drp_signed(
                &agent_key,
                &request(
                    drp_envelope("TEST_AGENT", business, -5, 300),
                    deletion.clone(),
                ),
            ),
            Some(other_token.as_str()),
            StatusCode::FORBIDDEN,
        ),
        (
            drp_signed(
                &agent_key,
                &request(
                    drp_envelope("TEST_AGENT", business, -5, 300),
                    deletion.clone(),
                ),
            ),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            drp_signed(
                &agent_key,
                &request(
                    drp_envelope("TEST_AGENT", business, -600, -1),
                    deletion.clone(),
                ),
            ),
            Some(token.as_str()),
            StatusCode::BAD_REQUEST,
        ),
        (
            drp_signed(
                &agent_key,
                &request(
                    drp_envelope("TEST_AGENT", "ANOTHER_SHOP", -5, 300),
                    deletion.clone(),
                ),
            ),
            Some(token.as_str()),
            StatusCode::FORBIDDEN,
        ),
        (
            drp_signed(
                &agent_key,
                &request(
                    drp_envelope("TEST_AGENT", business, -5, 300),
                    json!({"exercise": "sale:opt_in"}),
                ),
            ),
            Some(token.as_str()),
            StatusCode::BAD_REQUEST,
        ),
        (
            drp_signed(
                &agent_key,
                &request(
                    drp_envelope("TEST_AGENT", business, -5, 300),
                    json!({"exercise": "access", "regime": "hipaa"}),
                ),
            ),
            Some(token.as_str()),
            StatusCode::BAD_REQUEST,
        ),
        (
            "bm90IHNpZ25lZA==".to_string(),
            Some(token.as_str()),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (body, t, status) in refused {
        let r = post("/v1/data-rights-request", t, body).await.unwrap();
        assert_eq!(r.status(), status);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["code"], status.as_u16().to_string(), "{e}");
        assert!(e["message"].as_str().unwrap().len() > 10);
    }
    let open_after = officer(&app, Method::GET, "/v1/requests", None)
        .await
        .json::<Value>()
        .await
        .unwrap()["requests"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(open_before, open_after, "refused requests changed nothing");

    let r = post(
        "/v1/data-rights-request",
        Some(&token),
        drp_signed(
            &agent_key,
            &request(
                drp_envelope("TEST_AGENT", business, -5, 300),
                deletion.clone(),
            ),
        ),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let status: Value = r.json().await.unwrap();
    assert_eq!(status["status"], "open");
    assert_eq!(status["agent_request_id"], "r-1");
    let id = status["request_id"].as_str().unwrap().to_string();
    let received = status["received_at"].as_str().unwrap();
    assert!(status["expected_by"].as_str().unwrap() > received);
    let stored: Value = officer(&app, Method::GET, &format!("/v1/requests/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["kind"], "erasure");
    assert_eq!(stored["source"], "agent");
    assert_eq!(stored["jurisdiction"], "ccpa");
    assert_eq!(stored["subject"], person, "matched through the blind index");
    callback.wait_for(1).await;

    // Status: this agent only.
    let get = |t: &str| {
        client
            .get(app.url(&format!("/v1/data-rights-request/{id}")))
            .bearer_auth(t.to_string())
            .send()
    };
    let r = get(&token).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "open");
    assert_eq!(
        get(&other_token).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );

    // Staff take it on: the agent hears it on its callback.
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{id}/state"),
        Some(json!({"state": "in_progress"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let got = callback.wait_for(2).await;
    let pushed: Value = serde_json::from_str(&got[1].body).unwrap();
    assert_eq!(pushed["status"], "in_progress");
    assert_eq!(pushed["request_id"], id.as_str());
    assert!(
        !got[1].body.contains("ada.drp@example.com"),
        "no personal values in callbacks"
    );

    // Revoke: signed by the agent; by another agent's token refused; once only.
    let revoke = |t: &str, key: &ed25519_dalek::SigningKey| {
        client
            .delete(app.url(&format!("/v1/data-rights-request/{id}")))
            .bearer_auth(t.to_string())
            .header("content-type", "text/plain")
            .body(drp_signed(key, &json!({"reason": "changed my mind"})))
            .send()
    };
    assert_eq!(
        revoke(&token, &other_key).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        revoke(&other_token, &other_key).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let r = revoke(&token, &agent_key).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "revoked");
    assert_eq!(
        revoke(&token, &agent_key).await.unwrap().status(),
        StatusCode::CONFLICT
    );

    // Removing the agent ends its tokens.
    app.vault
        .remove_agent(&operator, "TEST_AGENT")
        .await
        .unwrap();
    assert_eq!(get(&token).await.unwrap().status(), StatusCode::FORBIDDEN);
    let leaves = app.vault.store.leaves(0, 100_000).await.unwrap();
    let by_agent = leaves
        .iter()
        .filter(|l| String::from_utf8_lossy(&l.data).contains("drp:TEST_AGENT"))
        .count();
    assert!(by_agent >= 4, "the agent's steps are ledgered ({by_agent})");
    let refusals = leaves
        .iter()
        .filter(|l| String::from_utf8_lossy(&l.data).contains("drp_verification_failed"))
        .count();
    assert!(
        refusals >= 8,
        "refused messages are ledgered as denials ({refusals})"
    );
    assert!(
        !leaves
            .iter()
            .any(|l| String::from_utf8_lossy(&l.data).contains("NOBODY")),
        "an unregistered agent id is not copied into the ledger"
    );
}

/// Two exports at once both give the whole answer; exports racing an erasure either finish
/// before it or answer that the person is erased (or kept only for the law) — never a partial
/// export, never an integrity failure.
async fn exports_race_erasure_cleanly(app: TestApp) {
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

async fn scrub(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/v1/scrub"))
        .bearer_auth(&app.keys["service"])
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn scrub_removes_personal_data_and_refuses_bad_input(app: TestApp) {
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

fn survey_definition(slug: &str) -> Value {
    let t = |en: &str, ja: &str, fr: &str| json!({"en": en, "ja": ja, "fr": fr});
    json!({
        "slug": slug,
        "mode": "anonymous",
        "title": t("How was your delivery?", "配送はいかがでしたか？", "Comment s'est passée votre livraison ?"),
        "questions": [
            {"id": "speed", "kind": "rating", "required": true, "text": t("How fast was it?", "速さは？", "Rapidité ?")},
            {"id": "recommend", "kind": "nps", "text": t("Would you recommend us?", "おすすめしますか？", "Nous recommanderiez-vous ?")},
            {"id": "where", "kind": "single", "text": t("Where was it left?", "どこに置かれましたか？", "Où a-t-il été déposé ?"),
             "choices": [{"id": "door", "text": t("At the door", "玄関", "À la porte")}, {"id": "locker", "text": t("In a locker", "宅配ロッカー", "En consigne")}]},
            {"id": "liked", "kind": "multiple", "text": t("What did you like?", "良かった点は？", "Qu'avez-vous aimé ?"),
             "choices": [{"id": "price", "text": t("Price", "価格", "Le prix")}, {"id": "packaging", "text": t("Packaging", "梱包", "L'emballage")}]},
            {"id": "comment", "kind": "text", "text": t("Anything else?", "その他", "Autre chose ?")}
        ]
    })
}

async fn respond(app: &TestApp, slug: &str, answers: Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/v1/surveys/{slug}/responses")))
        .json(&json!({"answers": answers}))
        .send()
        .await
        .unwrap()
}

/// The columns of the response table, straight from the database.
async fn survey_response_columns(app: &TestApp) -> Vec<String> {
    use sqlx::Row;
    match app.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
            sqlx::query("SELECT name FROM pragma_table_info('survey_responses') ORDER BY cid")
                .fetch_all(&pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect()
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
            sqlx::query("SELECT column_name::text FROM information_schema.columns WHERE table_name = 'survey_responses' ORDER BY ordinal_position")
                .fetch_all(&pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect()
        }
    }
}

/// An anonymous survey keeps answers only — no one, no address, no time beyond the day, free
/// text scrubbed — refuses bad answers without keeping anything, and its results hide every
/// group smaller than k.
async fn anonymous_surveys_keep_no_one_and_hide_small_groups(app: TestApp) {
    let r = officer(
        &app,
        Method::POST,
        "/v1/surveys",
        Some(survey_definition("delivery")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["slug"], "delivery");
    assert_eq!(v["open"], true);
    assert_eq!(v["k"], 5);

    // Bad definitions: a clear error each, and no survey.
    let mut missing_fr = survey_definition("d2");
    missing_fr["title"].as_object_mut().unwrap().remove("fr");
    let mut duplicate = survey_definition("d3");
    duplicate["questions"][1]["id"] = json!("speed");
    let mut choices_on_rating = survey_definition("d4");
    choices_on_rating["questions"][0]["choices"] =
        survey_definition("x")["questions"][2]["choices"].clone();
    let mut identified = survey_definition("d5");
    identified["mode"] = json!("identified");
    let mut bad_slug = survey_definition("d6");
    bad_slug["slug"] = json!("Not A Slug");
    let mut bad_window = survey_definition("d7");
    bad_window["opens"] = json!("2027-02-01");
    bad_window["closes"] = json!("2027-01-01");
    for (body, code) in [
        (missing_fr, "invalid_survey"),
        (duplicate, "invalid_survey"),
        (choices_on_rating, "invalid_survey"),
        (identified, "invalid_survey"),
        (bad_slug, "invalid_survey"),
        (bad_window, "invalid_survey"),
    ] {
        let r = officer(&app, Method::POST, "/v1/surveys", Some(body)).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    let mut unknown_key = survey_definition("d8");
    unknown_key["color"] = json!("red");
    let r = officer(&app, Method::POST, "/v1/surveys", Some(unknown_key)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = officer(
        &app,
        Method::POST,
        "/v1/surveys",
        Some(survey_definition("delivery")),
    )
    .await;
    problem(r, StatusCode::CONFLICT, "survey_exists").await;
    let r = app
        .as_role(Method::POST, "/v1/surveys", "support", "customer_support")
        .json(&survey_definition("by-support"))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "action_not_allowed_for_role").await;
    // Reading results is a policy permission too: analysts have it, support does not.
    let by_analyst = app
        .as_role(
            Method::GET,
            "/v1/surveys/delivery/results",
            "analyst",
            "analytics",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(by_analyst.status(), StatusCode::OK);
    let before = ledger_size(&app).await;
    for path in [
        "results",
        "results.csv",
        "charts/speed",
        "texts?question=comment",
    ] {
        let by_support = app
            .as_role(
                Method::GET,
                &format!("/v1/surveys/delivery/{path}"),
                "support",
                "customer_support",
            )
            .send()
            .await
            .unwrap();
        problem(
            by_support,
            StatusCode::FORBIDDEN,
            "action_not_allowed_for_role",
        )
        .await;
    }
    assert_eq!(
        ledger_size(&app).await,
        before + 4,
        "each refusal is ledgered"
    );
    let listed: Value = officer(&app, Method::GET, "/v1/surveys", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

    // Four responses: below k = 5, so the results show nothing.
    let canary = format!("canary{}@example.com", uuid::Uuid::new_v4().simple());
    for i in 0..4 {
        let r = respond(&app, "delivery", json!({"speed": 5, "recommend": 9, "where": "door", "liked": ["price"], "comment": format!("write to {canary} #{i}")})).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    let results = async |by: &str| -> Value {
        officer(
            &app,
            Method::GET,
            &format!("/v1/surveys/delivery/results{by}"),
            None,
        )
        .await
        .json()
        .await
        .unwrap()
    };
    let v = results("").await;
    assert_eq!(v["responses"], Value::Null);
    assert_eq!(v["suppressed"], true);

    // Bad answers: refused, named by question, never echoed, nothing kept.
    for (answers, code) in [
        (json!({"speed": 6}), "out_of_range"),
        (json!({"speed": "fast"}), "out_of_range"),
        (json!({"speed": 3, "recommend": 11}), "out_of_range"),
        (json!({"speed": 3, "where": "roof"}), "unknown_choice"),
        (
            json!({"speed": 3, "liked": ["price", "smell"]}),
            "unknown_choice",
        ),
        (json!({"speed": 3, "liked": [1]}), "invalid_answer"),
        (
            json!({"speed": 3, "comment": "x".repeat(2001)}),
            "answer_too_long",
        ),
        (json!({"recommend": 8}), "answer_required"),
        (
            json!({"speed": 3, "secret-question-canary": "1"}),
            "unknown_question",
        ),
    ] {
        let body = problem(
            respond(&app, "delivery", answers).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
        )
        .await;
        assert!(
            !body.to_string().contains("canary") && !body.to_string().contains("roof"),
            "{body}"
        );
    }
    let r = respond(&app, "nowhere", json!({"speed": 3})).await;
    problem(r, StatusCode::NOT_FOUND, "survey_not_found").await;

    // Six more: ten in all. Cells of fewer than five stay hidden.
    for i in 0..6 {
        let (speed, place) = if i < 5 { (4, "locker") } else { (1, "door") };
        let r = respond(
            &app,
            "delivery",
            json!({"speed": speed, "recommend": 3, "where": place, "comment": "ok"}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    let v = results("").await;
    assert_eq!(v["responses"], 10, "{v}");
    let speed = &v["questions"][0];
    assert_eq!(speed["answered"], 10);
    assert_eq!(speed["mean"], json!((4.0 * 5.0 + 5.0 * 4.0 + 1.0) / 10.0));
    let histogram = speed["histogram"].as_array().unwrap();
    assert_eq!(histogram[3], json!({"value": 4, "count": 5}));
    assert_eq!(
        histogram[4],
        json!({"value": 5, "count": null, "suppressed": true}),
        "4 fives is below k"
    );
    assert_eq!(histogram[0]["suppressed"], true);
    let texts = v["questions"][4]["texts"].as_array().unwrap();
    assert_eq!(texts.len(), 10);
    assert!(texts.iter().all(|t| !t.as_str().unwrap().contains(&canary)));
    assert!(
        texts
            .iter()
            .any(|t| t.as_str().unwrap().starts_with("write to [EMAIL]")),
        "{texts:?}"
    );
    // By where it was left: 5 at a locker (shown), 5 at the door (shown); their speeds below k hidden.
    let v = results("?by=where").await;
    let groups = v["breakdown"]["groups"].as_array().unwrap();
    assert_eq!(groups[0]["choice"], "door");
    assert_eq!(groups[0]["count"], 5);
    assert_eq!(groups[1]["count"], 5);
    assert_eq!(groups[1]["questions"][0]["histogram"][3]["count"], 5);
    assert_eq!(
        groups[0]["questions"][0]["histogram"][4]["suppressed"],
        true
    );
    assert!(
        groups.iter().all(|g| g["questions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|q| q["id"] != "comment")),
        "no free text in breakdowns"
    );
    for by in ["?by=comment", "?by=speed", "?by=nothing"] {
        let r = officer(
            &app,
            Method::GET,
            &format!("/v1/surveys/delivery/results{by}"),
            None,
        )
        .await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_breakdown").await;
    }

    // Charts drawn on the server, hidden cells drawn as hidden; CSV of aggregates only.
    let r = officer(
        &app,
        Method::GET,
        "/v1/surveys/delivery/charts/speed?lang=en",
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let svg = r.text().await.unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("How fast was it? (mean 4.10)"),
        "{svg}"
    );
    assert_eq!(
        svg.matches("fewer than 5: hidden").count(),
        4,
        "1, 2, 3 and 5 are below k: {svg}"
    );
    assert!(!svg.contains("<script"));
    let r = officer(
        &app,
        Method::GET,
        "/v1/surveys/delivery/charts/speed?lang=fr",
        None,
    )
    .await;
    let svg = r.text().await.unwrap();
    assert!(svg.contains("4,10)"), "a decimal comma in French: {svg}");
    assert!(
        svg.contains("moins de 5\u{202f}: masqué"),
        "a narrow space before the colon: {svg}"
    );
    let r = officer(
        &app,
        Method::GET,
        "/v1/surveys/delivery/charts/where?lang=ja",
        None,
    )
    .await;
    let svg = r.text().await.unwrap();
    assert!(svg.contains("宅配ロッカー"), "{svg}");
    assert!(
        !svg.contains(": "),
        "Japanese typography (full-width colon): {svg}"
    );
    let r = officer(
        &app,
        Method::GET,
        "/v1/surveys/delivery/charts/speed?lang=ja",
        None,
    )
    .await;
    assert!(
        r.text().await.unwrap().contains("（平均 4.10）"),
        "full-width brackets"
    );
    let r = officer(
        &app,
        Method::GET,
        "/v1/surveys/delivery/charts/comment",
        None,
    )
    .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_question").await;
    let r = officer(&app, Method::GET, "/v1/surveys/delivery/results.csv", None).await;
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = r.text().await.unwrap();
    assert!(
        csv.starts_with("question,kind,value,count,suppressed\n"),
        "{csv}"
    );
    assert!(
        csv.contains("speed,rating,4,5,false\n") && csv.contains("speed,rating,5,,true\n"),
        "{csv}"
    );
    assert!(
        !csv.contains("canary") && !csv.contains("write to"),
        "aggregates only: {csv}"
    );

    // What is stored: answers and the day, under random ids; nothing about the sender.
    assert_eq!(
        survey_response_columns(&app).await,
        ["id", "survey_id", "day", "answers", "coded", "texts"]
    );
    let survey = app.vault.store.survey("delivery").await.unwrap().unwrap();
    let stored = app.vault.store.survey_answers(&survey.id).await.unwrap();
    assert_eq!(stored.len(), 10);
    assert!(stored.iter().all(|a| !a.contains(&canary)));
    let texts = app.vault.store.survey_texts(&survey.id, 100).await.unwrap();
    assert_eq!(texts.len(), 10);
    assert!(texts.iter().all(|t| !t.contains(&canary)));
    for file in app.sqlite_files() {
        let bytes = std::fs::read(file).unwrap();
        assert!(
            !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
            "the canary reached the database"
        );
    }
    let logs = String::from_utf8_lossy(&common::captured_logs().lock().unwrap()).to_string();
    assert!(!logs.contains(&canary), "the canary reached the logs");

    // Closed: no more responses.
    assert_eq!(
        officer(&app, Method::POST, "/v1/surveys/delivery/close", None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    problem(
        respond(&app, "delivery", json!({"speed": 3})).await,
        StatusCode::CONFLICT,
        "survey_closed",
    )
    .await;
    problem(
        officer(&app, Method::POST, "/v1/surveys/delivery/close", None).await,
        StatusCode::CONFLICT,
        "survey_closed",
    )
    .await;
    assert_eq!(results("").await["responses"], 10);
}

/// The survey page in three languages: a form that needs no script, a thank-you page, and a
/// refusal in the page's language that does not repeat what was typed.
async fn survey_pages_take_answers_in_three_languages(app: TestApp) {
    let r = officer(
        &app,
        Method::POST,
        "/v1/surveys",
        Some(survey_definition("pages")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    for (lang, title, anonymous) in [
        ("en", "How was your delivery?", "This survey is anonymous"),
        ("ja", "配送はいかがでしたか？", "このアンケートは匿名です"),
        (
            "fr",
            "Comment s&#39;est passée votre livraison ?",
            "Ce questionnaire est anonyme",
        ),
    ] {
        let r = app
            .client
            .get(app.url(&format!("/survey/pages?lang={lang}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("script"),
            "{csp}"
        );
        assert!(
            r.headers().get("set-cookie").is_none(),
            "no cookie on a survey page"
        );
        let html = r.text().await.unwrap();
        assert!(
            html.contains(&format!("lang=\"{lang}\""))
                && html.contains(title)
                && html.contains(anonymous),
            "{html}"
        );
        assert!(!html.contains("<script"));
    }
    let post = async |lang: &str, form: &[(&str, &str)]| {
        app.client
            .post(app.url(&format!("/survey/pages?lang={lang}")))
            .form(form)
            .send()
            .await
            .unwrap()
    };
    let r = post(
        "fr",
        &[
            ("a_speed", "4"),
            ("a_liked", "price"),
            ("a_liked", "packaging"),
            ("a_comment", "appelez le 06 12 34 56 78"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Merci pour votre réponse"));
    let r = post(
        "ja",
        &[("a_speed", "9"), ("a_comment", "typed-canary-value")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("「速さは？」は選択肢から選んでください。"),
        "{html}"
    );
    assert!(!html.contains("typed-canary-value"));
    let r = post("en", &[("a_comment", "no rating")]).await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Please answer “How fast was it?”.")
    );
    let survey = app.vault.store.survey("pages").await.unwrap().unwrap();
    let stored = app.vault.store.survey_answers(&survey.id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(
        stored[0].contains("[PHONE]") && !stored[0].contains("06 12"),
        "{stored:?}"
    );
    let r = app
        .client
        .get(app.url("/survey/no-such-survey"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// Every blob the query returns (all its columns are blobs), straight from the database.
async fn stored_blobs(app: &TestApp, sql: &'static str) -> Vec<Vec<u8>> {
    use sqlx::Row;
    let rows: Vec<Vec<Vec<u8>>> = match app.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
            let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
            rows.iter()
                .map(|r| (0..r.len()).map(|i| r.get::<Vec<u8>, _>(i)).collect())
                .collect()
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
            let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
            rows.iter()
                .map(|r| (0..r.len()).map(|i| r.get::<Vec<u8>, _>(i)).collect())
                .collect()
        }
    };
    rows.into_iter().flatten().collect()
}

/// The actions ledgered from leaf `from` on, but for re-keys running after an erasure.
async fn actions_since(app: &TestApp, from: u64) -> Vec<String> {
    app.vault.ledger.flush().await.unwrap();
    let mut out = Vec::new();
    let mut leaves = app.vault.store.stream_leaves(from);
    while let Some(batch) = leaves.recv().await {
        for leaf in batch.unwrap() {
            let event = mamori_ledger::Event::from_leaf_data(&leaf.data).unwrap();
            if event.action != "subject.rekey" {
                out.push(event.action);
            }
        }
    }
    out
}

fn invited_definition(slug: &str) -> Value {
    let mut d = survey_definition(slug);
    d["access"] = json!("invited");
    d
}

async fn invite(app: &TestApp, slug: &str, subjects: &[&str]) -> Vec<Value> {
    let r = officer(
        app,
        Method::POST,
        &format!("/v1/surveys/{slug}/invitations"),
        Some(json!({"subjects": subjects})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["invitations"]
        .as_array()
        .unwrap()
        .clone()
}

/// The code in an invitation's link (`/survey/{slug}#invitation=CODE`).
fn invitation_code(invitation: &Value) -> String {
    let link = invitation["link"].as_str().unwrap();
    link.split_once("#invitation=").unwrap().1.to_string()
}

async fn issuer_key(app: &TestApp, slug: &str) -> mamori_blind::IssuerPublic {
    use base64::Engine;
    let r = app
        .client
        .get(app.url(&format!("/v1/surveys/{slug}/issuer")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["variant"], "RSABSSA-SHA384-PSS-Randomized");
    let der = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(v["public_key"].as_str().unwrap())
        .unwrap();
    mamori_blind::IssuerPublic::from_der(&der).unwrap()
}

async fn ask_token(app: &TestApp, slug: &str, code: &str, blinded: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/v1/surveys/{slug}/tokens")))
        .json(&json!({"invitation": code, "blinded_token": blinded}))
        .send()
        .await
        .unwrap()
}

/// What the browser does: blind a fresh token, have it signed with the invitation, unblind.
/// Returns the token and what the server saw (blinded token, blind signature).
async fn obtain_token(
    app: &TestApp,
    slug: &str,
    code: &str,
) -> (mamori_blind::Token, Vec<u8>, Vec<u8>) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let public = issuer_key(app, slug).await;
    let (pending, blinded) = mamori_blind::client::request(&public).unwrap();
    let r = ask_token(app, slug, code, &b64.encode(&blinded)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let signature = b64.decode(v["blind_signature"].as_str().unwrap()).unwrap();
    let token = pending.finalize(&signature).unwrap();
    (token, blinded, signature)
}

async fn respond_with(app: &TestApp, slug: &str, token: Option<&[u8]>) -> reqwest::Response {
    use base64::Engine;
    let mut body = json!({"answers": {"speed": 4, "comment": "fine"}});
    if let Some(t) = token {
        body["token"] = json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(t));
    }
    app.client
        .post(app.url(&format!("/v1/surveys/{slug}/responses")))
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// An invited survey takes one response per invitation, through a blind-signed token (RFC 9474):
/// a second use, a forged token, one from another survey and a second token for one invitation
/// are all refused; and nothing stored at issuance and at redemption links the two.
async fn invited_surveys_take_one_unlinkable_response_each(app: TestApp) {
    for slug in ["panel", "other"] {
        let r = officer(
            &app,
            Method::POST,
            "/v1/surveys",
            Some(invited_definition(slug)),
        )
        .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(r.json::<Value>().await.unwrap()["access"], "invited");
    }
    let open = officer(
        &app,
        Method::POST,
        "/v1/surveys",
        Some(survey_definition("open")),
    )
    .await;
    assert_eq!(open.status(), StatusCode::CREATED);
    let alice = create(&app, &customer_without_phone("inv-alice")).await;
    let bob = create(&app, &customer_without_phone("inv-bob")).await;
    let gone = create(&app, &customer_without_phone("inv-gone")).await;
    let erased = officer(&app, Method::DELETE, &format!("/v1/subjects/{gone}"), None).await;
    assert!(erased.status().is_success());
    let nobody = uuid::Uuid::new_v4().to_string();

    // Invitations: one per live subject, each leaving a ledger event about that subject.
    let before = ledger_size(&app).await;
    let sent = invite(&app, "panel", &[&alice, &bob, &gone, &nobody]).await;
    assert_eq!(sent[0]["status"], "invited");
    assert_eq!(sent[1]["status"], "invited");
    assert_eq!(sent[2]["reason"], "subject_erased");
    assert_eq!(sent[3]["reason"], "subject_not_found");
    assert_eq!(actions_since(&app, before).await, ["survey.invite"; 2]);
    let (alice_code, bob_code) = (invitation_code(&sent[0]), invitation_code(&sent[1]));
    let other = invite(&app, "other", &[&alice]).await;
    let other_code = invitation_code(&other[0]);

    // Bad invitations change nothing.
    let bad = [
        (
            json!({"subjects": []}),
            "/v1/surveys/panel/invitations",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_invitations",
        ),
        (
            json!({"subjects": ["not-a-uuid"]}),
            "/v1/surveys/panel/invitations",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_subject_id",
        ),
        (
            json!({"subjects": [alice]}),
            "/v1/surveys/open/invitations",
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_invited_survey",
        ),
        (
            json!({"subjects": [alice], "extra": 1}),
            "/v1/surveys/panel/invitations",
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ];
    for (body, path, status, code) in bad {
        problem(
            officer(&app, Method::POST, path, Some(body)).await,
            status,
            code,
        )
        .await;
    }
    let by_support = app
        .as_role(
            Method::POST,
            "/v1/surveys/panel/invitations",
            "support",
            "customer_support",
        )
        .json(&json!({"subjects": [alice]}))
        .send()
        .await
        .unwrap();
    problem(
        by_support,
        StatusCode::FORBIDDEN,
        "action_not_allowed_for_role",
    )
    .await;
    assert_eq!(
        actions_since(&app, before).await,
        [
            "survey.invite",
            "survey.invite",
            "survey.invite",
            "survey.invite"
        ],
        "the denial is ledgered"
    );

    // Issuance writes no ledger event and keeps nothing of what it saw.
    let before = ledger_size(&app).await;
    let (alice_token, alice_blinded, alice_signature) =
        obtain_token(&app, "panel", &alice_code).await;
    let (bob_token, _, _) = obtain_token(&app, "panel", &bob_code).await;
    let (other_token, _, _) = obtain_token(&app, "other", &other_code).await;
    assert!(actions_since(&app, before).await.is_empty());

    // One token per invitation; unknown codes and malformed blinded tokens are refused.
    let public = issuer_key(&app, "panel").await;
    let (_, again) = mamori_blind::client::request(&public).unwrap();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    problem(
        ask_token(&app, "panel", &alice_code, &b64.encode(&again)).await,
        StatusCode::CONFLICT,
        "token_issued",
    )
    .await;
    problem(
        ask_token(&app, "panel", "made-up-code", &b64.encode(&again)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_invitation",
    )
    .await;
    problem(
        ask_token(&app, "other", &bob_code, &b64.encode(&again)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_invitation",
    )
    .await;
    problem(
        ask_token(&app, "open", &bob_code, &b64.encode(&again)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_invited_survey",
    )
    .await;
    for (slug, status, code) in [
        (
            "open",
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_invited_survey",
        ),
        ("nope", StatusCode::NOT_FOUND, "survey_not_found"),
    ] {
        let r = app
            .client
            .get(app.url(&format!("/v1/surveys/{slug}/issuer")))
            .send()
            .await
            .unwrap();
        problem(r, status, code).await;
    }
    let carol = create(&app, &customer_without_phone("inv-carol")).await;
    let carol_code = invitation_code(&invite(&app, "panel", &[&carol]).await[0]);
    problem(
        ask_token(&app, "panel", &carol_code, "***").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_blinded_token",
    )
    .await;
    problem(
        ask_token(&app, "panel", &carol_code, &b64.encode([1u8; 12])).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_blinded_token",
    )
    .await;
    // Refusals did not use Carol's invitation up.
    let (carol_token, _, _) = obtain_token(&app, "panel", &carol_code).await;
    // A second invitation of someone who had their token is refused.
    assert_eq!(
        invite(&app, "panel", &[&alice]).await[0]["reason"],
        "token_issued"
    );

    // Responses: a token is required, must be this survey's and unaltered, and works once.
    let survey = app.vault.store.survey("panel").await.unwrap().unwrap();
    let responses = || async {
        app.vault
            .store
            .survey_answers(&survey.id)
            .await
            .unwrap()
            .len()
    };
    problem(
        respond_with(&app, "panel", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "token_required",
    )
    .await;
    problem(
        respond_with(&app, "panel", Some(&other_token.to_bytes())).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_token",
    )
    .await;
    let mut forged = alice_token.to_bytes();
    forged[70] ^= 1;
    problem(
        respond_with(&app, "panel", Some(&forged)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_token",
    )
    .await;
    problem(
        respond_with(&app, "panel", Some(&[9u8; 40])).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_token",
    )
    .await;
    assert_eq!(responses().await, 0);
    let before = ledger_size(&app).await;
    // Redeemed in another order than issued.
    for token in [&bob_token, &carol_token, &alice_token] {
        assert_eq!(
            respond_with(&app, "panel", Some(&token.to_bytes()))
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
    }
    problem(
        respond_with(&app, "panel", Some(&alice_token.to_bytes())).await,
        StatusCode::CONFLICT,
        "token_used",
    )
    .await;
    // Bad answers with a good token keep nothing, and leave the token unspent.
    let (dave_token, dave_code) = {
        let dave = create(&app, &customer_without_phone("inv-dave")).await;
        let code = invitation_code(&invite(&app, "panel", &[&dave]).await[0]);
        (obtain_token(&app, "panel", &code).await.0, code)
    };
    let mut bad_answers =
        json!({"answers": {"speed": 9}, "token": b64.encode(dave_token.to_bytes())});
    let r = app
        .client
        .post(app.url("/v1/surveys/panel/responses"))
        .json(&bad_answers)
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range").await;
    bad_answers["answers"] = json!({"speed": 3});
    let r = app
        .client
        .post(app.url("/v1/surveys/panel/responses"))
        .json(&bad_answers)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(responses().await, 4);
    assert_eq!(
        actions_since(&app, before).await,
        ["subject.create", "survey.invite"],
        "only Dave's creation and invitation are ledgered: responses and tokens leave nothing"
    );
    // The other survey's token still works there.
    assert_eq!(
        respond_with(&app, "other", Some(&other_token.to_bytes()))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    // An open survey ignores tokens altogether.
    assert_eq!(
        respond_with(&app, "open", None).await.status(),
        StatusCode::NO_CONTENT
    );

    // Unlinkable: what is stored about invitations (who, the code's digest, the day, whether the
    // token went out) shares nothing with what is stored about responses (the spent token's
    // digest, a random id, the answers, the day) beyond the survey and the day.
    let invitations = stored_blobs(
        &app,
        "SELECT subject_id, code_digest FROM survey_invitations",
    )
    .await;
    let spent = stored_blobs(&app, "SELECT digest FROM survey_spent_tokens").await;
    let answers = stored_blobs(&app, "SELECT id, coded FROM survey_responses").await;
    assert_eq!(spent.len(), 5, "four in panel, one in other");
    for token in [&alice_token, &bob_token, &carol_token, &dave_token] {
        assert!(spent.contains(&token.spent_digest().to_vec()));
    }
    for issued in &invitations {
        for redeemed in spent.iter().chain(&answers) {
            assert!(!contains(redeemed, issued) && !contains(issued, redeemed));
        }
    }
    let _ = dave_code;
    // What the server saw at issuance is stored nowhere, nor is any token itself.
    if app.backend == Backend::Sqlite {
        app.vault.ledger.flush().await.unwrap();
        for file in app.sqlite_files() {
            let bytes = std::fs::read(&file).unwrap();
            for secret in [
                &alice_blinded[..32],
                &alice_signature[..32],
                &alice_token.message[..],
                &alice_token.signature[..32],
                &alice_token.randomizer[..],
            ] {
                assert!(
                    !contains(&bytes, secret),
                    "{} holds issuance or token bytes",
                    file.display()
                );
            }
            assert!(
                !contains(&bytes, alice_code.as_bytes()),
                "the invitation code is stored"
            );
        }
    }
    let logs = String::from_utf8_lossy(&common::captured_logs().lock().unwrap()).to_string();
    assert!(!logs.contains(&alice_code) && !logs.contains(&b64.encode(alice_token.to_bytes())));

    // Erasing a subject removes their invitation.
    let before_erase = stored_blobs(&app, "SELECT subject_id FROM survey_invitations")
        .await
        .len();
    let r = officer(&app, Method::DELETE, &format!("/v1/subjects/{bob}"), None).await;
    assert!(r.status().is_success());
    let after_erase = stored_blobs(&app, "SELECT subject_id FROM survey_invitations")
        .await
        .len();
    assert_eq!(after_erase, before_erase - 1);

    // Closed: no tokens either.
    let eve = create(&app, &customer_without_phone("inv-eve")).await;
    let eve_code = invitation_code(&invite(&app, "panel", &[&eve]).await[0]);
    assert_eq!(
        officer(&app, Method::POST, "/v1/surveys/panel/close", None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    problem(
        ask_token(&app, "panel", &eve_code, &b64.encode(&again)).await,
        StatusCode::CONFLICT,
        "survey_closed",
    )
    .await;
}

async fn release(app: &TestApp, slug: &str, body: Value) -> reqwest::Response {
    officer(
        app,
        Method::POST,
        &format!("/v1/surveys/{slug}/releases"),
        Some(body),
    )
    .await
}

/// A differentially private survey shows no exact results; each release adds noise (OpenDP)
/// and spends part of the ε budget, the rest is shown, and releases stop when it is spent.
async fn private_releases_spend_a_budget_and_stop(app: TestApp) {
    let mut definition = survey_definition("private");
    definition["results"] = json!("differential_privacy");
    definition["epsilon_budget"] = json!(1.0);
    // Bad budgets are refused.
    for (results, budget) in [
        ("exact", json!(1.0)),
        ("differential_privacy", json!(0)),
        ("differential_privacy", json!(11)),
    ] {
        let mut bad = definition.clone();
        bad["slug"] = json!("bad-budget");
        bad["results"] = json!(results);
        bad["epsilon_budget"] = budget;
        let r = officer(&app, Method::POST, "/v1/surveys", Some(bad)).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_survey").await;
    }
    let r = officer(&app, Method::POST, "/v1/surveys", Some(definition)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        r.json::<Value>().await.unwrap()["results"],
        "differential_privacy"
    );
    let exact = officer(
        &app,
        Method::POST,
        "/v1/surveys",
        Some(survey_definition("exact")),
    )
    .await;
    assert_eq!(exact.status(), StatusCode::CREATED);
    // Too few answers for a release: refused before any ε is spent.
    let r = release(&app, "private", json!({"epsilon": 0.25})).await;
    problem(r, StatusCode::CONFLICT, "too_few_responses").await;
    let releases: Value = officer(&app, Method::GET, "/v1/surveys/private/releases", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(releases["budget"]["epsilon_spent"], 0.0, "{releases}");
    // Straight through the vault: over HTTP, one address may send only so many per minute.
    for i in 0..40 {
        let raw = mamori_core::surveys::RawAnswers::from([
            ("speed".to_string(), vec![(1 + i % 5).to_string()]),
            (
                "where".to_string(),
                vec![if i < 30 { "door" } else { "locker" }.to_string()],
            ),
        ]);
        app.vault.respond("private", &raw, None).await.unwrap();
    }

    // No exact results, in any form.
    for path in ["results", "results.csv", "charts/speed"] {
        let r = officer(
            &app,
            Method::GET,
            &format!("/v1/surveys/private/{path}"),
            None,
        )
        .await;
        problem(r, StatusCode::CONFLICT, "exact_results_withheld").await;
    }
    let listed: Value = officer(&app, Method::GET, "/v1/surveys/private/releases", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["budget"],
        json!({"epsilon_total": 1.0, "epsilon_spent": 0.0, "epsilon_remaining": 1.0})
    );
    assert_eq!(listed["releases"], json!([]));

    // Bad releases change nothing.
    for epsilon in [json!(0), json!(-1), json!(10.5)] {
        problem(
            release(&app, "private", json!({"epsilon": epsilon})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_epsilon",
        )
        .await;
    }
    problem(
        release(&app, "private", json!({"epsilon": "a lot"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    )
    .await;
    problem(
        release(&app, "exact", json!({"epsilon": 0.1})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_differentially_private",
    )
    .await;
    problem(
        release(&app, "nope", json!({"epsilon": 0.1})).await,
        StatusCode::NOT_FOUND,
        "survey_not_found",
    )
    .await;
    let by_support = app
        .as_role(
            Method::POST,
            "/v1/surveys/private/releases",
            "support",
            "customer_support",
        )
        .json(&json!({"epsilon": 0.1}))
        .send()
        .await
        .unwrap();
    problem(
        by_support,
        StatusCode::FORBIDDEN,
        "action_not_allowed_for_role",
    )
    .await;

    // Releases spend the budget, and say what is left.
    let before = ledger_size(&app).await;
    let mut seen = Vec::new();
    for (epsilon, remaining) in [(0.4, 0.6), (0.5, 0.1)] {
        let r = release(&app, "private", json!({"epsilon": epsilon})).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        let left = v["budget"]["epsilon_remaining"].as_f64().unwrap();
        assert!((left - remaining).abs() < 1e-5, "{v}");
        let spent = v["release"]["epsilon"].as_f64().unwrap();
        assert!(spent <= epsilon && spent > epsilon * 0.999, "{v}");
        // Noisy, but near the truth: four 95% margins is a miss once in 160,000.
        let responses = v["release"]["responses"].as_i64().unwrap();
        let margin = v["release"]["responses_margin_95"].as_i64().unwrap();
        assert!((responses - 40).abs() <= 4 * margin, "{v}");
        let speed = &v["release"]["questions"][0];
        assert_eq!(speed["id"], "speed");
        assert_eq!(speed["histogram"].as_array().unwrap().len(), 5);
        assert!(
            speed["histogram"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["count"].as_i64().unwrap() >= 0)
        );
        if let Some(mean) = speed["mean"].as_f64() {
            assert!((1.0..=5.0).contains(&mean));
        }
        assert!(
            v["release"]["questions"][4].get("texts").is_none(),
            "texts are never released"
        );
        seen.push(v["release"].clone());
    }
    assert_eq!(ledger_size(&app).await, before + 2);
    // The truth is 8 per rating and 30/10 per place: noise moved at least one of them.
    let exact_counts = [8, 8, 8, 8, 8, 30, 10];
    let released = |r: &Value| -> Vec<i64> {
        let q = r["questions"].as_array().unwrap();
        q[0]["histogram"]
            .as_array()
            .unwrap()
            .iter()
            .chain(q[2]["choices"].as_array().unwrap())
            .map(|c| c["count"].as_i64().unwrap())
            .collect()
    };
    assert!(
        seen.iter().any(|r| released(r) != exact_counts),
        "no noise in {seen:?}"
    );

    // Beyond the budget: refused, nothing spent.
    let r = release(&app, "private", json!({"epsilon": 0.2})).await;
    let body = problem(r, StatusCode::CONFLICT, "budget_exhausted").await;
    assert!(body["detail"].as_str().unwrap().contains("0.1"), "{body}");
    let r = release(&app, "private", json!({"epsilon": 0.1})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = release(&app, "private", json!({"epsilon": 0.000001})).await;
    problem(r, StatusCode::CONFLICT, "budget_exhausted").await;

    let r = officer(&app, Method::GET, "/v1/surveys/exact/releases", None).await;
    problem(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_differentially_private",
    )
    .await;
    // Releases are kept: reading them again spends nothing.
    let listed: Value = officer(&app, Method::GET, "/v1/surveys/private/releases", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["releases"].as_array().unwrap().len(), 3);
    assert_eq!(listed["releases"][0], seen[0]);
    assert!(listed["budget"]["epsilon_remaining"].as_f64().unwrap() < 1e-5);
    let r = app
        .client
        .get(app.url("/v1/surveys/private/releases"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

/// The privacy officer's report: requests open and overdue, surveys, and the built-in survey's
/// results with small groups still hidden and no free text; only for the officer, ledgered.
async fn the_privacy_report_shows_requests_surveys_and_sentiment(app: TestApp) {
    let report = || async {
        let r = officer(&app, Method::GET, "/v1/reports/privacy", None).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()
    };
    let empty = report().await;
    assert_eq!(empty["requests"]["open"], 0);
    assert_eq!(empty["customer_sentiment"]["available"], false);

    let survey = mamori_core::surveys::Survey::from_toml(
        &app.vault.policy,
        include_str!("../../../examples/survey.toml"),
    )
    .unwrap();
    app.vault
        .create_survey(
            &mamori_core::Actor {
                id: "cli".into(),
                role: "privacy_officer".into(),
            },
            survey,
        )
        .await
        .unwrap();
    let canary = "report-canary@example.com";
    for (trust, clear) in [
        (5, "yes"),
        (4, "yes"),
        (4, "yes"),
        (2, "no"),
        (5, "yes"),
        (3, "partly"),
    ] {
        let raw = mamori_core::surveys::RawAnswers::from([
            ("trust".to_string(), vec![trust.to_string()]),
            ("clear".to_string(), vec![clear.to_string()]),
            ("comment".to_string(), vec![format!("mail me at {canary}")]),
        ]);
        app.vault
            .respond(mamori_core::report::BUILTIN_SURVEY_SLUG, &raw, None)
            .await
            .unwrap();
    }
    let ada = create(&app, &customer("report")).await;
    let late = json!({"kind": "access", "subject": ada, "jurisdiction": "gdpr", "received_at": mamori_core::format_time(mamori_core::now_ms() - 40 * 86_400_000)});
    assert_eq!(
        officer(&app, Method::POST, "/v1/requests", Some(late))
            .await
            .status(),
        StatusCode::CREATED
    );
    let fresh = json!({"kind": "erasure", "subject": ada, "jurisdiction": "gdpr"});
    assert_eq!(
        officer(&app, Method::POST, "/v1/requests", Some(fresh))
            .await
            .status(),
        StatusCode::CREATED
    );

    let before = ledger_size(&app).await;
    let v = report().await;
    assert_eq!(
        ledger_size(&app).await,
        before + 1,
        "reading the report is ledgered"
    );
    assert_eq!(v["requests"]["open"], 2);
    assert_eq!(v["requests"]["overdue"], 1);
    let s = &v["customer_sentiment"];
    assert_eq!(s["responses"], 6);
    let trust = &s["questions"][0];
    assert_eq!(trust["id"], "trust");
    assert!((trust["mean"].as_f64().unwrap() - 23.0 / 6.0).abs() < 1e-9);
    // "yes" (4) is below k = 5: still hidden, and ranked last as unknown.
    let clear = &s["questions"][1];
    assert!(
        clear["choices"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["suppressed"] == true),
        "{clear}"
    );
    let text = v.to_string();
    assert!(
        !text.contains(canary) && !text.contains("[EMAIL]"),
        "no free text in the report"
    );
    assert!(text.contains("how-we-use-your-data"));
    assert!(v["ledger"]["size"].as_u64().unwrap() > 0);

    let r = officer(
        &app,
        Method::GET,
        "/v1/reports/privacy?format=markdown",
        None,
    )
    .await;
    assert_eq!(r.headers()["content-type"], "text/markdown; charset=utf-8");
    let md = r.text().await.unwrap();
    assert!(
        md.contains("- Overdue: 1")
            && md.contains("6 responses.")
            && md.contains("trust: mean 3.83"),
        "{md}"
    );
    problem(
        officer(&app, Method::GET, "/v1/reports/privacy?format=pdf", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_format",
    )
    .await;
    let by_support = app
        .as_role(
            Method::GET,
            "/v1/reports/privacy",
            "support",
            "customer_support",
        )
        .send()
        .await
        .unwrap();
    problem(
        by_support,
        StatusCode::FORBIDDEN,
        "action_not_allowed_for_role",
    )
    .await;
    let anonymous = app
        .client
        .get(app.url("/v1/reports/privacy"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

/// Free-text answers are listed a page at a time, scrubbed, and only once k people wrote one.
async fn free_text_answers_are_listed_a_page_at_a_time(app: TestApp) {
    let r = officer(
        &app,
        Method::POST,
        "/v1/surveys",
        Some(survey_definition("texts")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let answer = |comment: Option<String>| {
        let mut raw =
            mamori_core::surveys::RawAnswers::from([("speed".to_string(), vec!["3".to_string()])]);
        if let Some(c) = comment {
            raw.insert("comment".to_string(), vec![c]);
        }
        raw
    };
    let list = |query: String| {
        let app = &app;
        async move {
            officer(
                app,
                Method::GET,
                &format!("/v1/surveys/texts/texts?{query}"),
                None,
            )
            .await
        }
    };
    for i in 0..4 {
        app.vault
            .respond(
                "texts",
                &answer(Some(format!("note {i} from me{i}@example.com"))),
                None,
            )
            .await
            .unwrap();
    }
    app.vault
        .respond("texts", &answer(None), None)
        .await
        .unwrap();
    // Four texts: below k = 5, so none is listed.
    let v: Value = list("question=comment".into()).await.json().await.unwrap();
    assert_eq!(v["suppressed"], true);
    assert_eq!(v["texts"], json!([]));
    for i in 4..12 {
        app.vault
            .respond(
                "texts",
                &answer(Some(format!("note {i} from me{i}@example.com"))),
                None,
            )
            .await
            .unwrap();
    }
    // Pages of five: 12 texts in three pages, each once, scrubbed.
    let mut seen = Vec::new();
    let mut query = "question=comment&limit=5".to_string();
    for _ in 0..10 {
        let v: Value = list(query.clone()).await.json().await.unwrap();
        assert_eq!(v["answered"], 12);
        for t in v["texts"].as_array().unwrap() {
            seen.push(t.as_str().unwrap().to_string());
        }
        match v["next"].as_str() {
            Some(next) => query = format!("question=comment&limit=5&after={next}"),
            None => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 12, "{seen:?}");
    assert!(
        seen.iter()
            .all(|t| t.contains("[EMAIL]") && !t.contains("@example.com"))
    );
    // Bad input: a clear error each.
    for (query, status, code) in [
        (
            "question=speed",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_question",
        ),
        (
            "question=nope",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_question",
        ),
        (
            "question=comment&limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_limit",
        ),
        (
            "question=comment&after=zz",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_cursor",
        ),
        ("limit=5", StatusCode::BAD_REQUEST, "invalid_query"),
    ] {
        problem(list(query.into()).await, status, code).await;
    }
    let r = officer(
        &app,
        Method::GET,
        "/v1/surveys/none/texts?question=comment",
        None,
    )
    .await;
    problem(r, StatusCode::NOT_FOUND, "survey_not_found").await;
}

/// An identified survey is answered signed in, only with consent to its purpose; the answers
/// become the person's own record (sealed, in their export, gone with their account), every
/// step goes through the access decision, and the counts still hide small groups.
async fn identified_surveys_need_consent_and_keep_answers_as_the_persons_record(app: TestApp) {
    let mut definition = survey_definition("followup");
    definition["mode"] = json!("identified");
    definition["purpose"] = json!("customer_research");
    definition["k"] = json!(2);
    // Bad definitions: no purpose, a purpose that does not allow surveys, invitation tokens.
    let mut no_purpose = definition.clone();
    no_purpose.as_object_mut().unwrap().remove("purpose");
    let mut marketing = definition.clone();
    marketing["purpose"] = json!("marketing_email");
    let mut invited = definition.clone();
    invited["access"] = json!("invited");
    let mut anonymous_with_purpose = survey_definition("x");
    anonymous_with_purpose["purpose"] = json!("customer_research");
    for (i, mut bad) in [no_purpose, marketing, invited, anonymous_with_purpose]
        .into_iter()
        .enumerate()
    {
        bad["slug"] = json!(format!("bad-{i}"));
        let r = officer(&app, Method::POST, "/v1/surveys", Some(bad)).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_survey").await;
    }
    let r = officer(&app, Method::POST, "/v1/surveys", Some(definition)).await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );

    // Not over the anonymous API, and not without signing in.
    problem(
        respond(&app, "followup", json!({"speed": 3})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "identified_survey",
    )
    .await;
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Its page is in the privacy center, where the session cookie goes.
    let r = anonymous
        .get(app.url("/survey/followup?lang=fr"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/privacy/survey/followup?lang=fr");
    let r = anonymous
        .get(app.url("/privacy/survey/followup?lang=fr"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/privacy/sign-in?lang=fr");

    let id = create(&app, &customer_without_phone("followup")).await;
    let subject = mamori_core::parse_id(&id).unwrap();
    let (client, jar, csrf) = signed_in_browser(&app, "ada.followup@example.com").await;
    let get = || {
        client
            .get(app.url("/privacy/survey/followup?lang=en"))
            .header("cookie", jar.clone())
            .send()
    };
    let post = |form: Vec<(&'static str, String)>| {
        client
            .post(app.url("/privacy/survey/followup?lang=en"))
            .header("cookie", jar.clone())
            .form(&form)
            .send()
    };
    let answers = |token: &str| {
        vec![
            ("a_speed", "4".to_string()),
            ("a_comment", "call me on +44 20 7946 0999".to_string()),
            ("csrf", token.to_string()),
        ]
    };

    // Without consent: the page says where to give it, and a posted form keeps nothing.
    let html = get().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("id=\"needs-consent\"") && html.contains("Surveys linked to your account"),
        "{html}"
    );
    assert!(
        !html.contains("<form method=\"post\" action=\"/privacy/survey/"),
        "no form without consent"
    );
    let before = ledger_size(&app).await;
    let r = post(answers(&csrf)).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("id=\"needs-consent\""));
    assert!(
        app.vault
            .store
            .records(&subject, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(ledger_size(&app).await > before, "the denial is ledgered");

    // Consent given on My choices (no channel for this purpose), then the answers go in.
    let form = [
        ("purpose", "customer_research"),
        ("channel", ""),
        ("granted", "true"),
        ("csrf", csrf.as_str()),
        ("lang", "en"),
    ];
    let r = client
        .post(app.url("/privacy/choices"))
        .header("cookie", jar.clone())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = get().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("name=\"csrf\"") && !html.contains("id=\"needs-consent\""),
        "{html}"
    );
    // A forged form (no CSRF token) is refused.
    let r = post(answers("forged")).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A bad answer is refused in the page's language, and keeps nothing.
    let r = post(vec![("a_speed", "9".to_string()), ("csrf", csrf.clone())])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        app.vault
            .store
            .records(&subject, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let r = post(answers(&csrf)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("saved with your account"));

    // The answers are the person's record: sealed, in the survey_answers category.
    let records = app.vault.store.records(&subject, 10).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].category, "survey_answers");
    assert!(
        !contains(&records[0].sealed, b"followup"),
        "sealed, not plain"
    );
    // Ledgered as the person's own record.create under the survey's purpose.
    let events: Vec<Value> = {
        app.vault.ledger.flush().await.unwrap();
        let mut leaves = app.vault.store.stream_leaves(0);
        let mut out = Vec::new();
        while let Some(batch) = leaves.recv().await {
            for leaf in batch.unwrap() {
                out.push(serde_json::from_slice(&leaf.data).unwrap());
            }
        }
        out
    };
    assert!(events.iter().any(|e| e["action"] == "record.create"
        && e["purpose"] == "customer_research"
        && e["role"] == "self"
        && e["outcome"] == "allowed"));
    // In the person's export, readable there.
    let export = officer(
        &app,
        Method::GET,
        &format!("/v1/subjects/{id}/export"),
        None,
    )
    .await;
    assert_eq!(export.status(), StatusCode::OK);
    let export = export.text().await.unwrap();
    assert!(
        export.contains("followup") && export.contains("[PHONE]"),
        "{export}"
    );
    // Counted, unlinked, without the text: the counting copy holds no answers.
    let survey = app.vault.store.survey("followup").await.unwrap().unwrap();
    assert_eq!(
        app.vault.store.survey_answers(&survey.id).await.unwrap(),
        ["{}"]
    );
    assert!(
        app.vault
            .store
            .survey_texts(&survey.id, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // The privacy-center page is for identified surveys only.
    let r = officer(
        &app,
        Method::POST,
        "/v1/surveys",
        Some(survey_definition("plain")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = client
        .post(app.url("/privacy/survey/plain?lang=en"))
        .header("cookie", jar.clone())
        .form(&[("a_speed", "3"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = client
        .get(app.url("/privacy/survey/plain?lang=en"))
        .header("cookie", jar.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/survey/plain?lang=en");
    // Once per person: a second answer is refused and keeps nothing.
    let r = post(answers(&csrf)).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("answered this survey already")
    );
    assert_eq!(
        app.vault.store.records(&subject, 10).await.unwrap().len(),
        1
    );
    assert_eq!(
        app.vault
            .store
            .survey_answers(&survey.id)
            .await
            .unwrap()
            .len(),
        1
    );

    // Withdrawn: the next answer is refused at once.
    let form = [
        ("purpose", "customer_research"),
        ("channel", ""),
        ("granted", "false"),
        ("csrf", csrf.as_str()),
        ("lang", "en"),
    ];
    client
        .post(app.url("/privacy/choices"))
        .header("cookie", jar.clone())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        post(answers(&csrf)).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.vault.store.records(&subject, 10).await.unwrap().len(),
        1
    );

    // Erasing the person takes the answers with the account.
    let erased = officer(&app, Method::DELETE, &format!("/v1/subjects/{id}"), None).await;
    assert!(erased.status().is_success());
    let export = officer(
        &app,
        Method::GET,
        &format!("/v1/subjects/{id}/export"),
        None,
    )
    .await;
    assert!(!export.status().is_success() || !export.text().await.unwrap().contains("[PHONE]"));
    assert!(
        stored_blobs(&app, "SELECT subject_id FROM survey_participants")
            .await
            .is_empty(),
        "who answered goes with the person"
    );
}

/// Open surveys take at most 30 answers a minute from one address (counted in memory, never
/// stored); beyond that a 429 problem with Retry-After, on the API, the page and the token
/// endpoint alike, and nothing is kept.
async fn survey_answers_are_limited_per_address(app: TestApp) {
    let r = officer(
        &app,
        Method::POST,
        "/v1/surveys",
        Some(survey_definition("limited")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    for i in 0..30 {
        let r = respond(&app, "limited", json!({"speed": 1 + i % 5})).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "answer {i}");
    }
    let r = respond(&app, "limited", json!({"speed": 3})).await;
    assert!(r.headers().get("retry-after").is_some());
    problem(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let page = app
        .client
        .post(app.url("/survey/limited?lang=en"))
        .form(&[("a_speed", "3")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    let token = app
        .client
        .post(app.url("/v1/surveys/limited/tokens"))
        .json(&json!({"invitation": "x", "blinded_token": "AA"}))
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::TOO_MANY_REQUESTS);
    let survey = app.vault.store.survey("limited").await.unwrap().unwrap();
    assert_eq!(
        app.vault
            .store
            .survey_answers(&survey.id)
            .await
            .unwrap()
            .len(),
        30
    );
}
