//! The console's staff administration: who is on the staff, and invitations — a sensitive step
//! (a factor proved within five minutes), for roles with `admin = ["staff"]` only.

use std::time::Duration;

use reqwest::StatusCode;

use crate::common::TestApp;
use crate::staff::now_seconds;
use crate::staff_sign_in::{console_get, enrol, sign_in};
use crate::{between, form_csrf};

async fn invite(app: &TestApp, cookie: &str, email: &str, code: &str) -> (StatusCode, String) {
    let (_, page) = console_get(app, cookie, "/console/admin/staff").await;
    let form = [
        ("csrf", form_csrf(&page)),
        ("email", email.to_string()),
        ("role", "support".to_string()),
        ("code", code.to_string()),
    ];
    let r = (reqwest::Client::new().post(app.url("/console/admin/staff")))
        .header("cookie", format!("mamori_staff={cookie}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

pub async fn administrators_invite_staff_from_the_console(app: TestApp) {
    let ada = enrol(&app, "ada.admin@example.com", "privacy_officer").await;
    app.clock.advance(Duration::from_secs(30));
    let code = ada.secret.code_at(now_seconds(&app));
    let cookie = sign_in(&app, &ada.email, &ada.password, &code)
        .await
        .1
        .unwrap();
    let (status, page) = console_get(&app, &cookie, "/console/admin/staff?lang=fr").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("ada.admin@example.com") && page.contains("Oui"),
        "{page}"
    );
    let (status, page) = invite(&app, &cookie, "new.hire@example.com", "").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let link = between(&page, "id=\"enrolment-link\">", "<");
    assert!(link.contains("/console/enrol?token="), "{link}");
    let token = link.split("token=").nth(1).unwrap();
    assert!(app.vault.enrolment_is_open(token).await.unwrap());
    let (status, page) = invite(&app, &cookie, "NEW.HIRE@example.com", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("already on the staff") || page.contains("fait déjà"),
        "{page}"
    );
    // Six minutes on, inviting asks for a code again.
    app.clock.advance(Duration::from_secs(6 * 60));
    let (status, page) = invite(&app, &cookie, "later@example.com", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("reauthentication_required"), "{page}");
    let code = ada.secret.code_at(now_seconds(&app));
    let (status, page) = invite(&app, &cookie, "later@example.com", &code).await;
    assert_eq!(status, StatusCode::OK, "{page}");

    // Keys and connections: what the role is granted, read through the vault.
    let (status, page) = console_get(&app, &cookie, "/console/admin/system?lang=ja").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("id=\"api-keys\"") && page.contains("test service"),
        "{page}"
    );
    assert!(
        page.contains("Webhookの購読") && page.contains("公開済みのポリシー版"),
        "{page}"
    );

    let sol = enrol(&app, "sol.notadmin@example.com", "support").await;
    app.clock.advance(Duration::from_secs(30));
    let code = sol.secret.code_at(now_seconds(&app));
    let support = sign_in(&app, &sol.email, &sol.password, &code)
        .await
        .1
        .unwrap();
    let (status, page) = console_get(&app, &support, "/console/admin/staff").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("permission_not_granted"), "{page}");
    let (status, page) = console_get(&app, &support, "/console/admin/system").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !page.contains("<table"),
        "support is granted none of it: {page}"
    );
}

/// The home page tells how the installation runs: the ledger against its signed head, the
/// newest backup, and (to those who manage webhooks) how many subscriptions fail.
pub async fn the_console_home_tells_the_ledger_backups_and_failing_webhooks(app: TestApp) {
    let (officer, _) =
        crate::staff_sign_in::signed_in_as(&app, "ops@staff.example", "privacy_officer").await;
    app.vault.flush_ledger().await.unwrap();
    let (status, page) = console_get(&app, &officer, "/console").await;
    assert_eq!(status, StatusCode::OK);
    let ledger = between(&page, "id=\"ledger-status\">", "</dd>");
    assert!(
        ledger.ends_with("matches its latest signed head"),
        "{ledger}"
    );
    assert_eq!(
        between(&page, "id=\"backup-status\">", "</dd>"),
        "no scheduled backups"
    );
    assert_eq!(between(&page, "id=\"failing-webhooks\">", "</dd>"), "0");
    // The support role manages no webhooks: the count is not its business.
    let (support, _) =
        crate::staff_sign_in::signed_in_as(&app, "desk@staff.example", "support").await;
    let (_, page) = console_get(&app, &support, "/console").await;
    assert!(page.contains("id=\"ledger-status\"") && !page.contains("failing-webhooks"));
}

/// Disabling a member of staff ends their sessions and their sign-in; it is the vault's step
/// (decided, ledgered), never offered against oneself, refused with a forged form.
pub async fn administrators_disable_staff_and_their_sessions_end(app: TestApp) {
    let (officer, _) =
        crate::staff_sign_in::signed_in_as(&app, "ada.admin@example.com", "privacy_officer").await;
    let (desk, who) =
        crate::staff_sign_in::signed_in_as(&app, "dan.desk@example.com", "support").await;
    let (_, page) = console_get(&app, &officer, "/console/admin/staff").await;
    assert_eq!(
        page.matches("class=\"disable-staff\"").count(),
        1,
        "only the other member"
    );
    assert!(
        !page.contains("data-passkey=\"reauthenticate\""),
        "no passkey: no passkey button"
    );
    let methods = "class=\"staff-factors\">Authenticator app</td>";
    assert_eq!(
        page.matches(methods).count(),
        2,
        "each member's sign-in methods"
    );
    let target = between(&page, "name=\"staff\" value=\"", "\"").to_string();
    let post = |csrf: String| {
        let form = [("csrf", csrf), ("staff", target.clone())];
        (reqwest::Client::new().post(app.url("/console/admin/staff/disable")))
            .header("cookie", format!("mamori_staff={officer}"))
            .form(&form)
            .send()
    };
    let forged = post("forged".into()).await.unwrap().text().await.unwrap();
    assert!(forged.contains("id=\"error\""));
    assert_eq!(
        console_get(&app, &desk, "/console").await.0,
        StatusCode::OK,
        "nothing changed"
    );
    let done = post(form_csrf(&page)).await.unwrap().text().await.unwrap();
    assert!(
        done.contains("id=\"status\"") && done.contains(">disabled<"),
        "{done}"
    );
    let (status, to) = console_get(&app, &desk, "/console").await;
    assert!(
        status.is_redirection() && to.contains("/console/sign-in"),
        "their session ended"
    );
    app.clock.advance(Duration::from_secs(30));
    let code = who.secret.code_at(now_seconds(&app));
    let (status, session, _) = sign_in(&app, &who.email, &who.password, &code).await;
    assert_eq!((status, session), (StatusCode::UNAUTHORIZED, None));
    let again = post(form_csrf(&page)).await.unwrap().text().await.unwrap();
    assert!(again.contains("id=\"error\""), "disabled once");
    let events = crate::staff_sign_in::staff_events(&app).await;
    let disabled = ("staff.disable".to_string(), "allowed".to_string());
    assert!(events.contains(&disabled), "{events:?}");
}

/// Posts `form` to `path` with the session's form token (read from the keys page).
async fn post_keys(
    app: &TestApp,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let (_, page) = console_get(app, cookie, "/console/admin/keys").await;
    let csrf = form_csrf(&page);
    let mut form: Vec<(&str, &str)> = form.to_vec();
    if !form.iter().any(|(k, _)| *k == "csrf") {
        form.push(("csrf", &csrf));
    }
    let r = (reqwest::Client::new().post(app.url(path)))
        .header("cookie", format!("mamori_staff={cookie}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Creating an API key from the console is a sensitive step and shows the token once; revoking
/// takes effect at once; bad input changes nothing; other roles are refused.
pub async fn administrators_create_and_revoke_api_keys_in_the_console(app: TestApp) {
    let (cookie, officer) =
        crate::staff_sign_in::signed_in_as(&app, "keys@staff.example", "privacy_officer").await;
    let (status, page) = console_get(&app, &cookie, "/console/admin/keys?lang=ja").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("test service") && page.contains("キーを作成"),
        "{page}"
    );
    app.clock.advance(Duration::from_secs(6 * 60));
    let form = [("name", "shop"), ("role", "service")];
    let (status, page) = post_keys(&app, &cookie, "/console/admin/keys", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("reauthentication_required"), "{page}");
    let code = officer.secret.code_at(now_seconds(&app));
    let form = [("name", "shop"), ("role", "service"), ("code", &code)];
    let (status, page) = post_keys(&app, &cookie, "/console/admin/keys", &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let token = between(&page, "id=\"new-key\" class=\"wrap\">", "<").to_string();
    let actor = app
        .vault
        .authenticate(&token)
        .await
        .unwrap()
        .expect("the key works");
    assert_eq!(actor.role, "service");
    let (_, page) = console_get(&app, &cookie, "/console/admin/keys").await;
    assert!(!page.contains(&token), "the token is shown once");

    for bad in [
        [("name", ""), ("role", "service")],
        [("name", "x"), ("role", "nobody")],
    ] {
        let (status, page) = post_keys(&app, &cookie, "/console/admin/keys", &bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        assert!(!page.contains("id=\"new-key\""), "{page}");
    }
    let forged = [("name", "x"), ("role", "service"), ("csrf", "forged")];
    let (status, _) = post_keys(&app, &cookie, "/console/admin/keys", &forged).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = post_keys(
        &app,
        &cookie,
        "/console/admin/keys/revoke",
        &[("key", "nope")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let id = app.vault.list_api_keys(&actor_cli()).await.unwrap();
    let id = id.iter().find(|k| k.name == "shop").unwrap().id.clone();
    let (status, page) =
        post_keys(&app, &cookie, "/console/admin/keys/revoke", &[("key", &id)]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        app.vault.authenticate(&token).await.unwrap().is_none(),
        "revoked at once"
    );

    let (support, _) =
        crate::staff_sign_in::signed_in_as(&app, "nokeys@staff.example", "support").await;
    let (status, page) = console_get(&app, &support, "/console/admin/keys").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("permission_not_granted"), "{page}");
}

fn actor_cli() -> mamori_core::Actor {
    mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    }
}

/// Starting a member of staff over (they lost every factor, or come back after being disabled):
/// a sensitive step; their old password and app no longer sign in, their sessions end, and the
/// new one-time link lets them enrol again. Never oneself; a forged form changes nothing.
pub async fn administrators_start_a_member_of_staff_over(app: TestApp) {
    use crate::staff_sign_in::{enrol_by_link, signed_in_as};
    let (officer, ada) = signed_in_as(&app, "ada.reset@example.com", "privacy_officer").await;
    let (desk, dan) = signed_in_as(&app, "dan.reset@example.com", "support").await;
    let (_, page) = console_get(&app, &officer, "/console/admin/staff?lang=ja").await;
    assert!(page.contains("サインイン方法の再設定"), "{page}");
    let dan_id = between(
        &page,
        "id=\"reset-staff\" name=\"staff\"><option value=\"",
        "\"",
    )
    .to_string();
    let me = (app
        .vault
        .staff_session(&officer)
        .await
        .unwrap()
        .unwrap()
        .staff
        .id)
        .clone();
    assert!(
        !page.contains(&format!("<option value=\"{me}\"")),
        "never oneself"
    );
    let post = |csrf: String, staff: String, code: String| {
        let form = [("csrf", csrf), ("staff", staff), ("code", code)];
        (reqwest::Client::new().post(app.url("/console/admin/staff/reset")))
            .header("cookie", format!("mamori_staff={officer}"))
            .form(&form)
            .send()
    };
    let forged = post("forged".into(), dan_id.clone(), String::new())
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        console_get(&app, &desk, "/console").await.0,
        StatusCode::OK,
        "nothing changed"
    );
    app.clock.advance(Duration::from_secs(6 * 60));
    let late = post(form_csrf(&page), dan_id.clone(), String::new())
        .await
        .unwrap();
    assert!(
        late.text()
            .await
            .unwrap()
            .contains("reauthentication_required")
    );
    let code = ada.secret.code_at(now_seconds(&app));
    let done = post(form_csrf(&page), dan_id.clone(), code).await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    let done = done.text().await.unwrap();
    let link = between(&done, "id=\"enrolment-link\">", "<").to_string();
    let token = link.split("token=").nth(1).unwrap();
    assert!(
        console_get(&app, &desk, "/console")
            .await
            .0
            .is_redirection(),
        "their session ended"
    );
    app.clock.advance(Duration::from_secs(30));
    let code = dan.secret.code_at(now_seconds(&app));
    let (status, _, _) = sign_in(&app, &dan.email, &dan.password, &code).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old password and app are gone"
    );
    let again = enrol_by_link(&app, &dan.email, token).await;
    app.clock.advance(Duration::from_secs(30));
    let code = again.secret.code_at(now_seconds(&app));
    let (status, session, _) = sign_in(&app, &again.email, &again.password, &code).await;
    assert_eq!((status, session.is_some()), (StatusCode::SEE_OTHER, true));

    // Nobody starts themselves over; an unknown id changes nothing.
    for who in [me, "not-an-id".to_string()] {
        app.clock.advance(Duration::from_secs(30));
        let code = ada.secret.code_at(now_seconds(&app));
        let r = post(form_csrf(&page), who, code).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let text = r.text().await.unwrap();
        assert!(
            text.contains("id=\"error\"") && !text.contains("enrolment-link"),
            "{text}"
        );
    }
    let events = crate::staff_sign_in::staff_events(&app).await;
    assert!(
        events.contains(&("staff.reset".to_string(), "allowed".to_string())),
        "{events:?}"
    );
}

/// Subscribing a webhook from the console is a sensitive step and shows its secret once; a
/// metadata address or a bad URL or event type subscribes nothing; removing stops it.
pub async fn administrators_subscribe_and_remove_webhooks_in_the_console(app: TestApp) {
    let (cookie, officer) =
        crate::staff_sign_in::signed_in_as(&app, "hooks@staff.example", "privacy_officer").await;
    let path = "/console/admin/webhooks";
    let (status, page) = console_get(&app, &cookie, "/console/admin/webhooks?lang=fr").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Abonner une URL"), "{page}");
    let bad = [
        [("url", "ftp://x.example/hook"), ("events", "*")],
        [("url", "http://127.0.0.1:9/hook"), ("events", "gossip")],
        [("url", "http://169.254.169.254/latest"), ("events", "*")],
    ];
    for form in bad {
        let (status, page) = post_keys(&app, &cookie, path, &form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        assert!(!page.contains("id=\"new-secret\""), "{page}");
    }
    app.clock.advance(Duration::from_secs(6 * 60));
    let form = [
        ("url", "http://127.0.0.1:9/hook"),
        ("events", "consent.changed"),
    ];
    let (status, page) = post_keys(&app, &cookie, path, &form).await;
    assert!(
        status == StatusCode::UNPROCESSABLE_ENTITY && page.contains("reauthentication_required")
    );
    let code = officer.secret.code_at(now_seconds(&app));
    let form = [
        ("url", "http://127.0.0.1:9/hook"),
        ("events", "consent.changed"),
        ("code", &code),
    ];
    let (status, page) = post_keys(&app, &cookie, path, &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(between(&page, "id=\"new-secret\" class=\"wrap\">", "<").starts_with("whsec_"));
    let hooks = app.vault.list_webhooks(&actor_cli()).await.unwrap();
    assert_eq!(
        (hooks.len(), hooks[0].event_types.clone()),
        (1, vec!["consent.changed".to_string()])
    );
    let (_, page) = console_get(&app, &cookie, path).await;
    assert!(!page.contains("whsec_"), "the secret is shown once");
    let id = hooks[0].id.clone();
    let (status, _) = post_keys(
        &app,
        &cookie,
        "/console/admin/webhooks/remove",
        &[("webhook", &id)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        app.vault
            .list_webhooks(&actor_cli())
            .await
            .unwrap()
            .is_empty(),
        "removed"
    );
    let (status, _) = post_keys(
        &app,
        &cookie,
        "/console/admin/webhooks/remove",
        &[("webhook", &id)],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "removed once");

    let (support, _) =
        crate::staff_sign_in::signed_in_as(&app, "nohooks@staff.example", "support").await;
    let (status, page) = console_get(&app, &support, path).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("permission_not_granted"), "{page}");
}

/// Registering a DRP agent from the console is a sensitive step; a bad id or key registers
/// nothing, an id is never reused; removing takes effect at once; other roles are refused.
pub async fn administrators_register_and_remove_agents_in_the_console(app: TestApp) {
    let (cookie, officer) =
        crate::staff_sign_in::signed_in_as(&app, "agents@staff.example", "privacy_officer").await;
    let path = "/console/admin/agents";
    let key = "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=";
    let (status, page) = console_get(&app, &cookie, "/console/admin/agents?lang=ja").await;
    assert!(
        status == StatusCode::OK && page.contains("代理人を登録"),
        "{page}"
    );
    let bad = [
        [("id", "bad id!"), ("name", "Bad"), ("verify_key", key)],
        [
            ("id", "KEYLESS"),
            ("name", "Keyless"),
            ("verify_key", "abc"),
        ],
    ];
    for form in bad {
        let (status, _) = post_keys(&app, &cookie, path, &form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
    }
    assert!(
        app.vault
            .list_agents(&actor_cli())
            .await
            .unwrap()
            .is_empty()
    );
    app.clock.advance(Duration::from_secs(6 * 60));
    let form = [
        ("id", "TEST_AGENT"),
        ("name", "Test agent"),
        ("verify_key", key),
    ];
    let (status, page) = post_keys(&app, &cookie, path, &form).await;
    assert!(
        status == StatusCode::UNPROCESSABLE_ENTITY && page.contains("reauthentication_required")
    );
    let code = officer.secret.code_at(now_seconds(&app));
    let form = [
        ("id", "TEST_AGENT"),
        ("name", "Test agent"),
        ("verify_key", key),
        ("code", &code),
    ];
    let (status, page) = post_keys(&app, &cookie, path, &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("<code>TEST_AGENT</code>"), "{page}");
    let again = [("id", "TEST_AGENT"), ("name", "Again"), ("verify_key", key)];
    assert_eq!(
        post_keys(&app, &cookie, path, &again).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let remove = "/console/admin/agents/remove";
    assert_eq!(
        post_keys(&app, &cookie, remove, &[("agent", "TEST_AGENT")])
            .await
            .0,
        StatusCode::OK
    );
    let agents = app.vault.list_agents(&actor_cli()).await.unwrap();
    assert!(agents[0].removed_ms.is_some(), "removed at once");
    let (status, _) = post_keys(&app, &cookie, remove, &[("agent", "TEST_AGENT")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "removed once");

    let (support, _) =
        crate::staff_sign_in::signed_in_as(&app, "noagents@staff.example", "support").await;
    let (status, page) = console_get(&app, &support, path).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("permission_not_granted"), "{page}");
}

/// A receiver that lost events gets them again: the console replays a subscription from an
/// event number (decided, ledgered); a number below 1 or not a number changes nothing.
pub async fn administrators_replay_a_webhook_from_the_console(app: TestApp) {
    let r = (app.client.post(app.url("/v1/webhooks")))
        .bearer_auth(&app.keys["privacy_ops"])
        .json(&serde_json::json!({"url": "http://127.0.0.1:9/hook", "events": ["*"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = app.vault.list_webhooks(&actor_cli()).await.unwrap()[0]
        .id
        .clone();
    let (cookie, _) =
        crate::staff_sign_in::signed_in_as(&app, "replay@staff.example", "privacy_officer").await;
    let (_, page) = console_get(&app, &cookie, "/console/admin/webhooks?lang=ja").await;
    assert!(page.contains("再送を始めるイベント番号"), "{page}");
    let path = "/console/admin/webhooks/replay";
    for from in ["0", "abc", ""] {
        let (status, page) =
            post_keys(&app, &cookie, path, &[("webhook", &id), ("from", from)]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{from}: {page}");
    }
    let (status, page) =
        post_keys(&app, &cookie, path, &[("webhook", "nope"), ("from", "1")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    let (status, page) = post_keys(&app, &cookie, path, &[("webhook", &id), ("from", "1")]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Replaying"), "{page}");
    let hooks = app.vault.list_webhooks(&actor_cli()).await.unwrap();
    assert_eq!(hooks[0].cursor, 0, "delivery starts again from event 1");
}

/// Pausing a webhook or an agent from the console holds it (the page says since when and
/// offers Resume), resuming undoes it, an unknown one is refused, other roles are refused.
pub async fn administrators_pause_and_resume_webhooks_and_agents_in_the_console(app: TestApp) {
    let operator = actor_cli();
    let (hook, _) = (app.vault)
        .add_webhook(&operator, "http://127.0.0.1:9/held", &["*".to_string()])
        .await
        .unwrap();
    let key = "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=";
    (app.vault
        .register_agent(&operator, "HELD", "Held agent", key))
    .await
    .unwrap();
    let (cookie, _) =
        crate::staff_sign_in::signed_in_as(&app, "pauses@staff.example", "privacy_officer").await;
    for (path, field, target, said) in [
        (
            "/console/admin/webhooks/pause",
            "webhook",
            hook.id.as_str(),
            "Suspendu depuis",
        ),
        (
            "/console/admin/agents/pause",
            "agent",
            "HELD",
            "Suspendu depuis",
        ),
    ] {
        let form = [(field, target), ("lang", "fr")];
        let (status, page) = post_keys(&app, &cookie, path, &form).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains(said) && page.contains("Reprendre"), "{page}");
        let form = [(field, target), ("resume", "1")];
        let (status, page) = post_keys(&app, &cookie, path, &form).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(!page.contains("paused-since"), "{page}");
        let form = [(field, "NOBODY")];
        let (status, _) = post_keys(&app, &cookie, path, &form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
    }
    assert!(
        (app.vault.list_webhooks(&operator).await.unwrap())
            .iter()
            .all(|h| h.paused_at.is_none())
    );
    let (support, _) =
        crate::staff_sign_in::signed_in_as(&app, "nopauses@staff.example", "support").await;
    let csrf = crate::form_csrf(&console_get(&app, &support, "/console").await.1);
    let form = [("webhook", hook.id.as_str()), ("csrf", &csrf)];
    let (status, page) = post_keys(&app, &support, "/console/admin/webhooks/pause", &form).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(
        (app.vault.list_webhooks(&operator).await.unwrap())
            .iter()
            .all(|h| h.paused_at.is_none())
    );
}
