//! Time moved forward by the vault's clock rather than waited for: codes, sessions and
//! unsubscribe links (`audience.rs`) expire when their time is up, and not before.

use super::*;
use crate::signin::signed_in_browser;

const MINUTE: std::time::Duration = std::time::Duration::from_secs(60);

pub(crate) async fn sign_in_codes_expire_after_ten_minutes(app: TestApp) {
    create(&app, &customer("code")).await;
    let email = "ada.code@example.com";
    let early = app.vault.start_sign_in(email).await.unwrap();
    app.clock.advance(9 * MINUTE);
    let (_, subject) = app
        .vault
        .finish_sign_in(&early.challenge, &early.code.unwrap())
        .await
        .unwrap()
        .expect("nine minutes on, the code still works");
    assert_eq!(subject.len(), 16);

    let late = app.vault.start_sign_in(email).await.unwrap();
    app.clock.advance(11 * MINUTE);
    let refused = app
        .vault
        .finish_sign_in(&late.challenge, &late.code.unwrap())
        .await
        .unwrap();
    assert_eq!(refused, Err(mamori_core::signin::CodeRefused::Expired));
}

pub(crate) async fn sessions_end_thirty_minutes_after_sign_in(app: TestApp) {
    create(&app, &customer("session")).await;
    let email = "ada.session@example.com";
    let (client, jar, _) = signed_in_browser(&app, email).await;
    let my_data = || {
        client
            .get(app.url("/privacy/me"))
            .header("cookie", jar.clone())
            .send()
    };
    app.clock.advance(29 * MINUTE);
    assert_eq!(my_data().await.unwrap().status(), StatusCode::OK);
    app.clock.advance(2 * MINUTE);
    let after = my_data().await.unwrap();
    assert_eq!(after.status(), StatusCode::SEE_OTHER, "signed out");
    let to = after.headers()["location"].to_str().unwrap();
    assert!(to.starts_with("/privacy/sign-in"), "{to}");
}
