//! Correct my data: new identifiers are verified by a code first.

use super::*;

/// Correct my data: ordinary fields change at once (validated by the policy's types, ledgered);
/// a new e-mail address is stored only once the code sent to it comes back, and the sign-in
/// address moves with it; bad values, customer numbers, forged pending values, wrong codes and
/// cross-site posts change nothing.
pub(crate) async fn correct_my_data_verifies_new_identifiers(app: TestApp) {
    let id = create(&app, &customer("fix")).await;
    let mut other = customer("taken");
    other["data"]["contact"]["phone"] = json!("+44 20 7946 0999");
    let other_id = create(&app, &other).await;
    let (client, jar, csrf) = signed_in_browser(&app, "ada.fix@example.com").await;
    let page = client
        .get(app.url("/privacy/me/correct?lang=en"))
        .header("cookie", jar.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("value=\"Paris\""), "current values shown");
    let post = async |path: &str, form: &[(&str, &str)]| {
        let mut all = vec![("csrf", csrf.as_str()), ("lang", "en")];
        all.extend_from_slice(form);
        client
            .post(app.url(path))
            .header("cookie", jar.clone())
            .form(&all)
            .send()
            .await
            .unwrap()
    };
    let correct = async |category: &str, field: &str, value: &str| {
        post(
            "/privacy/me/correct",
            &[("category", category), ("field", field), ("value", value)],
        )
        .await
    };
    let stored = async || {
        app.as_role(
            Method::GET,
            &format!("/v1/subjects/{id}"),
            "privacy_officer",
            "data_subject_rights",
        )
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()
    };

    // An ordinary field: saved at once, ledgered as the person's own update.
    let r = correct("address", "city", "Lyon").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("We have recorded the correction")
    );
    assert_eq!(stored().await["data"]["address"]["city"], "Lyon");
    let log = access_log_page(&app, &id, "").await;
    assert!(
        log["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "subject.update"
                && e["role"] == "self"
                && e["allowed"] == true),
        "{log}"
    );

    // The phone number and e-mail address already held, however written: recorded as they
    // are, and no code is sent anywhere (each used to send one).
    let outbox = async || {
        client
            .get(app.url("/privacy/demo/outbox"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let sent_before = outbox().await;
    for (field, same) in [
        ("phone", "+44-20-7946-0123"),
        ("email", " ADA.fix@Example.com "),
    ] {
        let r = correct("contact", field, same).await;
        assert_eq!(r.status(), StatusCode::OK, "{field}");
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("We have recorded the correction")
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(outbox().await, sent_before, "no code was sent");

    // Bad values and fields the person may not change: 422, nothing stored.
    for (category, field, value) in [
        ("address", "country", "Narnia"),
        ("contact", "email", "not an address"),
        ("contact", "nickname", "x"),
        ("nowhere", "city", "x"),
    ] {
        let r = correct(category, field, value).await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{category}.{field}"
        );
        let html = r.text().await.unwrap();
        assert!(
            !html.contains("Narnia"),
            "the bad value is not echoed in an error"
        );
    }
    let after = stored().await;
    assert_eq!(after["data"]["address"]["country"], "FR");
    assert_eq!(after["data"]["contact"]["email"], "ada.fix@example.com");

    // A form missing its fields, or with an id that is not one, changes nothing.
    let r = post("/privacy/me/correct", &[("category", "address")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post(
        "/privacy/me/correct/confirm",
        &[
            ("category", "contact"),
            ("field", "email"),
            ("challenge", "nope"),
            ("pending", "x"),
            ("code", "123456"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A cross-site post is refused.
    let r = client
        .post(app.url("/privacy/me/correct"))
        .header("cookie", jar.clone())
        .header("origin", "https://evil.example")
        .form(&[
            ("csrf", csrf.as_str()),
            ("category", "address"),
            ("field", "city"),
            ("value", "Nice"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(stored().await["data"]["address"]["city"], "Lyon");

    // A new e-mail address: a code goes to the new address; nothing changes until it returns.
    let r = correct("contact", "email", "Ada.New@Example.com").await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        !html.contains("ada.new@example.com"),
        "the pending value is sealed in the form"
    );
    let challenge = between(&html, "name=\"challenge\" value=\"", "\"").to_string();
    let pending = between(&html, "name=\"pending\" value=\"", "\"").to_string();
    assert_eq!(
        stored().await["data"]["contact"]["email"],
        "ada.fix@example.com"
    );
    let outbox = client
        .get(app.url("/privacy/demo/outbox"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        outbox.contains("<span class=\"to\">ada.new@example.com</span>"),
        "sent to the new address"
    );
    let code = between(&outbox, "privacy center is ", ".").to_string();
    assert_eq!(code.len(), 6);
    let confirm = async |pending: &str, code: &str| {
        post(
            "/privacy/me/correct/confirm",
            &[
                ("category", "contact"),
                ("field", "email"),
                ("challenge", challenge.as_str()),
                ("pending", pending),
                ("code", code),
            ],
        )
        .await
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = confirm(&pending, wrong).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("That code is not right"));
    // A pending value altered in the form does not open.
    let mut forged = pending.clone().into_bytes();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let r = confirm(std::str::from_utf8(&forged).unwrap(), &code).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        stored().await["data"]["contact"]["email"],
        "ada.fix@example.com"
    );
    // … and spends nothing: only the wrong code counted as a try, the challenge is unused.
    let row = app
        .store
        .challenge(&mamori_core::parse_id(&challenge).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.attempts, row.used_ms), (1, None));

    // The right code (here on a fresh challenge) stores the address.
    let r = correct("contact", "email", "ada.new@example.com").await;
    let html = r.text().await.unwrap();
    let challenge2 = between(&html, "name=\"challenge\" value=\"", "\"").to_string();
    let pending2 = between(&html, "name=\"pending\" value=\"", "\"").to_string();
    let outbox = client
        .get(app.url("/privacy/demo/outbox"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let code2 = between(&outbox, "privacy center is ", ".").to_string();
    let r = post(
        "/privacy/me/correct/confirm",
        &[
            ("category", "contact"),
            ("field", "email"),
            ("challenge", challenge2.as_str()),
            ("pending", pending2.as_str()),
            ("code", code2.as_str()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Confirmed and saved"));
    assert_eq!(
        stored().await["data"]["contact"]["email"],
        "ada.new@example.com"
    );
    // The same code again: used.
    let r = post(
        "/privacy/me/correct/confirm",
        &[
            ("category", "contact"),
            ("field", "email"),
            ("challenge", challenge2.as_str()),
            ("pending", pending2.as_str()),
            ("code", code2.as_str()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Sign-in now finds the person by the new address, not the old one.
    assert!(
        app.vault
            .start_sign_in("ada.new@example.com")
            .await
            .unwrap()
            .code
            .is_some()
    );
    assert!(
        app.vault
            .start_sign_in("ada.fix@example.com")
            .await
            .unwrap()
            .code
            .is_none()
    );

    // Someone else's challenge does not confirm a change for this person.
    let (other_client, other_jar, other_csrf) =
        signed_in_browser(&app, "ada.taken@example.com").await;
    let r = other_client
        .post(app.url("/privacy/me/correct/confirm"))
        .header("cookie", other_jar)
        .form(&[
            ("csrf", other_csrf.as_str()),
            ("category", "contact"),
            ("field", "email"),
            ("challenge", challenge2.as_str()),
            ("pending", pending2.as_str()),
            ("code", code2.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Each correction the person made is in the register of requests, fulfilled by themselves.
    let register: Value = app
        .as_role(
            Method::GET,
            &format!("/v1/requests?subject={id}&state=fulfilled"),
            "privacy_officer",
            "data_subject_rights",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fulfilled = register["requests"].as_array().unwrap();
    assert_eq!(
        fulfilled.len(),
        2,
        "the city and the e-mail address: {register}"
    );
    assert!(fulfilled.iter().all(|r| r["kind"] == "rectification"
        && r["source"] == "privacy_center"
        && r["state"] == "fulfilled"));

    // The core decides before a code is sent: staff roles and other people are refused.
    let subject = mamori_core::parse_id(&id).unwrap();
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
        assert!(
            matches!(tried, Err(mamori_core::CoreError::Denied(_))),
            "{}: {tried:?}",
            actor.role
        );
    }

    // Signed out: the pages send the person to sign in.
    let r = client
        .get(app.url("/privacy/me/correct"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}
