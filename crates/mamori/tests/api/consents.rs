//! Consent per purpose and channel: off by default, Global Privacy Control, re-consent after a
//! widened purpose, receipts.

use super::*;

pub(crate) async fn consent(app: &TestApp, id: &str, role: &str, body: Value) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/v1/consent/{id}")))
        .bearer_auth(&app.keys[role])
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn consent_check(app: &TestApp, id: &str, query: &str) -> reqwest::Response {
    consent_check_as(app, "marketing", id, query).await
}

pub(crate) async fn consent_check_as(
    app: &TestApp,
    role: &str,
    id: &str,
    query: &str,
) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/v1/consent/{id}?{query}")))
        .bearer_auth(&app.keys[role])
        .send()
        .await
        .unwrap()
}

/// The consent check's answer as `role`.
async fn check_as(app: &TestApp, role: &str, id: &str, query: &str) -> Value {
    consent_check_as(app, role, id, query)
        .await
        .json()
        .await
        .unwrap()
}

const EMAIL: &str = "purpose=marketing_email&channel=email";

/// No record means no consent; a grant opens the purpose to the roles that may use it, a
/// withdrawal closes it again at once; every change and check is ledgered.
pub(crate) async fn consent_is_off_by_default_and_gates_access(app: TestApp) {
    let id = create(&app, &customer("consent")).await;
    let path = format!("/v1/subjects/{id}");
    let read = async |purpose: &str| {
        app.as_role(Method::GET, &path, "marketing", purpose)
            .send()
            .await
            .unwrap()
    };
    let refused = read("marketing_email").await;
    problem(refused, StatusCode::FORBIDDEN, "consent_required").await;
    let v = check_as(&app, "marketing", &id, EMAIL).await;
    assert_eq!(
        (&v["allowed"], &v["reason"]),
        (&json!(false), &json!("no_record"))
    );

    let before = ledger_size(&app).await;
    let grant = json!({"purpose": "marketing_email", "channel": "email", "granted": true, "source": "portal"});
    let r = consent(&app, &id, "service", grant).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (&v["allowed"], &v["reason"]),
        (&json!(true), &json!("granted"))
    );
    assert_eq!(ledger_size(&app).await, before + 1);
    let body: Value = read("marketing_email").await.json().await.unwrap();
    assert!(body["data"]["contact"].is_object(), "{body}");
    let v = check_as(&app, "marketing", &id, EMAIL).await;
    assert_eq!(v["reason"], "granted");
    assert!(
        v["notice_version"].is_null(),
        "nothing published here yet: {v}"
    );
    // Granting one channel does not grant another purpose.
    let sms = read("marketing_sms").await;
    problem(sms, StatusCode::FORBIDDEN, "consent_required").await;

    // Withdrawing is as easy, and takes effect for the very next access.
    let withdraw = json!({"purpose": "marketing_email", "channel": "email", "granted": false});
    let r = consent(&app, &id, "marketing", withdraw).await;
    assert_eq!(r.status(), StatusCode::OK);
    let refused = read("marketing_email").await;
    problem(refused, StatusCode::FORBIDDEN, "consent_required").await;
    assert_eq!(
        check_as(&app, "marketing", &id, EMAIL).await["reason"],
        "withdrawn"
    );
    // Another legal basis needs no consent; a role may only ask about purposes it may use.
    let v = check_as(&app, "service", &id, "purpose=order_fulfilment").await;
    assert_eq!(
        (&v["allowed"], &v["reason"]),
        (&json!(true), &json!("not_consent_based"))
    );
    let r = consent_check(&app, &id, "purpose=order_fulfilment").await;
    problem(r, StatusCode::FORBIDDEN, "purpose_not_allowed_for_role").await;
    let r = consent_check(&app, &id, &format!("{EMAIL}&x=1")).await;
    problem(r, StatusCode::BAD_REQUEST, "invalid_query").await;
}

/// A notice version must be one Mamori published: free text is refused, not repeated back, and
/// changes nothing.
pub(crate) async fn consent_names_only_published_notice_versions(app: TestApp) {
    let id = create(&app, &customer("notice")).await;
    let before = ledger_size(&app).await;
    for label in ["2026-11", "v0", "v1", "CANARY-ada@example.com"] {
        let body = json!({"purpose": "marketing_email", "channel": "email", "granted": true, "notice_version": label});
        let r = consent(&app, &id, "service", body).await;
        let p = problem(
            r,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_notice_version",
        )
        .await;
        assert!(label.len() < 5 || !p.to_string().contains(label), "{p}");
    }
    assert_eq!(ledger_size(&app).await, before);
}

/// Bad consent input: each a clear error that repeats no value, nothing recorded; a role that
/// may not use the purpose is refused (and that is ledgered); erased and unknown people cannot
/// consent.
pub(crate) async fn bad_consent_input_is_refused_and_records_nothing(app: TestApp) {
    let id = create(&app, &customer("bad-consent")).await;
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
    let not_a_flag = json!({"purpose": "marketing_email", "granted": "yes"});
    assert!(
        consent(&app, &id, "service", not_a_flag)
            .await
            .status()
            .is_client_error()
    );
    assert_eq!(ledger_size(&app).await, before);
    let grant = json!({"purpose": "marketing_email", "channel": "email", "granted": true});
    let r = consent(&app, &id, "analyst", grant.clone()).await;
    problem(r, StatusCode::FORBIDDEN, "purpose_not_allowed_for_role").await;
    assert_eq!(ledger_size(&app).await, before + 1);
    let path = format!("/v1/subjects/{id}");
    let erase = app.as_role(
        Method::DELETE,
        &path,
        "privacy_officer",
        "data_subject_rights",
    );
    assert_eq!(erase.send().await.unwrap().status(), StatusCode::OK);
    let r = consent(&app, &id, "service", grant.clone()).await;
    problem(r, StatusCode::NOT_FOUND, "subject_not_found").await;
    let unknown = "01234567-89ab-7def-8123-456789abcdef";
    let r = consent(&app, unknown, "service", grant).await;
    problem(r, StatusCode::NOT_FOUND, "subject_not_found").await;
}

/// `Sec-GPC: 1` on the consent API withdraws every sale/sharing purpose (source gpc), once, even
/// for a role that may not use those purposes; `/.well-known/gpc.json` declares support.
pub(crate) async fn global_privacy_control_opts_out_of_sale_and_sharing(app: TestApp) {
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

pub(crate) async fn publish(app: &TestApp, text: &str) -> mamori_core::publish::Published {
    let officer = mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    };
    app.vault.publish_policy(&officer, text).await.unwrap()
}

/// A person who agreed to marketing e-mails under a notice (v1) that described contact details
/// only, and now has preferences too; and a bystander who never agreed. Their ids.
async fn agreed_under_a_narrow_notice(app: &TestApp) -> (String, String) {
    use mamori_core::publish::Published;
    let narrow = POLICY.replacen(
        "legal_basis = \"consent\"\ncategories = [\"contact\", \"preferences\"]\nchannels = [\"email\"]",
        "legal_basis = \"consent\"\ncategories = [\"contact\"]\nchannels = [\"email\"]",
        1,
    );
    assert_ne!(narrow, POLICY, "the fixture must narrow marketing_email");
    let url = app.url("/privacy/notice?format=json&lang=en");
    let notice: Value = app
        .client
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(notice["version"].as_str().unwrap().starts_with("Draft"));
    assert_eq!(publish(app, &narrow).await, Published::New { version: 1 });
    let id = create(app, &customer("widen")).await;
    let preferences = json!({"data": {"preferences": {"language": "fr", "interests": "tea"}}});
    let path = format!("/v1/subjects/{id}");
    let r = app
        .as_role(
            Method::PATCH,
            &path,
            "privacy_officer",
            "data_subject_rights",
        )
        .json(&preferences)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let mut other = customer("bystander");
    other["data"]["contact"]["phone"] = json!("+33 1 23 45 67 89");
    let bystander = create(app, &other).await;
    let v: Value = consent(app, &id, "service", GRANT.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["notice_version"], "v1", "{v}");
    assert_eq!(v["covers"], json!(["contact"]), "{v}");
    assert_eq!(v["reconsent"], json!(["preferences"]), "{v}");
    (id, bystander)
}

static GRANT: std::sync::LazyLock<Value> = std::sync::LazyLock::new(
    || json!({"purpose": "marketing_email", "channel": "email", "granted": true}),
);

/// What marketing reads of the person (the read must be allowed).
async fn marketing_reads(app: &TestApp, id: &str) -> Value {
    let (status, v) = app
        .get_as(
            &format!("/v1/subjects/{id}"),
            "marketing",
            "marketing_email",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// A consent covers what its notice described, and no more.
pub(crate) async fn consent_covers_only_what_its_notice_described(app: TestApp) {
    let (id, _) = agreed_under_a_narrow_notice(&app).await;
    let seen = marketing_reads(&app, &id).await;
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
    let mut v7 = GRANT.clone();
    v7["notice_version"] = json!("v7");
    let r = consent(&app, &id, "service", v7).await;
    problem(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_notice_version",
    )
    .await;
}

/// Publishing a wider policy: everyone is told, the person who agreed is asked again, and sees
/// only the older part until they agree again.
pub(crate) async fn widened_purposes_need_consent_again(app: TestApp) {
    use mamori_core::publish::Published;
    let (id, bystander) = agreed_under_a_narrow_notice(&app).await;
    let after = app.store.last_event_seq().await.unwrap();
    assert_eq!(publish(&app, POLICY).await, Published::New { version: 2 });
    assert_eq!(
        publish(&app, POLICY).await,
        Published::Unchanged { version: 2 }
    );
    let page = feed(&app, &format!("after={after}&limit=1000")).await;
    let events: Value = page.json().await.unwrap();
    let events = events["events"].as_array().unwrap();
    let of = |kind: &str| -> Vec<&Value> { events.iter().filter(|e| e["type"] == kind).collect() };
    let published = of("notice.published");
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["data"]["version"], "v2");
    assert_eq!(
        published[0]["data"]["reconsent"],
        json!(["marketing_email"])
    );
    let changes = published[0]["data"]["changes"].to_string();
    assert!(changes.contains("now also uses: preferences"), "{changes}");
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

    let seen = marketing_reads(&app, &id).await;
    assert!(seen["data"].get("preferences").is_none(), "{seen}");
    let v = check_as(&app, "marketing", &id, EMAIL).await;
    assert_eq!(
        (&v["allowed"], &v["reconsent"]),
        (&json!(true), &json!(["preferences"])),
        "{v}"
    );
    let v: Value = consent(&app, &id, "service", GRANT.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["notice_version"], "v2");
    assert!(v.get("reconsent").is_none(), "{v}");
    let seen = marketing_reads(&app, &id).await;
    assert_eq!(seen["data"]["preferences"]["interests"], "tea", "{seen}");
}

pub(crate) async fn verify_receipt(app: &TestApp, role: &str, receipt: &str) -> reqwest::Response {
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
pub(crate) async fn receipts_prove_decisions_not_current_consent(app: TestApp) {
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
