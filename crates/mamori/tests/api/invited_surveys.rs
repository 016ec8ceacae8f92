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

/// Two invited surveys ("panel" and "other") and an open one; Alice and Bob invited to the
/// panel, Alice to the other too.
struct Panel {
    alice: String,
    bob: String,
    alice_code: String,
    bob_code: String,
    other_code: String,
}

async fn invited_panel(app: &TestApp) -> Panel {
    for slug in ["panel", "other"] {
        let r = officer(
            app,
            Method::POST,
            "/v1/surveys",
            Some(invited_definition(slug)),
        )
        .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(r.json::<Value>().await.unwrap()["access"], "invited");
    }
    let open = officer(
        app,
        Method::POST,
        "/v1/surveys",
        Some(survey_definition("open")),
    )
    .await;
    assert_eq!(open.status(), StatusCode::CREATED);
    let alice = create(app, &customer_without_phone("inv-alice")).await;
    let bob = create(app, &customer_without_phone("inv-bob")).await;
    let sent = invite(app, "panel", &[&alice, &bob]).await;
    let (alice_code, bob_code) = (invitation_code(&sent[0]), invitation_code(&sent[1]));
    let other_code = invitation_code(&invite(app, "other", &[&alice]).await[0]);
    Panel {
        alice,
        bob,
        alice_code,
        bob_code,
        other_code,
    }
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A fresh blinded token request for the panel's issuer.
async fn blinded_request(app: &TestApp) -> String {
    let public = issuer_key(app, "panel").await;
    b64(&mamori_blind::client::request(&public).unwrap().1)
}

/// Invitations go to live people only, each leaving a ledger event about that person; bad
/// invitations, and support's, change nothing (the denial is ledgered); someone whose token
/// went out is not invited again.
pub(crate) async fn invitations_go_to_live_people_and_bad_ones_change_nothing(app: TestApp) {
    let panel = invited_panel(&app).await;
    let carol = create(&app, &customer_without_phone("inv-carol")).await;
    let gone = create(&app, &customer_without_phone("inv-gone")).await;
    let erased = officer(&app, Method::DELETE, &format!("/v1/subjects/{gone}"), None).await;
    assert!(erased.status().is_success());
    let nobody = uuid::Uuid::new_v4().to_string();
    let before = ledger_size(&app).await;
    let sent = invite(&app, "panel", &[&carol, &gone, &nobody]).await;
    assert_eq!(sent[0]["status"], "invited");
    assert_eq!(
        (&sent[1]["reason"], &sent[2]["reason"]),
        (&json!("subject_erased"), &json!("subject_not_found"))
    );
    assert_eq!(actions_since(&app, before).await, ["survey.invite"]);
    let panel_path = "/v1/surveys/panel/invitations";
    let alice = &panel.alice;
    for (body, path, status, code) in [
        (
            json!({"subjects": []}),
            panel_path,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_invitations",
        ),
        (
            json!({"subjects": ["not-a-uuid"]}),
            panel_path,
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
            panel_path,
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ] {
        problem(
            officer(&app, Method::POST, path, Some(body)).await,
            status,
            code,
        )
        .await;
    }
    let by_support = app.as_role(Method::POST, panel_path, "support", "customer_support");
    let by_support = by_support
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
        ["survey.invite"; 2],
        "the denial is ledgered"
    );
    obtain_token(&app, "panel", &panel.alice_code).await;
    assert_eq!(
        invite(&app, "panel", &[alice]).await[0]["reason"],
        "token_issued"
    );
}

/// Issuance writes no ledger event; one token per invitation; unknown codes, other surveys'
/// codes, open surveys and malformed blinded tokens are refused without using an invitation up.
pub(crate) async fn one_token_per_invitation_and_issuance_keeps_nothing(app: TestApp) {
    let panel = invited_panel(&app).await;
    let before = ledger_size(&app).await;
    obtain_token(&app, "panel", &panel.alice_code).await;
    obtain_token(&app, "other", &panel.other_code).await;
    assert!(actions_since(&app, before).await.is_empty());
    let again = blinded_request(&app).await;
    let refused = [
        (
            "panel",
            panel.alice_code.as_str(),
            StatusCode::CONFLICT,
            "token_issued",
        ),
        (
            "panel",
            "made-up-code",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_invitation",
        ),
        (
            "other",
            panel.bob_code.as_str(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_invitation",
        ),
        (
            "open",
            panel.bob_code.as_str(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_invited_survey",
        ),
    ];
    for (slug, code, status, problem_code) in refused {
        problem(
            ask_token(&app, slug, code, &again).await,
            status,
            problem_code,
        )
        .await;
    }
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
    for malformed in ["***".to_string(), b64(&[1u8; 12])] {
        let r = ask_token(&app, "panel", &panel.bob_code, &malformed).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_blinded_token").await;
    }
    // Refusals did not use Bob's invitation up.
    obtain_token(&app, "panel", &panel.bob_code).await;
}

/// An invited survey takes one response per invitation, through a blind-signed token (RFC 9474):
/// no token, another survey's, a forged one and a second use are refused; bad answers keep
/// nothing and leave the token unspent; responses and tokens leave nothing in the ledger.
pub(crate) async fn invited_surveys_take_one_unlinkable_response_each(app: TestApp) {
    let panel = invited_panel(&app).await;
    let (alice, _, _) = obtain_token(&app, "panel", &panel.alice_code).await;
    let (bob, _, _) = obtain_token(&app, "panel", &panel.bob_code).await;
    let (other, _, _) = obtain_token(&app, "other", &panel.other_code).await;
    let survey = app.store.survey("panel").await.unwrap().unwrap();
    let responses = async || app.store.survey_answers(&survey.id).await.unwrap().len();
    let mut forged = alice.to_bytes();
    forged[70] ^= 1;
    let refused = [
        (None, "token_required"),
        (Some(other.to_bytes()), "invalid_token"),
        (Some(forged), "invalid_token"),
        (Some(vec![9u8; 40]), "invalid_token"),
    ];
    for (token, code) in refused {
        let r = respond_with(&app, "panel", token.as_deref()).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    assert_eq!(responses().await, 0);
    let before = ledger_size(&app).await;
    // Redeemed in another order than issued.
    for token in [&bob, &alice] {
        let r = respond_with(&app, "panel", Some(&token.to_bytes())).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    let again = respond_with(&app, "panel", Some(&alice.to_bytes())).await;
    problem(again, StatusCode::CONFLICT, "token_used").await;
    let carol = create(&app, &customer_without_phone("inv-carol")).await;
    let code = invitation_code(&invite(&app, "panel", &[&carol]).await[0]);
    let (carol_token, _, _) = obtain_token(&app, "panel", &code).await;
    let mut bad_answers = json!({"answers": {"speed": 9}, "token": b64(&carol_token.to_bytes())});
    let post = async |body: &Value| {
        app.client
            .post(app.url("/v1/surveys/panel/responses"))
            .json(body)
            .send()
            .await
            .unwrap()
    };
    problem(
        post(&bad_answers).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
    )
    .await;
    bad_answers["answers"] = json!({"speed": 3});
    assert_eq!(post(&bad_answers).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(responses().await, 3);
    let ledgered = actions_since(&app, before).await;
    assert_eq!(
        ledgered,
        ["subject.create", "survey.invite"],
        "responses and tokens leave nothing"
    );
    // The other survey's token still works there; an open survey ignores tokens altogether.
    let r = respond_with(&app, "other", Some(&other.to_bytes())).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        respond_with(&app, "open", None).await.status(),
        StatusCode::NO_CONTENT
    );
}

/// Unlinkable: what is stored about invitations (who, the code's digest, the day, whether the
/// token went out) shares nothing with what is stored about responses (the spent token's
/// digest, a random id, the answers, the day); what the server saw at issuance, the tokens and
/// the codes are stored and logged nowhere.
pub(crate) async fn nothing_links_an_invitation_to_its_response(app: TestApp) {
    let panel = invited_panel(&app).await;
    let (alice, blinded, signature) = obtain_token(&app, "panel", &panel.alice_code).await;
    let (bob, _, _) = obtain_token(&app, "panel", &panel.bob_code).await;
    for token in [&alice, &bob] {
        let r = respond_with(&app, "panel", Some(&token.to_bytes())).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    let invitations = stored_blobs(
        &app,
        "SELECT subject_id, code_digest FROM survey_invitations",
    )
    .await;
    let spent = stored_blobs(&app, "SELECT digest FROM survey_spent_tokens").await;
    let answers = stored_blobs(&app, "SELECT id, coded FROM survey_responses").await;
    assert_eq!(spent.len(), 2);
    for token in [&alice, &bob] {
        assert!(spent.contains(&token.spent_digest().to_vec()));
    }
    for issued in &invitations {
        for redeemed in spent.iter().chain(&answers) {
            assert!(!contains(redeemed, issued) && !contains(issued, redeemed));
        }
    }
    if app.backend == Backend::Sqlite {
        app.ledger.flush().await.unwrap();
        for file in app.sqlite_files() {
            let bytes = std::fs::read(&file).unwrap();
            let secrets = [
                &blinded[..32],
                &signature[..32],
                &alice.message[..],
                &alice.signature[..32],
                &alice.randomizer[..],
            ];
            for secret in secrets {
                assert!(
                    !contains(&bytes, secret),
                    "{} holds issuance or token bytes",
                    file.display()
                );
            }
            assert!(
                !contains(&bytes, panel.alice_code.as_bytes()),
                "the invitation code is stored"
            );
        }
    }
    let logs = String::from_utf8_lossy(&common::captured_logs().lock().unwrap()).to_string();
    assert!(!logs.contains(&panel.alice_code) && !logs.contains(&b64(&alice.to_bytes())));
}

/// Erasing someone removes their invitation; a closed survey issues no tokens.
pub(crate) async fn erasure_and_closing_end_invitations(app: TestApp) {
    let panel = invited_panel(&app).await;
    let invited = async || {
        stored_blobs(&app, "SELECT subject_id FROM survey_invitations")
            .await
            .len()
    };
    let before = invited().await;
    let r = officer(
        &app,
        Method::DELETE,
        &format!("/v1/subjects/{}", panel.bob),
        None,
    )
    .await;
    assert!(r.status().is_success());
    assert_eq!(invited().await, before - 1);
    let blinded = blinded_request(&app).await;
    let close = officer(&app, Method::POST, "/v1/surveys/panel/close", None).await;
    assert_eq!(close.status(), StatusCode::NO_CONTENT);
    let r = ask_token(&app, "panel", &panel.alice_code, &blinded).await;
    problem(r, StatusCode::CONFLICT, "survey_closed").await;
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

fn private_definition() -> Value {
    let mut definition = survey_definition("private");
    definition["results"] = json!("differential_privacy");
    definition["epsilon_budget"] = json!(1.0);
    definition
}

/// The "private" survey (ε budget 1) with 40 responses (8 per rating; 30 at the door, 10 at a
/// locker), straight through the vault (over HTTP one address may send only so many per
/// minute), and an "exact" one.
pub(crate) async fn private_survey_with_forty_responses(app: &TestApp) {
    let r = officer(app, Method::POST, "/v1/surveys", Some(private_definition())).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        r.json::<Value>().await.unwrap()["results"],
        "differential_privacy"
    );
    let exact = officer(
        app,
        Method::POST,
        "/v1/surveys",
        Some(survey_definition("exact")),
    )
    .await;
    assert_eq!(exact.status(), StatusCode::CREATED);
    // Too few answers for a release: refused before any ε is spent.
    let r = release(app, "private", json!({"epsilon": 0.25})).await;
    problem(r, StatusCode::CONFLICT, "too_few_responses").await;
    for i in 0..40 {
        let place = if i < 30 { "door" } else { "locker" };
        let raw = mamori_core::surveys::RawAnswers::from([
            ("speed".to_string(), vec![(1 + i % 5).to_string()]),
            ("where".to_string(), vec![place.to_string()]),
        ]);
        app.vault.respond("private", &raw, None).await.unwrap();
    }
}

async fn releases(app: &TestApp) -> Value {
    officer(app, Method::GET, "/v1/surveys/private/releases", None)
        .await
        .json()
        .await
        .unwrap()
}

/// Bad budgets are refused at creation; a private survey shows no exact results in any form;
/// bad releases change nothing.
pub(crate) async fn private_surveys_show_no_exact_results(app: TestApp) {
    for (results, budget) in [
        ("exact", json!(1.0)),
        ("differential_privacy", json!(0)),
        ("differential_privacy", json!(11)),
    ] {
        let mut bad = private_definition();
        bad["slug"] = json!("bad-budget");
        bad["results"] = json!(results);
        bad["epsilon_budget"] = budget;
        let r = officer(&app, Method::POST, "/v1/surveys", Some(bad)).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_survey").await;
    }
    private_survey_with_forty_responses(&app).await;
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
    let listed = releases(&app).await;
    let untouched = json!({"epsilon_total": 1.0, "epsilon_spent": 0.0, "epsilon_remaining": 1.0});
    assert_eq!(
        (&listed["budget"], &listed["releases"]),
        (&untouched, &json!([]))
    );
    for epsilon in [json!(0), json!(-1), json!(10.5)] {
        let r = release(&app, "private", json!({"epsilon": epsilon})).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_epsilon").await;
    }
    for (slug, body, status, code) in [
        (
            "private",
            json!({"epsilon": "a lot"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            "exact",
            json!({"epsilon": 0.1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_differentially_private",
        ),
        (
            "nope",
            json!({"epsilon": 0.1}),
            StatusCode::NOT_FOUND,
            "survey_not_found",
        ),
    ] {
        problem(release(&app, slug, body).await, status, code).await;
    }
    let by_support = app.as_role(
        Method::POST,
        "/v1/surveys/private/releases",
        "support",
        "customer_support",
    );
    let by_support = by_support
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
    assert_eq!(releases(&app).await["budget"], untouched);
    let r = officer(&app, Method::GET, "/v1/surveys/exact/releases", None).await;
    problem(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_differentially_private",
    )
    .await;
    let r = app
        .client
        .get(app.url("/v1/surveys/private/releases"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

/// Each release adds noise (OpenDP) and spends part of the ε budget, near the truth, without
/// free text; the rest is shown; releases stop when it is spent, and are kept.
pub(crate) async fn private_releases_spend_a_budget_and_stop(app: TestApp) {
    private_survey_with_forty_responses(&app).await;
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
        let histogram = speed["histogram"].as_array().unwrap();
        assert_eq!((&speed["id"], histogram.len()), (&json!("speed"), 5));
        assert!(histogram.iter().all(|c| c["count"].as_i64().unwrap() >= 0));
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
    let released = |r: &Value| -> Vec<i64> {
        let q = r["questions"].as_array().unwrap();
        let cells = q[0]["histogram"]
            .as_array()
            .unwrap()
            .iter()
            .chain(q[2]["choices"].as_array().unwrap());
        cells.map(|c| c["count"].as_i64().unwrap()).collect()
    };
    assert!(
        seen.iter().any(|r| released(r) != [8, 8, 8, 8, 8, 30, 10]),
        "no noise in {seen:?}"
    );
    // Beyond the budget: refused, nothing spent.
    let r = release(&app, "private", json!({"epsilon": 0.2})).await;
    let body = problem(r, StatusCode::CONFLICT, "budget_exhausted").await;
    assert!(body["detail"].as_str().unwrap().contains("0.1"), "{body}");
    assert_eq!(
        release(&app, "private", json!({"epsilon": 0.1}))
            .await
            .status(),
        StatusCode::CREATED
    );
    let r = release(&app, "private", json!({"epsilon": 0.000001})).await;
    problem(r, StatusCode::CONFLICT, "budget_exhausted").await;
    // Releases are kept: reading them again spends nothing.
    let listed = releases(&app).await;
    assert_eq!(listed["releases"].as_array().unwrap().len(), 3);
    assert_eq!(listed["releases"][0], seen[0]);
    assert!(listed["budget"]["epsilon_remaining"].as_f64().unwrap() < 1e-5);
}
