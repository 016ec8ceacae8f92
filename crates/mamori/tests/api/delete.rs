//! Delete my account: what is erased and what is kept, and why.

use super::*;

/// A signed-in customer with a support ticket (erased on request) besides contact, address and
/// payment details (kept for the accounts the law requires): their id and browser.
async fn customer_with_a_ticket(app: &TestApp) -> (String, reqwest::Client, String, String) {
    let mut body = customer("bye");
    body["data"]["support_tickets"] = json!({"subject": "Hello", "status": "open"});
    let r = app
        .as_role(Method::POST, "/v1/subjects", "service", "customer_support")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (client, jar, csrf) = signed_in_browser(app, "ada.bye@example.com").await;
    (id, client, jar, csrf)
}

async fn page(app: &TestApp, client: &reqwest::Client, jar: &str, path: &str) -> reqwest::Response {
    client
        .get(app.url(path))
        .header("cookie", jar)
        .send()
        .await
        .unwrap()
}

/// The page shows what goes and what the law keeps (why, until when), in three languages,
/// naming categories, never values.
pub(crate) async fn delete_my_account_shows_what_is_kept(app: TestApp) {
    let (_, client, jar, _) = customer_with_a_ticket(&app).await;
    let r = page(&app, &client, &jar, "/privacy/me/delete?lang=en").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"id="erased-support_tickets""#), "{html}");
    for kept in ["contact", "address", "payment"] {
        assert!(
            html.contains(&format!(r#"id="kept-{kept}""#)),
            "{kept} is kept"
        );
    }
    assert!(!html.contains(r#"id="kept-support_tickets""#));
    assert!(
        !html.contains(r#"id="kept-orders""#),
        "only categories the person has data in"
    );
    assert!(html.contains("Keeping accounts as the law requires"), "why");
    let this_year: i32 = mamori_core::format_time(app.vault.now_ms())[..4]
        .parse()
        .unwrap();
    let until = format!("Kept until <time datetime=\"{}-", this_year + 7);
    assert!(html.contains(&until), "until when");
    assert!(
        !html.contains("Ada bye"),
        "the page names categories, not values"
    );
    for (lang, heading) in [
        ("ja", "法令により保存が必要なもの"),
        ("fr", "Ce que la loi nous oblige à conserver"),
    ] {
        let r = page(
            &app,
            &client,
            &jar,
            &format!("/privacy/me/delete?lang={lang}"),
        )
        .await;
        assert!(r.text().await.unwrap().contains(heading), "{lang}");
    }
    let mine = page(&app, &client, &jar, "/privacy/me?lang=en")
        .await
        .text()
        .await
        .unwrap();
    assert!(mine.contains("/privacy/me/delete?lang=en"));
}

/// Nothing happens without the tick box, from another site, without the form token, or signed
/// out.
pub(crate) async fn deleting_needs_the_tick_box_and_this_site(app: TestApp) {
    let (id, client, jar, csrf) = customer_with_a_ticket(&app).await;
    let subject = mamori_core::parse_id(&id).unwrap();
    // Posts from this site (no Origin, as a same-origin form may send) or from another.
    let post = async |form: &[(&str, &str)], origin: Option<&str>| {
        let mut request = client
            .post(app.url("/privacy/me/delete"))
            .header("cookie", jar.clone());
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.form(form).send().await.unwrap()
    };
    let own = None;
    let r = post(&[("csrf", &csrf), ("lang", "en")], own).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Tick the box"));
    let confirmed = [("csrf", csrf.as_str()), ("lang", "en"), ("confirm", "yes")];
    let r = post(&confirmed, Some("https://evil.example")).await;
    assert_ne!(r.status(), StatusCode::OK);
    let r = post(
        &[("csrf", "forged"), ("lang", "en"), ("confirm", "yes")],
        own,
    )
    .await;
    assert_ne!(r.status(), StatusCode::OK);
    let r = post(&[("lang", "en"), ("confirm", "yes")], own).await;
    assert_ne!(r.status(), StatusCode::OK);
    // Signed out: sent to sign in.
    let (client, browser, token) = sign_in_page(&app).await;
    let r = client
        .post(app.url("/privacy/me/delete"))
        .header("cookie", format!("mamori_csrf={browser}"))
        .form(&[("csrf", token.as_str()), ("lang", "en"), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let row = app.store.subject(&subject).await.unwrap().unwrap();
    assert!(row.erased_ms.is_none(), "nothing erased");
}

/// Once confirmed the person is erased except what is kept, signed out, no longer known by
/// their address, and the register holds the fulfilled request under the reference shown.
pub(crate) async fn a_confirmed_deletion_erases_signs_out_and_is_registered(app: TestApp) {
    let (id, client, jar, csrf) = customer_with_a_ticket(&app).await;
    let form = [("csrf", csrf.as_str()), ("lang", "en"), ("confirm", "yes")];
    let r = client
        .post(app.url("/privacy/me/delete"))
        .header("cookie", jar.clone());
    let r = r.form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookies = r.headers().get_all("set-cookie");
    let cleared = cookies
        .iter()
        .any(|c| c.to_str().unwrap().starts_with("mamori_session=;"));
    assert!(cleared, "the browser forgets the session");
    let html = r.text().await.unwrap();
    assert!(html.contains("Your account is deleted") && html.contains(r#"id="kept-contact""#));
    let reference = between(&html, r#"<code id="reference">"#, "<").to_string();
    let raw = app
        .store
        .subject(&mamori_core::parse_id(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(raw.is_held(), "erased except what the law keeps");
    let r = page(&app, &client, &jar, "/privacy/me?lang=en").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the old session is gone");
    let again = app
        .vault
        .start_sign_in("ada.bye@example.com")
        .await
        .unwrap();
    assert!(again.code.is_none(), "the address is no longer known");
    let path = format!("/v1/requests?reference={reference}");
    let found: Value = officer(&app, Method::GET, &path, None)
        .await
        .json()
        .await
        .unwrap();
    let request = &found["requests"][0];
    assert_eq!(request["reference"], reference.as_str());
    assert_eq!(
        (&request["kind"], &request["state"]),
        (&json!("erasure"), &json!("fulfilled"))
    );
    assert_eq!(request["source"], "privacy_center");
    // Ledgered as the person's own erasure.
    let log = access_log_page(&app, &id, "").await;
    let events = log["events"].as_array().unwrap();
    let erase = events
        .iter()
        .find(|e| e["action"] == "subject.erase")
        .expect("ledgered");
    assert_eq!(erase["role"], "self");
    assert_eq!(erase["categories"], json!(["support_tickets"]));
}
