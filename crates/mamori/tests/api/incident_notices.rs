//! Notices to the people an incident affected: one per person, in their language, sent once
//! through the mailer (each address read through the access decision), never again — not even
//! one cut off while being handed over; erased people counted, never told; drills never send.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mamori_core::incidents::notice_sending::NoticeLinks;
use mamori_core::mail::{Mail, Mailer, TextSender};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::incident_impact::key_actor;
use crate::incidents::open;

/// Keeps what it is handed; never answers for `hang_on` (the server stops meanwhile).
#[derive(Default, Clone)]
pub(crate) struct Recorder {
    pub(crate) mails: Arc<Mutex<Vec<Mail>>>,
    hang_on: Option<&'static str>,
}

#[async_trait::async_trait]
impl Mailer for Recorder {
    async fn send(&self, mail: Mail) -> mamori_core::Result<()> {
        if self.hang_on == Some(mail.to.as_str()) {
            std::future::pending::<()>().await;
        }
        self.mails.lock().unwrap().push(mail);
        Ok(())
    }
}

/// Keeps the text messages it is handed: (number, text).
#[derive(Default, Clone)]
pub(crate) struct Texts(pub(crate) Arc<Mutex<Vec<(String, String)>>>);

#[async_trait::async_trait]
impl TextSender for Texts {
    async fn send_text(&self, to: &str, body: &str) -> mamori_core::Result<()> {
        self.0
            .lock()
            .unwrap()
            .push((to.to_string(), body.to_string()));
        Ok(())
    }
}

fn links() -> NoticeLinks {
    NoticeLinks {
        privacy_center: "https://privacy.example/privacy/me".into(),
        texts: None,
    }
}

pub(crate) async fn send(app: &TestApp, mailer: &Recorder) {
    app.vault
        .send_incident_notices(mailer, &links())
        .await
        .unwrap();
}

pub(crate) async fn prepare(app: &TestApp, incident: &str, body: &Value) -> reqwest::Response {
    (app.client
        .post(app.url(&format!("/v1/incidents/{incident}/notices"))))
    .bearer_auth(&app.keys["privacy_officer"])
    .header("Mamori-Purpose", "data_subject_rights")
    .json(body)
    .send()
    .await
    .unwrap()
}

/// People with an address (one in Japanese, one in French), one without, read by the support
/// key in a window; returns their ids and the scope.
pub(crate) async fn reached(app: &TestApp) -> (Vec<String>, Value) {
    let mut ids = vec![];
    for (email, lang) in [
        (Some("en@example.com"), None),
        (Some("ja@example.com"), Some("ja")),
        (Some("fr@example.com"), Some("fr")),
        (None, None),
    ] {
        let mut data = json!({"contact": {"name": "P"}});
        if let Some(e) = email {
            data["contact"]["email"] = json!(e);
        }
        let id = crate::create(app, &json!({ "data": data })).await;
        if let Some(l) = lang {
            let path = format!("/v1/subjects/{id}");
            let r = app.as_role(
                Method::PATCH,
                &path,
                "privacy_officer",
                "data_subject_rights",
            );
            let country = if l == "ja" { "JP" } else { "FR" };
            let body =
                json!({"data": {"preferences": {"language": l}, "address": {"country": country}}});
            assert_eq!(
                r.json(&body).send().await.unwrap().status(),
                StatusCode::NO_CONTENT
            );
        }
        ids.push(id);
    }
    let from = mamori_core::format_time(app.vault.now_ms());
    app.clock.advance(Duration::from_secs(60));
    for id in &ids {
        let path = format!("/v1/subjects/{id}");
        let r = app.as_role(Method::GET, &path, "support", "customer_support");
        assert_eq!(r.send().await.unwrap().status(), StatusCode::OK);
    }
    app.clock.advance(Duration::from_secs(60));
    let to = mamori_core::format_time(app.vault.now_ms());
    let support = key_actor(app, "support").await;
    (ids, json!({"actors": [support], "from": from, "to": to}))
}

fn count(summary: &Value, state: &str) -> u64 {
    (summary["by_state"].as_array().unwrap().iter())
        .find(|c| c["state"] == state)
        .map_or(0, |c| c["people"].as_u64().unwrap())
}

pub async fn notices_go_to_each_affected_person_once_in_their_language(app: TestApp) {
    let (_, scope) = reached(&app).await;
    let incident = open(&app, "Support key posted in a chat").await;
    let id = incident["id"].as_str().unwrap();
    let body = json!({"scope": scope, "advice": {"en": "Change your password."}});
    let r = prepare(&app, id, &body).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let summary: Value = r.json().await.unwrap();
    assert_eq!(
        (&summary["added"], &summary["people"]),
        (&json!(4), &json!(4))
    );
    assert_eq!(count(&summary, "pending"), 4);

    let mailer = Recorder::default();
    send(&app, &mailer).await;
    send(&app, &mailer).await;
    let mails = mailer.mails.lock().unwrap().clone();
    let to: Vec<&str> = mails.iter().map(|m| m.to.as_str()).collect();
    assert_eq!(to.len(), 3, "{to:?}");
    let of = |a: &str| mails.iter().find(|m| m.to == a).unwrap().clone();
    let (en, ja, fr) = (
        of("en@example.com"),
        of("ja@example.com"),
        of("fr@example.com"),
    );
    assert!(
        en.body.contains("What you can do: Change your password."),
        "{}",
        en.body
    );
    assert!(
        en.body
            .contains("an access credential to our systems was exposed")
    );
    assert!(
        ja.subject.starts_with('【') && ja.body.contains("認証情報が漏えい"),
        "{}",
        ja.body
    );
    assert!(
        fr.body.contains("Ce qui s’est passé\u{202f}:"),
        "{}",
        fr.body
    );
    // Advice only in English: the others get the generic words of their language.
    assert!(fr.body.contains("Méfiez-vous"));
    for m in &mails {
        assert!(m.body.contains("https://privacy.example/privacy/me"));
    }

    // Nothing twice: preparing again adds no one, sending again sends nothing.
    let r = prepare(&app, id, &body).await;
    let again: Value = r.json().await.unwrap();
    assert_eq!((&again["added"], count(&again, "sent")), (&json!(0), 3));
    assert_eq!(count(&again, "no_address"), 1);
    // The law covering each, by the country of their address as read when the notice went out.
    assert_eq!(
        again["by_jurisdiction"],
        json!([{"jurisdiction": "appi", "people": 1}, {"jurisdiction": "gdpr", "people": 1},
            {"jurisdiction": "unknown", "people": 2}])
    );
    send(&app, &mailer).await;
    assert_eq!(mailer.mails.lock().unwrap().len(), 3);
    let r = (app.client.get(app.url(&format!("/v1/incidents/{id}"))))
        .bearer_auth(&app.keys["privacy_officer"])
        .send()
        .await
        .unwrap();
    let detail: Value = r.json().await.unwrap();
    let kinds: Vec<&str> = (detail["timeline"].as_array().unwrap().iter())
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["opened", "notices", "notices"]);

    // The person reads it again on My data, in the page's language.
    let (client, jar, _) = crate::signed_in_browser(&app, "ja@example.com").await;
    let r = (client.get(app.url("/privacy/me?lang=ja")))
        .header("cookie", jar)
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"incident-notices\""), "{html}");
    assert!(html.contains("認証情報が漏えいしました"), "{html}");
}

pub async fn a_notice_cut_off_while_sending_is_never_sent_again(app: TestApp) {
    let (ids, scope) = reached(&app).await;
    // Erased before the notices go out: counted, never brought back to be told.
    let path = format!("/v1/subjects/{}", ids[1]);
    let r = app.as_role(
        Method::DELETE,
        &path,
        "privacy_officer",
        "data_subject_rights",
    );
    assert_eq!(r.send().await.unwrap().status(), StatusCode::OK);
    let incident = open(&app, "Support key posted in a chat").await;
    let id = incident["id"].as_str().unwrap();
    let r = prepare(&app, id, &json!({"scope": scope})).await;
    assert_eq!(r.status(), StatusCode::OK);

    // One notice is handed over and the server stops before the mailer answers; the other
    // goes out meanwhile.
    let hanging = Recorder {
        hang_on: Some("en@example.com"),
        ..Recorder::default()
    };
    let cut = tokio::time::timeout(Duration::from_millis(500), send(&app, &hanging)).await;
    assert!(cut.is_err());
    assert_eq!(hanging.mails.lock().unwrap().len(), 1, "the other went out");
    let mailer = Recorder::default();
    send(&app, &mailer).await;
    assert!(
        mailer.mails.lock().unwrap().is_empty(),
        "the cut one is not sent again"
    );
    // Ten minutes on, the one left `sending` is marked uncertain, and still not sent.
    app.clock.advance(Duration::from_secs(11 * 60));
    send(&app, &mailer).await;
    let r = (app
        .client
        .get(app.url(&format!("/v1/incidents/{id}/notices"))))
    .bearer_auth(&app.keys["privacy_officer"])
    .send()
    .await
    .unwrap();
    let summary: Value = r.json().await.unwrap();
    let states: Vec<u64> = ["uncertain", "sent", "erased", "no_address"]
        .iter()
        .map(|s| count(&summary, s))
        .collect();
    assert_eq!(states, [1, 1, 1, 1], "{summary:#}");
    assert!(mailer.mails.lock().unwrap().is_empty());
}

pub async fn bad_notice_orders_are_refused_and_change_nothing(app: TestApp) {
    let (_, scope) = reached(&app).await;
    let incident = open(&app, "Support key posted in a chat").await;
    let id = incident["id"].as_str().unwrap();
    let mut inverted = scope.clone();
    inverted["from"] = scope["to"].clone();
    inverted["to"] = scope["from"].clone();
    let mut nobody = scope.clone();
    nobody["actors"] = json!([]);
    for (body, code) in [
        (json!({"scope": scope, "language": "de"}), "invalid_value"),
        (
            json!({"scope": scope, "advice": {"ja": "あ".repeat(2_001)}}),
            "text_too_long",
        ),
        (
            json!({"scope": scope, "advice": {"en": "ok\u{0}"}}),
            "invalid_value",
        ),
        (json!({"scope": inverted}), "invalid_time"),
        (json!({"scope": nobody}), "invalid_value"),
    ] {
        let r = prepare(&app, id, &body).await;
        crate::problem(r, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    // A purpose the role does not use: refused by the decision, ledgered.
    let r = (app
        .client
        .post(app.url(&format!("/v1/incidents/{id}/notices"))))
    .bearer_auth(&app.keys["privacy_officer"])
    .header("Mamori-Purpose", "marketing_email")
    .json(&json!({"scope": scope}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = (app
        .client
        .get(app.url(&format!("/v1/incidents/{id}/notices"))))
    .bearer_auth(&app.keys["privacy_officer"])
    .send()
    .await
    .unwrap();
    let summary: Value = r.json().await.unwrap();
    assert_eq!(summary["people"], 0, "nothing was queued");
    // A closed incident takes no more notices.
    crate::incidents::add_entry(&app, id, &json!({"version": 1, "status": "closed"})).await;
    let r = prepare(&app, id, &json!({"scope": scope})).await;
    crate::problem(r, StatusCode::CONFLICT, "incident_closed").await;
}

pub async fn a_drills_notices_are_written_and_never_sent(app: TestApp) {
    let (_, scope) = reached(&app).await;
    let r = (app.client.post(app.url("/v1/drills")))
        .bearer_auth(&app.keys["privacy_officer"])
        .json(&json!({"scenario": "leaked_service_key"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let drill: Value = r.json().await.unwrap();
    let id = drill["id"].as_str().unwrap();
    let r = prepare(&app, id, &json!({"scope": scope})).await;
    let summary: Value = r.json().await.unwrap();
    assert_eq!(
        (&summary["drill"], &summary["added"]),
        (&json!(true), &json!(4))
    );
    let mailer = Recorder::default();
    send(&app, &mailer).await;
    assert!(
        mailer.mails.lock().unwrap().is_empty(),
        "a drill sends nothing"
    );
    let r = (app
        .client
        .get(app.url(&format!("/v1/incidents/{id}/notices"))))
    .bearer_auth(&app.keys["privacy_officer"])
    .send()
    .await
    .unwrap();
    let summary: Value = r.json().await.unwrap();
    assert_eq!(count(&summary, "drafted"), 4, "{summary:#}");
    // The drill's report: the impact computed and the notices prepared, then the draft.
    let draft = format!("/v1/incidents/{id}/regulator-draft?jurisdiction=gdpr");
    let r = (app.client.get(app.url(&draft))).bearer_auth(&app.keys["privacy_officer"]);
    assert_eq!(r.send().await.unwrap().status(), StatusCode::OK);
    let report = format!("/v1/incidents/{id}/drill-report");
    let r = (app.client.get(app.url(&report))).bearer_auth(&app.keys["privacy_officer"]);
    let report: Value = r.send().await.unwrap().json().await.unwrap();
    let reached: Vec<&str> = (report["milestones"].as_array().unwrap().iter())
        .map(|m| m["milestone"].as_str().unwrap())
        .collect();
    assert_eq!(
        reached,
        [
            "opened",
            "impact_computed",
            "notices_prepared",
            "regulator_draft"
        ],
        "{report:#}"
    );
}

pub async fn regulator_drafts_hold_counts_and_categories_never_values(app: TestApp) {
    let (_, scope) = reached(&app).await;
    let canary = format!("draft-canary-{}", uuid::Uuid::new_v4().simple());
    let incident = open(&app, &format!("Key leaked by {canary}")).await;
    let id = incident["id"].as_str().unwrap();
    let note = json!({"version": 1, "note": format!("called {canary}")});
    crate::incidents::add_entry(&app, id, &note).await;
    assert_eq!(
        prepare(&app, id, &json!({"scope": scope})).await.status(),
        StatusCode::OK
    );
    let draft = async |query: &str| {
        let path = format!("/v1/incidents/{id}/regulator-draft?{query}");
        (app.client.get(app.url(&path)))
            .bearer_auth(&app.keys["privacy_officer"])
            .send()
            .await
            .unwrap()
    };
    let r = draft("jurisdiction=gdpr").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/markdown; charset=utf-8");
    let md = r.text().await.unwrap();
    for expected in [
        "GDPR Art. 33(3)",
        "## Likely consequences",
        "- People: 4",
        "- Contact details: 4",
        "Due: 2026-01-04T09:00:00Z",
        "**To complete: Likely consequences**",
        "- Of whom covered by this law (by their address): 0",
    ] {
        assert!(md.contains(expected), "{expected} in {md}");
    }
    let r = draft("jurisdiction=appi&format=html&lang=ja").await;
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = r.text().await.unwrap();
    assert!(
        html.contains("再発防止策") && html.contains("class=\"to-complete\""),
        "{html}"
    );
    let r = draft("jurisdiction=lgpd&lang=fr").await;
    assert!(r.text().await.unwrap().contains("## Cause"));
    for q in [
        "jurisdiction=gdpr",
        "jurisdiction=appi&format=html&lang=ja",
        "jurisdiction=ccpa",
    ] {
        let text = draft(q).await.text().await.unwrap();
        for value in [canary.as_str(), "en@example.com", "Key leaked"] {
            assert!(!text.contains(value), "{value} leaked into {q}");
        }
    }
    for (q, code) in [
        ("jurisdiction=mars", "invalid_value"),
        ("jurisdiction=gdpr&format=pdf", "invalid_value"),
        ("jurisdiction=gdpr&lang=de", "invalid_value"),
    ] {
        crate::problem(draft(q).await, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    crate::problem(
        draft("format=html").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
}

pub async fn a_person_without_an_email_address_is_told_by_text_message(app: TestApp) {
    let body = json!({"data": {"contact": {"name": "P", "phone": "+33 6 12 34 56 78"}}});
    let id = crate::create(&app, &body).await;
    let from = mamori_core::format_time(app.vault.now_ms());
    app.clock.advance(Duration::from_secs(60));
    let r = app.as_role(
        Method::GET,
        &format!("/v1/subjects/{id}"),
        "support",
        "customer_support",
    );
    assert_eq!(r.send().await.unwrap().status(), StatusCode::OK);
    app.clock.advance(Duration::from_secs(60));
    let to = mamori_core::format_time(app.vault.now_ms());
    let support = key_actor(&app, "support").await;
    let incident = open(&app, "Support key posted in a chat").await;
    let incident = incident["id"].as_str().unwrap();
    let scope = json!({"actors": [support], "from": from, "to": to});
    assert_eq!(
        prepare(&app, incident, &json!({"scope": scope}))
            .await
            .status(),
        StatusCode::OK
    );
    let (mailer, texts) = (Recorder::default(), Texts::default());
    let links = NoticeLinks {
        texts: Some(Arc::new(texts.clone())),
        ..links()
    };
    app.vault
        .send_incident_notices(&mailer, &links)
        .await
        .unwrap();
    app.vault
        .send_incident_notices(&mailer, &links)
        .await
        .unwrap();
    assert!(mailer.mails.lock().unwrap().is_empty());
    let sent = texts.0.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "once: {sent:?}");
    assert_eq!(sent[0].0, "+33612345678");
    assert!(
        sent[0].1.contains("https://privacy.example/privacy/me"),
        "{}",
        sent[0].1
    );
}
