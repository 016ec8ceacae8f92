//! The privacy officer's report: requests, surveys and the built-in survey's sentiment.

use super::*;

/// The privacy officer's report: requests open and overdue, surveys, and the built-in survey's
/// results with small groups still hidden and no free text; only for the officer, ledgered.
pub(crate) async fn the_privacy_report_shows_requests_surveys_and_sentiment(app: TestApp) {
    let report = || async {
        let r = officer(&app, Method::GET, "/v1/reports/privacy", None).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()
    };
    let empty = report().await;
    assert_eq!(empty["requests"]["open"], 0);
    assert_eq!(empty["customer_sentiment"]["available"], false);

    let survey = mamori_core::surveys::Survey::from_toml(
        &app.vault.policy,
        include_str!("../../../../examples/survey.toml"),
    )
    .unwrap();
    app.vault
        .create_survey(
            &mamori_core::Actor {
                id: "cli".into(),
                role: "privacy_officer".into(),
            },
            survey,
        )
        .await
        .unwrap();
    let canary = "report-canary@example.com";
    for (trust, clear) in [
        (5, "yes"),
        (4, "yes"),
        (4, "yes"),
        (2, "no"),
        (5, "yes"),
        (3, "partly"),
    ] {
        let raw = mamori_core::surveys::RawAnswers::from([
            ("trust".to_string(), vec![trust.to_string()]),
            ("clear".to_string(), vec![clear.to_string()]),
            ("comment".to_string(), vec![format!("mail me at {canary}")]),
        ]);
        app.vault
            .respond(mamori_core::report::BUILTIN_SURVEY_SLUG, &raw, None)
            .await
            .unwrap();
    }
    let ada = create(&app, &customer("report")).await;
    let late = json!({"kind": "access", "subject": ada, "jurisdiction": "gdpr", "received_at": mamori_core::format_time(mamori_core::now_ms() - 40 * 86_400_000)});
    assert_eq!(
        officer(&app, Method::POST, "/v1/requests", Some(late))
            .await
            .status(),
        StatusCode::CREATED
    );
    let fresh = json!({"kind": "erasure", "subject": ada, "jurisdiction": "gdpr"});
    assert_eq!(
        officer(&app, Method::POST, "/v1/requests", Some(fresh))
            .await
            .status(),
        StatusCode::CREATED
    );

    let before = ledger_size(&app).await;
    let v = report().await;
    assert_eq!(
        ledger_size(&app).await,
        before + 1,
        "reading the report is ledgered"
    );
    assert_eq!(v["requests"]["open"], 2);
    assert_eq!(v["requests"]["overdue"], 1);
    let s = &v["customer_sentiment"];
    assert_eq!(s["responses"], 6);
    let trust = &s["questions"][0];
    assert_eq!(trust["id"], "trust");
    assert!((trust["mean"].as_f64().unwrap() - 23.0 / 6.0).abs() < 1e-9);
    // "yes" (4) is below k = 5: still hidden, and ranked last as unknown.
    let clear = &s["questions"][1];
    assert!(
        clear["choices"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["suppressed"] == true),
        "{clear}"
    );
    let text = v.to_string();
    assert!(
        !text.contains(canary) && !text.contains("[EMAIL]"),
        "no free text in the report"
    );
    assert!(text.contains("how-we-use-your-data"));
    assert!(v["ledger"]["size"].as_u64().unwrap() > 0);

    let r = officer(
        &app,
        Method::GET,
        "/v1/reports/privacy?format=markdown",
        None,
    )
    .await;
    assert_eq!(r.headers()["content-type"], "text/markdown; charset=utf-8");
    let md = r.text().await.unwrap();
    assert!(
        md.contains("- Overdue: 1")
            && md.contains("6 responses.")
            && md.contains("trust: mean 3.83"),
        "{md}"
    );
    problem(
        officer(&app, Method::GET, "/v1/reports/privacy?format=pdf", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_format",
    )
    .await;
    let by_support = app
        .as_role(
            Method::GET,
            "/v1/reports/privacy",
            "support",
            "customer_support",
        )
        .send()
        .await
        .unwrap();
    problem(
        by_support,
        StatusCode::FORBIDDEN,
        "action_not_allowed_for_role",
    )
    .await;
    let anonymous = app
        .client
        .get(app.url("/v1/reports/privacy"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
