//! Delete my account: what is erased and what is kept, and why.

use super::*;

/// "Delete my account": the page shows what goes and what the law keeps (why, until when);
/// nothing happens without the tick box or from another site; once confirmed the person is
/// erased except what is kept, signed out, and the register holds the fulfilled request.
pub(crate) async fn delete_my_account_shows_what_is_kept(app: TestApp) {
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
    let subject = mamori_core::parse_id(&id).unwrap();
    let (client, jar, csrf) = signed_in_browser(&app, "ada.bye@example.com").await;
    let get = async |path: &str| {
        client
            .get(app.url(path))
            .header("cookie", jar.clone())
            .send()
            .await
            .unwrap()
    };

    let r = get("/privacy/me/delete?lang=en").await;
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
    let this_year: i32 = mamori_core::format_time(mamori_core::now_ms())[..4]
        .parse()
        .unwrap();
    assert!(
        html.contains(&format!("Kept until <time datetime=\"{}-", this_year + 7)),
        "until when"
    );
    assert!(
        !html.contains("Ada bye"),
        "the page names categories, not values"
    );
    let r = get("/privacy/me/delete?lang=ja").await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("法令により保存が必要なもの")
    );
    let r = get("/privacy/me/delete?lang=fr").await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Ce que la loi nous oblige à conserver")
    );
    assert!(
        get("/privacy/me?lang=en")
            .await
            .text()
            .await
            .unwrap()
            .contains("/privacy/me/delete?lang=en")
    );

    let post = async |form: &[(&str, &str)], origin: Option<&str>| {
        let mut request = client
            .post(app.url("/privacy/me/delete"))
            .header("cookie", jar.clone())
            .form(form);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send().await.unwrap()
    };
    let live = async || {
        app.store
            .subject(&subject)
            .await
            .unwrap()
            .unwrap()
            .erased_ms
            .is_none()
    };
    // Without the tick box: asked again, nothing erased.
    let r = post(&[("csrf", &csrf), ("lang", "en")], None).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Tick the box"));
    assert!(live().await);
    // From another site, or without the form token: refused, nothing erased.
    let r = post(
        &[("csrf", &csrf), ("lang", "en"), ("confirm", "yes")],
        Some("https://evil.example"),
    )
    .await;
    assert_ne!(r.status(), StatusCode::OK);
    let r = post(
        &[("csrf", "forged"), ("lang", "en"), ("confirm", "yes")],
        None,
    )
    .await;
    assert_ne!(r.status(), StatusCode::OK);
    let r = post(&[("lang", "en"), ("confirm", "yes")], None).await;
    assert_ne!(r.status(), StatusCode::OK);
    assert!(live().await);
    // Signed out: sent to sign in.
    let r = client
        .get(app.url("/privacy/sign-in"))
        .send()
        .await
        .unwrap();
    let browser = cookie_value(&set_cookie(&r, "mamori_csrf").unwrap());
    let token = form_csrf(&r.text().await.unwrap());
    let r = client
        .post(app.url("/privacy/me/delete"))
        .header("cookie", format!("mamori_csrf={browser}"))
        .form(&[("csrf", token.as_str()), ("lang", "en"), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(live().await);

    let r = post(&[("csrf", &csrf), ("lang", "en"), ("confirm", "yes")], None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let cleared = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().unwrap().starts_with("mamori_session=;"));
    assert!(cleared, "the browser forgets the session");
    let html = r.text().await.unwrap();
    assert!(html.contains("Your account is deleted"));
    assert!(html.contains(r#"id="kept-contact""#));
    let reference = html
        .split(r#"<code id="reference">"#)
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();

    let raw = app.store.subject(&subject).await.unwrap().unwrap();
    assert!(raw.is_held(), "erased except what the law keeps");
    // The old session is gone: the pages send the person to sign in.
    let r = get("/privacy/me?lang=en").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        app.vault
            .start_sign_in("ada.bye@example.com")
            .await
            .unwrap()
            .code
            .is_none(),
        "the address is no longer known"
    );
    // The register holds the fulfilled erasure request, under the reference shown.
    let found: Value = officer(
        &app,
        Method::GET,
        &format!("/v1/requests?reference={reference}"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let request = &found["requests"][0];
    assert_eq!(request["reference"], reference.as_str());
    assert_eq!(request["kind"], "erasure");
    assert_eq!(request["state"], "fulfilled");
    assert_eq!(request["source"], "privacy_center");
    // Ledgered as the person's own erasure.
    let log = access_log_page(&app, &id, "").await;
    let erase = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "subject.erase")
        .expect("ledgered");
    assert_eq!(erase["role"], "self");
    assert_eq!(erase["categories"], json!(["support_tickets"]));
}
