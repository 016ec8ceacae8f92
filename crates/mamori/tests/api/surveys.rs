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

/// Creates the "delivery" survey as the privacy officer.
pub(crate) async fn delivery_survey(app: &TestApp) {
    let r = officer(
        app,
        Method::POST,
        "/v1/surveys",
        Some(survey_definition("delivery")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (&v["slug"], &v["open"], &v["k"]),
        (&json!("delivery"), &json!(true), &json!(5))
    );
}

/// Four responses whose comment names an address (the canary, returned), then six more: five
/// fast ones left at a locker, one slow one at the door.
pub(crate) async fn ten_responses(app: &TestApp) -> String {
    let canary = format!("canary{}@example.com", uuid::Uuid::new_v4().simple());
    for i in 0..4 {
        let answers = json!({"speed": 5, "recommend": 9, "where": "door", "liked": ["price"], "comment": format!("write to {canary} #{i}")});
        assert_eq!(
            respond(app, "delivery", answers).await.status(),
            StatusCode::NO_CONTENT
        );
    }
    for i in 0..6 {
        let (speed, place) = if i < 5 { (4, "locker") } else { (1, "door") };
        let answers = json!({"speed": speed, "recommend": 3, "where": place, "comment": "ok"});
        assert_eq!(
            respond(app, "delivery", answers).await.status(),
            StatusCode::NO_CONTENT
        );
    }
    canary
}

async fn results(app: &TestApp, by: &str) -> Value {
    let path = format!("/v1/surveys/delivery/results{by}");
    officer(app, Method::GET, &path, None)
        .await
        .json()
        .await
        .unwrap()
}

/// Bad definitions get a clear error each and make no survey; creating and reading results
/// are policy permissions (analysts read results, support neither creates nor reads), each
/// refusal ledgered.
pub(crate) async fn survey_definitions_are_checked_and_permissions_hold(app: TestApp) {
    delivery_survey(&app).await;
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
    for body in [
        missing_fr,
        duplicate,
        choices_on_rating,
        identified,
        bad_slug,
        bad_window,
    ] {
        let r = officer(&app, Method::POST, "/v1/surveys", Some(body)).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_survey").await;
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
    let r = app.as_role(Method::POST, "/v1/surveys", "support", "customer_support");
    let r = r
        .json(&survey_definition("by-support"))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "action_not_allowed_for_role").await;
    let (status, _) = app
        .get_as("/v1/surveys/delivery/results", "analyst", "analytics")
        .await;
    assert_eq!(status, StatusCode::OK);
    let before = ledger_size(&app).await;
    for path in [
        "results",
        "results.csv",
        "charts/speed",
        "texts?question=comment",
    ] {
        let path = format!("/v1/surveys/delivery/{path}");
        let r = app
            .as_role(Method::GET, &path, "support", "customer_support")
            .send()
            .await
            .unwrap();
        problem(r, StatusCode::FORBIDDEN, "action_not_allowed_for_role").await;
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
}

/// Bad answers: refused, named by question, never echoed, nothing kept.
pub(crate) async fn bad_survey_answers_are_refused_and_kept_nowhere(app: TestApp) {
    delivery_survey(&app).await;
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
        let r = respond(&app, "delivery", answers).await;
        let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, code)
            .await
            .to_string();
        assert!(!body.contains("canary") && !body.contains("roof"), "{body}");
    }
    let r = respond(&app, "nowhere", json!({"speed": 3})).await;
    problem(r, StatusCode::NOT_FOUND, "survey_not_found").await;
    let survey = app.store.survey("delivery").await.unwrap().unwrap();
    assert!(
        app.store
            .survey_answers(&survey.id)
            .await
            .unwrap()
            .is_empty()
    );
}

/// An anonymous survey keeps answers only — no one, no address, no time beyond the day, free
/// text scrubbed — and its results hide every group smaller than k; closed, it takes no more.
pub(crate) async fn anonymous_surveys_keep_no_one_and_hide_small_groups(app: TestApp) {
    delivery_survey(&app).await;
    let four = json!({"speed": 5, "recommend": 9, "where": "door"});
    for _ in 0..4 {
        assert_eq!(
            respond(&app, "delivery", four.clone()).await.status(),
            StatusCode::NO_CONTENT
        );
    }
    let v = results(&app, "").await;
    assert_eq!(
        (&v["responses"], &v["suppressed"]),
        (&Value::Null, &json!(true)),
        "four is below k"
    );
    let canary = &ten_responses(&app).await;
    let app = &app;
    let v = results(app, "").await;
    assert_eq!(v["responses"], 14, "{v}");
    let speed = &v["questions"][0];
    assert_eq!(speed["answered"], 14);
    let histogram = speed["histogram"].as_array().unwrap();
    assert_eq!(histogram[3], json!({"value": 4, "count": 5}));
    assert_eq!(histogram[4], json!({"value": 5, "count": 8}));
    assert_eq!(histogram[0]["suppressed"], true);
    let texts = v["questions"][4]["texts"].as_array().unwrap();
    assert_eq!(texts.len(), 10);
    assert!(
        texts
            .iter()
            .all(|t| !t.as_str().unwrap().contains(canary.as_str()))
    );
    assert!(
        texts
            .iter()
            .any(|t| t.as_str().unwrap().starts_with("write to [EMAIL]")),
        "{texts:?}"
    );
    // What is stored: answers and the day, under random ids; nothing about the sender.
    let columns = survey_response_columns(app).await;
    assert_eq!(
        columns,
        ["id", "survey_id", "day", "answers", "coded", "texts"]
    );
    let survey = app.store.survey("delivery").await.unwrap().unwrap();
    let stored = app.store.survey_answers(&survey.id).await.unwrap();
    assert_eq!(stored.len(), 14);
    assert!(stored.iter().all(|a| !a.contains(canary.as_str())));
    let texts = app.store.survey_texts(&survey.id, 100).await.unwrap();
    assert!(texts.len() == 10 && texts.iter().all(|t| !t.contains(canary.as_str())));
    for file in app.sqlite_files() {
        let bytes = std::fs::read(file).unwrap();
        let found = bytes.windows(canary.len()).any(|w| w == canary.as_bytes());
        assert!(!found, "the canary reached the database");
    }
    let logs = String::from_utf8_lossy(&common::captured_logs().lock().unwrap()).to_string();
    assert!(
        !logs.contains(canary.as_str()),
        "the canary reached the logs"
    );
    let close = officer(app, Method::POST, "/v1/surveys/delivery/close", None).await;
    assert_eq!(close.status(), StatusCode::NO_CONTENT);
    let r = respond(app, "delivery", json!({"speed": 3})).await;
    problem(r, StatusCode::CONFLICT, "survey_closed").await;
    let again = officer(app, Method::POST, "/v1/surveys/delivery/close", None).await;
    problem(again, StatusCode::CONFLICT, "survey_closed").await;
    assert_eq!(results(app, "").await["responses"], 14);
}

/// Results break down by a choice question (groups below k hidden, no free text), charts are
/// drawn on the server with hidden cells drawn as hidden in each language's typography, and
/// the CSV holds aggregates only.
pub(crate) async fn survey_results_break_down_and_chart_without_small_groups(app: TestApp) {
    delivery_survey(&app).await;
    ten_responses(&app).await;
    let v = results(&app, "").await;
    let speed = &v["questions"][0];
    assert_eq!(speed["mean"], json!((4.0 * 5.0 + 5.0 * 4.0 + 1.0) / 10.0));
    assert_eq!(
        speed["histogram"][4],
        json!({"value": 5, "count": null, "suppressed": true}),
        "4 fives is below k"
    );
    // By where it was left: 5 at a locker, 5 at the door (both shown); speeds below k hidden.
    let v = results(&app, "?by=where").await;
    let groups = v["breakdown"]["groups"].as_array().unwrap();
    assert_eq!(
        (&groups[0]["choice"], &groups[0]["count"]),
        (&json!("door"), &json!(5))
    );
    assert_eq!(groups[1]["count"], 5);
    assert_eq!(groups[1]["questions"][0]["histogram"][3]["count"], 5);
    assert_eq!(
        groups[0]["questions"][0]["histogram"][4]["suppressed"],
        true
    );
    let no_text = groups.iter().all(|g| {
        g["questions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|q| q["id"] != "comment")
    });
    assert!(no_text, "no free text in breakdowns");
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
    let chart = async |path: &str| {
        officer(
            &app,
            Method::GET,
            &format!("/v1/surveys/delivery/charts/{path}"),
            None,
        )
        .await
    };
    let r = chart("speed?lang=en").await;
    assert_eq!(
        (r.status(), &r.headers()["content-type"]),
        (StatusCode::OK, &"image/svg+xml".parse().unwrap())
    );
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
    let svg = chart("speed?lang=fr").await.text().await.unwrap();
    assert!(svg.contains("4,10)"), "a decimal comma in French: {svg}");
    assert!(
        svg.contains("moins de 5\u{202f}: masqué"),
        "a narrow space before the colon: {svg}"
    );
    let svg = chart("where?lang=ja").await.text().await.unwrap();
    assert!(
        svg.contains("宅配ロッカー") && !svg.contains(": "),
        "Japanese typography: {svg}"
    );
    let svg = chart("speed?lang=ja").await.text().await.unwrap();
    assert!(svg.contains("（平均 4.10）"), "full-width brackets");
    problem(
        chart("comment").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_question",
    )
    .await;
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
