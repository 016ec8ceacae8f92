//! Identified surveys (answers kept as the person's record, with consent) and the per-address
//! limit on anonymous answers.

use super::*;
use surveys::{respond, stored_blobs};

/// An identified survey is answered signed in, only with consent to its purpose; the answers
/// become the person's own record (sealed, in their export, gone with their account), every
/// step goes through the access decision, and the counts still hide small groups.
pub(crate) async fn identified_surveys_need_consent_and_keep_answers_as_the_persons_record(
    app: TestApp,
) {
    let mut definition = survey_definition("followup");
    definition["mode"] = json!("identified");
    definition["purpose"] = json!("customer_research");
    definition["k"] = json!(2);
    // Bad definitions: no purpose, a purpose that does not allow surveys, invitation tokens.
    let mut no_purpose = definition.clone();
    no_purpose.as_object_mut().unwrap().remove("purpose");
    let mut marketing = definition.clone();
    marketing["purpose"] = json!("marketing_email");
    let mut invited = definition.clone();
    invited["access"] = json!("invited");
    let mut anonymous_with_purpose = survey_definition("x");
    anonymous_with_purpose["purpose"] = json!("customer_research");
    for (i, mut bad) in [no_purpose, marketing, invited, anonymous_with_purpose]
        .into_iter()
        .enumerate()
    {
        bad["slug"] = json!(format!("bad-{i}"));
        let r = officer(&app, Method::POST, "/v1/surveys", Some(bad)).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_survey").await;
    }
    let r = officer(&app, Method::POST, "/v1/surveys", Some(definition)).await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );

    // Not over the anonymous API, and not without signing in.
    problem(
        respond(&app, "followup", json!({"speed": 3})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "identified_survey",
    )
    .await;
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Its page is in the privacy center, where the session cookie goes.
    let r = anonymous
        .get(app.url("/survey/followup?lang=fr"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/privacy/survey/followup?lang=fr");
    let r = anonymous
        .get(app.url("/privacy/survey/followup?lang=fr"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/privacy/sign-in?lang=fr");

    let id = create(&app, &customer_without_phone("followup")).await;
    let subject = mamori_core::parse_id(&id).unwrap();
    let (client, jar, csrf) = signed_in_browser(&app, "ada.followup@example.com").await;
    let get = || {
        client
            .get(app.url("/privacy/survey/followup?lang=en"))
            .header("cookie", jar.clone())
            .send()
    };
    let post = |form: Vec<(&'static str, String)>| {
        client
            .post(app.url("/privacy/survey/followup?lang=en"))
            .header("cookie", jar.clone())
            .form(&form)
            .send()
    };
    let answers = |token: &str| {
        vec![
            ("a_speed", "4".to_string()),
            ("a_comment", "call me on +44 20 7946 0999".to_string()),
            ("csrf", token.to_string()),
        ]
    };

    // Without consent: the page says where to give it, and a posted form keeps nothing.
    let html = get().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("id=\"needs-consent\"") && html.contains("Surveys linked to your account"),
        "{html}"
    );
    assert!(
        !html.contains("<form method=\"post\" action=\"/privacy/survey/"),
        "no form without consent"
    );
    let before = ledger_size(&app).await;
    let r = post(answers(&csrf)).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("id=\"needs-consent\""));
    assert!(app.store.records(&subject, 10).await.unwrap().is_empty());
    assert!(ledger_size(&app).await > before, "the denial is ledgered");

    // Consent given on My choices (no channel for this purpose), then the answers go in.
    let form = [
        ("purpose", "customer_research"),
        ("channel", ""),
        ("granted", "true"),
        ("csrf", csrf.as_str()),
        ("lang", "en"),
    ];
    let r = client
        .post(app.url("/privacy/choices"))
        .header("cookie", jar.clone())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = get().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("name=\"csrf\"") && !html.contains("id=\"needs-consent\""),
        "{html}"
    );
    // A forged form (no CSRF token) is refused.
    let r = post(answers("forged")).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A bad answer is refused in the page's language, and keeps nothing.
    let r = post(vec![("a_speed", "9".to_string()), ("csrf", csrf.clone())])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.store.records(&subject, 10).await.unwrap().is_empty());
    let r = post(answers(&csrf)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("saved with your account"));

    // The answers are the person's record: sealed, in the survey_answers category.
    let records = app.store.records(&subject, 10).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].category, "survey_answers");
    assert!(
        !contains(&records[0].sealed, b"followup"),
        "sealed, not plain"
    );
    // Ledgered as the person's own record.create under the survey's purpose.
    let events: Vec<Value> = {
        app.ledger.flush().await.unwrap();
        let mut leaves = app.store.stream_leaves(0);
        let mut out = Vec::new();
        while let Some(batch) = leaves.recv().await {
            for leaf in batch.unwrap() {
                out.push(serde_json::from_slice(&leaf.data).unwrap());
            }
        }
        out
    };
    assert!(events.iter().any(|e| e["action"] == "record.create"
        && e["purpose"] == "customer_research"
        && e["role"] == "self"
        && e["outcome"] == "allowed"));
    // In the person's export, readable there.
    let export = officer(
        &app,
        Method::GET,
        &format!("/v1/subjects/{id}/export"),
        None,
    )
    .await;
    assert_eq!(export.status(), StatusCode::OK);
    let export = export.text().await.unwrap();
    assert!(
        export.contains("followup") && export.contains("[PHONE]"),
        "{export}"
    );
    // Counted, unlinked, without the text: the counting copy holds no answers.
    let survey = app.store.survey("followup").await.unwrap().unwrap();
    assert_eq!(app.store.survey_answers(&survey.id).await.unwrap(), ["{}"]);
    assert!(
        app.store
            .survey_texts(&survey.id, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // The privacy-center page is for identified surveys only.
    let r = officer(
        &app,
        Method::POST,
        "/v1/surveys",
        Some(survey_definition("plain")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = client
        .post(app.url("/privacy/survey/plain?lang=en"))
        .header("cookie", jar.clone())
        .form(&[("a_speed", "3"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = client
        .get(app.url("/privacy/survey/plain?lang=en"))
        .header("cookie", jar.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/survey/plain?lang=en");
    // Once per person: a second answer is refused and keeps nothing.
    let r = post(answers(&csrf)).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("answered this survey already")
    );
    assert_eq!(app.store.records(&subject, 10).await.unwrap().len(), 1);
    assert_eq!(app.store.survey_answers(&survey.id).await.unwrap().len(), 1);

    // Withdrawn: the next answer is refused at once.
    let form = [
        ("purpose", "customer_research"),
        ("channel", ""),
        ("granted", "false"),
        ("csrf", csrf.as_str()),
        ("lang", "en"),
    ];
    client
        .post(app.url("/privacy/choices"))
        .header("cookie", jar.clone())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        post(answers(&csrf)).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.store.records(&subject, 10).await.unwrap().len(), 1);

    // Erasing the person takes the answers with the account.
    let erased = officer(&app, Method::DELETE, &format!("/v1/subjects/{id}"), None).await;
    assert!(erased.status().is_success());
    let export = officer(
        &app,
        Method::GET,
        &format!("/v1/subjects/{id}/export"),
        None,
    )
    .await;
    assert!(!export.status().is_success() || !export.text().await.unwrap().contains("[PHONE]"));
    assert!(
        stored_blobs(&app, "SELECT subject_id FROM survey_participants")
            .await
            .is_empty(),
        "who answered goes with the person"
    );
}

/// Open surveys take at most 30 answers a minute from one address (counted in memory, never
/// stored); beyond that a 429 problem with Retry-After, on the API, the page and the token
/// endpoint alike, and nothing is kept.
pub(crate) async fn survey_answers_are_limited_per_address(app: TestApp) {
    let r = officer(
        &app,
        Method::POST,
        "/v1/surveys",
        Some(survey_definition("limited")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    for i in 0..30 {
        let r = respond(&app, "limited", json!({"speed": 1 + i % 5})).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "answer {i}");
    }
    let r = respond(&app, "limited", json!({"speed": 3})).await;
    assert!(r.headers().get("retry-after").is_some());
    problem(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let page = app
        .client
        .post(app.url("/survey/limited?lang=en"))
        .form(&[("a_speed", "3")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    let token = app
        .client
        .post(app.url("/v1/surveys/limited/tokens"))
        .json(&json!({"invitation": "x", "blinded_token": "AA"}))
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::TOO_MANY_REQUESTS);
    let survey = app.store.survey("limited").await.unwrap().unwrap();
    assert_eq!(
        app.store.survey_answers(&survey.id).await.unwrap().len(),
        30
    );
}
