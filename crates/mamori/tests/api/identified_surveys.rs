//! Identified surveys (answers kept as the person's record, with consent) and the per-address
//! limit on anonymous answers.

use super::*;
use surveys::{respond, stored_blobs};

fn followup_definition() -> Value {
    let mut definition = survey_definition("followup");
    definition["mode"] = json!("identified");
    definition["purpose"] = json!("customer_research");
    definition["k"] = json!(2);
    definition
}

/// A person signed in to the privacy center, at the identified survey "followup".
struct Respondent {
    id: String,
    subject: [u8; 16],
    client: reqwest::Client,
    jar: String,
    csrf: String,
}

impl Respondent {
    async fn signed_in(app: &TestApp) -> Respondent {
        let r = officer(
            app,
            Method::POST,
            "/v1/surveys",
            Some(followup_definition()),
        )
        .await;
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap()
        );
        let id = create(app, &customer_without_phone("followup")).await;
        let subject = mamori_core::parse_id(&id).unwrap();
        let (client, jar, csrf) = signed_in_browser(app, "ada.followup@example.com").await;
        Respondent {
            id,
            subject,
            client,
            jar,
            csrf,
        }
    }

    async fn page(&self, app: &TestApp) -> String {
        let r = self
            .client
            .get(app.url("/privacy/survey/followup?lang=en"))
            .header("cookie", self.jar.clone());
        r.send().await.unwrap().text().await.unwrap()
    }

    async fn answer(&self, app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
        let r = self
            .client
            .post(app.url("/privacy/survey/followup?lang=en"))
            .header("cookie", self.jar.clone());
        r.form(form).send().await.unwrap()
    }

    /// A good answer (its comment names a phone number), with `token` as the form token.
    async fn answer_well(&self, app: &TestApp, token: &str) -> reqwest::Response {
        let form = [
            ("a_speed", "4"),
            ("a_comment", "call me on +44 20 7946 0999"),
            ("csrf", token),
        ];
        self.answer(app, &form).await
    }

    /// Grants or withdraws consent to customer research on My choices.
    async fn consent(&self, app: &TestApp, granted: &str) {
        let form = [
            ("purpose", "customer_research"),
            ("channel", ""),
            ("granted", granted),
            ("csrf", self.csrf.as_str()),
            ("lang", "en"),
        ];
        let r = self
            .client
            .post(app.url("/privacy/choices"))
            .header("cookie", self.jar.clone())
            .form(&form);
        assert_eq!(r.send().await.unwrap().status(), StatusCode::OK);
    }

    async fn records(&self, app: &TestApp) -> Vec<mamori_store::RecordRow> {
        app.store.records(&self.subject, 10).await.unwrap()
    }
}

/// An identified survey needs a purpose that allows surveys and no invitations; it is not
/// answered over the anonymous API, and its page is in the privacy center, behind sign-in.
pub(crate) async fn identified_surveys_are_answered_signed_in_only(app: TestApp) {
    let mut no_purpose = followup_definition();
    no_purpose.as_object_mut().unwrap().remove("purpose");
    let mut marketing = followup_definition();
    marketing["purpose"] = json!("marketing_email");
    let mut invited = followup_definition();
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
    let me = Respondent::signed_in(&app).await;
    let r = respond(&app, "followup", json!({"speed": 3})).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "identified_survey").await;
    let (anonymous, ..) = sign_in_page(&app).await;
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
    // The privacy-center page is for identified surveys only.
    let plain = officer(
        &app,
        Method::POST,
        "/v1/surveys",
        Some(survey_definition("plain")),
    )
    .await;
    assert_eq!(plain.status(), StatusCode::CREATED);
    let form = [("a_speed", "3"), ("csrf", me.csrf.as_str())];
    let r = me
        .client
        .post(app.url("/privacy/survey/plain?lang=en"))
        .header("cookie", me.jar.clone());
    assert_eq!(
        r.form(&form).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let r = me
        .client
        .get(app.url("/privacy/survey/plain?lang=en"))
        .header("cookie", me.jar.clone());
    let r = r.send().await.unwrap();
    assert_eq!(
        (r.status(), &r.headers()["location"]),
        (
            StatusCode::SEE_OTHER,
            &"/survey/plain?lang=en".parse().unwrap()
        )
    );
}

/// Without consent the page says where to give it and a posted form keeps nothing (the denial
/// ledgered); with it, forged forms and bad answers keep nothing, a good one is kept once;
/// withdrawn, the next answer is refused at once.
pub(crate) async fn identified_surveys_need_consent(app: TestApp) {
    let me = Respondent::signed_in(&app).await;
    let html = me.page(&app).await;
    assert!(
        html.contains("id=\"needs-consent\"") && html.contains("Surveys linked to your account"),
        "{html}"
    );
    assert!(
        !html.contains("<form method=\"post\" action=\"/privacy/survey/"),
        "no form without consent"
    );
    let before = ledger_size(&app).await;
    let r = me.answer_well(&app, &me.csrf).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("id=\"needs-consent\""));
    assert!(me.records(&app).await.is_empty());
    assert!(ledger_size(&app).await > before, "the denial is ledgered");
    me.consent(&app, "true").await;
    let html = me.page(&app).await;
    assert!(
        html.contains("name=\"csrf\"") && !html.contains("id=\"needs-consent\""),
        "{html}"
    );
    assert_eq!(
        me.answer_well(&app, "forged").await.status(),
        StatusCode::FORBIDDEN
    );
    let r = me
        .answer(&app, &[("a_speed", "9"), ("csrf", me.csrf.as_str())])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(me.records(&app).await.is_empty());
    let r = me.answer_well(&app, &me.csrf).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("saved with your account"));
    let r = me.answer_well(&app, &me.csrf).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("answered this survey already")
    );
    assert_eq!(me.records(&app).await.len(), 1);
    me.consent(&app, "false").await;
    assert_eq!(
        me.answer_well(&app, &me.csrf).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(me.records(&app).await.len(), 1);
}

/// The answers become the person's own record: sealed, ledgered as theirs under the survey's
/// purpose, in their export (free text scrubbed), counted without the text, and gone with their
/// account.
pub(crate) async fn identified_surveys_keep_answers_as_the_persons_record(app: TestApp) {
    let me = Respondent::signed_in(&app).await;
    me.consent(&app, "true").await;
    assert_eq!(
        me.answer_well(&app, &me.csrf).await.status(),
        StatusCode::OK
    );
    let records = me.records(&app).await;
    assert_eq!(
        (records.len(), records[0].category.as_str()),
        (1, "survey_answers")
    );
    assert!(
        !contains(&records[0].sealed, b"followup"),
        "sealed, not plain"
    );
    app.ledger.flush().await.unwrap();
    let leaves = app.store.leaves(0, 100_000).await.unwrap();
    let events: Vec<Value> = leaves
        .iter()
        .map(|l| serde_json::from_slice(&l.data).unwrap())
        .collect();
    let own = |e: &Value| {
        e["action"] == "record.create"
            && e["purpose"] == "customer_research"
            && e["role"] == "self"
            && e["outcome"] == "allowed"
    };
    assert!(events.iter().any(own));
    let export_path = format!("/v1/subjects/{}/export", me.id);
    let export = officer(&app, Method::GET, &export_path, None).await;
    assert_eq!(export.status(), StatusCode::OK);
    let export = export.text().await.unwrap();
    assert!(
        export.contains("followup") && export.contains("[PHONE]"),
        "{export}"
    );
    let survey = app.store.survey("followup").await.unwrap().unwrap();
    assert_eq!(app.store.survey_answers(&survey.id).await.unwrap(), ["{}"]);
    assert!(
        app.store
            .survey_texts(&survey.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let erased = officer(
        &app,
        Method::DELETE,
        &format!("/v1/subjects/{}", me.id),
        None,
    )
    .await;
    assert!(erased.status().is_success());
    let export = officer(&app, Method::GET, &export_path, None).await;
    assert!(!export.status().is_success() || !export.text().await.unwrap().contains("[PHONE]"));
    let participants = stored_blobs(&app, "SELECT subject_id FROM survey_participants").await;
    assert!(participants.is_empty(), "who answered goes with the person");
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
