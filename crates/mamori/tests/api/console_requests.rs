//! The console's request register: the privacy officer lists requests by due date, starts one,
//! extends its deadline once, and fulfils an erasure request by erasing the person — each step
//! the vault's, ledgered as the member of staff; a role without the rights purpose is refused.

use std::time::Duration;

use mamori_core::requests::NewRequest;
use reqwest::StatusCode;

use crate::common::TestApp;
use crate::staff::now_seconds;
use crate::staff_sign_in::{console_get, signed_in_as, staff_events};
use crate::{between, create, customer, form_csrf};

async fn step(
    app: &TestApp,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let (_, page) = console_get(app, cookie, path).await;
    let csrf = form_csrf(&page);
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

pub async fn staff_work_the_request_register_in_the_console(app: TestApp) {
    let person = create(&app, &customer("register")).await;
    let officer = mamori_core::Actor {
        id: "test:officer".into(),
        role: "privacy_officer".into(),
    };
    let opened = (app.vault)
        .open_request(
            &officer,
            NewRequest {
                kind: "erasure".into(),
                subject: mamori_core::parse_id(&person),
                jurisdiction: "gdpr".into(),
                source: "staff".into(),
                received_ms: None,
            },
        )
        .await
        .unwrap();
    let reference = mamori_core::reference::format_reference(opened.reference);
    let id = mamori_core::format_id(&opened.id);
    let (cookie, olu) = signed_in_as(&app, "olu.officer@example.com", "privacy_officer").await;
    let (status, register) = console_get(&app, &cookie, "/console/requests?lang=fr").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        register.contains(&reference) && register.contains("Effacement"),
        "{register}"
    );
    let path = format!("/console/requests/{id}");
    let (status, page) = step(&app, &cookie, &path, &[("step", "start")]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(between(&page, "id=\"request-state\">", "<"), "In progress");
    let due_before = between(&page, "id=\"request-due\">", "<").to_string();
    let (status, page) = step(
        &app,
        &cookie,
        &path,
        &[("step", "extend"), ("reason", "complexity")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_ne!(
        between(&page, "id=\"request-due\">", "<"),
        due_before,
        "two more months"
    );
    assert!(
        !page.contains("id=\"step-extend\""),
        "extended once: no second offer"
    );
    let (status, page) = step(
        &app,
        &cookie,
        &path,
        &[("step", "extend"), ("reason", "complexity")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("already_extended"), "{page}");
    let made_up = [("step", "deny"), ("reason", "made up")];
    let (status, page) = step(&app, &cookie, &path, &made_up).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    let verified = [("step", "verify"), ("how", "call_back")];
    assert_eq!(
        step(&app, &cookie, &path, &verified).await.0,
        StatusCode::OK
    );
    // Erasing is sensitive: six minutes after signing in, a code is asked for again.
    app.clock.advance(Duration::from_secs(6 * 60));
    let (status, page) = step(&app, &cookie, &path, &[("step", "erase")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("reauthentication_required"), "{page}");
    let (_, page) = step(
        &app,
        &cookie,
        &path,
        &[("step", "erase"), ("code", "abcde-fghjk")],
    )
    .await;
    assert!(page.contains("That code does not match."), "{page}");
    let code = olu.secret.code_at(now_seconds(&app));
    let (status, page) = step(&app, &cookie, &path, &[("step", "erase"), ("code", &code)]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(between(&page, "id=\"request-state\">", "<"), "Fulfilled");
    let (status, _) = app
        .get_as(
            &format!("/v1/subjects/{person}"),
            "service",
            "customer_support",
        )
        .await;
    assert_ne!(status, StatusCode::OK, "erased");
    let events = staff_events(&app).await;
    let denied = |action: &str, why: &str| events.iter().any(|(a, o)| a == action && o == why);
    assert!(
        denied("subject.erase", "reauthentication_required"),
        "{events:?}"
    );
    assert!(denied("staff.reauthenticate", "wrong_factor"), "{events:?}");
    for action in [
        "staff.reauthenticate",
        "request.list",
        "request.state",
        "request.extend",
        "subject.erase",
    ] {
        assert!(
            events.iter().any(|(a, o)| a == action && o == "allowed"),
            "{action}: {events:?}"
        );
    }

    let (support, _) = signed_in_as(&app, "sol.support@example.com", "support").await;
    let (status, page) = console_get(&app, &support, "/console/requests").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("purpose_not_allowed_for_role"), "{page}");
    let (status, _) = console_get(&app, &support, &path).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "nor one request");
}

/// An access request is fulfilled with the export: a sensitive step (a code again after five
/// minutes), a JSON download of everything held about the person, the request closed.
pub async fn staff_fulfil_an_access_request_with_the_export(app: TestApp) {
    let person = create(&app, &customer("exported")).await;
    let officer = mamori_core::Actor {
        id: "test:officer".into(),
        role: "privacy_officer".into(),
    };
    let new = |kind: &str| NewRequest {
        kind: kind.into(),
        subject: mamori_core::parse_id(&person),
        jurisdiction: "gdpr".into(),
        source: "staff".into(),
        received_ms: None,
    };
    let access = app
        .vault
        .open_request(&officer, new("access"))
        .await
        .unwrap();
    let path = format!("/console/requests/{}", mamori_core::format_id(&access.id));
    let (cookie, who) = signed_in_as(&app, "eve.officer@example.com", "privacy_officer").await;
    let (_, page) = console_get(&app, &cookie, &path).await;
    assert!(
        !page.contains("id=\"step-export\""),
        "not before the requester is verified"
    );
    let verified = [("step", "verify"), ("how", "id_document")];
    let (_, page) = step(&app, &cookie, &path, &verified).await;
    assert!(page.contains("id=\"step-export\""), "{page}");
    app.clock.advance(Duration::from_secs(6 * 60));
    let (status, page) = step(&app, &cookie, &path, &[("step", "export")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("reauthentication_required"),
        "no download without a fresh proof"
    );
    let code = who.secret.code_at(now_seconds(&app));
    let (_, page) = console_get(&app, &cookie, &path).await;
    let form = [
        ("csrf", form_csrf(&page)),
        ("step", "export".into()),
        ("code", code),
    ];
    let r = (reqwest::Client::new().post(app.url(&path)))
        .header("cookie", format!("mamori_staff={cookie}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename=\"export-R-"),
        "{disposition}"
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    let export: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        export["data"]["contact"]["email"],
        "ada.exported@example.com"
    );
    assert!(
        export["access_log"]
            .as_array()
            .is_some_and(|l| !l.is_empty())
    );
    let (_, page) = console_get(&app, &cookie, &path).await;
    assert!(
        !page.contains("id=\"step-export\""),
        "fulfilled: nothing more to do"
    );
    // An erasure request has no export to give.
    let erasure = app
        .vault
        .open_request(&officer, new("erasure"))
        .await
        .unwrap();
    let path = format!("/console/requests/{}", mamori_core::format_id(&erasure.id));
    let (_, page) = console_get(&app, &cookie, &path).await;
    assert!(!page.contains("id=\"step-export\""));
    let events = staff_events(&app).await;
    let read = ("subject.read".to_string(), "allowed".to_string());
    assert!(events.contains(&read), "{events:?}");
}

/// A request that came another way than the privacy center or an agent is answered only once
/// staff record how they verified the requester; the check is recorded once, ledgered.
pub async fn a_request_is_answered_only_once_its_requester_is_verified(app: TestApp) {
    let person = create(&app, &customer("verified")).await;
    let officer = mamori_core::Actor {
        id: "test:officer".into(),
        role: "privacy_officer".into(),
    };
    let new = NewRequest {
        kind: "access".into(),
        subject: mamori_core::parse_id(&person),
        jurisdiction: "gdpr".into(),
        source: "staff".into(),
        received_ms: None,
    };
    let opened = app.vault.open_request(&officer, new).await.unwrap();
    let path = format!("/console/requests/{}", mamori_core::format_id(&opened.id));
    let (cookie, _) = signed_in_as(&app, "val.officer@example.com", "privacy_officer").await;
    let (_, page) = console_get(&app, &cookie, &path).await;
    assert_eq!(
        between(&page, "id=\"request-verified\">", "<"),
        "not verified yet"
    );
    assert!(page.contains("id=\"step-verify\"") && !page.contains("id=\"step-fulfil\""));
    let (status, page) = step(&app, &cookie, &path, &[("step", "fulfil")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("not_verified"), "{page}");
    for how in ["", "agent", "privacy_center_sign_in", "telepathy"] {
        let (status, _) = step(&app, &cookie, &path, &[("step", "verify"), ("how", how)]).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{how}: staff record their own checks"
        );
    }
    let check = [("step", "verify"), ("how", "account_details")];
    let (status, page) = step(&app, &cookie, &path, &check).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let shown = between(&page, "id=\"request-verified\">", "<");
    assert!(
        shown.starts_with("Account details only they know · "),
        "{shown}"
    );
    assert!(page.contains("id=\"step-fulfil\"") && !page.contains("id=\"step-verify\""));
    let (status, page) = step(&app, &cookie, &path, &check).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("already_verified"), "{page}");
    let (status, page) = step(&app, &cookie, &path, &[("step", "fulfil")]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let events = staff_events(&app).await;
    let verify = ("request.verify".to_string(), "allowed".to_string());
    assert_eq!(
        events.iter().filter(|e| **e == verify).count(),
        1,
        "{events:?}"
    );
}

/// A request that came by e-mail is recorded in the console: its law, the day it arrived and the
/// customer found for the rights purpose; it opens not verified. Bad input opens nothing.
pub async fn staff_record_a_request_received_by_email(app: TestApp) {
    let person = create(&app, &customer("inbox")).await;
    let (cookie, _) = signed_in_as(&app, "po.inbox@staff.example", "privacy_officer").await;
    let everyone = mamori_core::Actor {
        id: "test:officer".into(),
        role: "privacy_officer".into(),
    };
    let count = async || {
        let filter = mamori_core::requests::RequestFilter {
            limit: 100,
            ..Default::default()
        };
        app.vault
            .list_requests(&everyone, &filter)
            .await
            .unwrap()
            .len()
    };
    let day = mamori_core::format_time(app.vault.now_ms() - 3 * 86_400_000)[..10].to_string();
    let bad: [&[(&str, &str)]; 5] = [
        &[("kind", "gossip"), ("jurisdiction", "gdpr")],
        &[("kind", "access"), ("jurisdiction", "mars")],
        &[
            ("kind", "access"),
            ("jurisdiction", "gdpr"),
            ("received", "2026-13-40"),
        ],
        &[
            ("kind", "access"),
            ("jurisdiction", "gdpr"),
            ("received", "2999-01-01"),
        ],
        &[
            ("kind", "access"),
            ("jurisdiction", "gdpr"),
            ("customer", "nobody@example.com"),
        ],
    ];
    for form in bad {
        let (status, page) = step(&app, &cookie, "/console/requests", form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        assert!(
            page.contains("id=\"error\"") && !page.contains("nobody@example.com"),
            "{page}"
        );
    }
    assert_eq!(count().await, 0, "nothing opened");
    let form = [
        ("kind", "erasure"),
        ("jurisdiction", "gdpr"),
        ("received", day.as_str()),
        ("customer", "ada.inbox@example.com"),
        ("lang", "fr"),
    ];
    let (status, page) = step(&app, &cookie, "/console/requests", &form).await;
    assert_eq!(status, StatusCode::OK, "the request's own page: {page}");
    assert!(
        page.contains("id=\"request-verified\">pas encore vérifiée") && page.contains("verify-how"),
        "{page}"
    );
    let filter = mamori_core::requests::RequestFilter {
        limit: 100,
        ..Default::default()
    };
    let rows = app.vault.list_requests(&everyone, &filter).await.unwrap();
    let row = &rows[0];
    assert_eq!(rows.len(), 1);
    assert_eq!(
        row.subject_id.map(|s| mamori_core::format_id(&s)),
        Some(person)
    );
    assert_eq!((row.source.as_str(), row.verified), ("staff", None));
    assert_eq!(&mamori_core::format_time(row.received_ms)[..10], day);
    let events = staff_events(&app).await;
    assert!(
        events.contains(&("request.open".to_string(), "allowed".to_string())),
        "{events:?}"
    );
    // The register finds it by the reference the person quotes; due in weeks, it is not overdue.
    let reference = mamori_core::reference::format_reference(row.reference);
    let path = format!("/console/requests?reference={reference}");
    let (status, page) = console_get(&app, &cookie, &path).await;
    assert!(
        status == StatusCode::OK && page.matches("<tr>").count() == 2,
        "{page}"
    );
    let (_, page) = console_get(&app, &cookie, "/console/requests?due=overdue").await;
    assert!(page.contains("id=\"no-requests-listed\""), "{page}");
    let (_, page) = console_get(&app, &cookie, "/console/requests?due=week").await;
    assert!(
        page.contains("id=\"no-requests-listed\""),
        "due in about four weeks: {page}"
    );
    let (status, _) = console_get(&app, &cookie, "/console/requests?reference=R-NOPE").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}
