//! Staff passkeys over HTTP, with webauthn-rs's software authenticator as the browser's
//! authenticator: enrolment with a passkey instead of the app, sign-in with the passkey alone,
//! replays and clones refused and ledgered, re-authentication before a sensitive step, and the
//! ceremony endpoints' bad input. The authenticator keeps no resident keys, so the test names
//! the credential and fills in the user handle as a browser holding a discoverable passkey does.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs_proto::{CreationChallengeResponse, PublicKeyCredential, RequestChallengeResponse};

use crate::common::TestApp;
use crate::staff_sign_in::{console_get, staff_events};
use crate::{between, cookie_value, form_csrf, set_cookie};

/// A member of staff holding a passkey.
pub struct Holder {
    pub key: SoftPasskey,
    pub credential: String,
    pub user_handle: Vec<u8>,
}

/// Where the browser is: passkeys for a loopback server belong to `localhost`.
fn origin(app: &TestApp) -> url::Url {
    url::Url::parse(&app.base.replace("127.0.0.1", "localhost")).unwrap()
}

/// A page before sign-in: its pre-session cookie header and form token.
async fn open(app: &TestApp, path: &str) -> (String, String, String) {
    let r = app.client.get(app.url(path)).send().await.unwrap();
    let cookie = cookie_value(&set_cookie(&r, "mamori_console_csrf").unwrap());
    let page = r.text().await.unwrap();
    (
        format!("mamori_console_csrf={cookie}"),
        form_csrf(&page),
        page,
    )
}

async fn ceremony(
    app: &TestApp,
    kind: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let r = (app
        .client
        .post(app.url(&format!("/console/passkeys/{kind}"))))
    .header("cookie", cookie)
    .form(form)
    .send()
    .await
    .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

/// Invites `email` and enrols them with a password and a passkey.
pub async fn enrol_with_passkey(app: &TestApp, email: &str, role: &str) -> Holder {
    let officer = mamori_core::Actor {
        id: "test:officer".into(),
        role: "privacy_officer".into(),
    };
    let invited = app.vault.invite_staff(&officer, email, role).await.unwrap();
    let path = format!("/console/enrol?token={}", invited.token);
    let (cookie, csrf, page) = open(app, &path).await;
    assert!(
        page.contains("data-passkey=\"enrol\""),
        "the enrolment page offers a passkey"
    );
    let form = [("csrf", csrf.as_str()), ("link", invited.token.as_str())];
    let (status, started) = ceremony(app, "enrol", &cookie, &form).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let (holder, answer) = create_passkey(app, &started);
    let password = format!("the password of {email}");
    let form = [
        ("csrf", csrf.as_str()),
        ("token", invited.token.as_str()),
        ("password", password.as_str()),
        ("confirm", password.as_str()),
        ("passkey_token", started["token"].as_str().unwrap()),
        ("passkey_answer", answer.as_str()),
    ];
    let r = (app.client.post(app.url("/console/enrol")))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("recovery-codes"));
    holder
}

/// A new passkey for a registration ceremony's options: the holder and the browser's answer.
fn create_passkey(app: &TestApp, started: &Value) -> (Holder, String) {
    let selection = &started["options"]["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required");
    assert_eq!(selection["userVerification"], "required");
    let user_handle = URL_SAFE_NO_PAD
        .decode(
            started["options"]["publicKey"]["user"]["id"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let mut options: CreationChallengeResponse =
        serde_json::from_value(started["options"].clone()).unwrap();
    let selection = options.public_key.authenticator_selection.as_mut().unwrap();
    (selection.require_resident_key, selection.resident_key) = (false, None);
    let mut key = SoftPasskey::new(true);
    let created = key.do_registration(origin(app), options).unwrap();
    let answer = serde_json::to_string(&created).unwrap();
    let holder = Holder {
        key,
        credential: created.id,
        user_handle,
    };
    (holder, answer)
}

/// The key's answer to a sign-in ceremony: (page's cookie and token, ceremony token, answer).
pub async fn passkey_answer(app: &TestApp, who: &mut Holder, at: &url::Url) -> [String; 4] {
    let (cookie, csrf, _) = open(app, "/console/sign-in").await;
    let (status, started) = ceremony(app, "sign-in", &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let mut options = started["options"].clone();
    options["publicKey"]["allowCredentials"] =
        json!([{"type": "public-key", "id": who.credential}]);
    let options: RequestChallengeResponse = serde_json::from_value(options).unwrap();
    let mut asserted: PublicKeyCredential = who.key.do_authentication(at.clone(), options).unwrap();
    asserted.response.user_handle = Some(who.user_handle.clone());
    let answer = serde_json::to_string(&asserted).unwrap();
    let token = started["token"].as_str().unwrap().to_string();
    [cookie, csrf, token, answer]
}

/// Posts a passkey answer to the sign-in form: the status and the session cookie, if any.
pub async fn post_sign_in(app: &TestApp, answer: &[String; 4]) -> (StatusCode, Option<String>) {
    let [cookie, csrf, token, answer] = answer;
    let form = [
        ("csrf", csrf),
        ("passkey_token", token),
        ("passkey_answer", answer),
    ];
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = (client.post(app.url("/console/sign-in")))
        .header("cookie", cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    let session = set_cookie(&r, "mamori_staff").map(|c| cookie_value(&c));
    (r.status(), session)
}

pub async fn staff_enrol_and_sign_in_with_a_passkey_alone(app: TestApp) {
    let mut who = enrol_with_passkey(&app, "kenji@staff.example", "privacy_officer").await;
    let at = origin(&app);
    let answer = passkey_answer(&app, &mut who, &at).await;
    let (status, session) = post_sign_in(&app, &answer).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, home) = console_get(&app, &session.unwrap(), "/console").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("kenji@staff.example"));
    // The same answer again finds its ceremony taken: a replay, on their account.
    let (status, again) = post_sign_in(&app, &answer).await;
    assert_eq!((status, again), (StatusCode::UNAUTHORIZED, None));
    // An answer to one ceremony posted with another's token signed another challenge.
    let (first, second) = (
        passkey_answer(&app, &mut who, &at).await,
        passkey_answer(&app, &mut who, &at).await,
    );
    let crossed = [
        first[0].clone(),
        first[1].clone(),
        first[2].clone(),
        second[3].clone(),
    ];
    assert_eq!(
        post_sign_in(&app, &crossed).await.0,
        StatusCode::UNAUTHORIZED
    );
    let events = staff_events(&app).await;
    let pairs = |a: &str, o: &str| (a.to_string(), o.to_string());
    for expected in [
        pairs("staff.enrol", "allowed"),
        pairs("staff.sign_in", "allowed"),
        pairs("staff.sign_in", "passkey_replayed"),
        pairs("staff.sign_in", "wrong_factor"),
    ] {
        assert!(events.contains(&expected), "{expected:?} in {events:?}");
    }
}

pub async fn a_passkey_whose_counter_goes_backwards_is_refused_as_a_clone(app: TestApp) {
    let mut who = enrol_with_passkey(&app, "aiko@staff.example", "support").await;
    let at = origin(&app);
    // Two answers made in order; the later one signs in first, so the earlier one's counter
    // is behind the one kept — as a copy of the key used elsewhere would be.
    let earlier = passkey_answer(&app, &mut who, &at).await;
    let later = passkey_answer(&app, &mut who, &at).await;
    assert_eq!(post_sign_in(&app, &later).await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        post_sign_in(&app, &earlier).await.0,
        StatusCode::UNAUTHORIZED
    );
    let events = staff_events(&app).await;
    let clone = ("staff.sign_in".to_string(), "passkey_cloned".to_string());
    assert!(events.contains(&clone), "{events:?}");
}

pub async fn a_sensitive_step_is_confirmed_with_a_passkey(app: TestApp) {
    let mut who = enrol_with_passkey(&app, "mei@staff.example", "privacy_officer").await;
    let at = origin(&app);
    let (_, session) = post_sign_in(&app, &passkey_answer(&app, &mut who, &at).await).await;
    let session = session.unwrap();
    app.clock.advance(Duration::from_secs(6 * 60));
    let (_, page) = console_get(&app, &session, "/console/admin/staff").await;
    assert!(page.contains("data-passkey=\"reauthenticate\""));
    assert!(
        page.contains("class=\"staff-factors\">Passkey</td>"),
        "{page}"
    );
    let cookie = format!("mamori_staff={session}");
    let csrf = form_csrf(&page);
    let (status, started) = ceremony(&app, "reauthenticate", &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let options: RequestChallengeResponse =
        serde_json::from_value(started["options"].clone()).unwrap();
    let asserted = who.key.do_authentication(at, options).unwrap();
    let answer = serde_json::to_string(&asserted).unwrap();
    let form = [
        ("csrf", csrf.as_str()),
        ("email", "new@staff.example"),
        ("role", "support"),
        ("passkey_token", started["token"].as_str().unwrap()),
        ("passkey_answer", answer.as_str()),
    ];
    let r = (app.client.post(app.url("/console/admin/staff")))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    assert!(
        page.contains("/console/enrol?token="),
        "invited after the passkey"
    );
    let events = staff_events(&app).await;
    let proved = ("staff.reauthenticate".to_string(), "allowed".to_string());
    assert!(events.contains(&proved), "{events:?}");
}

pub async fn passkey_ceremonies_refuse_bad_input(app: TestApp) {
    let (cookie, csrf, _) = open(&app, "/console/sign-in").await;
    // Not our page's token, or no token at all: refused, nothing kept.
    for form in [vec![("csrf", "forged")], vec![]] {
        let (status, problem) = ceremony(&app, "sign-in", &cookie, &form).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("form_not_ours"))
        );
    }
    let link = [("csrf", csrf.as_str()), ("link", "no-such-link")];
    let (status, problem) = ceremony(&app, "enrol", &cookie, &link).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("enrolment_link_invalid"))
    );
    let (status, _) = ceremony(&app, "reauthenticate", &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Answers that are not passkey answers, or to no ceremony, sign nobody in.
    let (_, started) = ceremony(&app, "sign-in", &cookie, &[("csrf", &csrf)]).await;
    let token = started["token"].as_str().unwrap().to_string();
    let huge = "x".repeat(20_000);
    for (token, answer) in [
        (token.as_str(), "{}"),
        (token.as_str(), "not json"),
        ("no-such-ceremony", "{}"),
        (token.as_str(), huge.as_str()),
    ] {
        let answer = [
            cookie.clone(),
            csrf.clone(),
            token.to_string(),
            answer.to_string(),
        ];
        assert_eq!(
            post_sign_in(&app, &answer).await,
            (StatusCode::UNAUTHORIZED, None)
        );
    }
    let page = between(&open(&app, "/console/sign-in").await.2, "<main>", "</main>").to_string();
    assert!(page.contains("data-passkey=\"sign-in\""));
    // Guessing enrolment links from one address is cut off (each start would keep a ceremony).
    let mut statuses = vec![];
    for _ in 0..40 {
        statuses.push(ceremony(&app, "enrol", &cookie, &link).await.0);
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

/// Posts the account page's sign-in methods form: its status and page.
async fn post_factors(app: &TestApp, cookie: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let r = (app.client.post(app.url("/console/factors")))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

pub async fn staff_add_a_passkey_and_remove_a_method_but_never_the_last(app: TestApp) {
    let signed_in = crate::staff_sign_in::signed_in_as(&app, "ren@staff.example", "support");
    let (session, _) = signed_in.await;
    let cookie = format!("mamori_staff={session}");
    let (_, page) = console_get(&app, &session, "/console/sessions").await;
    assert!(
        !page.contains("remove-factor"),
        "the only method cannot be removed"
    );
    let csrf = form_csrf(&page);
    let (status, started) = ceremony(&app, "add", &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let (mut holder, answer) = create_passkey(&app, &started);
    let token = started["token"].as_str().unwrap();
    let add = [
        ("csrf", csrf.as_str()),
        ("passkey_token", token),
        ("passkey_answer", &answer),
    ];
    let (status, page) = post_factors(&app, &cookie, &add).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.matches("class=\"remove-factor\"").count(), 2);
    // The new passkey signs in alone; the app's method goes; the passkey, now the last, stays.
    let at = origin(&app);
    let (status, _) = post_sign_in(&app, &passkey_answer(&app, &mut holder, &at).await).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let app_method = between(&page, "name=\"remove\" value=\"", "\"").to_string();
    let (status, page) =
        post_factors(&app, &cookie, &[("csrf", &csrf), ("remove", &app_method)]).await;
    assert_eq!(status, StatusCode::OK);
    let rows = between(&page, "<table id=\"factors\"", "</table>").to_string();
    assert_eq!(
        rows.matches("<tr>").count(),
        2,
        "the header and the passkey"
    );
    let me = app.vault.staff_session(&session).await.unwrap().unwrap();
    let last = app.vault.own_staff_factors(&me).await.unwrap()[0]
        .id
        .clone();
    let (status, _) = post_factors(&app, &cookie, &[("csrf", &csrf), ("remove", &last)]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Five minutes after the last proof, changes wait for a new one; nonsense changes nothing.
    app.clock.advance(Duration::from_secs(6 * 60));
    let (_, page) = console_get(&app, &session, "/console/sessions").await;
    let csrf = form_csrf(&page);
    let (status, problem) = ceremony(&app, "add", &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("reauthentication_required"))
    );
    for form in [
        vec![("csrf", csrf.as_str())],
        vec![("csrf", "forged"), ("remove", &last)],
    ] {
        let (status, _) = post_factors(&app, &cookie, &form).await;
        assert!(status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::FORBIDDEN);
    }
    assert_eq!(app.vault.own_staff_factors(&me).await.unwrap().len(), 1);
    let events = staff_events(&app).await;
    for expected in [
        ("staff.factor_added", "allowed"),
        ("staff.factor_removed", "allowed"),
        ("staff.factor_added", "reauthentication_required"),
    ] {
        let expected = (expected.0.to_string(), expected.1.to_string());
        assert!(events.contains(&expected), "{expected:?} in {events:?}");
    }
}
