//! Staff sign-in to the console: password and a second factor (TOTP, taken once; recovery codes,
//! used once), the same answer for every refusal, lock-out after five failures, server-side
//! sessions that end when idle, when old, when signed out or ended from another session — each
//! step ledgered.

use std::time::Duration;

use mamori_crypto::second_factor::TotpSecret;
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::TestApp;
use crate::staff::{now_seconds, totp_secret};
use crate::{between, cookie_value, form_csrf, set_cookie};

/// A member of staff who went through enrolment in the browser.
pub struct Enrolled {
    pub email: String,
    pub password: String,
    pub secret: TotpSecret,
    pub recovery: Vec<String>,
    /// The code the enrolment took (a later step's code may differ: real time passes too).
    pub enrol_code: String,
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Invites `email` as `role` and enrols them through `/console/enrol`.
pub async fn enrol(app: &TestApp, email: &str, role: &str) -> Enrolled {
    let officer = mamori_core::Actor {
        id: "test:officer".into(),
        role: "privacy_officer".into(),
    };
    let invited = app.vault.invite_staff(&officer, email, role).await.unwrap();
    enrol_by_link(app, email, &invited.token).await
}

/// Enrols by the one-time link's `token` (password and authenticator app).
pub async fn enrol_by_link(app: &TestApp, email: &str, token: &str) -> Enrolled {
    let r = (app
        .client
        .get(app.url(&format!("/console/enrol?token={token}"))))
    .send()
    .await
    .unwrap();
    let cookie = cookie_value(&set_cookie(&r, "mamori_console_csrf").unwrap());
    let page = r.text().await.unwrap();
    let secret = totp_secret(&page);
    let password = format!("the password of {email}");
    let code = secret.code_at(now_seconds(app));
    let enrol_code = code.clone();
    let form = [
        ("csrf", form_csrf(&page)),
        ("token", token.to_string()),
        (
            "pending",
            between(&page, "name=\"pending\" value=\"", "\"").into(),
        ),
        ("password", password.clone()),
        ("confirm", password.clone()),
        ("code", code),
    ];
    let r = (app.client.post(app.url("/console/enrol")))
        .header("cookie", format!("mamori_console_csrf={cookie}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let done = r.text().await.unwrap();
    let recovery = (done.split("<li><code>").skip(1))
        .map(|c| c.split('<').next().unwrap().to_string())
        .collect();
    Enrolled {
        email: email.into(),
        password,
        secret,
        recovery,
        enrol_code,
    }
}

/// Posts the sign-in form: the status, the session cookie (if one was set) and the page.
pub async fn sign_in(
    app: &TestApp,
    email: &str,
    password: &str,
    code: &str,
) -> (StatusCode, Option<String>, String) {
    let client = no_redirects();
    let r = client
        .get(app.url("/console/sign-in"))
        .send()
        .await
        .unwrap();
    let csrf_cookie = cookie_value(&set_cookie(&r, "mamori_console_csrf").unwrap());
    let csrf = form_csrf(&r.text().await.unwrap());
    let form = [
        ("csrf", csrf.as_str()),
        ("email", email),
        ("password", password),
        ("code", code),
    ];
    let r = (client.post(app.url("/console/sign-in")))
        // A session cookie planted before sign-in (fixation) is not the one given after it.
        .header(
            "cookie",
            format!("mamori_console_csrf={csrf_cookie}; mamori_staff=planted"),
        )
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let session = set_cookie(&r, "mamori_staff");
    if let Some(c) = &session {
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Path=/console"),
            "{c}"
        );
    }
    (
        status,
        session.map(|c| cookie_value(&c)),
        r.text().await.unwrap(),
    )
}

/// A console page with the session cookie: its status and page (a redirect's location).
pub async fn console_get(app: &TestApp, session: &str, path: &str) -> (StatusCode, String) {
    let r = (no_redirects().get(app.url(path)))
        .header("cookie", format!("mamori_staff={session}"))
        .send()
        .await
        .unwrap();
    let status = r.status();
    if status.is_redirection() {
        let to = r.headers()["location"].to_str().unwrap().to_string();
        return (status, to);
    }
    (status, r.text().await.unwrap())
}

/// What members of staff did, and what was done to staff accounts, by the ledger: (action,
/// outcome or denial reason).
pub async fn staff_events(app: &TestApp) -> Vec<(String, String)> {
    let leaves = app.store.leaves(0, 100_000).await.unwrap();
    (leaves.iter())
        .filter_map(|l| serde_json::from_slice::<Value>(&l.data).ok())
        .filter(|e| {
            let by_staff = e["actor"].as_str().is_some_and(|a| a.starts_with("staff:"));
            by_staff
                || e["action"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("staff."))
        })
        .map(|e| {
            let outcome = e["reason"].as_str().unwrap_or("allowed");
            (
                e["action"].as_str().unwrap().to_string(),
                outcome.to_string(),
            )
        })
        .collect()
}

fn step(app: &TestApp) {
    app.clock.advance(Duration::from_secs(30));
}

pub async fn staff_sign_in_with_a_password_and_a_code_taken_once(app: TestApp) {
    let sam = enrol(&app, "sam.signin@example.com", "privacy_officer").await;
    assert_eq!(sam.recovery.len(), 10);
    // The code that enrolled the app cannot sign in: each step is taken once.
    let code = sam.enrol_code.clone();
    let (status, session, refused) = sign_in(&app, &sam.email, &sam.password, &code).await;
    assert_eq!((status, session), (StatusCode::UNAUTHORIZED, None));
    step(&app);
    let code = sam.secret.code_at(now_seconds(&app));
    let (status, session, _) = sign_in(&app, &sam.email, &sam.password, &code).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let session = session.expect("a session cookie");
    assert_ne!(session, "planted");
    let (status, home) = console_get(&app, &session, "/console?lang=ja").await;
    assert_eq!(status, StatusCode::OK, "{home}");
    assert!(
        home.contains("sam.signin@example.com") && home.contains("privacy_officer"),
        "{home}"
    );
    assert!(
        home.contains("id=\"overdue\""),
        "the officer works requests: {home}"
    );
    // The same code again, in the same step: a replay.
    let (status, again, replayed) = sign_in(&app, &sam.email, &sam.password, &code).await;
    assert_eq!((status, again), (StatusCode::UNAUTHORIZED, None));
    // Unknown address, wrong password, replayed code: one answer.
    let (_, _, unknown) = sign_in(&app, "nobody@example.com", &sam.password, &code).await;
    let message = |page: &str| between(page, "id=\"error\">", "<").to_string();
    assert_eq!(message(&unknown), message(&replayed));
    assert_eq!(message(&unknown), message(&refused));
    let (_, _, wrong_factor) = sign_in(&app, &sam.email, &sam.password, "abcde-fghjk").await;
    assert_eq!(message(&unknown), message(&wrong_factor));
    assert!(
        !unknown.contains("nobody@example.com"),
        "the address is not echoed"
    );
    // Not signed in: the console sends you to sign in.
    let (status, to) = console_get(&app, "x".repeat(43).as_str(), "/console").await;
    assert_eq!(
        (status, to.as_str()),
        (StatusCode::SEE_OTHER, "/console/sign-in?lang=en")
    );
    let events = staff_events(&app).await;
    for (action, outcome) in [
        ("staff.enrol", "allowed"),
        ("staff.sign_in", "code_replayed"),
        ("staff.sign_in", "wrong_factor"),
        ("staff.sign_in", "allowed"),
        ("staff.sign_in", "wrong_credentials"),
    ] {
        let found = events.iter().any(|(a, o)| a == action && o == outcome);
        assert!(found, "{action} {outcome}: {events:?}");
    }
}

pub async fn five_failures_lock_a_staff_account_for_fifteen_minutes(app: TestApp) {
    let kim = enrol(&app, "kim.lock@example.com", "support").await;
    for _ in 0..5 {
        step(&app);
        let code = kim.secret.code_at(now_seconds(&app));
        let (status, _, _) = sign_in(&app, &kim.email, "not the password!", &code).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    step(&app);
    let code = kim.secret.code_at(now_seconds(&app));
    let (status, session, _) = sign_in(&app, &kim.email, &kim.password, &code).await;
    assert_eq!(
        (status, session),
        (StatusCode::UNAUTHORIZED, None),
        "locked"
    );
    app.clock.advance(Duration::from_secs(15 * 60));
    let code = kim.secret.code_at(now_seconds(&app));
    let (status, session, _) = sign_in(&app, &kim.email, &kim.password, &code).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "unlocked after 15 minutes");
    let (_, home) = console_get(&app, &session.unwrap(), "/console").await;
    assert!(
        home.contains("id=\"no-requests\""),
        "support does not work requests: {home}"
    );
    let events = staff_events(&app).await;
    let count = |action: &str, outcome: &str| {
        events
            .iter()
            .filter(|(a, o)| a == action && o == outcome)
            .count()
    };
    assert_eq!(count("staff.sign_in", "wrong_password"), 5, "{events:?}");
    assert_eq!(count("staff.lock_out", "too_many_failures"), 1);
    assert_eq!(count("staff.sign_in", "account_locked"), 1);
    // A recovery code signs in once.
    let code = kim.recovery[3].to_uppercase();
    let (status, _, _) = sign_in(&app, &kim.email, &kim.password, &code).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = sign_in(&app, &kim.email, &kim.password, &code).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a recovery code works once"
    );
    let events = staff_events(&app).await;
    assert!(events.iter().any(|(a, _)| a == "staff.recovery_code_used"));
}

/// Posts a signed-in console form with the session's own form token.
async fn console_post(
    app: &TestApp,
    session: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let (_, page) = console_get(app, session, "/console/sessions").await;
    let csrf = form_csrf(&page);
    let mut fields = vec![("csrf", csrf.as_str())];
    fields.extend_from_slice(form);
    let r = (no_redirects().post(app.url(path)))
        .header("cookie", format!("mamori_staff={session}"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

pub async fn staff_sessions_end_idle_old_or_by_hand(app: TestApp) {
    let lee = enrol(&app, "lee.sessions@example.com", "analyst").await;
    let sign_in_now = async || {
        step(&app);
        let code = lee.secret.code_at(now_seconds(&app));
        sign_in(&app, &lee.email, &lee.password, &code)
            .await
            .1
            .unwrap()
    };
    let first = sign_in_now().await;
    let second = sign_in_now().await;
    let (status, page) = console_get(&app, &second, "/console/sessions?lang=fr").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Cette session") && page.matches("class=\"end-session\"").count() == 1,
        "{page}"
    );
    // Ending the other session from this one; a form without this session's token changes nothing.
    let other = between(&page, "name=\"session\" value=\"", "\"").to_string();
    let r = (no_redirects().post(app.url("/console/sessions")))
        .header("cookie", format!("mamori_staff={second}"))
        .form(&[("csrf", "forged"), ("session", other.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        console_get(&app, &first, "/console").await.0,
        StatusCode::OK
    );
    let (status, _) =
        console_post(&app, &second, "/console/sessions", &[("session", &other)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        console_get(&app, &first, "/console").await.0,
        StatusCode::SEE_OTHER
    );
    // Signing out ends this one.
    let (status, page) = console_post(&app, &second, "/console/sign-out", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("You are signed out."), "{page}");
    assert_eq!(
        console_get(&app, &second, "/console").await.0,
        StatusCode::SEE_OTHER
    );
    // Idle for more than 15 minutes: ended.
    let idle = sign_in_now().await;
    app.clock.advance(Duration::from_secs(16 * 60));
    assert_eq!(
        console_get(&app, &idle, "/console").await.0,
        StatusCode::SEE_OTHER
    );
    // Busy, but 8 hours after sign-in: ended.
    let busy = sign_in_now().await;
    for _ in 0..(8 * 6) {
        assert_eq!(console_get(&app, &busy, "/console").await.0, StatusCode::OK);
        app.clock.advance(Duration::from_secs(10 * 60));
    }
    assert_eq!(
        console_get(&app, &busy, "/console").await.0,
        StatusCode::SEE_OTHER
    );
    let events = staff_events(&app).await;
    for action in ["staff.session_end", "staff.sign_out"] {
        assert!(
            events.iter().any(|(a, _)| a == action),
            "{action}: {events:?}"
        );
    }
}

/// A member of staff of `role`, enrolled and signed in: the session cookie and who they are.
pub async fn signed_in_as(app: &TestApp, email: &str, role: &str) -> (String, Enrolled) {
    let who = enrol(app, email, role).await;
    app.clock.advance(Duration::from_secs(30));
    let code = who.secret.code_at(now_seconds(app));
    let cookie = sign_in(app, &who.email, &who.password, &code)
        .await
        .1
        .unwrap();
    (cookie, who)
}
