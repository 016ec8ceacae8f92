//! Signing in to the privacy center, and the pages a signed-in person sees.

use super::*;
use mamori_proto::ErrorCode;

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
    assert_eq!(e.code(), ErrorCode::InvalidValue);

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
    assert_eq!(e.code(), ErrorCode::NotOwnRecord);
    let e = vault
        .read_subject(&actor, "marketing_email", &me)
        .await
        .err()
        .unwrap();
    assert_eq!(e.code(), ErrorCode::PurposeNotAllowedForRole);
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

/// A browser on the French sign-in page, without JavaScript: it does not follow redirects,
/// holds the pre-session cookie `browser`, and the page's form token `csrf`.
struct Browser {
    client: reqwest::Client,
    browser: String,
    csrf: String,
}

impl Browser {
    /// The browser, the CSRF cookie as it was set, and the page.
    async fn at_sign_in(app: &TestApp) -> (Browser, String, String) {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = client
            .get(app.url("/privacy/sign-in?lang=fr"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let set = set_cookie(&r, "mamori_csrf").expect("a CSRF cookie");
        let browser = cookie_value(&set);
        let page = r.text().await.unwrap();
        let csrf = form_csrf(&page);
        (
            Browser {
                client,
                browser,
                csrf,
            },
            set,
            page,
        )
    }

    /// The pre-session cookie header.
    fn jar(&self) -> String {
        format!("mamori_csrf={}", self.browser)
    }

    async fn post(
        &self,
        app: &TestApp,
        path: &str,
        form: &[(&str, &str)],
        cookies: &str,
    ) -> reqwest::Response {
        let r = self.client.post(app.url(path)).header("cookie", cookies);
        r.form(form).send().await.unwrap()
    }

    /// Asks for a code for `email` (French): the page, which must be a 200.
    async fn ask_code(&self, app: &TestApp, email: &str) -> String {
        let form = [
            ("email", email),
            ("csrf", self.csrf.as_str()),
            ("lang", "fr"),
        ];
        let r = self.post(app, "/privacy/sign-in", &form, &self.jar()).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.text().await.unwrap()
    }

    async fn enter_code(
        &self,
        app: &TestApp,
        challenge: &str,
        code: &str,
        cookies: &str,
    ) -> reqwest::Response {
        let form = [
            ("challenge", challenge),
            ("code", code),
            ("csrf", self.csrf.as_str()),
            ("lang", "fr"),
        ];
        self.post(app, "/privacy/sign-in/code", &form, cookies)
            .await
    }

    /// Signs in as `email` through the pages: the challenge, the code and the session's
    /// cookie header.
    async fn signed_in(&self, app: &TestApp, email: &str) -> (String, String, String) {
        let page = self.ask_code(app, email).await;
        let challenge = between(&page, "name=\"challenge\" value=\"", "\"").to_string();
        let code = code_sent_to(app, email).await;
        let r = self.enter_code(app, &challenge, &code, &self.jar()).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], "/privacy/me?lang=fr");
        let session_set = set_cookie(&r, "mamori_session").expect("a session cookie");
        assert!(session_set.contains("HttpOnly") && session_set.contains("SameSite=Strict"));
        let jar = format!(
            "{}; mamori_session={}",
            self.jar(),
            cookie_value(&session_set)
        );
        (challenge, code, jar)
    }
}

/// The code the demo outbox shows for `email`, once it is there.
async fn code_sent_to(app: &TestApp, email: &str) -> String {
    for _ in 0..100 {
        let outbox = app
            .client
            .get(app.url("/privacy/demo/outbox"))
            .send()
            .await
            .unwrap();
        let outbox = outbox.text().await.unwrap();
        if outbox.contains(email) {
            return between(&outbox, "confidentialité est ", ".").to_string();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no code reached the demo outbox for {email}");
}

/// Through the pages, without JavaScript: cookies are HttpOnly and SameSite=Strict, the form
/// token is a MAC of the cookie, cross-site and token-less posts send nothing, known and unknown
/// addresses get the same page (only the known one gets mail), a wrong code keeps the challenge.
pub(crate) async fn signing_in_by_code_reveals_no_customers(app: TestApp) {
    create(&app, &customer("pages")).await;
    let (b, csrf_set, page) = Browser::at_sign_in(&app).await;
    assert!(
        csrf_set.contains("HttpOnly") && csrf_set.contains("SameSite=Strict"),
        "{csrf_set}"
    );
    assert!(page.contains("Adresse e-mail"), "{page}");
    assert_ne!(
        b.csrf, b.browser,
        "the form token is a keyed MAC of the cookie, not the cookie"
    );
    let forged = [("email", "ada.pages@example.com"), ("csrf", "forged")];
    assert_eq!(
        b.post(&app, "/privacy/sign-in", &forged, &b.jar())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let form = [
        ("email", "ada.pages@example.com"),
        ("csrf", b.csrf.as_str()),
    ];
    let r = b
        .client
        .post(app.url("/privacy/sign-in"))
        .header("cookie", b.jar());
    let r = r
        .header("origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let outbox = app
        .client
        .get(app.url("/privacy/demo/outbox"))
        .send()
        .await
        .unwrap();
    assert!(
        !outbox
            .text()
            .await
            .unwrap()
            .contains("ada.pages@example.com"),
        "nothing sent yet"
    );
    let unknown = b.ask_code(&app, "stranger@example.com").await;
    let known = b.ask_code(&app, "ada.pages@example.com").await;
    let strip = |page: &str| page.replace(between(page, "name=\"challenge\" value=\"", "\""), "");
    assert_eq!(
        strip(&unknown),
        strip(&known),
        "the answer does not reveal customers"
    );
    assert!(known.contains("Si nous connaissons cette adresse"));
    let challenge = between(&known, "name=\"challenge\" value=\"", "\"").to_string();
    let code = code_sent_to(&app, "ada.pages@example.com").await;
    assert_eq!(code.len(), 6);
    let outbox = app
        .client
        .get(app.url("/privacy/demo/outbox"))
        .send()
        .await
        .unwrap();
    assert!(
        !outbox
            .text()
            .await
            .unwrap()
            .contains("stranger@example.com")
    );
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = b.enter_code(&app, &challenge, wrong, &b.jar()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("pas le bon"));
    assert_eq!(
        b.enter_code(&app, &challenge, &code, &b.jar())
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

/// "My data", signed in through the pages: unmasked, with purposes and records, in French
/// typography, never cached, each view ledgered as the person's own.
pub(crate) async fn privacy_center_pages_sign_in_and_show_my_data(app: TestApp) {
    let id = create(&app, &customer("pages")).await;
    let order = json!({"category": "orders", "data": {"order_number": "K-77881", "total": 42, "currency": "EUR"}});
    let ticket = json!({"category": "support_tickets", "data": {"subject": "Colis en retard", "status": "open"}});
    let records = format!("/v1/subjects/{id}/records");
    for (purpose, body) in [("order_fulfilment", order), ("customer_support", ticket)] {
        let r = app
            .as_role(Method::POST, &records, "service", purpose)
            .json(&body);
        assert_eq!(r.send().await.unwrap().status(), StatusCode::CREATED);
    }
    let (b, ..) = Browser::at_sign_in(&app).await;
    let (_, _, jar) = b.signed_in(&app, "ada.pages@example.com").await;
    let before = ledger_size(&app).await;
    let r = b
        .client
        .get(app.url("/privacy/me?lang=fr"))
        .header("cookie", jar)
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
    assert_ne!(
        form_csrf(&me),
        b.csrf,
        "signed in, forms carry a token bound to the session"
    );
    // French typography: a narrow no-break space before the colon.
    assert!(
        me.contains("Utilisées pour\u{202f}: ") && !me.contains("pour: "),
        "{me}"
    );
    let orders = between(&me, "id=\"category-orders\"", "</section>");
    let shown = orders.contains("K-77881") && orders.contains("Enregistré le");
    assert!(
        shown && !orders.contains("Nous ne détenons rien"),
        "{orders}"
    );
    let tickets = between(&me, "id=\"category-support_tickets\"", "</section>");
    assert!(tickets.contains("Colis en retard"), "{tickets}");
    let viewed = ledger_size(&app).await;
    assert_eq!(
        viewed,
        before + 5,
        "viewing my data is ledgered (the fields, the records, the legal holds, the incidents' notices, the disclosures)"
    );
    let leaf = app.store.leaves(before, 1).await.unwrap();
    let event = String::from_utf8(leaf[0].data.clone()).unwrap();
    assert!(
        event.contains(&id) && event.contains("\"role\":\"self\""),
        "{event}"
    );
}

/// Without a session, or with a forged one, "My data" sends you to sign in; a code is spent
/// once; signing out needs the session's own form token and ends the session.
pub(crate) async fn signing_out_ends_the_session_and_codes_work_once(app: TestApp) {
    create(&app, &customer("pages")).await;
    let (b, ..) = Browser::at_sign_in(&app).await;
    let (challenge, code, jar) = b.signed_in(&app, "ada.pages@example.com").await;
    let my_data = async |cookies: &str| {
        let r = b
            .client
            .get(app.url("/privacy/me"))
            .header("cookie", cookies);
        r.send().await.unwrap().status()
    };
    for cookies in ["", "mamori_session=forged"] {
        assert_eq!(my_data(cookies).await, StatusCode::SEE_OTHER);
    }
    let again = b.enter_code(&app, &challenge, &code, &b.jar()).await;
    assert!(again.text().await.unwrap().contains("déjà été utilisé"));
    let page = b
        .client
        .get(app.url("/privacy/me?lang=fr"))
        .header("cookie", jar.clone());
    let session_csrf = form_csrf(&page.send().await.unwrap().text().await.unwrap());
    let sign_out = async |token: &str| {
        let form = [("csrf", token), ("lang", "fr")];
        b.post(&app, "/privacy/sign-out", &form, &jar)
            .await
            .status()
    };
    assert_eq!(
        sign_out(&b.csrf).await,
        StatusCode::FORBIDDEN,
        "the pre-session token is not the session's"
    );
    assert_eq!(sign_out(&session_csrf).await, StatusCode::SEE_OTHER);
    assert_eq!(my_data(&jar).await, StatusCode::SEE_OTHER);
}

/// A mistyped address says so; a challenge that is not one, or a malformed form, is refused
/// without repeating it; one address gets a few codes per ten minutes at most.
pub(crate) async fn bad_sign_in_forms_are_refused_and_codes_are_limited(app: TestApp) {
    create(&app, &customer("pages")).await;
    let (b, ..) = Browser::at_sign_in(&app).await;
    let form = [
        ("email", "not an address"),
        ("csrf", b.csrf.as_str()),
        ("lang", "en"),
    ];
    let r = b.post(&app, "/privacy/sign-in", &form, &b.jar()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("does not look like an e-mail address")
    );
    let form = [
        ("challenge", "CANARY"),
        ("code", "123456"),
        ("csrf", b.csrf.as_str()),
    ];
    let r = b.post(&app, "/privacy/sign-in/code", &form, &b.jar()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(!r.text().await.unwrap().contains("CANARY"));
    let r = b
        .client
        .post(app.url("/privacy/sign-in/code"))
        .header("cookie", b.jar());
    assert_eq!(
        r.body("garbage").send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let form = [
            ("email", "ADA.pages@example.com"),
            ("csrf", b.csrf.as_str()),
            ("lang", "fr"),
        ];
        let r = b.post(&app, "/privacy/sign-in", &form, &b.jar()).await;
        statuses.push(r.status());
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.headers()["retry-after"], "60");
            assert!(r.text().await.unwrap().contains("Patientez"));
            break;
        }
    }
    assert_eq!(
        statuses.len(),
        6,
        "five codes, then a refusal: {statuses:?}"
    );
    assert_eq!(statuses[5], StatusCode::TOO_MANY_REQUESTS);
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
