//! Inviting customers to an invited survey from the console: one link per person, shown once;
//! a person already invited with a token, an unknown id or a forged form are told and change
//! nothing; roles that do not manage surveys see no form.

use reqwest::{Method, StatusCode};

use crate::common::TestApp;
use crate::form_csrf;
use crate::requests::officer;
use crate::staff_sign_in::{console_get, signed_in_as};

pub async fn staff_invite_customers_to_a_survey_from_the_console(app: TestApp) {
    let def = crate::invited_surveys::invited_definition("panel");
    let r = officer(&app, Method::POST, "/v1/surveys", Some(def)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let alice = crate::create(&app, &crate::customer_without_phone("cinv-alice")).await;
    let bob = crate::create(&app, &crate::customer_without_phone("cinv-bob")).await;
    let (cookie, _) = signed_in_as(&app, "po@staff.example", "privacy_officer").await;
    let (status, page) = console_get(&app, &cookie, "/console/surveys/panel?lang=ja").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("お客様を招待") && page.contains("id=\"invite-subjects\""),
        "{page}"
    );
    let ghost = uuid::Uuid::new_v4().to_string();
    let subjects = format!("{alice}\n{bob}, {ghost}");
    let post = |form: Vec<(&'static str, String)>| {
        (reqwest::Client::new().post(app.url("/console/surveys/panel/invitations")))
            .header("cookie", format!("mamori_staff={cookie}"))
            .form(&form)
            .send()
    };
    let csrf = form_csrf(&page);
    let r = post(vec![
        ("csrf", csrf.clone()),
        ("lang", "en".into()),
        ("subjects", subjects),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert_eq!(
        page.matches("class=\"invitation-link\"").count(),
        2,
        "{page}"
    );
    assert!(
        page.contains("/survey/panel#invitation=") && page.contains("no such customer"),
        "{page}"
    );
    // The links are shown once: the vault keeps only their digests.
    let code = crate::between(&page, "#invitation=", "<").to_string();
    // The console's link works: it obtains the person's one token.
    crate::invited_surveys::obtain_token(&app, "panel", &code).await;
    let again = post(vec![
        ("csrf", csrf.clone()),
        ("lang", "fr".into()),
        ("subjects", alice.clone()),
    ])
    .await
    .unwrap();
    let page = again.text().await.unwrap();
    assert!(
        page.contains("a déjà répondu ou détient un jeton"),
        "{page}"
    );
    for (csrf, subjects) in [
        ("forged".to_string(), alice.clone()),
        (csrf.clone(), "not-an-id".to_string()),
        (csrf.clone(), String::new()),
    ] {
        let r = post(vec![
            ("csrf", csrf),
            ("lang", "en".into()),
            ("subjects", subjects),
        ])
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!r.text().await.unwrap().contains("invitation-link"));
    }
    let (support, _) = signed_in_as(&app, "an@staff.example", "analyst").await;
    let (_, page) = console_get(&app, &support, "/console/surveys/panel").await;
    assert!(
        !page.contains("id=\"invite-subjects\""),
        "analysts read results, they do not invite"
    );
}
