//! The privacy officer's report: requests, surveys and the built-in survey's sentiment.

use super::*;
use mamori_proto::reports::PrivacyReport;

const CANARY: &str = "report-canary@example.com";

/// The built-in survey with six responses (each with free text naming an address), and two
/// open requests, one overdue.
async fn six_responses_and_two_requests(app: &TestApp) {
    let definition = include_str!("../../../../examples/survey.toml");
    let survey = mamori_core::surveys::Survey::from_toml(&app.vault.policy, definition).unwrap();
    let officer_actor = mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    };
    app.vault
        .create_survey(&officer_actor, survey)
        .await
        .unwrap();
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
            ("comment".to_string(), vec![format!("mail me at {CANARY}")]),
        ]);
        let slug = mamori_core::report::BUILTIN_SURVEY_SLUG;
        app.vault.respond(slug, &raw, None).await.unwrap();
    }
    let ada = create(app, &customer("report")).await;
    let received_at = mamori_core::format_time(app.vault.now_ms() - 40 * 86_400_000);
    let late = json!({"kind": "access", "subject": ada, "jurisdiction": "gdpr", "received_at": received_at});
    let fresh = json!({"kind": "erasure", "subject": ada, "jurisdiction": "gdpr"});
    for request in [late, fresh] {
        let r = officer(app, Method::POST, "/v1/requests", Some(request)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
}

/// The report as the typed document the API promises, and its text.
async fn report(app: &TestApp) -> (PrivacyReport, String) {
    let r = officer(app, Method::GET, "/v1/reports/privacy", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    (serde_json::from_str(&text).expect("a PrivacyReport"), text)
}

/// The privacy officer's report: requests open and overdue, surveys, and the built-in survey's
/// results with small groups still hidden and no free text; ledgered.
pub(crate) async fn the_privacy_report_shows_requests_surveys_and_sentiment(app: TestApp) {
    let (empty, _) = report(&app).await;
    assert_eq!(empty.requests.open, 0);
    assert!(!empty.customer_sentiment.available);
    six_responses_and_two_requests(&app).await;
    let before = ledger_size(&app).await;
    let (v, text) = report(&app).await;
    assert_eq!(
        ledger_size(&app).await,
        before + 1,
        "reading the report is ledgered"
    );
    assert_eq!((v.requests.open, v.requests.overdue), (2, 1));
    let s = &v.customer_sentiment;
    assert_eq!(s.responses, Some(6));
    let questions = s.questions.as_ref().unwrap();
    assert_eq!(questions[0].id, "trust");
    assert!((questions[0].mean.unwrap() - 23.0 / 6.0).abs() < 1e-9);
    // "yes" (4) is below k = 5: still hidden, and ranked last as unknown.
    let choices = questions[1].choices.as_ref().unwrap();
    assert!(choices.iter().all(|c| c.suppressed), "{choices:?}");
    assert!(
        !text.contains(CANARY) && !text.contains("[EMAIL]"),
        "no free text in the report"
    );
    assert!(text.contains("how-we-use-your-data"));
    assert!(v.ledger.unwrap().size > 0);
}

/// The report in Markdown; other formats refused; only for the officer.
pub(crate) async fn the_privacy_report_is_markdown_too_and_for_the_officer_alone(app: TestApp) {
    six_responses_and_two_requests(&app).await;
    let r = officer(
        &app,
        Method::GET,
        "/v1/reports/privacy?format=markdown",
        None,
    )
    .await;
    assert_eq!(r.headers()["content-type"], "text/markdown; charset=utf-8");
    let md = r.text().await.unwrap();
    let expected = ["- Overdue: 1", "6 responses.", "trust: mean 3.83"];
    assert!(expected.iter().all(|line| md.contains(line)), "{md}");
    let pdf = officer(&app, Method::GET, "/v1/reports/privacy?format=pdf", None).await;
    problem(pdf, StatusCode::UNPROCESSABLE_ENTITY, "invalid_format").await;
    let by_support = app.as_role(
        Method::GET,
        "/v1/reports/privacy",
        "support",
        "customer_support",
    );
    let by_support = by_support.send().await.unwrap();
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

/// The same report in the console, in the page's language: counts, the hidden choice, no free
/// text; the read ledgered with the member of staff as actor; refused to support.
pub(crate) async fn the_privacy_report_reads_in_the_console(app: TestApp) {
    use crate::staff_sign_in::{console_get, signed_in_as};
    six_responses_and_two_requests(&app).await;
    let (cookie, _) = signed_in_as(&app, "po@staff.example", "privacy_officer").await;
    let (status, page) = console_get(&app, &cookie, "/console/admin/system?lang=fr").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"report-link\""), "{page}");
    let before = ledger_size(&app).await;
    let (status, page) = console_get(&app, &cookie, "/console/admin/report?lang=fr").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ledger_size(&app).await, before + 1, "the read is ledgered");
    assert!(page.contains("Rapport de confidentialité"), "{page}");
    assert!(
        page.contains("id=\"requests-open\">2<") && page.contains("id=\"requests-overdue\">1<")
    );
    assert!(
        page.contains("3,83"),
        "the mean, with a French decimal comma: {page}"
    );
    assert!(
        page.contains("masqué (moins de k)"),
        "the choice below k stays hidden"
    );
    assert!(
        !page.contains(CANARY) && !page.contains("[EMAIL]"),
        "no free text"
    );
    let (_, page) = console_get(&app, &cookie, "/console/admin/report?lang=ja").await;
    assert!(
        page.contains("プライバシーレポート") && page.contains("開示"),
        "{page}"
    );

    let (support, _) = signed_in_as(&app, "sup@staff.example", "support").await;
    let (_, page) = console_get(&app, &support, "/console/admin/system").await;
    assert!(!page.contains("id=\"report-link\""), "no link for support");
    let (status, page) = console_get(&app, &support, "/console/admin/report").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("action_not_allowed_for_role"), "{page}");
}
