//! The console's ledger for auditors: "who on our staff looked at customer X, when, for what" is
//! one filter; other roles are refused; a malformed filter changes nothing. Also a private
//! survey's budget and releases (the other audit-like page).

use reqwest::StatusCode;

use crate::common::TestApp;
use crate::staff_sign_in::{console_get, signed_in_as};
use crate::{create, customer, form_csrf};

pub async fn auditors_see_which_staff_accessed_a_customer(app: TestApp) {
    let id = create(&app, &customer("audited")).await;
    let support = signed_in_as(&app, "sam.audited@example.com", "support")
        .await
        .0;
    let (_, page) = console_get(&app, &support, "/console/customers").await;
    for purpose in ["customer_support", "marketing_email"] {
        let form = [
            ("csrf", form_csrf(&page)),
            ("kind", "external_id".into()),
            ("value", "ext-audited".into()),
            ("purpose", purpose.into()),
        ];
        (reqwest::Client::new().post(app.url("/console/customers")))
            .header("cookie", format!("mamori_staff={support}"))
            .form(&form)
            .send()
            .await
            .unwrap();
    }
    let (status, page) = console_get(&app, &support, "/console/ledger").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "support has no audit permission"
    );
    assert!(page.contains("permission_not_granted"), "{page}");

    let officer = signed_in_as(&app, "ola.auditor@example.com", "privacy_officer")
        .await
        .0;
    let path = format!("/console/ledger?lang=ja&subject={id}&actor=staff:");
    let (status, page) = console_get(&app, &officer, &path).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("subject.read") && page.contains(">support<"),
        "{page}"
    );
    assert!(
        page.contains("customer_support") && page.contains("id=\"signed-head\""),
        "{page}"
    );
    assert!(
        !page.contains("sam.audited"),
        "staff are named by id, the ledger holds no address"
    );
    // The refused lookup named no one (it was refused before the search): by actor, denied.
    let denied = "/console/ledger?actor=staff:&outcome=denied".to_string();
    let (_, page) = console_get(&app, &officer, &denied).await;
    assert!(
        page.contains("purpose_not_allowed_for_role") && !page.contains("subject.read"),
        "{page}"
    );
    let (_, page) = console_get(
        &app,
        &officer,
        "/console/ledger?actor=staff:&outcome=allowed",
    )
    .await;
    assert!(
        page.contains("staff.sign_in") && page.contains("ledger.read"),
        "{page}"
    );
    // By time: today's events are there; none before yesterday.
    let today = &mamori_core::format_time(app.vault.now_ms())[..10];
    let (_, page) = console_get(
        &app,
        &officer,
        &format!("/console/ledger?from={today}&to={today}"),
    )
    .await;
    assert!(page.contains("staff.sign_in"), "{page}");
    let (_, page) = console_get(
        &app,
        &officer,
        "/console/ledger?from=2001-01-01&to=2001-01-02",
    )
    .await;
    assert!(
        !page.contains("staff.sign_in") && !page.contains("class=\"proof-link\""),
        "{page}"
    );
    for bad in ["subject=not-an-id", "from=yesterday", "to=2026-02-30"] {
        let (status, _) = console_get(&app, &officer, &format!("/console/ledger?{bad}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}

/// Survey results in the console: the API's charts (cells below k hidden) and the scrubbed free
/// text, for roles granted `surveys = ["results"]`; others are refused.
pub async fn staff_read_survey_results_in_the_console(app: TestApp) {
    crate::surveys::delivery_survey(&app).await;
    let canary = crate::surveys::ten_responses(&app).await;
    let analyst = signed_in_as(&app, "ana.lyst@example.com", "analyst")
        .await
        .0;
    let (status, list) = console_get(&app, &analyst, "/console/surveys?lang=fr").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("/console/surveys/delivery"), "{list}");
    let (status, page) = console_get(&app, &analyst, "/console/surveys/delivery?lang=fr").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        page.matches("<svg").count(),
        4,
        "a chart per question but the text one"
    );
    assert!(page.contains("aria-labelledby=\"chart-speed\"") && !page.contains("id=\"t\""));
    assert!(
        page.contains("masqué"),
        "the door group of one is hidden: {page}"
    );
    assert!(
        page.contains("<li>ok</li>") && !page.contains(&canary),
        "scrubbed text: {page}"
    );
    let (status, _) = console_get(&app, &analyst, "/console/surveys/no-such-survey").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = console_get(&app, &analyst, "/console/requests/not-an-id").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let support = signed_in_as(&app, "sue.port@example.com", "support")
        .await
        .0;
    let (status, page) = console_get(&app, &support, "/console/surveys/delivery").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("action_not_allowed_for_role"), "{page}");
}

/// An event's inclusion proof, checked by the page and again here from the hashes it shows;
/// a kept head's consistency, true for the real root and false for another; bad input refused.
pub async fn auditors_check_an_events_proof_and_a_kept_head(app: TestApp) {
    let officer = signed_in_as(&app, "ines.auditor@example.com", "privacy_officer")
        .await
        .0;
    app.vault.flush_ledger().await.unwrap();
    let (_, page) = console_get(&app, &officer, "/console/ledger").await;
    let leaf = crate::between(&page, "class=\"proof-link\"", "</a>");
    let leaf: u64 = leaf.rsplit('>').next().unwrap().parse().unwrap();
    let (status, page) = console_get(&app, &officer, &format!("/console/ledger/{leaf}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("the signature and the proof check"), "{page}");
    let hash =
        |id: &str| hex::decode(crate::between(&page, &format!("id=\"{id}\">"), "<")).unwrap();
    let size: u64 = crate::between(&page, "id=\"head-size\">", "<")
        .parse()
        .unwrap();
    let path: Vec<Vec<u8>> = crate::between(&page, "id=\"audit-path\">", "</ol>")
        .split("<code>")
        .skip(1)
        .map(|h| hex::decode(h.split('<').next().unwrap()).unwrap())
        .collect();
    let (leaf_hash, root) = (hash("leaf-hash"), hash("head-root"));
    mamori_ledger::verify_inclusion(leaf, size, &leaf_hash, &path, &root).unwrap();
    // Keep that head; more happens; the ledger still extends it — and not another root.
    let kept = (size, hex::encode(&root));
    create(&app, &customer("later")).await;
    app.vault.flush_ledger().await.unwrap();
    let check = |root: &str| format!("/console/ledger/consistency?size={}&root={root}", kept.0);
    let (status, page) = console_get(&app, &officer, &check(&kept.1)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("The ledger extends that head"), "{page}");
    let forged = format!(
        "{}{}",
        if kept.1.starts_with('0') { "1" } else { "0" },
        &kept.1[1..]
    );
    let (_, page) = console_get(&app, &officer, &check(&forged)).await;
    assert!(page.contains("does NOT extend that head"), "{page}");
    for (path, expected) in [
        (
            "/console/ledger/consistency?size=abc&root=00".to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            format!("/console/ledger/consistency?size=999999&root={}", kept.1),
            StatusCode::NOT_FOUND,
        ),
        ("/console/ledger/999999".to_string(), StatusCode::NOT_FOUND),
        (
            "/console/ledger/not-a-number".to_string(),
            StatusCode::NOT_FOUND,
        ),
    ] {
        assert_eq!(
            console_get(&app, &officer, &path).await.0,
            expected,
            "{path}"
        );
    }
    let support = signed_in_as(&app, "sid.support@example.com", "support")
        .await
        .0;
    let (status, _) = console_get(&app, &support, &format!("/console/ledger/{leaf}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// "Verify now": the whole ledger checked in the background, its verdict on the page; only
/// for auditors, only with the page's form token.
pub async fn auditors_verify_the_whole_ledger_from_the_console(app: TestApp) {
    let officer = signed_in_as(&app, "vera.auditor@example.com", "privacy_officer")
        .await
        .0;
    app.vault.flush_ledger().await.unwrap();
    let (status, page) = console_get(&app, &officer, "/console/ledger/verify").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"verify-never\""), "{page}");
    let post = |csrf: String| {
        let form = [("csrf", csrf)];
        (reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap())
        .post(app.url("/console/ledger/verify"))
        .header("cookie", format!("mamori_staff={officer}"))
        .form(&form)
        .send()
    };
    assert_eq!(
        post("forged".into()).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(form_csrf(&page)).await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let mut page = String::new();
    for _ in 0..200 {
        page = console_get(&app, &officer, "/console/ledger/verify")
            .await
            .1;
        if page.contains("id=\"verify-result\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(page.contains("The whole ledger verifies."), "{page}");
    let support = signed_in_as(&app, "vic.support@example.com", "support")
        .await
        .0;
    let (status, _) = console_get(&app, &support, "/console/ledger/verify").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// A differentially private survey in the console: no exact results, its ε budget and its
/// releases instead.
pub async fn staff_see_a_private_surveys_budget_and_releases(app: TestApp) {
    crate::invited_surveys::private_survey_with_forty_responses(&app).await;
    let officer = signed_in_as(&app, "pia.officer@example.com", "privacy_officer")
        .await
        .0;
    let (status, page) = console_get(&app, &officer, "/console/surveys/private").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("id=\"withheld\"") && page.contains("id=\"no-release\""),
        "{page}"
    );
    let made =
        crate::invited_surveys::release(&app, "private", serde_json::json!({"epsilon": 0.25}))
            .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let (_, page) = console_get(&app, &officer, "/console/surveys/private?lang=fr").await;
    let shown = |id: &str| crate::between(&page, &format!("id=\"{id}\">"), "<").to_string();
    assert_eq!(
        (shown("dp-total"), shown("dp-spent"), shown("dp-remaining")),
        ("1.000".into(), "0.250".into(), "0.750".into())
    );
    assert_eq!(
        page.matches("<td data-label=\"ε\">0.250</td>").count(),
        1,
        "{page}"
    );
}

/// A release made from the console spends the ε typed, shows the new numbers; a bad ε, one
/// beyond the budget or a forged form spends nothing; a role without `manage` has no form.
pub async fn staff_make_a_private_release_from_the_console(app: TestApp) {
    crate::invited_surveys::private_survey_with_forty_responses(&app).await;
    let officer = signed_in_as(&app, "rel.officer@example.com", "privacy_officer")
        .await
        .0;
    let post = async |epsilon: &str, forged: bool| {
        let (_, page) = console_get(&app, &officer, "/console/surveys/private").await;
        let csrf = if forged {
            "forged".to_string()
        } else {
            crate::form_csrf(&page)
        };
        let form = [
            ("csrf", csrf.as_str()),
            ("epsilon", epsilon),
            ("lang", "ja"),
        ];
        let r = (reqwest::Client::new().post(app.url("/console/surveys/private/release")))
            .header("cookie", format!("mamori_staff={officer}"))
            .form(&form)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    };
    for (epsilon, forged) in [
        ("abc", false),
        ("-1", false),
        ("NaN", false),
        ("5", false),
        ("0.5", true),
    ] {
        let (status, page) = post(epsilon, forged).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{epsilon}");
        assert!(page.contains("id=\"error\""), "{epsilon}: {page}");
    }
    let (_, page) = console_get(&app, &officer, "/console/surveys/private").await;
    assert!(
        page.contains("id=\"no-release\"") && page.contains("id=\"release\""),
        "nothing spent"
    );
    let (status, page) = post("0.4", false).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("公開しました") && page.contains("id=\"dp-latest\""),
        "{page}"
    );
    assert!(page.contains("id=\"dp-remaining\">0.600<"), "{page}");
    let (status, page) = post("0.7", false).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("予算が残っていません"), "{page}");

    let support = signed_in_as(&app, "rel.support@example.com", "support")
        .await
        .0;
    let (_, page) = console_get(&app, &support, "/console/surveys/private").await;
    assert!(
        !page.contains("id=\"release\""),
        "no release form without surveys = [\"manage\"]"
    );
}

/// A survey created from its pasted definition and closed from the console; a definition that is
/// not one, too long or taken changes nothing; roles without `manage` get no forms.
pub async fn staff_create_and_close_a_survey_in_the_console(app: TestApp) {
    let officer = signed_in_as(&app, "surv.officer@example.com", "privacy_officer")
        .await
        .0;
    let post = async |path: &str, form: &[(&str, &str)]| {
        let (_, page) = console_get(&app, &officer, "/console/surveys").await;
        let csrf = crate::form_csrf(&page);
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend_from_slice(form);
        let r = (reqwest::Client::new().post(app.url(path)))
            .header("cookie", format!("mamori_staff={officer}"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    };
    let definition = include_str!("../../../../examples/survey.toml")
        .replace("slug = \"how-we-use-your-data\"", "slug = \"console-made\"");
    let huge = "#".repeat(70_000);
    for bad in ["not a survey", huge.as_str()] {
        let (status, page) = post("/console/surveys", &[("definition", bad)]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("id=\"error\""), "{page}");
    }
    let (status, page) = post(
        "/console/surveys",
        &[("definition", &definition), ("lang", "ja")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("アンケートを作成しました") && page.contains("console-made"),
        "{page}"
    );
    let (status, _) = post("/console/surveys", &[("definition", &definition)]).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the slug is taken"
    );
    let today = app.vault.now_ms().div_euclid(86_400_000);
    assert!(
        app.vault
            .survey("console-made")
            .await
            .unwrap()
            .is_open(today)
    );
    let (status, _) = post("/console/surveys/console-made/close", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !app.vault
            .survey("console-made")
            .await
            .unwrap()
            .is_open(today),
        "closed"
    );

    let support = signed_in_as(&app, "surv.support@example.com", "support")
        .await
        .0;
    let (_, page) = console_get(&app, &support, "/console/surveys").await;
    assert!(
        !page.contains("id=\"create-survey\"") && !page.contains("close-survey"),
        "{page}"
    );
}
