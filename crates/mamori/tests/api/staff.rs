//! Staff enrolment: an administrator invites an address with a role; the person opens their
//! one-time link and sets a password (12+ characters, Argon2id). The address is never stored in
//! plaintext; bad links, bad passwords and non-administrators change nothing.

use mamori_proto::ErrorCode;
use reqwest::StatusCode;

use crate::common::TestApp;
use crate::{cookie_value, form_csrf, set_cookie};

fn actor(role: &str) -> mamori_core::Actor {
    mamori_core::Actor {
        id: format!("test:{role}"),
        role: role.into(),
    }
}

/// The enrolment page for `token` in `lang`: status, its cookie header and form token, the page.
async fn open(app: &TestApp, token: &str, lang: &str) -> (StatusCode, String, String, String) {
    let path = format!("/console/enrol?token={token}&lang={lang}");
    let r = app.client.get(app.url(&path)).send().await.unwrap();
    let status = r.status();
    let cookie = set_cookie(&r, "mamori_console_csrf")
        .map(|c| cookie_value(&c))
        .unwrap_or_default();
    let html = r.text().await.unwrap();
    let csrf = if html.contains("name=\"csrf\"") {
        form_csrf(&html)
    } else {
        String::new()
    };
    (status, cookie, csrf, html)
}

/// Bad addresses and roles, and a role without the permission: refused.
async fn bad_invitations_are_refused(app: &TestApp) {
    let officer = actor("privacy_officer");
    for (email, role, code) in [
        ("not an address", "support", ErrorCode::InvalidValue),
        ("x@example.com", "no_such_role", ErrorCode::InvalidValue),
        ("x@example.com", "self", ErrorCode::InvalidValue),
    ] {
        let refused = app.vault.invite_staff(&officer, email, role).await;
        assert_eq!(refused.unwrap_err().code(), code, "{email} {role}");
    }
    let by_support = app
        .vault
        .invite_staff(&actor("support"), "y@example.com", "support")
        .await;
    assert_eq!(
        by_support.unwrap_err().code(),
        ErrorCode::PermissionNotGranted
    );
}

pub async fn staff_enrol_by_their_one_time_link(app: TestApp) {
    let officer = actor("privacy_officer");
    let canary = "sam.canary-7q@example.com";
    let invited = app
        .vault
        .invite_staff(&officer, canary, "support")
        .await
        .unwrap();
    let again = app
        .vault
        .invite_staff(&officer, &canary.to_uppercase(), "support")
        .await;
    assert_eq!(
        again.unwrap_err().code(),
        ErrorCode::StaffExists,
        "one account per address"
    );
    bad_invitations_are_refused(&app).await;
    for (lang, title) in [
        ("en", "Activate your staff account"),
        ("ja", "スタッフアカウントの有効化"),
        ("fr", "Activer votre compte d&#39;équipe"),
    ] {
        let (status, _, _, html) = open(&app, &invited.token, lang).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains(title) && html.contains("autocomplete=\"new-password\""),
            "{lang}: {html}"
        );
    }
    let (status, _, _, html) = open(&app, "forged-token", "en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        html.contains("id=\"error\"") && !html.contains("forged-token"),
        "{html}"
    );

    let (_, cookie, csrf, _) = open(&app, &invited.token, "en").await;
    let post = async |password: &str, confirm: &str| {
        let form = [
            ("csrf", csrf.as_str()),
            ("lang", "en"),
            ("token", invited.token.as_str()),
            ("password", password),
            ("confirm", confirm),
        ];
        let r = app
            .client
            .post(app.url("/console/enrol"))
            .header("cookie", format!("mamori_console_csrf={cookie}"))
            .form(&form)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    };
    let good = "a long and quiet harbour";
    for (password, confirm, words) in [
        ("short", "short", "at least 12 characters"),
        (good, "a long and quiet harbor", "The two passwords differ."),
        ("zzzzzzzzzzzzzzzz", "zzzzzzzzzzzzzzzz", "too easy to guess"),
    ] {
        let (status, html) = post(password, confirm).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains(words) && !html.contains(password), "{html}");
    }
    // Without this browser's cookie (another site posting the form): refused.
    let form = [
        ("csrf", csrf.as_str()),
        ("token", invited.token.as_str()),
        ("password", good),
        ("confirm", good),
    ];
    let r = app
        .client
        .post(app.url("/console/enrol"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let listed = app.vault.list_staff(&officer).await.unwrap();
    assert!(!listed[0].enrolled, "refusals change nothing");

    let (status, html) = post(good, good).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Your password is set."), "{html}");
    let (status, html) = post(good, good).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the link works once");
    assert!(html.contains("unknown, used or expired"), "{html}");
    let listed = app.vault.list_staff(&officer).await.unwrap();
    assert_eq!(
        (listed[0].email.as_str(), listed[0].enrolled),
        (canary, true)
    );
    // Neither the address nor the password is anywhere in the database files in plaintext.
    for file in app.sqlite_files() {
        let bytes = std::fs::read(&file).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("canary-7q") && !text.contains(good),
            "{}",
            file.display()
        );
    }
}
