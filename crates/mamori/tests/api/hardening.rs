//! What every response and file carries, and limits that count people, not spellings.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Backend, TestApp};

/// JSON, problem, HTML and Markdown answers all say `nosniff` and keep the referrer in;
/// documents carry a content security policy; the database files are the owner's alone.
pub async fn responses_carry_security_headers_and_files_are_private(app: TestApp) {
    let get = |path: &'static str, key: Option<&'static str>| {
        let mut r = app.client.get(app.url(path));
        if let Some(role) = key {
            r = r.bearer_auth(&app.keys[role]);
        }
        r.send()
    };
    for (path, key, html_or_md) in [
        ("/v1/ledger/head", Some("service"), false),
        ("/v1/no-such-thing", None, false),
        ("/v1/events", None, false),
        ("/openapi.json", None, false),
        ("/privacy?lang=ja", None, true),
        ("/privacy/notice?format=md", None, true),
        ("/privacy/notice?format=html&lang=fr", None, true),
        ("/privacy/sign-in", None, true),
    ] {
        let r = get(path, key).await.unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        // One layer says it for every answer that does not say otherwise.
        assert_eq!(h["cache-control"], "no-store", "{path}");
        let referrer = h["referrer-policy"].to_str().unwrap();
        assert!(
            ["no-referrer", "same-origin"].contains(&referrer),
            "{path}: {referrer}"
        );
        if html_or_md {
            let csp = h["content-security-policy"].to_str().unwrap();
            assert!(
                csp.contains("default-src 'none'") || csp.contains("default-src"),
                "{path}: {csp}"
            );
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        } else {
            assert_eq!(referrer, "no-referrer", "{path}");
        }
    }
    let script = app
        .client
        .get(app.url("/assets/blind-token.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        script.headers()["cache-control"],
        "public, max-age=3600",
        "its own says so"
    );
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    let names: Vec<&str> = ready["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "database",
            "storage",
            "disk_space",
            "ledger_writer",
            "ledger_integrity"
        ]
    );
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("mamori_ready{check=\"ledger_integrity\"} 1"),
        "{metrics}"
    );
    if app.backend == Backend::Sqlite {
        use std::os::unix::fs::PermissionsExt;
        let files = app.sqlite_files();
        assert!(!files.is_empty());
        for f in files {
            let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", f.display());
        }
    }
}

/// Sign-in codes to one phone number are limited per number, however it is typed: eight
/// spellings of one number get five codes, then the 429 page.
pub async fn code_limits_count_a_number_once_however_it_is_written(app: TestApp) {
    let r = app
        .as_role(
            reqwest::Method::POST,
            "/v1/subjects",
            "service",
            "order_fulfilment",
        )
        .json(&json!({"data": {"contact": {"name": "Ren", "phone": "+33 6 12 34 56 78"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let (client, browser, csrf) = crate::sign_in_page(&app).await;
    let spellings = [
        "+33612345678",
        "+33 6 12 34 56 78",
        "+33-6-12-34-56-78",
        "+33.6.12.34.56.78",
        "+33 (6) 12345678",
        " +33612345678 ",
        "+336 1234 5678",
        "+33 61 23 45 678",
    ];
    let mut refused = 0;
    for spelling in spellings {
        let r = client
            .post(app.url("/privacy/sign-in"))
            .header("cookie", format!("mamori_csrf={browser}"))
            .header("origin", &app.base)
            .form(&[("email", spelling), ("csrf", &csrf), ("lang", "en")])
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        } else {
            assert!(
                r.status().is_success() || r.status().is_redirection(),
                "{}",
                r.status()
            );
        }
    }
    assert_eq!(
        refused,
        spellings.len() - 5,
        "five codes per number, not per spelling"
    );
}

/// A form passes only with the token the server made for this browser's cookie (a pair the
/// attacker picks does not), and only from this exact origin (scheme included).
pub async fn forms_need_the_token_made_for_this_browser_and_this_origin(app: TestApp) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .get(app.url("/privacy/sign-in"))
        .send()
        .await
        .unwrap();
    let browser = crate::cookie_value(&crate::set_cookie(&r, "mamori_csrf").unwrap());
    let token = crate::form_csrf(&r.text().await.unwrap());
    let ask = |cookie: String, token: String, origin: Option<String>| {
        let mut r = client
            .post(app.url("/privacy/sign-in"))
            .header("cookie", cookie)
            .form(&[
                ("email", "nobody@example.com".to_string()),
                ("csrf", token),
                ("lang", "en".into()),
            ]);
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        r.send()
    };
    let chosen = "A".repeat(43);
    let scheme_swapped = app.base.replacen("http://", "https://", 1);
    for (cookie, token, origin, why) in [
        (
            format!("mamori_csrf={chosen}"),
            chosen.clone(),
            None,
            "a pair the attacker picked",
        ),
        (
            format!("mamori_csrf={chosen}"),
            token.clone(),
            None,
            "another browser's token",
        ),
        (
            format!("mamori_csrf={browser}"),
            browser.clone(),
            None,
            "the cookie as the token",
        ),
        (
            format!("mamori_csrf={browser}"),
            token.clone(),
            Some(scheme_swapped),
            "another scheme",
        ),
        (
            format!("mamori_csrf={browser}"),
            token.clone(),
            Some("null".into()),
            "an opaque origin",
        ),
    ] {
        let r = ask(cookie, token, origin).await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{why}");
    }
    let r = ask(
        format!("mamori_csrf={browser}"),
        token.clone(),
        Some(app.base.clone()),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the page's own form");
}

/// The code limit is per person: alternating between someone's e-mail address and phone
/// number (each under its own per-address limit) gets no more codes sent than one address
/// would. The extra requests are answered as for an unknown address, and the person's log
/// shows each refusal.
pub async fn code_limits_count_a_person_once_across_their_addresses(app: TestApp) {
    let person = json!({"data": {"contact": {"name": "Mio", "email": "mio@example.com", "phone": "+33 6 98 76 54 32"}}});
    let r = app
        .as_role(
            reqwest::Method::POST,
            "/v1/subjects",
            "service",
            "order_fulfilment",
        )
        .json(&person)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (client, browser, csrf) = crate::sign_in_page(&app).await;
    let mut pages = Vec::new();
    for n in 0..8 {
        let address = if n % 2 == 0 {
            "mio@example.com"
        } else {
            "+33698765432"
        };
        let r = client
            .post(app.url("/privacy/sign-in"))
            .header("cookie", format!("mamori_csrf={browser}"))
            .header("origin", &app.base)
            .form(&[("email", address), ("csrf", &csrf), ("lang", "en")])
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success() || r.status().is_redirection(),
            "{}",
            r.status()
        );
        pages.push(r.text().await.unwrap());
    }
    // Every answer reads the same, so none of them tells whether the address is known.
    let strip = |page: &str| page.split("name=\"challenge\"").next().unwrap().to_string();
    assert!(pages.iter().all(|p| strip(p) == strip(&pages[0])));
    let log = crate::access_log_page(&app, &id, "").await;
    let requests: Vec<&serde_json::Value> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "signin.request")
        .collect();
    let sent = requests.iter().filter(|e| e["allowed"] == true).count();
    let refused = requests
        .iter()
        .filter(|e| e["reason"] == "too_many_codes")
        .count();
    assert_eq!((sent, refused), (5, 3), "{log}");
}
