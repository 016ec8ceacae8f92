//! "My data" lists records by kind, newest first, and pages through them all: the newest of each
//! kind on the page, then every record of a kind, twenty at a time, each page read as the person
//! and ledgered; a made-up kind or cursor is refused.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::TestApp;

fn order_numbers(html: &str) -> Vec<String> {
    html.split("<dd>K-")
        .skip(1)
        .map(|rest| format!("K-{}", rest.split('<').next().unwrap()))
        .collect()
}

pub async fn records_are_listed_by_kind_newest_first_a_page_at_a_time(app: TestApp) {
    let id = crate::create(&app, &crate::customer_without_phone("pager")).await;
    for n in 1..=25 {
        let order = json!({"category": "orders", "data": {"order_number": format!("K-{n}"), "total": n, "currency": "EUR"}});
        let path = format!("/v1/subjects/{id}/records");
        let r = app
            .as_role(Method::POST, &path, "service", "order_fulfilment")
            .json(&order)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let (client, jar, _) = crate::signed_in_browser(&app, "ada.pager@example.com").await;
    let get = |path: String| {
        let request = client.get(app.url(&path)).header("cookie", &jar);
        async move { request.send().await.unwrap() }
    };
    let me = get("/privacy/me?lang=en".into())
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(order_numbers(&me).len(), 20, "the newest twenty on My data");
    assert!(me.contains("id=\"older-orders\""), "{me}");
    assert!(
        me.contains("/privacy/me/records?kind=orders&amp;lang=en"),
        "{me}"
    );

    let before = crate::ledger_size(&app).await;
    let first = get("/privacy/me/records?kind=orders&lang=en".into()).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["cache-control"], "no-store");
    let first = first.text().await.unwrap();
    let page_one = order_numbers(&first);
    assert_eq!(page_one.len(), 20);
    assert_eq!(page_one[0], "K-25", "newest first");
    let older = first
        .split("id=\"older\"><a href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link to older records")
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    let second = get(older).await.text().await.unwrap();
    let page_two = order_numbers(&second);
    assert_eq!(page_two.len(), 5);
    assert_eq!(page_two.last().map(String::as_str), Some("K-1"));
    assert!(!second.contains("id=\"older\""), "the last page");
    assert!(
        page_one.iter().all(|n| !page_two.contains(n)),
        "no record twice"
    );
    assert_eq!(
        crate::ledger_size(&app).await,
        before + 2,
        "each page ledgered"
    );

    for (path, status, code) in [
        (
            "/privacy/me/records?kind=passwords",
            StatusCode::NOT_FOUND,
            "unknown_kind",
        ),
        ("/privacy/me/records", StatusCode::NOT_FOUND, "unknown_kind"),
        (
            "/privacy/me/records?kind=orders&before=yesterday",
            StatusCode::BAD_REQUEST,
            "invalid_cursor",
        ),
    ] {
        crate::problem(get(path.into()).await, status, code).await;
    }
    let anonymous = client
        .get(app.url("/privacy/me/records?kind=orders"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER, "sign in first");
}
