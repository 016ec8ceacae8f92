//! Data Rights Protocol 1.0 as well as 0.9.x, and what keeps a captured message or token from
//! being used again: one use per signed message, windows of minutes, re-pairing replaces the
//! token, tokens expire.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::TestApp;

const BUSINESS: &str = "KITSUNE_GOODS_LTD";

fn key_b64(k: &ed25519_dalek::SigningKey) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(k.verifying_key().to_bytes())
}

fn with(mut envelope: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        envelope[k] = v.clone();
    }
    envelope
}

async fn post(app: &TestApp, path: &str, token: Option<&str>, body: String) -> reqwest::Response {
    let mut r = app
        .client
        .post(app.url(path))
        .header("content-type", "text/plain")
        .body(body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap()
}

async fn pair(app: &TestApp, key: &ed25519_dalek::SigningKey, nonce: i64) -> String {
    let message = crate::drp_envelope("CR_AGENT", BUSINESS, -5 - nonce, 300);
    let r = post(
        app,
        "/v1/agent/CR_AGENT",
        None,
        crate::drp_signed(key, &message),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn requests(app: &TestApp) -> usize {
    crate::officer(app, reqwest::Method::GET, "/v1/requests?limit=1000", None)
        .await
        .json::<Value>()
        .await
        .unwrap()["requests"]
        .as_array()
        .unwrap()
        .len()
}

pub async fn drp_accepts_one_point_o_once_per_message_with_expiring_tokens(app: TestApp) {
    let key = ed25519_dalek::SigningKey::from_bytes(&[11; 32]);
    let operator = mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    };
    app.vault
        .register_agent(&operator, "CR_AGENT", "Consumer Reports", &key_b64(&key))
        .await
        .unwrap();

    // A captured pairing message cannot be replayed for a token of one's own.
    let message = crate::drp_envelope("CR_AGENT", BUSINESS, -5, 300);
    let body = crate::drp_signed(&key, &message);
    let first = post(&app, "/v1/agent/CR_AGENT", None, body.clone()).await;
    assert_eq!(first.status(), StatusCode::OK);
    let old_token = first.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let again = post(&app, "/v1/agent/CR_AGENT", None, body).await;
    assert_eq!(again.status(), StatusCode::FORBIDDEN, "a replayed pairing");

    // Pairing again replaces the token.
    let token = pair(&app, &key, 1).await;
    let status = |t: String| {
        app.client
            .get(app.url("/v1/agent/CR_AGENT"))
            .bearer_auth(t)
            .send()
    };
    assert_eq!(
        status(old_token).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(token.clone()).await.unwrap().status(),
        StatusCode::OK
    );

    // 1.0 and 0.9.x are accepted; other majors and a missing version are 400s.
    let request = |version: Option<&str>, issued: i64, expires: i64, id: &str| {
        let mut m = with(
            crate::drp_envelope("CR_AGENT", BUSINESS, issued, expires),
            json!({"exercise": "access", "regime": "ccpa", "agent-request-id": id,
                   "email": "nobody.drp@example.com"}),
        );
        match version {
            Some(v) => m["drp.version"] = json!(v),
            None => {
                m.as_object_mut().unwrap().remove("drp.version");
            }
        }
        crate::drp_signed(&key, &m)
    };
    let filed = request(Some("1.0"), -5, 300, "r-1.0");
    let r = post(&app, "/v1/data-rights-request", Some(&token), filed.clone()).await;
    assert!(r.status().is_success(), "1.0: {}", r.status());
    let r = post(
        &app,
        "/v1/data-rights-request",
        Some(&token),
        request(Some("0.9.3"), -5, 300, "r-0.9"),
    )
    .await;
    assert!(r.status().is_success(), "0.9.3: {}", r.status());
    for (version, id) in [(Some("2.0"), "r-2"), (Some("1.x"), "r-x"), (None, "r-none")] {
        let r = post(
            &app,
            "/v1/data-rights-request",
            Some(&token),
            request(version, -5, 300, id),
        )
        .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{version:?}");
    }
    // The same signed request twice files it once.
    let before = requests(&app).await;
    let r = post(&app, "/v1/data-rights-request", Some(&token), filed).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a replayed request");
    // A validity window over 15 minutes is refused; ten minutes is fine.
    let r = post(
        &app,
        "/v1/data-rights-request",
        Some(&token),
        request(Some("1.0"), -5, 16 * 60, "r-long"),
    )
    .await;
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "a window of 16 minutes"
    );
    let r = post(
        &app,
        "/v1/data-rights-request",
        Some(&token),
        request(Some("1.0"), -5, 600, "r-10m"),
    )
    .await;
    assert!(
        r.status().is_success(),
        "a window of ten minutes: {}",
        r.status()
    );
    assert_eq!(requests(&app).await, before + 1);

    // Tokens expire (90 days by default): one issued 91 days ago belongs to nobody.
    app.execute_raw(
        "UPDATE drp_tokens SET created_ms = created_ms - 7862400000 WHERE agent_id = 'CR_AGENT' AND $1 = $2",
        b"x",
        b"x",
    )
    .await;
    assert_eq!(status(token).await.unwrap().status(), StatusCode::FORBIDDEN);
}
