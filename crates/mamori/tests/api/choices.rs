//! "My choices" and Global Privacy Control: a browser sending `Sec-GPC: 1` is opted out of sale
//! and sharing on any privacy-center page (recorded with source `gpc`, entered in the register),
//! the page says so and marks what the signal turned off, and a use the person turns on again
//! there afterwards stays on.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::TestApp;

pub async fn gpc_in_the_privacy_center_is_honoured_and_a_later_own_choice_stands(app: TestApp) {
    let person = crate::customer_without_phone("gpc-center");
    let id = crate::create(&app, &person).await;
    let grant = json!({"purpose": "partner_sharing", "channel": "email", "granted": true});
    let r = crate::consent(&app, &id, "service", grant).await;
    assert_eq!(r.status(), StatusCode::OK);
    let (client, jar, csrf) = crate::signed_in_browser(&app, "ada.gpc-center@example.com").await;
    let page = |gpc: bool| {
        let mut request = client
            .get(app.url("/privacy/choices"))
            .header("cookie", &jar);
        if gpc {
            request = request.header("Sec-GPC", "1");
        }
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let html = page(false).await;
    assert!(!html.contains("id=\"gpc\""), "{html}");
    assert!(
        html.contains("you allow it for Sharing with partner brands"),
        "{html}"
    );

    let html = page(true).await;
    assert!(html.contains("id=\"gpc\""), "{html}");
    assert!(
        html.contains("E-mail: Off (Global Privacy Control)"),
        "{html}"
    );
    assert!(html.contains("Current state: opted out."), "{html}");
    let check = "purpose=partner_sharing&channel=email";
    let v: serde_json::Value = crate::consent_check_as(&app, "service", &id, check)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["allowed"], false);
    let requests = crate::officer(
        &app,
        reqwest::Method::GET,
        &format!("/v1/requests?subject={id}&state=fulfilled"),
        None,
    )
    .await;
    let requests: serde_json::Value = requests.json().await.unwrap();
    assert!(
        requests["requests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "opt_out_of_sale"),
        "{requests}"
    );

    // The person turns sharing on again, with the signal still on: it stays on.
    let form = [
        ("purpose", "partner_sharing"),
        ("channel", "email"),
        ("granted", "true"),
        ("csrf", csrf.as_str()),
        ("lang", "en"),
    ];
    let r = client
        .post(app.url("/privacy/choices"))
        .header("cookie", &jar)
        .header("Sec-GPC", "1")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = page(true).await;
    assert!(
        html.contains("you allow it for Sharing with partner brands"),
        "{html}"
    );
    let v: serde_json::Value = crate::consent_check_as(&app, "service", &id, check)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["allowed"], true, "the person's own later choice stands");
}
