//! Staff enrolment: an administrator invites an address with a role; the person opens their
//! one-time link, sets a password (12+ characters, Argon2id) and an authenticator app (TOTP),
//! and receives ten recovery codes. The address is never stored in
//! plaintext; bad links, bad passwords and non-administrators change nothing.

use mamori_proto::ErrorCode;
use reqwest::StatusCode;

use mamori_crypto::second_factor::TotpSecret;

use crate::common::TestApp;
use crate::{between, cookie_value, form_csrf, set_cookie};

/// The TOTP secret an enrolment page shows (as an authenticator app would read it).
pub fn totp_secret(page: &str) -> TotpSecret {
    TotpSecret::from_base32(between(page, "id=\"totp-secret\">", "<")).expect("a TOTP secret")
}

/// The vault's time, in seconds, as an authenticator app on a phone with the right time sees it.
pub fn now_seconds(app: &TestApp) -> u64 {
    (app.vault.now_ms() / 1000) as u64
}

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

/// The enrolment page in each language; a forged link gets the page saying to ask again.
async fn the_page_speaks_three_languages(app: &TestApp, token: &str) {
    for (lang, title) in [
        ("en", "Activate your staff account"),
        ("ja", "スタッフアカウントの有効化"),
        ("fr", "Activer votre compte d&#39;équipe"),
    ] {
        let (status, _, _, html) = open(app, token, lang).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains(title) && html.contains("autocomplete=\"new-password\""),
            "{lang}: {html}"
        );
    }
    let (status, _, _, html) = open(app, "forged-token", "en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        html.contains("id=\"error\"") && !html.contains("forged-token"),
        "{html}"
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
    the_page_speaks_three_languages(&app, &invited.token).await;

    let (_, cookie, csrf, page) = open(&app, &invited.token, "en").await;
    let pending = between(&page, "name=\"pending\" value=\"", "\"").to_string();
    let secret = totp_secret(&page);
    assert!(
        page.contains("<svg") && page.contains("aria-label=\"QR code"),
        "{page}"
    );
    let post = async |password: &str, confirm: &str, code: &str| {
        let form = [
            ("csrf", csrf.as_str()),
            ("lang", "en"),
            ("token", invited.token.as_str()),
            ("pending", pending.as_str()),
            ("password", password),
            ("confirm", confirm),
            ("code", code),
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
    let code = secret.code_at(now_seconds(&app));
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    for (password, confirm, code, words) in [
        ("short", "short", code.as_str(), "at least 12 characters"),
        (
            good,
            "a long and quiet harbor",
            &code,
            "The two passwords differ.",
        ),
        (
            "zzzzzzzzzzzzzzzz",
            "zzzzzzzzzzzzzzzz",
            &code,
            "too easy to guess",
        ),
        ("password1234", "password1234", &code, "too easy to guess"),
        (good, good, &wrong, "That code does not match."),
        (good, good, "", "That code does not match."),
    ] {
        let (status, html) = post(password, confirm, code).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains(words) && !html.contains(password), "{html}");
        assert_eq!(
            totp_secret(&html).as_bytes(),
            secret.as_bytes(),
            "same secret"
        );
    }
    // Without this browser's cookie (another site posting the form): refused.
    let form = [
        ("csrf", csrf.as_str()),
        ("token", invited.token.as_str()),
        ("pending", pending.as_str()),
        ("password", good),
        ("confirm", good),
        ("code", code.as_str()),
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

    let (status, html) = post(good, good, &code).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Your account is active."), "{html}");
    assert_eq!(html.matches("<li><code>").count(), 10, "ten recovery codes");
    let (status, html) = post(good, good, &code).await;
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
            !text.contains("canary-7q") && !text.contains(good) && !text.contains(&secret.base32()),
            "{}",
            file.display()
        );
    }
}

/// An enrolment link works for seven days: on the eighth its page, the passkey ceremony and the
/// form all answer that it is unknown, used or expired, and nothing changes.
pub async fn an_enrolment_link_expires_after_seven_days(app: TestApp) {
    let invited = (app.vault)
        .invite_staff(&actor("privacy_officer"), "late@staff.example", "support")
        .await
        .unwrap();
    let path = format!("/console/enrol?token={}", invited.token);
    let r = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = cookie_value(&set_cookie(&r, "mamori_console_csrf").unwrap());
    let page = r.text().await.unwrap();
    let secret = totp_secret(&page);
    app.clock
        .advance(std::time::Duration::from_secs(7 * 86_400 + 60));
    let r = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let form = [("csrf", form_csrf(&page)), ("link", invited.token.clone())];
    let r = (app.client.post(app.url("/console/passkeys/enrol")))
        .header("cookie", format!("mamori_console_csrf={cookie}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let password = "a long enough password for late";
    let form = [
        ("csrf", form_csrf(&page)),
        ("token", invited.token.clone()),
        (
            "pending",
            between(&page, "name=\"pending\" value=\"", "\"").into(),
        ),
        ("password", password.into()),
        ("confirm", password.into()),
        ("code", secret.code_at(now_seconds(&app))),
    ];
    let r = (app.client.post(app.url("/console/enrol")))
        .header("cookie", format!("mamori_console_csrf={cookie}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("unknown, used or expired"));
    let listed = app
        .vault
        .list_staff(&actor("privacy_officer"))
        .await
        .unwrap();
    assert!(!listed[0].enrolled, "nothing changed");
}
