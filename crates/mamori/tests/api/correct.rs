//! Correct my data: ordinary fields change at once (validated by the policy's types, ledgered,
//! registered); a new e-mail address is stored only once the code sent to it comes back, and
//! the sign-in address moves with it; bad values, customer numbers, forged pending values, wrong
//! codes, other people's challenges and cross-site posts change nothing.

use super::*;

/// A person signed in to the privacy center, at the correction page.
struct Correcting<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    jar: String,
    csrf: String,
    id: String,
}

impl<'a> Correcting<'a> {
    async fn signed_in(app: &'a TestApp, tag: &str) -> Correcting<'a> {
        let id = create(app, &customer(tag)).await;
        let email = format!("ada.{tag}@example.com");
        let (client, jar, csrf) = signed_in_browser(app, &email).await;
        Correcting {
            app,
            client,
            jar,
            csrf,
            id,
        }
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut all = vec![("csrf", self.csrf.as_str()), ("lang", "en")];
        all.extend_from_slice(form);
        self.client
            .post(self.app.url(path))
            .header("cookie", self.jar.clone())
            .form(&all)
            .send()
            .await
            .unwrap()
    }

    async fn correct(&self, category: &str, field: &str, value: &str) -> reqwest::Response {
        let form = [("category", category), ("field", field), ("value", value)];
        self.post("/privacy/me/correct", &form).await
    }

    async fn confirm(&self, challenge: &str, pending: &str, code: &str) -> reqwest::Response {
        let form = [
            ("category", "contact"),
            ("field", "email"),
            ("challenge", challenge),
            ("pending", pending),
            ("code", code),
        ];
        self.post("/privacy/me/correct/confirm", &form).await
    }

    /// The person's data as the privacy officer reads it.
    async fn stored(&self) -> Value {
        let path = format!("/v1/subjects/{}", self.id);
        let (_, v) = self
            .app
            .get_as(&path, "privacy_officer", "data_subject_rights")
            .await;
        v
    }

    /// The demo outbox page (codes sent, newest first).
    async fn outbox(&self) -> String {
        let r = self.client.get(self.app.url("/privacy/demo/outbox")).send();
        r.await.unwrap().text().await.unwrap()
    }

    /// Asks to change the e-mail address: the sealed challenge and pending value from the form,
    /// and the code sent to the new address.
    async fn new_email(&self, address: &str) -> (String, String, String) {
        let html = self
            .correct("contact", "email", address)
            .await
            .text()
            .await
            .unwrap();
        let shown = html.to_lowercase().contains(&address.to_lowercase());
        assert!(!shown, "the pending value is sealed in the form");
        let challenge = between(&html, "name=\"challenge\" value=\"", "\"").to_string();
        let pending = between(&html, "name=\"pending\" value=\"", "\"").to_string();
        let code = between(&self.outbox().await, "privacy center is ", ".").to_string();
        (challenge, pending, code)
    }
}

const RECORDED: &str = "We have recorded the correction";

pub(crate) async fn correct_my_data_verifies_new_identifiers(app: TestApp) {
    let me = Correcting::signed_in(&app, "fix").await;
    let page = me
        .client
        .get(app.url("/privacy/me/correct?lang=en"))
        .header("cookie", me.jar.clone());
    let html = page.send().await.unwrap().text().await.unwrap();
    assert!(html.contains("value=\"Paris\""), "current values shown");
    // An ordinary field: saved at once, ledgered as the person's own update, registered.
    let r = me.correct("address", "city", "Lyon").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains(RECORDED));
    assert_eq!(me.stored().await["data"]["address"]["city"], "Lyon");
    let log = access_log_page(&app, &me.id, "").await;
    let events = log["events"].as_array().unwrap();
    let own =
        |e: &&Value| e["action"] == "subject.update" && e["role"] == "self" && e["allowed"] == true;
    assert!(events.iter().any(|e| own(&e)), "{log}");
    let path = format!("/v1/requests?subject={}&state=fulfilled", me.id);
    let (_, register) = app
        .get_as(&path, "privacy_officer", "data_subject_rights")
        .await;
    let fulfilled = register["requests"].as_array().unwrap();
    assert_eq!(fulfilled.len(), 1, "{register}");
    assert_eq!(fulfilled[0]["kind"], "rectification");
    assert_eq!(fulfilled[0]["source"], "privacy_center");
    // The phone number and e-mail address already held, however written: recorded as they
    // are, and no code is sent anywhere (each used to send one).
    let sent_before = me.outbox().await;
    for (field, same) in [
        ("phone", "+44-20-7946-0123"),
        ("email", " ADA.fix@Example.com "),
    ] {
        let r = me.correct("contact", field, same).await;
        assert_eq!(r.status(), StatusCode::OK, "{field}");
        assert!(r.text().await.unwrap().contains(RECORDED));
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(me.outbox().await, sent_before, "no code was sent");
}

pub(crate) async fn bad_corrections_change_nothing(app: TestApp) {
    let me = Correcting::signed_in(&app, "fix").await;
    // Bad values and fields the person may not change: 422, not echoed, nothing stored.
    for (category, field, value) in [
        ("address", "country", "Narnia"),
        ("contact", "email", "not an address"),
        ("contact", "nickname", "x"),
        ("nowhere", "city", "x"),
    ] {
        let r = me.correct(category, field, value).await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{category}.{field}"
        );
        assert!(!r.text().await.unwrap().contains("Narnia"), "not echoed");
    }
    // A form missing its fields, or with an id that is not one, changes nothing.
    let r = me
        .post("/privacy/me/correct", &[("category", "address")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        me.confirm("nope", "x", "123456").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // A cross-site post is refused.
    let form = [
        ("csrf", me.csrf.as_str()),
        ("category", "address"),
        ("field", "city"),
        ("value", "Nice"),
    ];
    let r = me
        .client
        .post(app.url("/privacy/me/correct"))
        .header("cookie", me.jar.clone());
    let r = r
        .header("origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let after = me.stored().await;
    assert_eq!(after["data"]["address"]["country"], "FR");
    assert_eq!(after["data"]["address"]["city"], "Paris");
    assert_eq!(after["data"]["contact"]["email"], "ada.fix@example.com");
    // Signed out: the pages send the person to sign in.
    let r = me
        .client
        .get(app.url("/privacy/me/correct"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

pub(crate) async fn a_new_email_is_stored_only_once_its_code_returns(app: TestApp) {
    let me = Correcting::signed_in(&app, "fix").await;
    let (challenge, pending, code) = me.new_email("Ada.New@Example.com").await;
    assert_eq!(
        me.stored().await["data"]["contact"]["email"],
        "ada.fix@example.com"
    );
    assert!(
        me.outbox()
            .await
            .contains("<span class=\"to\">ada.new@example.com</span>")
    );
    assert_eq!(code.len(), 6);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = me.confirm(&challenge, &pending, wrong).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("That code is not right"));
    // A pending value altered in the form does not open, and spends nothing: only the wrong
    // code counted as a try, the challenge is unused.
    let mut forged = pending.clone().into_bytes();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let r = me
        .confirm(&challenge, std::str::from_utf8(&forged).unwrap(), &code)
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        me.stored().await["data"]["contact"]["email"],
        "ada.fix@example.com"
    );
    let challenge_id = mamori_core::parse_id(&challenge).unwrap();
    let row = app.store.challenge(&challenge_id).await.unwrap().unwrap();
    assert_eq!((row.attempts, row.used_ms), (1, None));
    // The right code (here on a fresh challenge) stores the address, once.
    let (challenge, pending, code) = me.new_email("ada.new@example.com").await;
    let r = me.confirm(&challenge, &pending, &code).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Confirmed and saved"));
    assert_eq!(
        me.stored().await["data"]["contact"]["email"],
        "ada.new@example.com"
    );
    let again = me.confirm(&challenge, &pending, &code).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Sign-in now finds the person by the new address, not the old one.
    let new = app
        .vault
        .start_sign_in("ada.new@example.com")
        .await
        .unwrap();
    assert!(new.code.is_some());
    let old = app
        .vault
        .start_sign_in("ada.fix@example.com")
        .await
        .unwrap();
    assert!(old.code.is_none());
}

pub(crate) async fn corrections_are_decided_for_the_person_alone(app: TestApp) {
    let me = Correcting::signed_in(&app, "fix").await;
    let mut other = customer("taken");
    other["data"]["contact"]["phone"] = json!("+44 20 7946 0999");
    let other_id = create(&app, &other).await;
    // Someone else's challenge does not confirm a change for them.
    let (challenge, pending, code) = me.new_email("ada.new@example.com").await;
    let (client, jar, csrf) = signed_in_browser(&app, "ada.taken@example.com").await;
    let form = [
        ("csrf", csrf.as_str()),
        ("category", "contact"),
        ("field", "email"),
        ("challenge", challenge.as_str()),
        ("pending", pending.as_str()),
        ("code", code.as_str()),
    ];
    let r = client
        .post(app.url("/privacy/me/correct/confirm"))
        .header("cookie", jar);
    let r = r.form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        me.stored().await["data"]["contact"]["email"],
        "ada.fix@example.com"
    );
    // The core decides before a code is sent: staff roles and other people are refused.
    let subject = mamori_core::parse_id(&me.id).unwrap();
    let other_person = mamori_core::Actor {
        id: mamori_core::access::self_actor_id(&mamori_core::parse_id(&other_id).unwrap()),
        role: "self".into(),
    };
    let analyst = mamori_core::Actor {
        id: "cli".into(),
        role: "analyst".into(),
    };
    for actor in [other_person, analyst] {
        let tried = app
            .vault
            .correct_own(&actor, &subject, "contact", "email", "mallory@example.com")
            .await;
        let denied = matches!(tried, Err(mamori_core::CoreError::Denied(_)));
        assert!(denied, "{}: {tried:?}", actor.role);
    }
}
