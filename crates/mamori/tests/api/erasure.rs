//! Erasure: crypto-shredding, and what the law requires to be kept.

use super::*;

pub(crate) async fn erasure_crypto_shreds(app: TestApp) {
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

/// A customer with an order and a support ticket, erased by the privacy officer (after a role
/// that may not erase was refused), the kept part re-keyed.
struct Held {
    id: String,
    subject: [u8; 16],
    /// The subject's row and records before the erasure.
    before: mamori_store::SubjectRow,
    records_before: Vec<mamori_store::RecordRow>,
    /// What the erasure answered.
    answer: Value,
}

async fn erased_customer_with_an_order(app: &TestApp) -> Held {
    let mut body = customer("gone");
    body["data"]["support_tickets"] = json!({"subject": "Hello", "status": "open"});
    let r = app.as_role(Method::POST, "/v1/subjects", "service", "customer_support");
    let r = r.json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let subject = mamori_core::parse_id(&id).unwrap();
    let order = json!({"category": "orders", "data": {"order_number": "K-1", "total": 42.5, "currency": "EUR"}});
    let ticket = json!({"category": "support_tickets", "data": {"subject": "Hi", "message": "Lid?", "status": "open"}});
    let records = format!("/v1/subjects/{id}/records");
    for (role, purpose, record) in [
        ("service", "order_fulfilment", order),
        ("support", "customer_support", ticket),
    ] {
        let r = app
            .as_role(Method::POST, &records, role, purpose)
            .json(&record)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let before = app.store.subject(&subject).await.unwrap().unwrap();
    let records_before = app.store.records(&subject, 10).await.unwrap();
    // A role that may not erase changes nothing.
    let path = format!("/v1/subjects/{id}");
    let r = app
        .as_role(Method::DELETE, &path, "support", "customer_support")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "purpose_does_not_cover_category").await;
    let r = officer(app, Method::DELETE, &path, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let answer: Value = r.json().await.unwrap();
    Held {
        id,
        subject,
        before,
        records_before,
        answer,
    }
}

/// Reads as the privacy officer for legal accounting, the one purpose a hold answers to.
async fn read_held(app: &TestApp, path: &str) -> Value {
    let (status, v) = app
        .get_as(path, "privacy_officer", "legal_accounting")
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// Erasure keeps what a legal obligation requires (orders, payment, contact, address under
/// legal_accounting), re-sealed under a new key, readable only for that purpose, until each
/// category's retention ends; the rest goes at once; the person cannot be found any more.
pub(crate) async fn erasure_keeps_what_the_law_requires(app: TestApp) {
    let held = erased_customer_with_an_order(&app).await;
    let (id, v) = (&held.id, &held.answer);
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
    let today = mamori_core::format_time(app.vault.now_ms());
    let in_seven_years = format!(
        "{}{}",
        today[..4].parse::<i32>().unwrap() + 7,
        &today[4..10]
    );
    for k in v["kept"].as_array().unwrap() {
        assert_eq!(k["until"].as_str().unwrap()[..10], in_seven_years, "{k}");
    }
    // Right after the erasure, the kept part is re-sealed under a fresh key (in the background;
    // run here too, so the test does not wait on timing) and the old key is gone.
    app.vault.rekey_holds(10).await.unwrap();
    let raw = app.store.subject(&held.subject).await.unwrap().unwrap();
    assert!(raw.is_held());
    assert_ne!(
        raw.wrapped_dek, held.before.wrapped_dek,
        "the key was replaced"
    );
    assert_eq!(raw.rekey_requested_ms, None);
    assert_eq!(app.vault.rekey_holds(10).await.unwrap(), 0, "once");
    // Only a legal-obligation purpose reads what is kept; nobody changes it or adds to it.
    let path = format!("/v1/subjects/{id}");
    for (method, role, purpose) in [
        (Method::GET, "service", "order_fulfilment"),
        (Method::GET, "privacy_officer", "data_subject_rights"),
        (Method::PATCH, "support", "customer_support"),
    ] {
        let r = app
            .as_role(method, &path, role, purpose)
            .json(&json!({"data": {"contact": {"name": "B"}}}));
        problem(
            r.send().await.unwrap(),
            StatusCode::FORBIDDEN,
            "kept_under_legal_hold",
        )
        .await;
    }
    let r = app.as_role(Method::POST, &format!("{path}/records"), "service", "order_fulfilment")
        .json(&json!({"category": "orders", "data": {"order_number": "K-2", "total": 1, "currency": "EUR"}})).send().await.unwrap();
    problem(r, StatusCode::FORBIDDEN, "kept_under_legal_hold").await;
    let v = read_held(&app, &path).await;
    assert_eq!(
        (&v["data"]["contact"]["name"], &v["data"]["address"]["city"]),
        (&json!("Ada gone"), &json!("Paris"))
    );
    assert!(v["data"].get("support_tickets").is_none());
    let v = read_held(&app, &format!("{path}/records")).await;
    let categories: Vec<&str> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["category"].as_str().unwrap())
        .collect();
    assert_eq!(categories, ["orders"], "the support ticket went at once");
    assert_eq!(v["records"][0]["data"]["order_number"], "K-1");
    // The person cannot be found or erased again; the address can be used by someone new.
    assert_eq!(
        app.look_up("email=ada.gone@example.com").await,
        json!([]),
        "blind indexes are destroyed"
    );
    let r = officer(&app, Method::DELETE, &path, None).await;
    problem(r, StatusCode::FORBIDDEN, "kept_under_legal_hold").await;
    create(&app, &customer("gone")).await;
}

/// A re-key interrupted part-way (a crash between its transactions) leaves the old key beside
/// the new one and some records still sealed under the old: reads open each record with the
/// key it is under, and the next sweep finishes the job with the same new key.
pub(crate) async fn an_interrupted_rekey_is_finished_by_the_next_sweep(app: TestApp) {
    let held = erased_customer_with_an_order(&app).await;
    app.vault.rekey_holds(10).await.unwrap();
    let rekeyed = app.store.subject(&held.subject).await.unwrap().unwrap();
    let order = held
        .records_before
        .iter()
        .find(|r| r.category == "orders")
        .unwrap();
    let old_key = held.before.wrapped_dek.as_ref().unwrap();
    let interrupted =
        "UPDATE subjects SET previous_wrapped_dek = $1, rekey_requested_ms = 1 WHERE id = $2";
    app.execute_raw(interrupted, old_key, &held.subject).await;
    app.execute_raw(
        "UPDATE records SET sealed = $1 WHERE id = $2",
        &order.sealed,
        &order.id,
    )
    .await;
    let records = format!("/v1/subjects/{}/records", held.id);
    let v = read_held(&app, &records).await;
    assert_eq!(
        v["records"][0]["data"]["order_number"], "K-1",
        "under the old key"
    );
    assert_eq!(
        app.vault.rekey_holds(10).await.unwrap(),
        1,
        "the sweep resumes"
    );
    let resumed = app.store.subject(&held.subject).await.unwrap().unwrap();
    assert_eq!(resumed.previous_wrapped_dek, None, "the old key is gone");
    assert_eq!(resumed.rekey_requested_ms, None);
    assert_eq!(resumed.wrapped_dek, rekeyed.wrapped_dek);
    let resealed = app.store.records(&held.subject, 10).await.unwrap();
    assert_ne!(
        resealed[0].sealed, order.sealed,
        "re-sealed under the new key"
    );
    let v = read_held(&app, &records).await;
    assert_eq!(v["records"][0]["data"]["order_number"], "K-1");
}

/// Three years on (contact's own retention), nothing goes: the obligation keeps all four for
/// its seven calendar years, to the day, then everything goes, announced a second time.
pub(crate) async fn a_hold_ends_with_its_longest_retention(app: TestApp) {
    let held = erased_customer_with_an_order(&app).await;
    app.vault.rekey_holds(10).await.unwrap();
    let raw = app.store.subject(&held.subject).await.unwrap().unwrap();
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
    let path = format!("/v1/subjects/{}", held.id);
    let (status, v) = app
        .get_as(&path, "privacy_officer", "legal_accounting")
        .await;
    assert_eq!(
        (status, &v["code"]),
        (StatusCode::NOT_FOUND, &json!("subject_not_found"))
    );
    let raw = app.store.subject(&held.subject).await.unwrap().unwrap();
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
        .filter(|e| e.kind == "subject.erased" && e.subject_id == Some(held.subject))
        .count();
    assert_eq!(
        erased_events, 2,
        "announced at erasure and as the hold ended"
    );
}
