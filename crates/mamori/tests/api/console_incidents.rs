//! The console's incident pages: an officer opens an incident and works its timeline in the
//! page's language; a stale version is told as such; a forged form and a role without
//! `admin = ["incidents"]` change nothing.

use reqwest::StatusCode;

use crate::common::TestApp;
use crate::form_csrf;
use crate::staff_sign_in::{console_get, signed_in_as};

async fn console_post(
    app: &TestApp,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let r = (reqwest::Client::new().post(app.url(path)))
        .header("cookie", format!("mamori_staff={cookie}"))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

pub async fn officers_open_and_work_incidents_in_the_console(app: TestApp) {
    let (cookie, _) = signed_in_as(&app, "po@staff.example", "privacy_officer").await;
    let (status, page) = console_get(&app, &cookie, "/console/incidents?lang=ja").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("インシデントを起票") && page.contains("id=\"no-incidents\""),
        "{page}"
    );
    let csrf = form_csrf(&page);
    let open = [
        ("csrf", csrf.as_str()),
        ("lang", "fr"),
        ("title", "Ordinateur du support perdu"),
        ("kind", "lost_device"),
        ("severity", "high"),
        ("detected", "2026-12-01T09:30"),
    ];
    let (status, page) = console_post(&app, &cookie, "/console/incidents", &open).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("Incident ouvert.") && page.contains("Appareil perdu ou volé"),
        "{page}"
    );
    assert!(page.contains("2026-12-01T09:30:00Z"), "{page}");
    assert!(
        page.contains("class=\"deadline-gdpr-authority\"")
            && page.contains("L’autorité de contrôle")
            && page.contains("sauf si la violation"),
        "{page}"
    );
    let id = crate::between(&page, "action=\"/console/incidents/", "/notices\"").to_string();
    let path = format!("/console/incidents/{id}");
    let step = [
        ("csrf", csrf.as_str()),
        ("lang", "en"),
        ("version", "1"),
        ("note", "Laptop was encrypted"),
        ("status", "contained"),
    ];
    let (status, page) = console_post(&app, &cookie, &path, &step).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("Entry added.") && page.contains("id=\"incident-status\">Contained<"),
        "{page}"
    );
    assert!(
        page.contains("Laptop was encrypted") && page.contains("id=\"incident-version\">2<"),
        "{page}"
    );
    // The same form again: the version moved on, the page says so and adds nothing.
    let (status, page) = console_post(&app, &cookie, &path, &step).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Someone changed this incident"), "{page}");
    assert!(page.contains("id=\"incident-version\">2<"), "{page}");
    // A forged form changes nothing either.
    let forged = [
        ("csrf", "forged"),
        ("lang", "en"),
        ("version", "2"),
        ("note", "x"),
    ];
    let (status, page) = console_post(&app, &cookie, &path, &forged).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"incident-version\">2<"), "{page}");
    // Containment from the page: a key revoked, recorded on the timeline.
    let operator = mamori::context::operator();
    let (key, _) = app
        .vault
        .create_api_key(&operator, "service", "on the laptop")
        .await
        .unwrap();
    let step = [
        ("csrf", csrf.as_str()),
        ("lang", "ja"),
        ("version", "2"),
        ("action", "revoke_api_key"),
        ("target", key.as_str()),
    ];
    let (status, page) = console_post(&app, &cookie, &format!("{path}/containment"), &step).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("実行し、タイムラインに記録しました。") && page.contains(&key),
        "{page}"
    );
    let keys = app.vault.list_api_keys(&operator).await.unwrap();
    assert!(keys.iter().any(|k| k.id == key && k.revoked));
    let (_, page) = console_get(&app, &cookie, "/console/incidents").await;
    assert!(
        page.contains("Ordinateur du support perdu") && page.contains(">Contained<"),
        "{page}"
    );
    let drill = [
        ("csrf", csrf.as_str()),
        ("lang", "fr"),
        ("scenario", "lost_laptop"),
    ];
    let (status, page) = console_post(&app, &cookie, "/console/drills", &drill).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("Exercice") && page.contains("(Exercice)"),
        "{page}"
    );
    let (status, _) = console_get(&app, &cookie, "/console/incidents/not-an-id").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

pub async fn roles_without_incidents_are_refused_the_register(app: TestApp) {
    let (support, _) = signed_in_as(&app, "sup@staff.example", "support").await;
    let (status, page) = console_get(&app, &support, "/console/incidents").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("permission_not_granted"), "{page}");
    let (_, home) = console_get(&app, &support, "/console").await;
    let csrf = form_csrf(&home);
    let open = [
        ("csrf", csrf.as_str()),
        ("title", "x"),
        ("kind", "other"),
        ("severity", "low"),
    ];
    let (status, _) = console_post(&app, &support, "/console/incidents", &open).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let operator = mamori::context::operator();
    assert!(
        app.vault.incidents(&operator).await.unwrap().is_empty(),
        "nothing was opened"
    );
}

pub async fn officers_notify_people_and_draft_reports_in_the_console(app: TestApp) {
    let (_, scope) = crate::incident_notices::reached(&app).await;
    let incident = crate::incidents::open(&app, "Support key posted in a chat").await;
    let id = incident["id"].as_str().unwrap();
    let (cookie, _) = signed_in_as(&app, "po@staff.example", "privacy_officer").await;
    let path = format!("/console/incidents/{id}");
    let (status, page) = console_get(&app, &cookie, &format!("{path}?lang=ja")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("本人への通知") && page.contains("id=\"no-notices\""),
        "{page}"
    );
    let csrf = form_csrf(&page);
    // datetime-local: minutes, so the window is widened to whole minutes around the reads.
    let minute = |t: &str, up: bool| {
        let ms = crate::incidents::ms(t) + if up { 60_000 } else { -60_000 };
        mamori_core::format_time(ms)[..16].to_string()
    };
    let (from, to) = (
        minute(scope["from"].as_str().unwrap(), false),
        minute(scope["to"].as_str().unwrap(), true),
    );
    let actors = scope["actors"][0].as_str().unwrap();
    let form = [
        ("csrf", csrf.as_str()),
        ("lang", "fr"),
        ("actors", actors),
        ("from", &from),
        ("to", &to),
        ("advice", "Changez votre mot de passe."),
    ];
    let (status, page) = console_post(&app, &cookie, &format!("{path}/notices"), &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("Avis préparés") && page.contains("En attente d’envoi"),
        "{page}"
    );
    // A forged form queues nothing more; a bad window is told, not queued.
    let forged = [
        ("csrf", "forged"),
        ("lang", "en"),
        ("actors", actors),
        ("from", &from),
        ("to", &to),
    ];
    let (status, _) = console_post(&app, &cookie, &format!("{path}/notices"), &forged).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let inverted = [
        ("csrf", csrf.as_str()),
        ("lang", "en"),
        ("actors", actors),
        ("from", &to),
        ("to", &from),
    ];
    let (status, _) = console_post(&app, &cookie, &format!("{path}/notices"), &inverted).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, page) = console_get(&app, &cookie, &format!("{path}?lang=en")).await;
    assert!(page.contains("<td data-label=\"People\">4</td>"), "{page}");
    let (status, draft) = console_get(
        &app,
        &cookie,
        &format!("{path}/draft?jurisdiction=appi&lang=ja"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        draft.contains("再発防止策") && !draft.contains("Support key posted"),
        "{draft}"
    );
    for law in ["gdpr-ish", ""] {
        let link = format!("{path}/draft?jurisdiction={law}");
        let (status, said) = console_get(&app, &cookie, &link).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{law}: {said}");
        assert!(
            said.contains("invalid_value") && !said.contains("gdpr-ish"),
            "{said}"
        );
    }
    // A deadline extended from the page, with its reason.
    let version = crate::between(&page, "id=\"incident-version\">", "<").to_string();
    let extend = [
        ("csrf", csrf.as_str()),
        ("lang", "en"),
        ("version", version.as_str()),
        ("note", "Phased report agreed"),
        ("extend", "gdpr:authority"),
        ("until", "2026-01-09T09:00"),
    ];
    let (status, page) = console_post(&app, &cookie, &path, &extend).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("Deadline extended") && page.contains("extended from 2026-01-04T09:00:00Z"),
        "{page}"
    );
}

/// Re-keying a webhook from the incident page shows its new secret this once, in the page's
/// language; the page read again does not.
pub async fn a_webhook_rekeyed_from_the_incident_page_shows_its_secret_once(app: TestApp) {
    let operator = mamori::context::operator();
    let (hook, original) = (app.vault)
        .add_webhook(&operator, "http://127.0.0.1:9/rekeyed", &["*".to_string()])
        .await
        .unwrap();
    let incident = crate::incidents::open(&app, "A signing secret in a screenshot").await;
    let path = format!("/console/incidents/{}", incident["id"].as_str().unwrap());
    let (cookie, _) = signed_in_as(&app, "rekey@staff.example", "privacy_officer").await;
    let csrf = form_csrf(&console_get(&app, &cookie, &path).await.1);
    let step = [
        ("csrf", csrf.as_str()),
        ("lang", "fr"),
        ("version", "1"),
        ("action", "rotate_webhook_secret"),
        ("target", hook.id.as_str()),
    ];
    let (status, page) = console_post(&app, &cookie, &format!("{path}/containment"), &step).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("affiché cette seule fois"), "{page}");
    let secret = crate::between(&page, "id=\"new-secret\" class=\"wrap\">", "<");
    assert!(secret.starts_with("whsec_") && secret != original, "{page}");
    let (_, again) = console_get(&app, &cookie, &path).await;
    assert!(!again.contains(secret) && !again.contains("new-secret"));
}
