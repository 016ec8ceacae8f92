//! The console's customer lookup: one customer by e-mail, phone or external id for a purpose the
//! role may use; the view is purpose-scoped and masked as over the API; refusals say their reason;
//! lookups and views are ledgered as the member of staff in their role.

use std::time::Duration;

use reqwest::StatusCode;

use crate::common::TestApp;
use crate::staff::now_seconds;
use crate::staff_sign_in::{console_get, enrol, sign_in, staff_events};
use crate::{create, customer, form_csrf};

/// Posts the lookup form in this session: status and page.
async fn find(app: &TestApp, cookie: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let (_, page) = console_get(app, cookie, "/console/customers").await;
    let csrf = form_csrf(&page);
    let mut fields = vec![("csrf", csrf.as_str())];
    fields.extend_from_slice(form);
    let r = (reqwest::Client::new().post(app.url("/console/customers")))
        .header("cookie", format!("mamori_staff={cookie}"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

pub async fn staff_find_one_customer_for_a_purpose_in_the_console(app: TestApp) {
    let id = create(&app, &customer("console")).await;
    let ana = enrol(&app, "ana.support@example.com", "support").await;
    app.clock.advance(Duration::from_secs(30));
    let code = ana.secret.code_at(now_seconds(&app));
    let cookie = sign_in(&app, &ana.email, &ana.password, &code)
        .await
        .1
        .unwrap();
    let (status, page) = console_get(&app, &cookie, "/console/customers?lang=ja").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("カスタマーサポート") || page.contains("option value=\"customer_support\""),
        "{page}"
    );
    assert!(
        !page.contains("value=\"marketing_email\""),
        "only the role's purposes are offered"
    );

    let by_email = [
        ("kind", "email"),
        ("value", "ADA.console@example.com"),
        ("purpose", "customer_support"),
    ];
    let (status, page) = find(&app, &cookie, &by_email).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(&id) && page.contains("Ada console"), "{page}");
    // Masked for support as over the API: the card's last digits, the phone's last four.
    assert!(
        page.contains("4242") && !page.contains("+44 20 7946 0123"),
        "{page}"
    );
    let by_external = [
        ("kind", "external_id"),
        ("value", "ext-console"),
        ("purpose", "order_fulfilment"),
    ];
    let (status, page) = find(&app, &cookie, &by_external).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&id), "{page}");

    for (form, expected, words) in [
        (
            [
                ("kind", "email"),
                ("value", "ada.console@example.com"),
                ("purpose", "marketing_email"),
            ],
            StatusCode::FORBIDDEN,
            "purpose_not_allowed_for_role",
        ),
        (
            [
                ("kind", "email"),
                ("value", "nobody@example.com"),
                ("purpose", "customer_support"),
            ],
            StatusCode::NOT_FOUND,
            "No customer matches.",
        ),
        (
            [
                ("kind", "phone"),
                ("value", "not a phone"),
                ("purpose", "customer_support"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            "not a valid value",
        ),
    ] {
        let (status, page) = find(&app, &cookie, &form).await;
        assert_eq!(status, expected, "{page}");
        assert!(
            page.contains(words) && !page.contains("not a phone"),
            "{words}: {page}"
        );
    }
    let r = (reqwest::Client::new().post(app.url("/console/customers")))
        .header("cookie", format!("mamori_staff={cookie}"))
        .form(&[
            ("csrf", "forged"),
            ("kind", "email"),
            ("value", "ada.console@example.com"),
            ("purpose", "customer_support"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let events = staff_events(&app).await;
    for (action, outcome) in [
        ("subject.lookup", "allowed"),
        ("subject.read", "allowed"),
        ("subject.lookup", "purpose_not_allowed_for_role"),
    ] {
        let found = events.iter().any(|(a, o)| a == action && o == outcome);
        assert!(found, "{action} {outcome}: {events:?}");
    }
}
