//! Legal holds over HTTP: placed, listed and lifted by a role with the `retention` permission,
//! each ledgered; a held person's erasure is refused until the hold is lifted; bad input is
//! refused with a stable code, never echoed, and changes nothing.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::{create, customer, ledger_size, officer, problem};

/// Text as askama escapes it in a page.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('\'', "&#39;")
}

async fn holds(app: &TestApp) -> Vec<Value> {
    let r = officer(app, Method::GET, "/v1/holds", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    body["holds"].as_array().unwrap().clone()
}

pub async fn legal_holds_keep_a_person_until_lifted(app: TestApp) {
    let ada = create(&app, &customer("held")).await;
    let until = mamori_core::format_time(app.vault.now_ms() + 30 * 86_400_000);
    let before = ledger_size(&app).await;
    let body = json!({"subject": ada, "reason": "litigation", "until": until});
    let r = officer(&app, Method::POST, "/v1/holds", Some(body)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let hold: Value = r.json().await.unwrap();
    assert_eq!(
        (hold["subject"].as_str(), hold["reason"].as_str()),
        (Some(ada.as_str()), Some("litigation"))
    );
    assert_eq!(ledger_size(&app).await, before + 1);
    let listed = holds(&app).await;
    assert_eq!(listed, std::slice::from_ref(&hold));
    // The officer's report counts holds, never who is held.
    let r = officer(&app, Method::GET, "/v1/reports/privacy", None).await;
    let report = r.text().await.unwrap();
    assert!(!report.contains(&ada), "{report}");
    let report: Value = serde_json::from_str(&report).unwrap();
    let summary = &report["legal_holds"];
    assert_eq!(
        (summary["in_force"].as_u64(), summary["on_people"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        summary["by_reason"],
        json!([{"reason": "litigation", "holds": 1}])
    );

    let erase = format!("/v1/subjects/{ada}");
    let r = officer(&app, Method::DELETE, &erase, None).await;
    let p = problem(r, StatusCode::CONFLICT, "subject_under_legal_hold").await;
    assert!(!p.to_string().contains("Ada"), "{p}");
    let r = officer(&app, Method::GET, &erase, None).await;
    assert_eq!(r.status(), StatusCode::OK, "still there");

    let id = hold["id"].as_str().unwrap();
    let r = officer(&app, Method::DELETE, &format!("/v1/holds/{id}"), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(holds(&app).await.is_empty());
    let r = officer(&app, Method::DELETE, &format!("/v1/holds/{id}"), None).await;
    problem(r, StatusCode::NOT_FOUND, "hold_not_found").await;
    let r = officer(&app, Method::DELETE, &erase, None).await;
    assert_eq!(r.status(), StatusCode::OK);

    // A category held for everyone does not stop one person's erasure.
    let bea = create(&app, &crate::customer_without_phone("category")).await;
    let body = json!({"category": "orders", "reason": "tax_audit"});
    let r = officer(&app, Method::POST, "/v1/holds", Some(body)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = officer(&app, Method::DELETE, &format!("/v1/subjects/{bea}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
}

pub async fn bad_hold_requests_change_nothing(app: TestApp) {
    let ada = create(&app, &customer("bad-holds")).await;
    let canary = "CANARY-7Q";
    let past = mamori_core::format_time(app.vault.now_ms() - 1000);
    let ghost = uuid::Uuid::now_v7().to_string();
    let cases = [
        (
            json!({"reason": "litigation"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"category": canary, "reason": "litigation"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"subject": ada, "reason": "litigation", "until": past}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            json!({"subject": ada, "reason": "litigation", "until": canary}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_time",
        ),
        (
            json!({"subject": canary, "reason": "litigation"}),
            StatusCode::BAD_REQUEST,
            "invalid_id",
        ),
        (
            json!({"subject": ghost, "reason": "litigation"}),
            StatusCode::NOT_FOUND,
            "subject_not_found",
        ),
    ];
    for (body, status, code) in cases {
        let r = officer(&app, Method::POST, "/v1/holds", Some(body.clone())).await;
        let p = problem(r, status, code).await;
        assert!(!p.to_string().contains(canary), "{body}: {p}");
    }
    for body in [
        json!({"subject": ada, "reason": canary}),
        json!({"subject": ada, "reason": "litigation", "note": canary}),
    ] {
        let r = officer(&app, Method::POST, "/v1/holds", Some(body.clone())).await;
        assert!(r.status().is_client_error(), "{body}");
        assert!(!r.text().await.unwrap().contains(canary), "{body}");
    }
    let r = officer(&app, Method::DELETE, &format!("/v1/holds/{canary}"), None).await;
    problem(r, StatusCode::BAD_REQUEST, "invalid_id").await;
    let r = officer(&app, Method::DELETE, &format!("/v1/holds/{ghost}"), None).await;
    problem(r, StatusCode::NOT_FOUND, "hold_not_found").await;
    // A role without the permission is refused, and the refusal ledgered.
    let before = ledger_size(&app).await;
    let r = app
        .as_role(Method::POST, "/v1/holds", "support", "customer_support")
        .json(&json!({"subject": ada, "reason": "litigation"}))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "permission_not_granted").await;
    assert_eq!(ledger_size(&app).await, before + 1);
    assert!(holds(&app).await.is_empty());
}

/// A held person sees the hold on My data in their language; asking to be deleted registers a
/// request that waits (the account and session stay); lifting the hold carries it out and
/// fulfils the request.
pub async fn a_held_persons_erasure_waits_for_the_hold_to_end(app: TestApp) {
    let ada = create(&app, &customer("waits")).await;
    let (client, jar, csrf) = crate::signed_in_browser(&app, "ada.waits@example.com").await;
    let body = json!({"subject": ada, "reason": "tax_audit", "until": "2031-01-31T00:00:00Z"});
    let hold: Value = officer(&app, Method::POST, "/v1/holds", Some(body))
        .await
        .json()
        .await
        .unwrap();
    let get = async |path: &str| -> String {
        let r = client
            .get(app.url(path))
            .header("cookie", &jar)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r.text().await.unwrap()
    };
    for (lang, words) in [
        (
            "en",
            "All your data: kept because of a legal hold (a tax audit) until 2031-01-31.",
        ),
        (
            "ja",
            "お客様のすべてのデータ：法的保全（税務調査）のため、2031-01-31まで保存します。",
        ),
        (
            "fr",
            "Toutes vos données\u{202f}: conservation imposée par un gel juridique (un contrôle fiscal) jusqu'au 2031-01-31.",
        ),
    ] {
        let html = get(&format!("/privacy/me?lang={lang}")).await;
        assert!(html.contains(&escaped(words)), "{lang}: {html}");
    }
    let html = get("/privacy/me/delete?lang=en").await;
    assert!(html.contains(r#"id="if-confirmed""#), "{html}");

    let form = [("csrf", csrf.as_str()), ("lang", "en"), ("confirm", "yes")];
    let r = client
        .post(app.url("/privacy/me/delete"))
        .header("cookie", &jar)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("Your request is registered"), "{html}");
    let reference = crate::between(&html, r#"<code id="reference">"#, "<").to_string();
    let request = async || -> Value {
        let path = format!("/v1/requests?reference={reference}");
        let found: Value = officer(&app, Method::GET, &path, None)
            .await
            .json()
            .await
            .unwrap();
        found["requests"][0].clone()
    };
    let waiting = request().await;
    assert_eq!(
        (&waiting["state"], &waiting["waiting_for"]),
        (&json!("in_progress"), &json!("legal_hold"))
    );
    let html = get("/privacy/me?lang=en").await;
    assert!(
        html.contains(&format!("reference {reference}")),
        "the session and the data stay"
    );
    // The sweep leaves it waiting while the hold is in force; the report counts it.
    assert_eq!(app.vault.carry_out_waiting_erasures().await.unwrap(), 0);
    let r = officer(&app, Method::GET, "/v1/reports/privacy", None).await;
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["legal_holds"]["waiting_erasures"], 1, "{report}");

    let r = officer(
        &app,
        Method::DELETE,
        &format!("/v1/holds/{}", hold["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let done = request().await;
    assert_eq!(done["state"], "fulfilled");
    assert!(done.get("waiting_for").is_none(), "{done}");
    let r = officer(&app, Method::GET, &format!("/v1/subjects/{ada}"), None).await;
    assert_ne!(r.status(), StatusCode::OK, "erased");
    let r = client
        .get(app.url("/privacy/me?lang=en"))
        .header("cookie", &jar)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the session ended with the account"
    );
}

/// Posts `form` to the console's holds pages with the session's form token.
async fn console_post(
    app: &TestApp,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let (_, page) = crate::staff_sign_in::console_get(app, cookie, "/console/admin/holds").await;
    let csrf = crate::form_csrf(&page);
    let mut fields = vec![("csrf", csrf.as_str())];
    fields.extend_from_slice(form);
    let r = (reqwest::Client::new().post(app.url(path)))
        .header("cookie", format!("mamori_staff={cookie}"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The privacy officer places a hold on a customer from the console (a sensitive step: the customer
/// found by a ledgered lookup) and lifts it; bad input places nothing; other roles are refused.
pub async fn officers_place_and_lift_holds_in_the_console(app: TestApp) {
    use crate::staff_sign_in::{console_get, signed_in_as};
    let person = create(&app, &customer("held")).await;
    let (cookie, po) = signed_in_as(&app, "holds@staff.example", "privacy_officer").await;
    let (status, page) = console_get(&app, &cookie, "/console/admin/holds?lang=fr").await;
    assert!(
        status == StatusCode::OK && page.contains("Placer une conservation"),
        "{page}"
    );
    let bad: [&[(&str, &str)]; 5] = [
        &[("reason", "gossip")],
        &[("reason", "litigation")],
        &[("reason", "litigation"), ("category", "nonsense")],
        &[("reason", "litigation"), ("customer", "nobody@example.com")],
        &[
            ("reason", "litigation"),
            ("customer", "ada.held@example.com"),
            ("until", "2001-01-01"),
        ],
    ];
    for form in bad {
        let (status, page) = console_post(&app, &cookie, "/console/admin/holds", form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        assert!(!page.contains("nobody@example.com"), "never echoed");
    }
    assert!(holds(&app).await.is_empty(), "nothing placed");
    app.clock.advance(std::time::Duration::from_secs(6 * 60));
    let form = [
        ("reason", "litigation"),
        ("customer", "ada.held@example.com"),
    ];
    let (_, page) = console_post(&app, &cookie, "/console/admin/holds", &form).await;
    assert!(page.contains("reauthentication_required"), "{page}");
    let code = po.secret.code_at(crate::staff::now_seconds(&app));
    let form = [
        ("reason", "litigation"),
        ("customer", "ada.held@example.com"),
        ("code", &code),
        ("lang", "fr"),
    ];
    let (status, page) = console_post(&app, &cookie, "/console/admin/holds", &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let held = holds(&app).await;
    assert_eq!(
        (held.len(), held[0]["subject"].as_str()),
        (1, Some(person.as_str()))
    );
    assert!(
        page.contains("un litige"),
        "the reason in the page's words: {page}"
    );
    let id = held[0]["id"].as_str().unwrap().to_string();
    let (status, _) =
        console_post(&app, &cookie, "/console/admin/holds/lift", &[("hold", &id)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(holds(&app).await.is_empty(), "lifted");
    let (status, _) =
        console_post(&app, &cookie, "/console/admin/holds/lift", &[("hold", &id)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "lifted once");

    let (support, _) = signed_in_as(&app, "noholds@staff.example", "support").await;
    let (status, page) = console_get(&app, &support, "/console/admin/holds").await;
    assert!(
        status == StatusCode::FORBIDDEN && page.contains("permission_not_granted"),
        "{page}"
    );
}
