//! Signing in to the privacy center, and the pages a signed-in person sees.

use super::*;

/// Signing in to the privacy center: a code for a known address only (same answer otherwise),
/// five tries, one use; the session acts as the person on their own record only.
pub(crate) async fn privacy_center_sign_in_by_one_time_code(app: TestApp) {
    use mamori_core::signin::CodeRefused;
    let vault = &app.vault;
    let me = create(&app, &customer("signin")).await;
    let mut body = customer("other");
    body["data"]["contact"]["phone"] = json!("+33 1 98 76 54 32");
    let other = create(&app, &body).await;
    let (me, other) = (
        mamori_core::parse_id(&me).unwrap(),
        mamori_core::parse_id(&other).unwrap(),
    );

    let unknown = vault.start_sign_in("nobody@example.com").await.unwrap();
    assert!(unknown.code.is_none(), "no code for an unknown address");
    let r = vault
        .finish_sign_in(&unknown.challenge, "000000")
        .await
        .unwrap();
    assert_eq!(r.unwrap_err(), CodeRefused::Wrong);
    let e = vault.start_sign_in("not an address").await.err().unwrap();
    assert_eq!(e.code(), "invalid_value");

    // Five wrong tries lock a challenge, even for the right code afterwards.
    let started = vault
        .start_sign_in("  ADA.signin@Example.com ")
        .await
        .unwrap();
    let code = started.code.expect("a code for a known address");
    let wrong = if code == "123456" { "654321" } else { "123456" };
    for _ in 0..4 {
        let r = vault
            .finish_sign_in(&started.challenge, wrong)
            .await
            .unwrap();
        assert_eq!(r.unwrap_err(), CodeRefused::Wrong);
    }
    let r = vault
        .finish_sign_in(&started.challenge, wrong)
        .await
        .unwrap();
    assert_eq!(r.unwrap_err(), CodeRefused::TooManyAttempts);
    let r = vault
        .finish_sign_in(&started.challenge, &code)
        .await
        .unwrap();
    assert_eq!(r.unwrap_err(), CodeRefused::TooManyAttempts);

    // The right code signs in once.
    let started = vault.start_sign_in("ada.signin@example.com").await.unwrap();
    let code = started.code.unwrap();
    for bad in ["", "12345", "1234567", "abcdef"] {
        let r = vault.finish_sign_in(&started.challenge, bad).await.unwrap();
        assert_eq!(r.unwrap_err(), CodeRefused::Wrong, "{bad:?}");
    }
    let (token, subject) = vault
        .finish_sign_in(&started.challenge, &code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(subject, me);
    let r = vault
        .finish_sign_in(&started.challenge, &code)
        .await
        .unwrap();
    assert_eq!(r.unwrap_err(), CodeRefused::AlreadyUsed);

    // The session acts as the person: their whole record, unmasked; nobody else's.
    let (who, actor) = vault.session_actor(&token).await.unwrap().unwrap();
    assert_eq!(who, me);
    let rights = mamori_policy::RIGHTS_PURPOSE;
    let view = vault.read_subject(&actor, rights, &me).await.unwrap();
    assert_eq!(view.data["contact"]["email"], "ada.signin@example.com");
    assert_eq!(
        view.data["contact"]["phone"], "+442079460123",
        "not masked for the person"
    );
    let e = vault
        .read_subject(&actor, rights, &other)
        .await
        .err()
        .unwrap();
    assert_eq!(e.code(), "not_own_record");
    let e = vault
        .read_subject(&actor, "marketing_email", &me)
        .await
        .err()
        .unwrap();
    assert_eq!(e.code(), "purpose_not_allowed_for_role");
    assert!(vault.session_actor("forged-token").await.unwrap().is_none());
    vault.sign_out(&token).await.unwrap();
    assert!(vault.session_actor(&token).await.unwrap().is_none());
    // An API key cannot be given the person's role.
    let officer = mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    };
    assert!(
        vault
            .create_api_key(&officer, "self", "nope")
            .await
            .is_err()
    );
}

/// Through the pages, without JavaScript: request a code (CSRF-checked), read it from the demo
/// outbox, sign in, see "My data" unmasked with purposes and retention, sign out.
pub(crate) async fn privacy_center_pages_sign_in_and_show_my_data(app: TestApp) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let id = create(&app, &customer("pages")).await;
    // Orders and support requests are records: "My data" shows them with their kind.
    for (purpose, body) in [
        (
            "order_fulfilment",
            json!({"category": "orders", "data": {"order_number": "K-77881", "total": 42, "currency": "EUR"}}),
        ),
        (
            "customer_support",
            json!({"category": "support_tickets", "data": {"subject": "Colis en retard", "status": "open"}}),
        ),
    ] {
        let r = app
            .as_role(
                Method::POST,
                &format!("/v1/subjects/{id}/records"),
                "service",
                purpose,
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let r = client
        .get(app.url("/privacy/sign-in?lang=fr"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csrf_set = set_cookie(&r, "mamori_csrf").expect("a CSRF cookie");
    assert!(
        csrf_set.contains("HttpOnly") && csrf_set.contains("SameSite=Strict"),
        "{csrf_set}"
    );
    let browser = cookie_value(&csrf_set);
    let page = r.text().await.unwrap();
    assert!(page.contains("Adresse e-mail"), "{page}");
    // The form token is a keyed MAC of the browser's cookie, not the cookie itself.
    let csrf = form_csrf(&page);
    assert_ne!(csrf, browser);
    let jar = format!("mamori_csrf={browser}");
    let post = |path: &str, form: Vec<(&str, String)>, cookies: String| {
        client
            .post(app.url(path))
            .header("cookie", cookies)
            .form(&form)
            .send()
    };

    // Cross-site or token-less posts are refused and send nothing.
    let r = post(
        "/privacy/sign-in",
        vec![
            ("email", "ada.pages@example.com".into()),
            ("csrf", "forged".into()),
        ],
        jar.clone(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = client
        .post(app.url("/privacy/sign-in"))
        .header("cookie", jar.clone())
        .header("origin", "https://evil.example")
        .form(&[("email", "ada.pages@example.com"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let outbox = client
        .get(app.url("/privacy/demo/outbox"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !outbox.contains("ada.pages@example.com"),
        "nothing sent yet"
    );

    // Known and unknown addresses get the same page; only the known one gets mail.
    let ask = async |email: &str| {
        let form = vec![
            ("email", email.to_string()),
            ("csrf", csrf.clone()),
            ("lang", "fr".into()),
        ];
        let r = post("/privacy/sign-in", form, jar.clone()).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.text().await.unwrap()
    };
    let unknown = ask("stranger@example.com").await;
    let known = ask("ada.pages@example.com").await;
    let strip = |page: &str| page.replace(between(page, "name=\"challenge\" value=\"", "\""), "");
    assert_eq!(
        strip(&unknown),
        strip(&known),
        "the answer does not reveal customers"
    );
    assert!(known.contains("Si nous connaissons cette adresse"));
    let challenge = between(&known, "name=\"challenge\" value=\"", "\"").to_string();
    let mut code = String::new();
    for _ in 0..100 {
        let outbox = client
            .get(app.url("/privacy/demo/outbox"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if outbox.contains("ada.pages@example.com") {
            code = between(&outbox, "confidentialité est ", ".").to_string();
            assert!(!outbox.contains("stranger@example.com"));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(code.len(), 6, "the code reached the demo outbox");

    // A wrong code keeps the challenge; the right one signs in.
    let form = |code: &str| {
        vec![
            ("challenge", challenge.clone()),
            ("code", code.to_string()),
            ("csrf", csrf.clone()),
            ("lang", "fr".into()),
        ]
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = post("/privacy/sign-in/code", form(wrong), jar.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("pas le bon"));
    let r = post("/privacy/sign-in/code", form(&code), jar.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/privacy/me?lang=fr");
    let session_set = set_cookie(&r, "mamori_session").expect("a session cookie");
    assert!(session_set.contains("HttpOnly") && session_set.contains("SameSite=Strict"));
    let session = cookie_value(&session_set);
    let jar = format!("{jar}; mamori_session={session}");

    let before = ledger_size(&app).await;
    let r = client
        .get(app.url("/privacy/me?lang=fr"))
        .header("cookie", jar.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let me = r.text().await.unwrap();
    assert!(me.contains("Mes données"));
    assert!(
        me.contains("ada.pages@example.com") && me.contains("+442079460123"),
        "unmasked: {me}"
    );
    // Signed in, forms carry a token bound to the session.
    let session_csrf = form_csrf(&me);
    assert_ne!(session_csrf, csrf);
    assert!(me.contains("Utilisées pour"));
    // French typography: a narrow no-break space before the colon.
    assert!(me.contains("Utilisées pour\u{202f}: "), "{me}");
    assert!(!me.contains("pour: "));
    let orders = between(&me, "id=\"category-orders\"", "</section>");
    assert!(
        orders.contains("K-77881")
            && orders.contains("Enregistré le")
            && !orders.contains("Nous ne détenons rien"),
        "{orders}"
    );
    let tickets = between(&me, "id=\"category-support_tickets\"", "</section>");
    assert!(tickets.contains("Colis en retard"), "{tickets}");
    assert_eq!(
        ledger_size(&app).await,
        before + 2,
        "viewing my data is ledgered (the fields, and the records)"
    );
    let leaf = app.store.leaves(before, 1).await.unwrap();
    let event = String::from_utf8(leaf[0].data.clone()).unwrap();
    assert!(
        event.contains(&id) && event.contains("\"role\":\"self\""),
        "{event}"
    );

    // Without a session, or with a forged one, "My data" sends you to sign in.
    for cookies in [String::new(), "mamori_session=forged".to_string()] {
        let r = client
            .get(app.url("/privacy/me"))
            .header("cookie", cookies)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    // The code is spent (asked from a browser without the session); signing out ends the
    // session.
    let r = post(
        "/privacy/sign-in/code",
        form(&code),
        format!("mamori_csrf={browser}"),
    )
    .await
    .unwrap();
    assert!(r.text().await.unwrap().contains("déjà été utilisé"));
    let r = post(
        "/privacy/sign-out",
        vec![("csrf", csrf.clone()), ("lang", "fr".into())],
        jar.clone(),
    )
    .await
    .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "the pre-session token is not the session's"
    );
    let r = post(
        "/privacy/sign-out",
        vec![("csrf", session_csrf.clone()), ("lang", "fr".into())],
        jar.clone(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = client
        .get(app.url("/privacy/me"))
        .header("cookie", jar.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The browser dropped the session cookie it was told to clear.
    let jar = format!("mamori_csrf={browser}");
    // A mistyped address says so; a challenge that is not one is refused.
    let form = vec![
        ("email", "not an address".to_string()),
        ("csrf", csrf.clone()),
        ("lang", "en".into()),
    ];
    let r = post("/privacy/sign-in", form, jar.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("does not look like an e-mail address")
    );
    let form = vec![
        ("challenge", "CANARY".to_string()),
        ("code", "123456".into()),
        ("csrf", csrf.clone()),
    ];
    let r = post("/privacy/sign-in/code", form, jar.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(!r.text().await.unwrap().contains("CANARY"));
    // Malformed forms get the same clear refusal, never a 500.
    let r = client
        .post(app.url("/privacy/sign-in/code"))
        .header("cookie", jar.clone())
        .body("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Each request mails the person, so one address gets a few codes per ten minutes at most.
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let form = vec![
            ("email", "ADA.pages@example.com".to_string()),
            ("csrf", csrf.clone()),
            ("lang", "fr".into()),
        ];
        let r = post("/privacy/sign-in", form, jar.clone()).await.unwrap();
        statuses.push(r.status());
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.headers()["retry-after"], "60");
            assert!(r.text().await.unwrap().contains("Patientez"));
            break;
        }
    }
    assert_eq!(
        statuses.len(),
        5,
        "four more codes, then a refusal: {statuses:?}"
    );
    assert_eq!(statuses[4], StatusCode::TOO_MANY_REQUESTS);
}

/// A browser on the sign-in page: a client that does not follow redirects, its pre-session
/// cookie's value and the page's form token.
pub(crate) async fn sign_in_page(app: &TestApp) -> (reqwest::Client, String, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .get(app.url("/privacy/sign-in"))
        .send()
        .await
        .unwrap();
    let browser = cookie_value(&set_cookie(&r, "mamori_csrf").unwrap());
    let csrf = form_csrf(&r.text().await.unwrap());
    (client, browser, csrf)
}

/// A signed-in browser for `email` (signed in through the core, as the pages do): a client that
/// does not follow redirects, its cookie header and its CSRF token.
pub(crate) async fn signed_in_browser(
    app: &TestApp,
    email: &str,
) -> (reqwest::Client, String, String) {
    let (client, browser, _) = sign_in_page(app).await;
    let started = app.vault.start_sign_in(email).await.unwrap();
    let code = started.code.unwrap();
    let (token, _) = app
        .vault
        .finish_sign_in(&started.challenge, &code)
        .await
        .unwrap()
        .unwrap();
    let jar = format!("mamori_csrf={browser}; mamori_session={token}");
    // The session's form token, from a page of the signed-in person.
    let page = client
        .get(app.url("/privacy/choices"))
        .header("cookie", jar.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (client, jar, form_csrf(&page))
}
