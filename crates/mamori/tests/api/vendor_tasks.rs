//! Erasure, correction and opt-out reach vendors: each vendor that received the data concerned
//! gets a task (an outbox event, a ledger event naming it), reminded weekly until it confirms
//! with a request signed by its own secret; a forged signature, another vendor's task or an
//! unknown one are refused with their codes, ledgered, and change nothing.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::TestApp;

async fn disclose(app: &TestApp, id: &str, vendor: &str, purpose: &str, categories: Value) {
    let body = json!({"vendor": vendor, "purpose": purpose, "categories": categories});
    let path = format!("/v1/subjects/{id}/disclosures");
    let r = app
        .client
        .post(app.url(&path))
        .bearer_auth(&app.keys["service"]);
    let r = r.json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

async fn tasks(app: &TestApp, query: &str) -> Vec<Value> {
    let r = crate::officer(app, Method::GET, &format!("/v1/vendor-tasks{query}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let list: Value = r.json().await.unwrap();
    list["tasks"].as_array().unwrap().clone()
}

/// A vendor's secret as `mamori vendor secret` prints it, decoded.
async fn secret(app: &TestApp, vendor: &str) -> Vec<u8> {
    let officer = mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    };
    let text = app.vault.vendor_secret(&officer, vendor).await.unwrap();
    STANDARD
        .decode(text.strip_prefix("whsec_").unwrap())
        .unwrap()
}

/// Posts a confirmation signed as Standard Webhooks signs: `v1,` HMAC of `id.timestamp.body`.
async fn confirm(app: &TestApp, task: &str, vendor: &str, key: &[u8]) -> reqwest::Response {
    let body = json!({"vendor": vendor}).to_string();
    let timestamp = (app.vault.now_ms() / 1000).to_string();
    let signed = format!("msg_1.{timestamp}.{body}");
    let tag = STANDARD.encode(mamori_crypto::hmac_sha256(key, signed.as_bytes()));
    let path = format!("/v1/vendor-tasks/{task}/confirm");
    (app.client.post(app.url(&path)))
        .header("content-type", "application/json")
        .header("webhook-id", "msg_1")
        .header("webhook-timestamp", timestamp)
        .header("webhook-signature", format!("v1,{tag}"))
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The ledger's events of tasks opened, reminded and confirmed: action, recipient, outcome code.
async fn task_events(app: &TestApp) -> Vec<(String, String, String)> {
    app.ledger.flush().await.unwrap();
    let leaves = app.store.leaves(0, 1_000_000).await.unwrap();
    (leaves.iter())
        .filter_map(|l| mamori_ledger::Event::from_leaf_data(&l.data).ok())
        .filter(|e| e.action.starts_with("vendor_task.") || e.action.starts_with("vendor.task_"))
        .filter(|e| e.action != "vendor.task_list")
        .map(|e| {
            let outcome = match &e.outcome {
                mamori_ledger::Outcome::Allowed => "allowed".to_string(),
                mamori_ledger::Outcome::Denied { reason } => reason.clone(),
            };
            (
                e.action.clone(),
                e.recipient.clone().unwrap_or_default(),
                outcome,
            )
        })
        .collect()
}

pub async fn an_erasure_asks_each_vendor_that_received_data_until_it_confirms(app: TestApp) {
    let id = crate::create(&app, &crate::customer("erased-downstream")).await;
    let other = crate::create(&app, &crate::customer_without_phone("kept")).await;
    disclose(
        &app,
        &id,
        "kuroneko_logistics",
        "order_fulfilment",
        json!(["address"]),
    )
    .await;
    disclose(
        &app,
        &other,
        "kuroneko_logistics",
        "order_fulfilment",
        json!(["contact"]),
    )
    .await;
    let r = crate::officer(&app, Method::DELETE, &format!("/v1/subjects/{id}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let open = tasks(&app, "?state=open").await;
    assert_eq!(open.len(), 1, "only the erased person's vendor: {open:?}");
    let task = &open[0];
    assert_eq!(
        (task["vendor"].as_str(), task["kind"].as_str()),
        (Some("kuroneko_logistics"), Some("erasure"))
    );
    assert_eq!(
        (task["subject"].as_str(), &task["categories"]),
        (Some(id.as_str()), &json!(["address"]))
    );
    let task_id = task["id"].as_str().unwrap().to_string();
    let (_, feed) = app
        .get_as("/v1/events?after=0", "service", "order_fulfilment")
        .await;
    let announced = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "vendor.erasure_requested")
        .cloned();
    let announced = announced.expect("the task is announced");
    assert_eq!(announced["data"]["task"], task_id.as_str());
    assert_eq!(
        announced["data"]["confirm_path"],
        format!("/v1/vendor-tasks/{task_id}/confirm")
    );
    // A week on, a reminder; not twice for the same week.
    app.clock
        .advance(std::time::Duration::from_secs(7 * 86_400 + 60));
    assert_eq!(app.vault.remind_vendor_tasks().await.unwrap(), 1);
    assert_eq!(app.vault.remind_vendor_tasks().await.unwrap(), 0);
    // Only the vendor's own signature confirms it.
    let key = secret(&app, "kuroneko_logistics").await;
    let forged = confirm(&app, &task_id, "kuroneko_logistics", b"not the secret").await;
    crate::problem(forged, StatusCode::FORBIDDEN, "vendor_signature_invalid").await;
    let postbird = secret(&app, "postbird").await;
    let other_vendor = confirm(&app, &task_id, "postbird", &postbird).await;
    crate::problem(
        other_vendor,
        StatusCode::FORBIDDEN,
        "vendor_task_other_vendor",
    )
    .await;
    let unknown = confirm(
        &app,
        &mamori_core::format_id(&[7; 16]),
        "kuroneko_logistics",
        &key,
    )
    .await;
    crate::problem(unknown, StatusCode::NOT_FOUND, "vendor_task_not_found").await;
    assert_eq!(tasks(&app, "?state=open").await.len(), 1, "nothing changed");
    let done = confirm(&app, &task_id, "kuroneko_logistics", &key).await;
    assert_eq!(done.status(), StatusCode::OK);
    let done: Value = done.json().await.unwrap();
    assert!(
        done["confirmed_at"].is_string() && done["reminders"] == 1,
        "{done}"
    );
    let again: Value = confirm(&app, &task_id, "kuroneko_logistics", &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        again["confirmed_at"], done["confirmed_at"],
        "the first confirmation stands"
    );
    assert!(tasks(&app, "?state=open").await.is_empty());
    app.clock
        .advance(std::time::Duration::from_secs(7 * 86_400 + 60));
    assert_eq!(
        app.vault.remind_vendor_tasks().await.unwrap(),
        0,
        "confirmed: no more reminders"
    );
    let kuroneko = |action: &str, outcome: &str| {
        (
            action.to_string(),
            "kuroneko_logistics".to_string(),
            outcome.to_string(),
        )
    };
    let expected = vec![
        kuroneko("vendor.task_open", "allowed"),
        kuroneko("vendor.task_remind", "allowed"),
        kuroneko("vendor_task.confirm", "vendor_signature_invalid"),
        (
            "vendor_task.confirm".into(),
            "postbird".into(),
            "vendor_task_other_vendor".into(),
        ),
        kuroneko("vendor_task.confirm", "vendor_task_not_found"),
        kuroneko("vendor_task.confirm", "allowed"),
        kuroneko("vendor_task.confirm", "allowed"),
    ];
    assert_eq!(task_events(&app).await, expected);
}

pub async fn corrections_and_opt_outs_reach_the_vendors_concerned(app: TestApp) {
    let id = crate::create(&app, &crate::customer("downstream")).await;
    let grant = json!({"purpose": "marketing_email", "channel": "email", "granted": true});
    assert_eq!(
        crate::consent(&app, &id, "service", grant).await.status(),
        StatusCode::OK
    );
    disclose(&app, &id, "postbird", "marketing_email", json!(["contact"])).await;
    disclose(
        &app,
        &id,
        "kuroneko_logistics",
        "order_fulfilment",
        json!(["address"]),
    )
    .await;
    // A new address concerns the courier only.
    let change = json!({"data": {"address": {"city": "Lyon"}}});
    let path = format!("/v1/subjects/{id}");
    let r = crate::officer(&app, Method::PATCH, &path, Some(change)).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let open = tasks(&app, "?state=open").await;
    let summary: Vec<(&str, &str)> = open
        .iter()
        .map(|t| (t["vendor"].as_str().unwrap(), t["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(summary, vec![("kuroneko_logistics", "correction")]);
    // Withdrawing from marketing concerns the mailer only — once, however often it is said.
    let withdraw = json!({"purpose": "marketing_email", "channel": "email", "granted": false});
    for _ in 0..2 {
        let r = crate::consent(&app, &id, "service", withdraw.clone()).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let open = tasks(&app, "?state=open").await;
    let optouts: Vec<&Value> = open.iter().filter(|t| t["kind"] == "optout").collect();
    assert_eq!(optouts.len(), 1, "{open:?}");
    assert_eq!(
        (
            optouts[0]["vendor"].as_str(),
            optouts[0]["purpose"].as_str()
        ),
        (Some("postbird"), Some("marketing_email"))
    );
    let r = crate::officer(
        &app,
        Method::GET,
        &format!("/v1/subjects/{id}/vendor-tasks"),
        None,
    )
    .await;
    let mine: Value = r.json().await.unwrap();
    assert_eq!(mine["tasks"].as_array().unwrap().len(), 2);
    // The courier may not leave the register while its task is open.
    let start = crate::common::POLICY
        .find("[vendors.kuroneko_logistics]")
        .unwrap();
    let end = start + crate::common::POLICY[start..].find("contact = ").unwrap();
    let without = format!(
        "{}{}",
        &crate::common::POLICY[..start],
        &crate::common::POLICY[end..]
    )
    .replace("contact = \"privacy@kuroneko.example\"\n", "")
    .replace(
        "disclose = [\"kuroneko_logistics\", \"postbird\"]",
        "disclose = [\"postbird\"]",
    );
    let officer = mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    };
    let refused = app
        .vault
        .publish_policy(&officer, &without)
        .await
        .unwrap_err();
    assert_eq!(refused.code().as_str(), "vendor_tasks_pending");
    assert!(
        app.vault.current_notice_version().await.unwrap().is_none(),
        "nothing published"
    );
    let r = crate::officer(&app, Method::GET, "/v1/vendor-tasks?state=closed", None).await;
    crate::problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_value").await;
    // Staff without the vendors permission see none of it.
    let (status, _) = app
        .get_as("/v1/vendor-tasks", "service", "order_fulfilment")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

pub async fn the_console_shows_the_register_and_which_vendors_confirmed(app: TestApp) {
    use crate::staff_sign_in::{console_get, signed_in_as};
    let id = crate::create(&app, &crate::customer("console-vendors")).await;
    disclose(
        &app,
        &id,
        "kuroneko_logistics",
        "order_fulfilment",
        json!(["address"]),
    )
    .await;
    let open = json!({"kind": "erasure", "subject": id, "jurisdiction": "gdpr"});
    let r = crate::officer(&app, Method::POST, "/v1/requests", Some(open)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let request: Value = r.json().await.unwrap();
    let r = crate::officer(&app, Method::DELETE, &format!("/v1/subjects/{id}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let (officer, _) = signed_in_as(&app, "vera.officer@example.com", "privacy_officer").await;
    let (status, page) = console_get(&app, &officer, "/console/admin/vendors?lang=ja").await;
    assert_eq!(status, StatusCode::OK);
    for shown in [
        "委託先・提供先",
        "kuroneko_logistics",
        "postbird",
        "削除",
        "報告待ち",
    ] {
        assert!(page.contains(shown), "{shown}: {page}");
    }
    // The request's page says which vendors were told, and whether they confirmed.
    let path = format!(
        "/console/requests/{}?lang=en",
        request["id"].as_str().unwrap()
    );
    let (status, page) = console_get(&app, &officer, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Vendors told") && page.contains("Waiting"),
        "{page}"
    );
    // Support staff are refused the page, and their request pages have no such section.
    let (support, _) = signed_in_as(&app, "sol.support@example.com", "support").await;
    let (status, _) = console_get(&app, &support, "/console/admin/vendors").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// Confirmations that are not one: each refused with its code, ledgered, the task left open.
pub async fn bad_confirmations_are_refused_and_change_nothing(app: TestApp) {
    let id = crate::create(&app, &crate::customer("bad-confirm")).await;
    disclose(
        &app,
        &id,
        "kuroneko_logistics",
        "order_fulfilment",
        json!(["address"]),
    )
    .await;
    let r = crate::officer(&app, Method::DELETE, &format!("/v1/subjects/{id}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let task = tasks(&app, "?state=open").await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let key = secret(&app, "kuroneko_logistics").await;
    let path = format!("/v1/vendor-tasks/{task}/confirm");
    let post = |body: &'static str, headers: &[(&str, String)]| {
        let mut r = app.client.post(app.url(&path)).body(body);
        for (name, value) in headers {
            r = r.header(*name, value);
        }
        r.send()
    };
    let unsigned = post("{\"vendor\":\"kuroneko_logistics\"}", &[])
        .await
        .unwrap();
    crate::problem(unsigned, StatusCode::FORBIDDEN, "vendor_signature_invalid").await;
    let malformed = post("not json", &[]).await.unwrap();
    crate::problem(malformed, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    let stranger = post("{\"vendor\":\"nobody_inc\"}", &[]).await.unwrap();
    let problem = crate::problem(stranger, StatusCode::FORBIDDEN, "unknown_vendor").await;
    assert!(!problem.to_string().contains("nobody_inc"), "never echoed");
    // Signed properly, but an hour ago: stale.
    let body = "{\"vendor\":\"kuroneko_logistics\"}";
    let stale = (app.vault.now_ms() / 1000 - 3600).to_string();
    let signed = format!("msg_2.{stale}.{body}");
    let tag = STANDARD.encode(mamori_crypto::hmac_sha256(&key, signed.as_bytes()));
    let headers = [
        ("webhook-id", "msg_2".to_string()),
        ("webhook-timestamp", stale),
        ("webhook-signature", format!("v1,{tag}")),
    ];
    let late = post(body, &headers).await.unwrap();
    crate::problem(late, StatusCode::FORBIDDEN, "vendor_signature_invalid").await;
    let not_an_id = confirm(&app, "not-a-task", "kuroneko_logistics", &key).await;
    crate::problem(not_an_id, StatusCode::UNPROCESSABLE_ENTITY, "invalid_id").await;
    assert_eq!(tasks(&app, "?state=open").await.len(), 1, "still open");
    let refused = task_events(&app)
        .await
        .into_iter()
        .filter(|(a, _, o)| a == "vendor_task.confirm" && o != "allowed")
        .count();
    // Each but the unreadable body, which names no vendor to decide for (as everywhere: a body
    // that does not parse is refused before any decision).
    assert_eq!(refused, 4);
    let r = crate::officer(
        &app,
        Method::GET,
        "/v1/subjects/not-an-id/vendor-tasks",
        None,
    )
    .await;
    crate::problem(r, StatusCode::BAD_REQUEST, "invalid_id").await;
}

/// Milliseconds from the app's now to midnight UTC of `date` (`YYYY-MM-DD`), at least 0.
fn until(app: &TestApp, date: &str) -> std::time::Duration {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(date, &format).unwrap();
    let at_ms = (day.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    std::time::Duration::from_millis((at_ms - app.vault.now_ms()).max(0) as u64)
}

pub async fn overdue_vendor_reviews_are_announced_once(app: TestApp) {
    // A year and a day after the courier's review of 2026-03-15 (the mailer's of 2026-06-01 is
    // still within its year).
    app.clock.advance(until(&app, "2027-03-17"));
    assert_eq!(app.vault.send_vendor_reminders().await.unwrap(), 1);
    assert_eq!(app.vault.send_vendor_reminders().await.unwrap(), 0, "once");
    let r = crate::feed(&app, "after=0&limit=1000").await;
    let page: Value = r.json().await.unwrap();
    let due: Vec<&Value> = (page["events"].as_array().unwrap().iter())
        .filter(|e| e["type"] == "vendor.review_due")
        .map(|e| &e["data"])
        .collect();
    let expected =
        json!({"vendor": "kuroneko_logistics", "reason": "review_overdue", "date": "2026-03-15"});
    assert_eq!(due, [&expected]);
    app.ledger.flush().await.unwrap();
    let leaves = app.store.leaves(0, 1_000_000).await.unwrap();
    let reminded: Vec<Option<String>> = (leaves.iter())
        .filter_map(|l| mamori_ledger::Event::from_leaf_data(&l.data).ok())
        .filter(|e| e.action == "vendor.remind")
        .map(|e| e.recipient)
        .collect();
    assert_eq!(reminded, [Some("kuroneko_logistics".to_string())]);
    // The mailer's year runs out too: only its own reminder goes out.
    app.clock.advance(until(&app, "2027-06-03"));
    assert_eq!(app.vault.send_vendor_reminders().await.unwrap(), 1);
}
