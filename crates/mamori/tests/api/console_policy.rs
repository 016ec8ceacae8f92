//! The console's policy page: published versions, what changed between two of them (in the
//! page's language), and publishing the policy in force — a sensitive step, for roles with
//! `admin = ["policy"]` only.

use std::time::Duration;

use reqwest::StatusCode;

use crate::common::{POLICY, TestApp};
use crate::form_csrf;
use crate::staff::now_seconds;
use crate::staff_sign_in::{console_get, signed_in_as};

async fn publish(app: &TestApp, cookie: &str, code: &str) -> (StatusCode, String) {
    let (_, page) = console_get(app, cookie, "/console/admin/policy").await;
    let form = [("csrf", form_csrf(&page)), ("code", code.to_string())];
    let r = (reqwest::Client::new().post(app.url("/console/admin/policy/publish")))
        .header("cookie", format!("mamori_staff={cookie}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

pub async fn officers_compare_policy_versions_and_publish_from_the_console(app: TestApp) {
    let (cookie, officer) = signed_in_as(&app, "po@staff.example", "privacy_officer").await;
    let (status, page) = console_get(&app, &cookie, "/console/admin/policy").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Nothing has been published yet"), "{page}");
    // Six minutes after sign-in, publishing asks for a fresh code first; then it publishes v1.
    app.clock.advance(Duration::from_secs(6 * 60));
    let (status, page) = publish(&app, &cookie, "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("reauthentication_required"), "{page}");
    assert!(app.vault.current_notice_version().await.unwrap().is_none());
    let code = officer.secret.code_at(now_seconds(&app));
    let (status, page) = publish(&app, &cookie, &code).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("Published.") && page.contains(">v1<"),
        "{page}"
    );
    assert!(page.contains("is the latest published version"), "{page}");
    assert!(
        !page.contains("/console/admin/policy/publish"),
        "nothing left to publish"
    );
    assert_eq!(
        app.vault.current_notice_version().await.unwrap().as_deref(),
        Some("v1")
    );

    // Another process publishes a wider policy: the page compares any two versions, in Japanese.
    let wider = POLICY.replacen(
        r#"categories = ["contact", "preferences"]"#,
        r#"categories = ["contact", "preferences", "orders"]"#,
        1,
    );
    crate::consents::publish(&app, &wider).await;
    let (status, page) =
        console_get(&app, &cookie, "/console/admin/policy?lang=ja&from=1&to=2").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("「orders」も使うようになります") && page.contains(">拡大<"),
        "{page}"
    );
    // By default: the latest version against the policy in force, which narrows it back.
    let (_, page) = console_get(&app, &cookie, "/console/admin/policy?lang=fr").await;
    assert!(
        page.contains("n’utilise plus «\u{a0}orders\u{a0}»"),
        "{page}"
    );
    assert!(
        page.contains("/console/admin/policy/publish"),
        "in force differs: {page}"
    );

    for bad in ["from=99", "to=v0", "from=abc", "from=-1&to=1"] {
        let (status, page) =
            console_get(&app, &cookie, &format!("/console/admin/policy?{bad}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(
            page.contains("No published version has this number"),
            "{bad}: {page}"
        );
    }
    let (support, _) = signed_in_as(&app, "sup@staff.example", "support").await;
    let (status, page) = console_get(&app, &support, "/console/admin/policy").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("permission_not_granted"), "{page}");
    let (status, _) = publish(&app, &support, "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.vault.current_notice_version().await.unwrap().as_deref(),
        Some("v2")
    );
}
