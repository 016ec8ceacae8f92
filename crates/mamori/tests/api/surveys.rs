//! Surveys over HTTP: anonymous surveys that keep no one and hide small groups, the pages in three
//! languages, invited surveys with one unlinkable response each (blind tokens), differentially
//! private releases, the privacy officer's report, free text a page at a time, identified surveys,
//! and the limits on answers.

use super::*;

pub(crate) fn survey_definition(slug: &str) -> Value {
    let t = |en: &str, ja: &str, fr: &str| json!({"en": en, "ja": ja, "fr": fr});
    json!({
        "slug": slug,
        "mode": "anonymous",
        "title": t("How was your delivery?", "配送はいかがでしたか？", "Comment s'est passée votre livraison ?"),
        "questions": [
            {"id": "speed", "kind": "rating", "required": true, "text": t("How fast was it?", "速さは？", "Rapidité ?")},
            {"id": "recommend", "kind": "nps", "text": t("Would you recommend us?", "おすすめしますか？", "Nous recommanderiez-vous ?")},
            {"id": "where", "kind": "single", "text": t("Where was it left?", "どこに置かれましたか？", "Où a-t-il été déposé ?"),
             "choices": [{"id": "door", "text": t("At the door", "玄関", "À la porte")}, {"id": "locker", "text": t("In a locker", "宅配ロッカー", "En consigne")}]},
            {"id": "liked", "kind": "multiple", "text": t("What did you like?", "良かった点は？", "Qu'avez-vous aimé ?"),
             "choices": [{"id": "price", "text": t("Price", "価格", "Le prix")}, {"id": "packaging", "text": t("Packaging", "梱包", "L'emballage")}]},
            {"id": "comment", "kind": "text", "text": t("Anything else?", "その他", "Autre chose ?")}
        ]
    })
}

pub(crate) async fn respond(app: &TestApp, slug: &str, answers: Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/v1/surveys/{slug}/responses")))
        .json(&json!({"answers": answers}))
        .send()
        .await
        .unwrap()
}

/// The columns of the response table, straight from the database.
pub(crate) async fn survey_response_columns(app: &TestApp) -> Vec<String> {
    use sqlx::Row;
    match app.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
            sqlx::query("SELECT name FROM pragma_table_info('survey_responses') ORDER BY cid")
                .fetch_all(&pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect()
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
            sqlx::query("SELECT column_name::text FROM information_schema.columns WHERE table_name = 'survey_responses' ORDER BY ordinal_position")
                .fetch_all(&pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect()
        }
    }
}

/// An anonymous survey keeps answers only — no one, no address, no time beyond the day, free
/// text scrubbed — refuses bad answers without keeping anything, and its results hide every
/// group smaller than k.
pub(crate) async fn anonymous_surveys_keep_no_one_and_hide_small_groups(app: TestApp) {
    let r = officer(
        &app,
        Method::POST,
        "/v1/surveys",
        Some(survey_definition("delivery")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["slug"], "delivery");
    assert_eq!(v["open"], true);
    assert_eq!(v["k"], 5);

    // Bad definitions: a clear error each, and no survey.
    let mut missing_fr = survey_definition("d2");
    missing_fr["title"].as_object_mut().unwrap().remove("fr");
    let mut duplicate = survey_definition("d3");
    duplicate["questions"][1]["id"] = json!("speed");
    let mut choices_on_rating = survey_definition("d4");
    choices_on_rating["questions"][0]["choices"] =
        survey_definition("x")["questions"][2]["choices"].clone();
    let mut identified = survey_definition("d5");
    identified["mode"] = json!("identified");
    let mut bad_slug = survey_definition("d6");
    bad_slug["slug"] = json!("Not A Slug");
    let mut bad_window = survey_definition("d7");
    bad_window["opens"] = json!("2027-02-01");
    bad_window["closes"] = json!("2027-01-01");
    for (body, code) in [
        (missing_fr, "invalid_survey"),
        (duplicate, "invalid_survey"),
        (choices_on_rating, "invalid_survey"),
        (identified, "invalid_survey"),
        (bad_slug, "invalid_survey"),
        (bad_window, "invalid_survey"),
    ] {
        let r = officer(&app, Method::POST, "/v1/surveys", Some(body)).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    let mut unknown_key = survey_definition("d8");
    unknown_key["color"] = json!("red");
    let r = officer(&app, Method::POST, "/v1/surveys", Some(unknown_key)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = officer(
        &app,
        Method::POST,
        "/v1/surveys",
        Some(survey_definition("delivery")),
    )
    .await;
    problem(r, StatusCode::CONFLICT, "survey_exists").await;
    let r = app
        .as_role(Method::POST, "/v1/surveys", "support", "customer_support")
        .json(&survey_definition("by-support"))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "action_not_allowed_for_role").await;
    // Reading results is a policy permission too: analysts have it, support does not.
    let by_analyst = app
        .as_role(
            Method::GET,
            "/v1/surveys/delivery/results",
            "analyst",
            "analytics",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(by_analyst.status(), StatusCode::OK);
    let before = ledger_size(&app).await;
    for path in [
        "results",
        "results.csv",
        "charts/speed",
        "texts?question=comment",
    ] {
        let by_support = app
            .as_role(
                Method::GET,
                &format!("/v1/surveys/delivery/{path}"),
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
    }
    assert_eq!(
        ledger_size(&app).await,
        before + 4,
        "each refusal is ledgered"
    );
    let listed: Value = officer(&app, Method::GET, "/v1/surveys", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

    // Four responses: below k = 5, so the results show nothing.
    let canary = format!("canary{}@example.com", uuid::Uuid::new_v4().simple());
    for i in 0..4 {
        let r = respond(&app, "delivery", json!({"speed": 5, "recommend": 9, "where": "door", "liked": ["price"], "comment": format!("write to {canary} #{i}")})).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    let results = async |by: &str| -> Value {
        officer(
            &app,
            Method::GET,
            &format!("/v1/surveys/delivery/results{by}"),
            None,
        )
        .await
        .json()
        .await
        .unwrap()
    };
    let v = results("").await;
    assert_eq!(v["responses"], Value::Null);
    assert_eq!(v["suppressed"], true);

    // Bad answers: refused, named by question, never echoed, nothing kept.
    for (answers, code) in [
        (json!({"speed": 6}), "out_of_range"),
        (json!({"speed": "fast"}), "out_of_range"),
        (json!({"speed": 3, "recommend": 11}), "out_of_range"),
        (json!({"speed": 3, "where": "roof"}), "unknown_choice"),
        (
            json!({"speed": 3, "liked": ["price", "smell"]}),
            "unknown_choice",
        ),
        (json!({"speed": 3, "liked": [1]}), "invalid_answer"),
        (
            json!({"speed": 3, "comment": "x".repeat(2001)}),
            "answer_too_long",
        ),
        (json!({"recommend": 8}), "answer_required"),
        (
            json!({"speed": 3, "secret-question-canary": "1"}),
            "unknown_question",
        ),
    ] {
        let body = problem(
            respond(&app, "delivery", answers).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
        )
        .await;
        assert!(
            !body.to_string().contains("canary") && !body.to_string().contains("roof"),
            "{body}"
        );
    }
    let r = respond(&app, "nowhere", json!({"speed": 3})).await;
    problem(r, StatusCode::NOT_FOUND, "survey_not_found").await;

    // Six more: ten in all. Cells of fewer than five stay hidden.
    for i in 0..6 {
        let (speed, place) = if i < 5 { (4, "locker") } else { (1, "door") };
        let r = respond(
            &app,
            "delivery",
            json!({"speed": speed, "recommend": 3, "where": place, "comment": "ok"}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    let v = results("").await;
    assert_eq!(v["responses"], 10, "{v}");
    let speed = &v["questions"][0];
    assert_eq!(speed["answered"], 10);
    assert_eq!(speed["mean"], json!((4.0 * 5.0 + 5.0 * 4.0 + 1.0) / 10.0));
    let histogram = speed["histogram"].as_array().unwrap();
    assert_eq!(histogram[3], json!({"value": 4, "count": 5}));
    assert_eq!(
        histogram[4],
        json!({"value": 5, "count": null, "suppressed": true}),
        "4 fives is below k"
    );
    assert_eq!(histogram[0]["suppressed"], true);
    let texts = v["questions"][4]["texts"].as_array().unwrap();
    assert_eq!(texts.len(), 10);
    assert!(texts.iter().all(|t| !t.as_str().unwrap().contains(&canary)));
    assert!(
        texts
            .iter()
            .any(|t| t.as_str().unwrap().starts_with("write to [EMAIL]")),
        "{texts:?}"
    );
    // By where it was left: 5 at a locker (shown), 5 at the door (shown); their speeds below k hidden.
    let v = results("?by=where").await;
    let groups = v["breakdown"]["groups"].as_array().unwrap();
    assert_eq!(groups[0]["choice"], "door");
    assert_eq!(groups[0]["count"], 5);
    assert_eq!(groups[1]["count"], 5);
    assert_eq!(groups[1]["questions"][0]["histogram"][3]["count"], 5);
    assert_eq!(
        groups[0]["questions"][0]["histogram"][4]["suppressed"],
        true
    );
    assert!(
        groups.iter().all(|g| g["questions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|q| q["id"] != "comment")),
        "no free text in breakdowns"
    );
    for by in ["?by=comment", "?by=speed", "?by=nothing"] {
        let r = officer(
            &app,
            Method::GET,
            &format!("/v1/surveys/delivery/results{by}"),
            None,
        )
        .await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_breakdown").await;
    }

    // Charts drawn on the server, hidden cells drawn as hidden; CSV of aggregates only.
    let r = officer(
        &app,
        Method::GET,
        "/v1/surveys/delivery/charts/speed?lang=en",
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let svg = r.text().await.unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("How fast was it? (mean 4.10)"),
        "{svg}"
    );
    assert_eq!(
        svg.matches("fewer than 5: hidden").count(),
        4,
        "1, 2, 3 and 5 are below k: {svg}"
    );
    assert!(!svg.contains("<script"));
    let r = officer(
        &app,
        Method::GET,
        "/v1/surveys/delivery/charts/speed?lang=fr",
        None,
    )
    .await;
    let svg = r.text().await.unwrap();
    assert!(svg.contains("4,10)"), "a decimal comma in French: {svg}");
    assert!(
        svg.contains("moins de 5\u{202f}: masqué"),
        "a narrow space before the colon: {svg}"
    );
    let r = officer(
        &app,
        Method::GET,
        "/v1/surveys/delivery/charts/where?lang=ja",
        None,
    )
    .await;
    let svg = r.text().await.unwrap();
    assert!(svg.contains("宅配ロッカー"), "{svg}");
    assert!(
        !svg.contains(": "),
        "Japanese typography (full-width colon): {svg}"
    );
    let r = officer(
        &app,
        Method::GET,
        "/v1/surveys/delivery/charts/speed?lang=ja",
        None,
    )
    .await;
    assert!(
        r.text().await.unwrap().contains("（平均 4.10）"),
        "full-width brackets"
    );
    let r = officer(
        &app,
        Method::GET,
        "/v1/surveys/delivery/charts/comment",
        None,
    )
    .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_question").await;
    let r = officer(&app, Method::GET, "/v1/surveys/delivery/results.csv", None).await;
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = r.text().await.unwrap();
    assert!(
        csv.starts_with("question,kind,value,count,suppressed\n"),
        "{csv}"
    );
    assert!(
        csv.contains("speed,rating,4,5,false\n") && csv.contains("speed,rating,5,,true\n"),
        "{csv}"
    );
    assert!(
        !csv.contains("canary") && !csv.contains("write to"),
        "aggregates only: {csv}"
    );

    // What is stored: answers and the day, under random ids; nothing about the sender.
    assert_eq!(
        survey_response_columns(&app).await,
        ["id", "survey_id", "day", "answers", "coded", "texts"]
    );
    let survey = app.store.survey("delivery").await.unwrap().unwrap();
    let stored = app.store.survey_answers(&survey.id).await.unwrap();
    assert_eq!(stored.len(), 10);
    assert!(stored.iter().all(|a| !a.contains(&canary)));
    let texts = app.store.survey_texts(&survey.id, 100).await.unwrap();
    assert_eq!(texts.len(), 10);
    assert!(texts.iter().all(|t| !t.contains(&canary)));
    for file in app.sqlite_files() {
        let bytes = std::fs::read(file).unwrap();
        assert!(
            !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
            "the canary reached the database"
        );
    }
    let logs = String::from_utf8_lossy(&common::captured_logs().lock().unwrap()).to_string();
    assert!(!logs.contains(&canary), "the canary reached the logs");

    // Closed: no more responses.
    assert_eq!(
        officer(&app, Method::POST, "/v1/surveys/delivery/close", None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    problem(
        respond(&app, "delivery", json!({"speed": 3})).await,
        StatusCode::CONFLICT,
        "survey_closed",
    )
    .await;
    problem(
        officer(&app, Method::POST, "/v1/surveys/delivery/close", None).await,
        StatusCode::CONFLICT,
        "survey_closed",
    )
    .await;
    assert_eq!(results("").await["responses"], 10);
}

/// The survey page in three languages: a form that needs no script, a thank-you page, and a
/// refusal in the page's language that does not repeat what was typed.
pub(crate) async fn survey_pages_take_answers_in_three_languages(app: TestApp) {
    let r = officer(
        &app,
        Method::POST,
        "/v1/surveys",
        Some(survey_definition("pages")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    for (lang, title, anonymous) in [
        ("en", "How was your delivery?", "This survey is anonymous"),
        ("ja", "配送はいかがでしたか？", "このアンケートは匿名です"),
        (
            "fr",
            "Comment s&#39;est passée votre livraison ?",
            "Ce questionnaire est anonyme",
        ),
    ] {
        let r = app
            .client
            .get(app.url(&format!("/survey/pages?lang={lang}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("script"),
            "{csp}"
        );
        assert!(
            r.headers().get("set-cookie").is_none(),
            "no cookie on a survey page"
        );
        let html = r.text().await.unwrap();
        assert!(
            html.contains(&format!("lang=\"{lang}\""))
                && html.contains(title)
                && html.contains(anonymous),
            "{html}"
        );
        assert!(!html.contains("<script"));
    }
    let post = async |lang: &str, form: &[(&str, &str)]| {
        app.client
            .post(app.url(&format!("/survey/pages?lang={lang}")))
            .form(form)
            .send()
            .await
            .unwrap()
    };
    let r = post(
        "fr",
        &[
            ("a_speed", "4"),
            ("a_liked", "price"),
            ("a_liked", "packaging"),
            ("a_comment", "appelez le 06 12 34 56 78"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Merci pour votre réponse"));
    let r = post(
        "ja",
        &[("a_speed", "9"), ("a_comment", "typed-canary-value")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("「速さは？」は選択肢から選んでください。"),
        "{html}"
    );
    assert!(!html.contains("typed-canary-value"));
    let r = post("en", &[("a_comment", "no rating")]).await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Please answer “How fast was it?”.")
    );
    let survey = app.store.survey("pages").await.unwrap().unwrap();
    let stored = app.store.survey_answers(&survey.id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(
        stored[0].contains("[PHONE]") && !stored[0].contains("06 12"),
        "{stored:?}"
    );
    let r = app
        .client
        .get(app.url("/survey/no-such-survey"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// Every blob the query returns (all its columns are blobs), straight from the database.
pub(crate) async fn stored_blobs(app: &TestApp, sql: &'static str) -> Vec<Vec<u8>> {
    use sqlx::Row;
    let rows: Vec<Vec<Vec<u8>>> = match app.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
            let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
            rows.iter()
                .map(|r| (0..r.len()).map(|i| r.get::<Vec<u8>, _>(i)).collect())
                .collect()
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
            let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
            rows.iter()
                .map(|r| (0..r.len()).map(|i| r.get::<Vec<u8>, _>(i)).collect())
                .collect()
        }
    };
    rows.into_iter().flatten().collect()
}

/// The actions ledgered from leaf `from` on, but for re-keys running after an erasure.
pub(crate) async fn actions_since(app: &TestApp, from: u64) -> Vec<String> {
    app.ledger.flush().await.unwrap();
    let mut out = Vec::new();
    let mut leaves = app.store.stream_leaves(from);
    while let Some(batch) = leaves.recv().await {
        for leaf in batch.unwrap() {
            let event = mamori_ledger::Event::from_leaf_data(&leaf.data).unwrap();
            if event.action != "subject.rekey" {
                out.push(event.action);
            }
        }
    }
    out
}

pub(crate) fn invited_definition(slug: &str) -> Value {
    let mut d = survey_definition(slug);
    d["access"] = json!("invited");
    d
}

pub(crate) async fn invite(app: &TestApp, slug: &str, subjects: &[&str]) -> Vec<Value> {
    let r = officer(
        app,
        Method::POST,
        &format!("/v1/surveys/{slug}/invitations"),
        Some(json!({"subjects": subjects})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["invitations"]
        .as_array()
        .unwrap()
        .clone()
}

/// The code in an invitation's link (`/survey/{slug}#invitation=CODE`).
pub(crate) fn invitation_code(invitation: &Value) -> String {
    let link = invitation["link"].as_str().unwrap();
    link.split_once("#invitation=").unwrap().1.to_string()
}

pub(crate) async fn issuer_key(app: &TestApp, slug: &str) -> mamori_blind::IssuerPublic {
    use base64::Engine;
    let r = app
        .client
        .get(app.url(&format!("/v1/surveys/{slug}/issuer")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["variant"], "RSABSSA-SHA384-PSS-Randomized");
    let der = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(v["public_key"].as_str().unwrap())
        .unwrap();
    mamori_blind::IssuerPublic::from_der(&der).unwrap()
}

pub(crate) async fn ask_token(
    app: &TestApp,
    slug: &str,
    code: &str,
    blinded: &str,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/v1/surveys/{slug}/tokens")))
        .json(&json!({"invitation": code, "blinded_token": blinded}))
        .send()
        .await
        .unwrap()
}

/// What the browser does: blind a fresh token, have it signed with the invitation, unblind.
/// Returns the token and what the server saw (blinded token, blind signature).
pub(crate) async fn obtain_token(
    app: &TestApp,
    slug: &str,
    code: &str,
) -> (mamori_blind::Token, Vec<u8>, Vec<u8>) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let public = issuer_key(app, slug).await;
    let (pending, blinded) = mamori_blind::client::request(&public).unwrap();
    let r = ask_token(app, slug, code, &b64.encode(&blinded)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let signature = b64.decode(v["blind_signature"].as_str().unwrap()).unwrap();
    let token = pending.finalize(&signature).unwrap();
    (token, blinded, signature)
}

pub(crate) async fn respond_with(
    app: &TestApp,
    slug: &str,
    token: Option<&[u8]>,
) -> reqwest::Response {
    use base64::Engine;
    let mut body = json!({"answers": {"speed": 4, "comment": "fine"}});
    if let Some(t) = token {
        body["token"] = json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(t));
    }
    app.client
        .post(app.url(&format!("/v1/surveys/{slug}/responses")))
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// An invited survey takes one response per invitation, through a blind-signed token (RFC 9474):
/// a second use, a forged token, one from another survey and a second token for one invitation
/// are all refused; and nothing stored at issuance and at redemption links the two.
pub(crate) async fn invited_surveys_take_one_unlinkable_response_each(app: TestApp) {
    for slug in ["panel", "other"] {
        let r = officer(
            &app,
            Method::POST,
            "/v1/surveys",
            Some(invited_definition(slug)),
        )
        .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(r.json::<Value>().await.unwrap()["access"], "invited");
    }
    let open = officer(
        &app,
        Method::POST,
        "/v1/surveys",
        Some(survey_definition("open")),
    )
    .await;
    assert_eq!(open.status(), StatusCode::CREATED);
    let alice = create(&app, &customer_without_phone("inv-alice")).await;
    let bob = create(&app, &customer_without_phone("inv-bob")).await;
    let gone = create(&app, &customer_without_phone("inv-gone")).await;
    let erased = officer(&app, Method::DELETE, &format!("/v1/subjects/{gone}"), None).await;
    assert!(erased.status().is_success());
    let nobody = uuid::Uuid::new_v4().to_string();

    // Invitations: one per live subject, each leaving a ledger event about that subject.
    let before = ledger_size(&app).await;
    let sent = invite(&app, "panel", &[&alice, &bob, &gone, &nobody]).await;
    assert_eq!(sent[0]["status"], "invited");
    assert_eq!(sent[1]["status"], "invited");
    assert_eq!(sent[2]["reason"], "subject_erased");
    assert_eq!(sent[3]["reason"], "subject_not_found");
    assert_eq!(actions_since(&app, before).await, ["survey.invite"; 2]);
    let (alice_code, bob_code) = (invitation_code(&sent[0]), invitation_code(&sent[1]));
    let other = invite(&app, "other", &[&alice]).await;
    let other_code = invitation_code(&other[0]);

    // Bad invitations change nothing.
    let bad = [
        (
            json!({"subjects": []}),
            "/v1/surveys/panel/invitations",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_invitations",
        ),
        (
            json!({"subjects": ["not-a-uuid"]}),
            "/v1/surveys/panel/invitations",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_subject_id",
        ),
        (
            json!({"subjects": [alice]}),
            "/v1/surveys/open/invitations",
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_invited_survey",
        ),
        (
            json!({"subjects": [alice], "extra": 1}),
            "/v1/surveys/panel/invitations",
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ];
    for (body, path, status, code) in bad {
        problem(
            officer(&app, Method::POST, path, Some(body)).await,
            status,
            code,
        )
        .await;
    }
    let by_support = app
        .as_role(
            Method::POST,
            "/v1/surveys/panel/invitations",
            "support",
            "customer_support",
        )
        .json(&json!({"subjects": [alice]}))
        .send()
        .await
        .unwrap();
    problem(
        by_support,
        StatusCode::FORBIDDEN,
        "action_not_allowed_for_role",
    )
    .await;
    assert_eq!(
        actions_since(&app, before).await,
        [
            "survey.invite",
            "survey.invite",
            "survey.invite",
            "survey.invite"
        ],
        "the denial is ledgered"
    );

    // Issuance writes no ledger event and keeps nothing of what it saw.
    let before = ledger_size(&app).await;
    let (alice_token, alice_blinded, alice_signature) =
        obtain_token(&app, "panel", &alice_code).await;
    let (bob_token, _, _) = obtain_token(&app, "panel", &bob_code).await;
    let (other_token, _, _) = obtain_token(&app, "other", &other_code).await;
    assert!(actions_since(&app, before).await.is_empty());

    // One token per invitation; unknown codes and malformed blinded tokens are refused.
    let public = issuer_key(&app, "panel").await;
    let (_, again) = mamori_blind::client::request(&public).unwrap();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    problem(
        ask_token(&app, "panel", &alice_code, &b64.encode(&again)).await,
        StatusCode::CONFLICT,
        "token_issued",
    )
    .await;
    problem(
        ask_token(&app, "panel", "made-up-code", &b64.encode(&again)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_invitation",
    )
    .await;
    problem(
        ask_token(&app, "other", &bob_code, &b64.encode(&again)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_invitation",
    )
    .await;
    problem(
        ask_token(&app, "open", &bob_code, &b64.encode(&again)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_invited_survey",
    )
    .await;
    for (slug, status, code) in [
        (
            "open",
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_invited_survey",
        ),
        ("nope", StatusCode::NOT_FOUND, "survey_not_found"),
    ] {
        let r = app
            .client
            .get(app.url(&format!("/v1/surveys/{slug}/issuer")))
            .send()
            .await
            .unwrap();
        problem(r, status, code).await;
    }
    let carol = create(&app, &customer_without_phone("inv-carol")).await;
    let carol_code = invitation_code(&invite(&app, "panel", &[&carol]).await[0]);
    problem(
        ask_token(&app, "panel", &carol_code, "***").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_blinded_token",
    )
    .await;
    problem(
        ask_token(&app, "panel", &carol_code, &b64.encode([1u8; 12])).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_blinded_token",
    )
    .await;
    // Refusals did not use Carol's invitation up.
    let (carol_token, _, _) = obtain_token(&app, "panel", &carol_code).await;
    // A second invitation of someone who had their token is refused.
    assert_eq!(
        invite(&app, "panel", &[&alice]).await[0]["reason"],
        "token_issued"
    );

    // Responses: a token is required, must be this survey's and unaltered, and works once.
    let survey = app.store.survey("panel").await.unwrap().unwrap();
    let responses = || async { app.store.survey_answers(&survey.id).await.unwrap().len() };
    problem(
        respond_with(&app, "panel", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "token_required",
    )
    .await;
    problem(
        respond_with(&app, "panel", Some(&other_token.to_bytes())).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_token",
    )
    .await;
    let mut forged = alice_token.to_bytes();
    forged[70] ^= 1;
    problem(
        respond_with(&app, "panel", Some(&forged)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_token",
    )
    .await;
    problem(
        respond_with(&app, "panel", Some(&[9u8; 40])).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_token",
    )
    .await;
    assert_eq!(responses().await, 0);
    let before = ledger_size(&app).await;
    // Redeemed in another order than issued.
    for token in [&bob_token, &carol_token, &alice_token] {
        assert_eq!(
            respond_with(&app, "panel", Some(&token.to_bytes()))
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
    }
    problem(
        respond_with(&app, "panel", Some(&alice_token.to_bytes())).await,
        StatusCode::CONFLICT,
        "token_used",
    )
    .await;
    // Bad answers with a good token keep nothing, and leave the token unspent.
    let (dave_token, dave_code) = {
        let dave = create(&app, &customer_without_phone("inv-dave")).await;
        let code = invitation_code(&invite(&app, "panel", &[&dave]).await[0]);
        (obtain_token(&app, "panel", &code).await.0, code)
    };
    let mut bad_answers =
        json!({"answers": {"speed": 9}, "token": b64.encode(dave_token.to_bytes())});
    let r = app
        .client
        .post(app.url("/v1/surveys/panel/responses"))
        .json(&bad_answers)
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "out_of_range").await;
    bad_answers["answers"] = json!({"speed": 3});
    let r = app
        .client
        .post(app.url("/v1/surveys/panel/responses"))
        .json(&bad_answers)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(responses().await, 4);
    assert_eq!(
        actions_since(&app, before).await,
        ["subject.create", "survey.invite"],
        "only Dave's creation and invitation are ledgered: responses and tokens leave nothing"
    );
    // The other survey's token still works there.
    assert_eq!(
        respond_with(&app, "other", Some(&other_token.to_bytes()))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    // An open survey ignores tokens altogether.
    assert_eq!(
        respond_with(&app, "open", None).await.status(),
        StatusCode::NO_CONTENT
    );

    // Unlinkable: what is stored about invitations (who, the code's digest, the day, whether the
    // token went out) shares nothing with what is stored about responses (the spent token's
    // digest, a random id, the answers, the day) beyond the survey and the day.
    let invitations = stored_blobs(
        &app,
        "SELECT subject_id, code_digest FROM survey_invitations",
    )
    .await;
    let spent = stored_blobs(&app, "SELECT digest FROM survey_spent_tokens").await;
    let answers = stored_blobs(&app, "SELECT id, coded FROM survey_responses").await;
    assert_eq!(spent.len(), 5, "four in panel, one in other");
    for token in [&alice_token, &bob_token, &carol_token, &dave_token] {
        assert!(spent.contains(&token.spent_digest().to_vec()));
    }
    for issued in &invitations {
        for redeemed in spent.iter().chain(&answers) {
            assert!(!contains(redeemed, issued) && !contains(issued, redeemed));
        }
    }
    let _ = dave_code;
    // What the server saw at issuance is stored nowhere, nor is any token itself.
    if app.backend == Backend::Sqlite {
        app.ledger.flush().await.unwrap();
        for file in app.sqlite_files() {
            let bytes = std::fs::read(&file).unwrap();
            for secret in [
                &alice_blinded[..32],
                &alice_signature[..32],
                &alice_token.message[..],
                &alice_token.signature[..32],
                &alice_token.randomizer[..],
            ] {
                assert!(
                    !contains(&bytes, secret),
                    "{} holds issuance or token bytes",
                    file.display()
                );
            }
            assert!(
                !contains(&bytes, alice_code.as_bytes()),
                "the invitation code is stored"
            );
        }
    }
    let logs = String::from_utf8_lossy(&common::captured_logs().lock().unwrap()).to_string();
    assert!(!logs.contains(&alice_code) && !logs.contains(&b64.encode(alice_token.to_bytes())));

    // Erasing a subject removes their invitation.
    let before_erase = stored_blobs(&app, "SELECT subject_id FROM survey_invitations")
        .await
        .len();
    let r = officer(&app, Method::DELETE, &format!("/v1/subjects/{bob}"), None).await;
    assert!(r.status().is_success());
    let after_erase = stored_blobs(&app, "SELECT subject_id FROM survey_invitations")
        .await
        .len();
    assert_eq!(after_erase, before_erase - 1);

    // Closed: no tokens either.
    let eve = create(&app, &customer_without_phone("inv-eve")).await;
    let eve_code = invitation_code(&invite(&app, "panel", &[&eve]).await[0]);
    assert_eq!(
        officer(&app, Method::POST, "/v1/surveys/panel/close", None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    problem(
        ask_token(&app, "panel", &eve_code, &b64.encode(&again)).await,
        StatusCode::CONFLICT,
        "survey_closed",
    )
    .await;
}

pub(crate) async fn release(app: &TestApp, slug: &str, body: Value) -> reqwest::Response {
    officer(
        app,
        Method::POST,
        &format!("/v1/surveys/{slug}/releases"),
        Some(body),
    )
    .await
}

/// A differentially private survey shows no exact results; each release adds noise (OpenDP)
/// and spends part of the ε budget, the rest is shown, and releases stop when it is spent.
pub(crate) async fn private_releases_spend_a_budget_and_stop(app: TestApp) {
    let mut definition = survey_definition("private");
    definition["results"] = json!("differential_privacy");
    definition["epsilon_budget"] = json!(1.0);
    // Bad budgets are refused.
    for (results, budget) in [
        ("exact", json!(1.0)),
        ("differential_privacy", json!(0)),
        ("differential_privacy", json!(11)),
    ] {
        let mut bad = definition.clone();
        bad["slug"] = json!("bad-budget");
        bad["results"] = json!(results);
        bad["epsilon_budget"] = budget;
        let r = officer(&app, Method::POST, "/v1/surveys", Some(bad)).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_survey").await;
    }
    let r = officer(&app, Method::POST, "/v1/surveys", Some(definition)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        r.json::<Value>().await.unwrap()["results"],
        "differential_privacy"
    );
    let exact = officer(
        &app,
        Method::POST,
        "/v1/surveys",
        Some(survey_definition("exact")),
    )
    .await;
    assert_eq!(exact.status(), StatusCode::CREATED);
    // Too few answers for a release: refused before any ε is spent.
    let r = release(&app, "private", json!({"epsilon": 0.25})).await;
    problem(r, StatusCode::CONFLICT, "too_few_responses").await;
    let releases: Value = officer(&app, Method::GET, "/v1/surveys/private/releases", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(releases["budget"]["epsilon_spent"], 0.0, "{releases}");
    // Straight through the vault: over HTTP, one address may send only so many per minute.
    for i in 0..40 {
        let raw = mamori_core::surveys::RawAnswers::from([
            ("speed".to_string(), vec![(1 + i % 5).to_string()]),
            (
                "where".to_string(),
                vec![if i < 30 { "door" } else { "locker" }.to_string()],
            ),
        ]);
        app.vault.respond("private", &raw, None).await.unwrap();
    }

    // No exact results, in any form.
    for path in ["results", "results.csv", "charts/speed"] {
        let r = officer(
            &app,
            Method::GET,
            &format!("/v1/surveys/private/{path}"),
            None,
        )
        .await;
        problem(r, StatusCode::CONFLICT, "exact_results_withheld").await;
    }
    let listed: Value = officer(&app, Method::GET, "/v1/surveys/private/releases", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["budget"],
        json!({"epsilon_total": 1.0, "epsilon_spent": 0.0, "epsilon_remaining": 1.0})
    );
    assert_eq!(listed["releases"], json!([]));

    // Bad releases change nothing.
    for epsilon in [json!(0), json!(-1), json!(10.5)] {
        problem(
            release(&app, "private", json!({"epsilon": epsilon})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_epsilon",
        )
        .await;
    }
    problem(
        release(&app, "private", json!({"epsilon": "a lot"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    )
    .await;
    problem(
        release(&app, "exact", json!({"epsilon": 0.1})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_differentially_private",
    )
    .await;
    problem(
        release(&app, "nope", json!({"epsilon": 0.1})).await,
        StatusCode::NOT_FOUND,
        "survey_not_found",
    )
    .await;
    let by_support = app
        .as_role(
            Method::POST,
            "/v1/surveys/private/releases",
            "support",
            "customer_support",
        )
        .json(&json!({"epsilon": 0.1}))
        .send()
        .await
        .unwrap();
    problem(
        by_support,
        StatusCode::FORBIDDEN,
        "action_not_allowed_for_role",
    )
    .await;

    // Releases spend the budget, and say what is left.
    let before = ledger_size(&app).await;
    let mut seen = Vec::new();
    for (epsilon, remaining) in [(0.4, 0.6), (0.5, 0.1)] {
        let r = release(&app, "private", json!({"epsilon": epsilon})).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        let left = v["budget"]["epsilon_remaining"].as_f64().unwrap();
        assert!((left - remaining).abs() < 1e-5, "{v}");
        let spent = v["release"]["epsilon"].as_f64().unwrap();
        assert!(spent <= epsilon && spent > epsilon * 0.999, "{v}");
        // Noisy, but near the truth: four 95% margins is a miss once in 160,000.
        let responses = v["release"]["responses"].as_i64().unwrap();
        let margin = v["release"]["responses_margin_95"].as_i64().unwrap();
        assert!((responses - 40).abs() <= 4 * margin, "{v}");
        let speed = &v["release"]["questions"][0];
        assert_eq!(speed["id"], "speed");
        assert_eq!(speed["histogram"].as_array().unwrap().len(), 5);
        assert!(
            speed["histogram"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["count"].as_i64().unwrap() >= 0)
        );
        if let Some(mean) = speed["mean"].as_f64() {
            assert!((1.0..=5.0).contains(&mean));
        }
        assert!(
            v["release"]["questions"][4].get("texts").is_none(),
            "texts are never released"
        );
        seen.push(v["release"].clone());
    }
    assert_eq!(ledger_size(&app).await, before + 2);
    // The truth is 8 per rating and 30/10 per place: noise moved at least one of them.
    let exact_counts = [8, 8, 8, 8, 8, 30, 10];
    let released = |r: &Value| -> Vec<i64> {
        let q = r["questions"].as_array().unwrap();
        q[0]["histogram"]
            .as_array()
            .unwrap()
            .iter()
            .chain(q[2]["choices"].as_array().unwrap())
            .map(|c| c["count"].as_i64().unwrap())
            .collect()
    };
    assert!(
        seen.iter().any(|r| released(r) != exact_counts),
        "no noise in {seen:?}"
    );

    // Beyond the budget: refused, nothing spent.
    let r = release(&app, "private", json!({"epsilon": 0.2})).await;
    let body = problem(r, StatusCode::CONFLICT, "budget_exhausted").await;
    assert!(body["detail"].as_str().unwrap().contains("0.1"), "{body}");
    let r = release(&app, "private", json!({"epsilon": 0.1})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = release(&app, "private", json!({"epsilon": 0.000001})).await;
    problem(r, StatusCode::CONFLICT, "budget_exhausted").await;

    let r = officer(&app, Method::GET, "/v1/surveys/exact/releases", None).await;
    problem(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_differentially_private",
    )
    .await;
    // Releases are kept: reading them again spends nothing.
    let listed: Value = officer(&app, Method::GET, "/v1/surveys/private/releases", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["releases"].as_array().unwrap().len(), 3);
    assert_eq!(listed["releases"][0], seen[0]);
    assert!(listed["budget"]["epsilon_remaining"].as_f64().unwrap() < 1e-5);
    let r = app
        .client
        .get(app.url("/v1/surveys/private/releases"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

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

/// Free-text answers are listed a page at a time, scrubbed, and only once k people wrote one.
pub(crate) async fn free_text_answers_are_listed_a_page_at_a_time(app: TestApp) {
    let r = officer(
        &app,
        Method::POST,
        "/v1/surveys",
        Some(survey_definition("texts")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let answer = |comment: Option<String>| {
        let mut raw =
            mamori_core::surveys::RawAnswers::from([("speed".to_string(), vec!["3".to_string()])]);
        if let Some(c) = comment {
            raw.insert("comment".to_string(), vec![c]);
        }
        raw
    };
    let list = |query: String| {
        let app = &app;
        async move {
            officer(
                app,
                Method::GET,
                &format!("/v1/surveys/texts/texts?{query}"),
                None,
            )
            .await
        }
    };
    for i in 0..4 {
        app.vault
            .respond(
                "texts",
                &answer(Some(format!("note {i} from me{i}@example.com"))),
                None,
            )
            .await
            .unwrap();
    }
    app.vault
        .respond("texts", &answer(None), None)
        .await
        .unwrap();
    // Four texts: below k = 5, so none is listed.
    let v: Value = list("question=comment".into()).await.json().await.unwrap();
    assert_eq!(v["suppressed"], true);
    assert_eq!(v["texts"], json!([]));
    for i in 4..12 {
        app.vault
            .respond(
                "texts",
                &answer(Some(format!("note {i} from me{i}@example.com"))),
                None,
            )
            .await
            .unwrap();
    }
    // Pages of five: 12 texts in three pages, each once, scrubbed.
    let mut seen = Vec::new();
    let mut query = "question=comment&limit=5".to_string();
    for _ in 0..10 {
        let v: Value = list(query.clone()).await.json().await.unwrap();
        assert_eq!(v["answered"], 12);
        for t in v["texts"].as_array().unwrap() {
            seen.push(t.as_str().unwrap().to_string());
        }
        match v["next"].as_str() {
            Some(next) => query = format!("question=comment&limit=5&after={next}"),
            None => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 12, "{seen:?}");
    assert!(
        seen.iter()
            .all(|t| t.contains("[EMAIL]") && !t.contains("@example.com"))
    );
    // Bad input: a clear error each.
    for (query, status, code) in [
        (
            "question=speed",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_question",
        ),
        (
            "question=nope",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_question",
        ),
        (
            "question=comment&limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_limit",
        ),
        (
            "question=comment&after=zz",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_cursor",
        ),
        ("limit=5", StatusCode::BAD_REQUEST, "invalid_query"),
    ] {
        problem(list(query.into()).await, status, code).await;
    }
    let r = officer(
        &app,
        Method::GET,
        "/v1/surveys/none/texts?question=comment",
        None,
    )
    .await;
    problem(r, StatusCode::NOT_FOUND, "survey_not_found").await;
}

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
