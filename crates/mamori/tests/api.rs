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
#[path = "api/surveys.rs"]
mod surveys;
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
use surveys::{
    actions_since, anonymous_surveys_keep_no_one_and_hide_small_groups,
    free_text_answers_are_listed_a_page_at_a_time,
    identified_surveys_need_consent_and_keep_answers_as_the_persons_record,
    invited_surveys_take_one_unlinkable_response_each, private_releases_spend_a_budget_and_stop,
    survey_answers_are_limited_per_address, survey_definition,
    survey_pages_take_answers_in_three_languages,
    the_privacy_report_shows_requests_surveys_and_sentiment,
};
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
    app.ledger.flush().await.unwrap();
    let head = app.ledger.latest_head().unwrap();
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
    let cli_head = cli.latest_head().unwrap();
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
    app.ledger.flush().await.unwrap();
    app.ledger.committed_size()
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
    let leaves = app.store.leaves(0, 10_000).await.unwrap();
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
    let keys = app.store.api_keys().await.unwrap();
    assert!(keys.iter().all(|k| {
        !k.digest
            .windows(8)
            .any(|w| token.as_bytes().windows(8).any(|t| t == w))
    }));
}

async fn bad_input_gets_clear_errors_and_changes_nothing(app: TestApp) {
    let before = app.store.count_subjects().await.unwrap();
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
        app.store.count_subjects().await.unwrap(),
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
    assert!(app.store.purge_erased(100).await.unwrap() >= 1);
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
    let before = app.store.subject(&subject).await.unwrap().unwrap();
    let records_before = app.store.records(&subject, 10).await.unwrap();

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

    let raw = app.store.subject(&subject).await.unwrap().unwrap();
    assert!(raw.is_held() && raw.erased_ms.is_some());
    // Right after the erasure, the kept part is re-sealed under a fresh key (in the background;
    // run here too, so the test does not wait on timing) and the old key is gone.
    app.vault.rekey_holds(10).await.unwrap();
    let raw = app.store.subject(&subject).await.unwrap().unwrap();
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
    let resumed = app.store.subject(&subject).await.unwrap().unwrap();
    assert_eq!(resumed.previous_wrapped_dek, None, "the old key is gone");
    assert_eq!(resumed.rekey_requested_ms, None);
    assert_eq!(resumed.wrapped_dek, raw.wrapped_dek);
    let resealed = app.store.records(&subject, 10).await.unwrap();
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
    let raw = app.store.subject(&subject).await.unwrap().unwrap();
    assert!(raw.wrapped_dek.is_none() && raw.held_until_ms.is_none());
    assert_eq!(
        raw.erased_ms,
        Some(erased),
        "the erasure time stays the first one"
    );
    assert!(app.store.purge_erased(100).await.unwrap() >= 1);
    let events = app.store.events_after(0, 10_000).await.unwrap();
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
    let sth = app.ledger.latest_head().unwrap();
    assert!(mamori_ledger::verify_head(&app.ledger.public_key(), &sth));
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
        let stored = app.store.leaves(leaf, 1).await.unwrap();
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
    let first_leaf = app.store.leaves(0, 1).await.unwrap().remove(0);
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

/// The streaming read `ledger verify` uses returns exactly the stored leaves, in order.
async fn ledger_streams_every_leaf_in_order(app: TestApp) {
    for i in 0..5 {
        let body = json!({"data": {"contact": {"name": format!("Stream {i}")}}});
        create(&app, &body).await;
    }
    let stored = app.store.leaves(0, 100_000).await.unwrap();
    assert!(stored.len() >= 5);
    let mut streamed = Vec::new();
    let mut pages = app.store.stream_leaves(0);
    while let Some(page) = pages.recv().await {
        streamed.extend(page.unwrap());
    }
    assert_eq!(streamed.len(), stored.len());
    for (a, b) in streamed.iter().zip(&stored) {
        assert_eq!((a.index, &a.data, a.hash), (b.index, &b.data, b.hash));
    }
    let mut tail = app.store.stream_leaves(3);
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
        if !app.store.dead_letters(&dead_id).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let letters = app.store.dead_letters(&dead_id).await.unwrap();
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
    let after = app.store.last_event_seq().await.unwrap();
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
    let leaf = app.store.leaves(before, 1).await.unwrap();
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
        subject_index::pass(&app.ledger, &*app.store).await.unwrap();
    }
    let segments = app.store.leaf_segments().await.unwrap();
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
    app.ledger
        .submit(
            vec![mamori_store::Change::BeginSegmentMerge { target }],
            vec![],
        )
        .await
        .unwrap()
        .unwrap();
    app.ledger
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
    subject_index::tidy(&app.ledger, &*app.store).await.unwrap();
    assert!(
        app.store
            .leaf_segments()
            .await
            .unwrap()
            .iter()
            .all(|s| s.segment != target)
    );

    // A merge in several chunks, cut at sampled keys (here one falls inside Ada's own run of
    // leaves) copies every entry exactly once; the retired segments are then dropped chunk by
    // chunk until none is left.
    let current = app.store.leaf_segments().await.unwrap();
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
        app.ledger
            .submit(vec![change], vec![])
            .await
            .unwrap()
            .unwrap();
    }
    // Retired segments lose their entries a few at a time (the indexer takes 8,192 a job).
    let mut drops = 0;
    for &segment in &sources {
        let drop = || mamori_store::Change::DropSegmentEntries { segment, limit: 3 };
        while app.ledger.submit(vec![drop()], vec![]).await.unwrap()
            != Err(mamori_store::JobError::Gone)
        {
            drops += 1;
        }
    }
    assert!(
        drops as i64 >= entries / 3,
        "{drops} drops of {entries} entries"
    );
    subject_index::tidy(&app.ledger, &*app.store).await.unwrap();
    // (The server's own indexer may have added a segment of newer leaves meanwhile.)
    let segments = app.store.leaf_segments().await.unwrap();
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
    assert_eq!(key, app.ledger.public_key());
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
        app.store
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

    let raw = app.store.subject(&subject).await.unwrap().unwrap();
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
    let leaves = app.store.leaves(0, 100_000).await.unwrap();
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
