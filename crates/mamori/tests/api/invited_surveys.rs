//! Invited surveys (one unlinkable response per invitation, by blind signature) and
//! differentially private releases.

use super::*;
use surveys::stored_blobs;

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
