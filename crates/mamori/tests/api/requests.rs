//! The register of requests: DRP states, deadlines, reminders, and requests agents file.

use super::*;
use mamori_proto::{ErrorCode, RequestKind, RequestPage, RequestState};

pub(crate) async fn officer(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let r = app.as_role(method, path, "privacy_officer", "data_subject_rights");
    match body {
        Some(b) => r.json(&b),
        None => r,
    }
    .send()
    .await
    .unwrap()
}

/// The officer's answer as JSON.
async fn officer_json(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Value {
    officer(app, method, path, body).await.json().await.unwrap()
}

/// Three requests: Ada's access request under the GDPR (received yesterday), an unidentified
/// erasure request under the LGPD, Ada's opt-out of sale under the CCPA filed by an agent.
async fn three_requests(app: &TestApp) -> (String, Value, Value, Value) {
    let ada = create(app, &customer("requests")).await;
    let yesterday = mamori_core::format_time(app.vault.now_ms() - 86_400_000);
    let access =
        json!({"kind": "access", "subject": ada, "jurisdiction": "gdpr", "received_at": yesterday});
    let r = officer(app, Method::POST, "/v1/requests", Some(access)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let gdpr: Value = r.json().await.unwrap();
    assert_eq!(
        (&gdpr["state"], &gdpr["source"]),
        (&json!("open"), &json!("staff"))
    );
    let erasure = json!({"kind": "erasure", "jurisdiction": "lgpd"});
    let lgpd = officer_json(app, Method::POST, "/v1/requests", Some(erasure)).await;
    let opt_out = json!({"kind": "opt_out_of_sale", "subject": ada, "jurisdiction": "ccpa", "source": "agent"});
    let ccpa = officer_json(app, Method::POST, "/v1/requests", Some(opt_out)).await;
    (ada, gdpr, lgpd, ccpa)
}

/// The officer's queue, read as the typed page the API documents.
async fn queue_page(app: &TestApp, query: &str) -> RequestPage {
    let page = officer_json(app, Method::GET, &format!("/v1/requests{query}"), None).await;
    serde_json::from_value(page).expect("the answer is a RequestPage")
}

/// The queue is ordered by deadline (LGPD's 15 days before the GDPR's month before CCPA's 45
/// days), paged, and filtered by person.
pub(crate) async fn the_queue_is_ordered_by_deadline_and_paged(app: TestApp) {
    let (ada, ..) = three_requests(&app).await;
    let queue = queue_page(&app, "").await;
    let order: Vec<RequestKind> = queue.requests.iter().map(|r| r.kind).collect();
    use RequestKind::{Access, Erasure, OptOutOfSale};
    assert_eq!(order, [Erasure, Access, OptOutOfSale], "{queue:?}");
    assert!(queue.requests.iter().all(|r| r.state == RequestState::Open));
    let first = queue_page(&app, "?limit=1").await;
    let next = first.next.expect("a full page says where the next starts");
    let rest = queue_page(&app, &format!("?limit=5&after={next}")).await;
    let kinds: Vec<RequestKind> = rest.requests.iter().map(|r| r.kind).collect();
    assert_eq!((kinds, rest.next), (vec![Access, OptOutOfSale], None));
    let mine = queue_page(&app, &format!("?subject={ada}")).await;
    assert_eq!(mine.requests.len(), 2);
    assert!(
        mine.requests
            .iter()
            .all(|r| r.subject.as_deref() == Some(&*ada))
    );
}

/// Extension: once, with a reason, as far as the law allows; LGPD allows none.
pub(crate) async fn requests_are_extended_once_with_a_reason(app: TestApp) {
    let (ada, gdpr, lgpd, _) = three_requests(&app).await;
    let extend = async |request: &Value, reason: &str| {
        let path = format!("/v1/requests/{}/extend", request["id"].as_str().unwrap());
        officer(&app, Method::POST, &path, Some(json!({ "reason": reason }))).await
    };
    let r = extend(&gdpr, "complexity").await;
    assert_eq!(r.status(), StatusCode::OK);
    let extended: Value = r.json().await.unwrap();
    assert_eq!(extended["extension"], "complexity");
    assert!(extended["due_at"].as_str().unwrap() > gdpr["due_at"].as_str().unwrap());
    problem(
        extend(&gdpr, "complexity").await,
        StatusCode::CONFLICT,
        "already_extended",
    )
    .await;
    problem(
        extend(&lgpd, "number_of_requests").await,
        StatusCode::CONFLICT,
        "no_extension",
    )
    .await;
    let r = extend(&gdpr, "we are busy").await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_reason").await;
    let log = access_log_page(&app, &ada, "?limit=500").await;
    let logged = log["events"].as_array().unwrap();
    assert!(
        logged.iter().any(|e| e["action"] == "request.extend"),
        "ledgered"
    );
}

/// States: in progress, then fulfilled; a closed request stays closed; a denial needs a reason.
/// Each step is ledgered about the person and announced to other systems.
pub(crate) async fn requests_are_worked_through_drp_states_before_their_deadline(app: TestApp) {
    let (ada, gdpr, _, ccpa) = three_requests(&app).await;
    let set_state = async |request: &Value, body: Value| {
        let path = format!("/v1/requests/{}/state", request["id"].as_str().unwrap());
        officer(&app, Method::POST, &path, Some(body)).await
    };
    assert_eq!(
        set_state(&gdpr, json!({"state": "in_progress"}))
            .await
            .status(),
        StatusCode::OK
    );
    // Entered by staff: nobody is answered before the requester is verified.
    let r = set_state(&gdpr, json!({"state": "fulfilled"})).await;
    problem(r, StatusCode::CONFLICT, "not_verified").await;
    let verify = format!("/v1/requests/{}/verification", gdpr["id"].as_str().unwrap());
    // Only staff's own checks are recorded here; the others come with the request.
    let bad = [
        (json!({"how": "agent"}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"how": "privacy_center_sign_in"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({}), StatusCode::BAD_REQUEST),
    ];
    for (body, status) in bad {
        let r = officer(&app, Method::POST, &verify, Some(body.clone())).await;
        assert_eq!(r.status(), status, "{body}");
    }
    let verified: Value = (officer(
        &app,
        Method::POST,
        &verify,
        Some(json!({"how": "call_back"})),
    ))
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(verified["verified_by"], "call_back");
    assert!(verified["verified_at"].is_string());
    let again = officer(
        &app,
        Method::POST,
        &verify,
        Some(json!({"how": "id_document"})),
    )
    .await;
    problem(again, StatusCode::CONFLICT, "already_verified").await;
    let done: Value = set_state(&gdpr, json!({"state": "fulfilled"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done["state"], "fulfilled");
    assert!(done["closed_at"].is_string());
    let r = set_state(&gdpr, json!({"state": "in_progress"})).await;
    problem(r, StatusCode::CONFLICT, "request_closed").await;
    let r = set_state(&ccpa, json!({"state": "denied"})).await;
    problem(
        r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "denial_reason_required",
    )
    .await;
    let r = set_state(&ccpa, json!({"state": "denied", "reason": "no_match"})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["reason"], "no_match");
    let queue = officer_json(&app, Method::GET, "/v1/requests", None).await;
    assert_eq!(
        queue["requests"].as_array().unwrap().len(),
        1,
        "only the LGPD request is still open"
    );
    let fulfilled = officer_json(&app, Method::GET, "/v1/requests?state=fulfilled", None).await;
    assert_eq!(fulfilled["requests"][0]["id"], gdpr["id"]);
    let log = access_log_page(&app, &ada, "?limit=500").await;
    let logged = log["events"].as_array().unwrap();
    for action in ["request.open", "request.state"] {
        assert!(logged.iter().any(|e| e["action"] == action), "{action}");
    }
    let events: Value = feed(&app, "after=0&limit=1000").await.json().await.unwrap();
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default())
        .collect();
    assert!(
        kinds.contains(&"request.opened") && kinds.contains(&"request.changed"),
        "{events}"
    );
}

/// Bad input changes nothing and reads nothing; a role without the rights purpose may not see
/// the queue; an erased person takes no new request.
pub(crate) async fn bad_request_input_changes_nothing(app: TestApp) {
    let ada = create(&app, &customer("requests")).await;
    let before = ledger_size(&app).await;
    for (body, code) in [
        (
            json!({"kind": "gossip", "jurisdiction": "gdpr"}),
            "unknown_kind",
        ),
        (
            json!({"kind": "access", "jurisdiction": "mars"}),
            "unknown_jurisdiction",
        ),
        (
            json!({"kind": "access", "jurisdiction": "gdpr", "source": "pigeon"}),
            "unknown_source",
        ),
        (
            json!({"kind": "access", "jurisdiction": "gdpr", "received_at": "yesterday"}),
            "invalid_time",
        ),
        (
            json!({"kind": "access", "jurisdiction": "gdpr", "received_at": "2099-01-01T00:00:00Z"}),
            "out_of_range",
        ),
    ] {
        let r = officer(&app, Method::POST, "/v1/requests", Some(body)).await;
        problem(r, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    let extra = json!({"kind": "access", "jurisdiction": "gdpr", "extra": 1});
    let r = officer(&app, Method::POST, "/v1/requests", Some(extra)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    for (path, status, code) in [
        (
            "/v1/requests?limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
        ),
        (
            "/v1/requests?after=nonsense",
            StatusCode::BAD_REQUEST,
            "invalid_cursor",
        ),
        (
            "/v1/requests?state=lost",
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_state",
        ),
        (
            "/v1/requests/not-an-id",
            StatusCode::BAD_REQUEST,
            "invalid_id",
        ),
    ] {
        problem(officer(&app, Method::GET, path, None).await, status, code).await;
    }
    let unknown = format!("/v1/requests/{}", mamori_core::format_id(&[7; 16]));
    assert_eq!(
        officer(&app, Method::GET, &unknown, None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ledger_size(&app).await,
        before,
        "refused requests changed nothing and read nothing"
    );
    let r = app
        .as_role(Method::GET, "/v1/requests", "support", "customer_support")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN, "purpose_not_allowed_for_role").await;
    let r = officer(&app, Method::DELETE, &format!("/v1/subjects/{ada}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let erasure = json!({"kind": "erasure", "subject": ada, "jurisdiction": "gdpr"});
    let r = officer(&app, Method::POST, "/v1/requests", Some(erasure)).await;
    problem(r, StatusCode::CONFLICT, "subject_erased").await;
}

/// A deadline less than three days away is announced once (`request.due_soon`), and again only
/// if an extension moves it; requests far from their deadline and closed ones are not.
pub(crate) async fn request_deadlines_are_reminded_once(app: TestApp) {
    let ada = create(&app, &customer("reminders")).await;
    let days_ago = |days: i64| mamori_core::format_time(mamori_core::now_ms() - days * 86_400_000);
    let open = async |body: Value| -> String {
        let r = officer(&app, Method::POST, "/v1/requests", Some(body)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // GDPR: a month from 29 days ago is at most two days away. LGPD: 15 days from 13 days ago.
    let soon = open(json!({"kind": "access", "subject": ada, "jurisdiction": "gdpr", "received_at": days_ago(29)})).await;
    let closed =
        open(json!({"kind": "erasure", "jurisdiction": "lgpd", "received_at": days_ago(13)})).await;
    let later = open(json!({"kind": "access", "subject": ada, "jurisdiction": "ccpa"})).await;
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{closed}/state"),
        Some(json!({"state": "denied", "reason": "no_match"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);

    app.vault.send_due_reminders().await.unwrap();
    app.vault.send_due_reminders().await.unwrap();
    let reminders = async || -> Vec<String> {
        let v: Value = feed(&app, "after=0&limit=1000").await.json().await.unwrap();
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "request.due_soon")
            .map(|e| e["data"]["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        reminders().await,
        vec![soon.clone()],
        "one reminder, for the request due soon"
    );

    // Extending the deadline (GDPR: to three months) puts it out of the window: nothing more.
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{soon}/extend"),
        Some(json!({"reason": "complexity"})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.vault.send_due_reminders().await.unwrap();
    assert_eq!(reminders().await, vec![soon.clone()]);
    assert!(!reminders().await.contains(&later));
}

const BUSINESS: &str = "KITSUNE_GOODS_LTD";

fn operator() -> mamori_core::Actor {
    mamori_core::Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    }
}

/// Two agents registered out of band (TEST_AGENT and OTHER_AGENT), each with its key.
struct Agents {
    key: ed25519_dalek::SigningKey,
    other_key: ed25519_dalek::SigningKey,
    client: reqwest::Client,
}

impl Agents {
    async fn registered(app: &TestApp) -> Agents {
        use base64::Engine;
        let public = |k: &ed25519_dalek::SigningKey| {
            base64::engine::general_purpose::STANDARD.encode(k.verifying_key().to_bytes())
        };
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let other_key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        for (id, name, k) in [
            ("TEST_AGENT", "Test agent", &key),
            ("OTHER_AGENT", "Other agent", &other_key),
        ] {
            app.vault
                .register_agent(&operator(), id, name, &public(k))
                .await
                .unwrap();
        }
        Agents {
            key,
            other_key,
            client: reqwest::Client::new(),
        }
    }

    /// POSTs a signed message (text/plain), with a bearer token if given.
    async fn post(
        &self,
        app: &TestApp,
        path: &str,
        token: Option<&str>,
        body: String,
    ) -> reqwest::Response {
        let mut r = self
            .client
            .post(app.url(path))
            .header("content-type", "text/plain")
            .body(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.unwrap()
    }

    /// Pairs `agent` with a fresh signed envelope: its token.
    async fn pair(&self, app: &TestApp, agent: &str, key: &ed25519_dalek::SigningKey) -> String {
        let message = drp_signed(key, &drp_envelope(agent, BUSINESS, -5, 300));
        let r = self
            .post(app, &format!("/v1/agent/{agent}"), None, message)
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["agent-id"], agent);
        v["token"].as_str().unwrap().to_string()
    }

    /// Both agents paired: TEST_AGENT's token and OTHER_AGENT's.
    async fn paired(&self, app: &TestApp) -> (String, String) {
        (
            self.pair(app, "TEST_AGENT", &self.key).await,
            self.pair(app, "OTHER_AGENT", &self.other_key).await,
        )
    }
}

/// A DRP request message: the envelope (`issued`/`expires` offsets in seconds) with `fields`.
fn drp_request(business: &str, issued: i64, expires: i64, fields: &Value) -> Value {
    let mut message = drp_envelope("TEST_AGENT", business, issued, expires);
    for (k, v) in fields.as_object().unwrap() {
        message[k] = v.clone();
    }
    message
}

fn ledger_mentions(leaves: &[mamori_store::LeafRow], text: &str) -> usize {
    leaves
        .iter()
        .filter(|l| String::from_utf8_lossy(&l.data).contains(text))
        .count()
}

/// Agents are registered out of band and pair with a signed message; anything wrong is a bare
/// 403, and an unregistered agent's id is not copied into the ledger.
pub(crate) async fn agents_pair_by_signed_messages(app: TestApp) {
    let agents = Agents::registered(&app).await;
    let bad = app
        .vault
        .register_agent(&operator(), "BAD", "x", "not-a-key")
        .await
        .unwrap_err();
    assert_eq!(bad.code(), ErrorCode::InvalidValue);
    let public = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(agents.key.verifying_key().to_bytes())
    };
    let again = app
        .vault
        .register_agent(&operator(), "TEST_AGENT", "x", &public)
        .await
        .unwrap_err();
    assert_eq!(again.code(), ErrorCode::AgentExists);
    let (key, other) = (&agents.key, &agents.other_key);
    for (url_agent, key, envelope) in [
        (
            "TEST_AGENT",
            other,
            drp_envelope("TEST_AGENT", BUSINESS, -5, 300),
        ),
        ("NOBODY", key, drp_envelope("NOBODY", BUSINESS, -5, 300)),
        (
            "TEST_AGENT",
            key,
            drp_envelope("OTHER_AGENT", BUSINESS, -5, 300),
        ),
        (
            "TEST_AGENT",
            key,
            drp_envelope("TEST_AGENT", "ANOTHER_SHOP", -5, 300),
        ),
        (
            "TEST_AGENT",
            key,
            drp_envelope("TEST_AGENT", BUSINESS, -600, -300),
        ),
        (
            "TEST_AGENT",
            key,
            drp_envelope("TEST_AGENT", BUSINESS, 600, 900),
        ),
    ] {
        let r = agents
            .post(
                &app,
                &format!("/v1/agent/{url_agent}"),
                None,
                drp_signed(key, &envelope),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{envelope}");
        assert!(r.text().await.unwrap().is_empty());
    }
    let r = agents
        .post(&app, "/v1/agent/TEST_AGENT", None, "%%% not base64".into())
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (token, other_token) = agents.paired(&app).await;
    let info = async |t: &str| {
        let r = agents
            .client
            .get(app.url("/v1/agent/TEST_AGENT"))
            .bearer_auth(t);
        r.send().await.unwrap().status()
    };
    assert_eq!(info(&token).await, StatusCode::OK);
    assert_eq!(info(&other_token).await, StatusCode::FORBIDDEN);
    assert_eq!(info("forged").await, StatusCode::FORBIDDEN);
    let leaves = app.store.leaves(0, 100_000).await.unwrap();
    assert_eq!(
        ledger_mentions(&leaves, "NOBODY"),
        0,
        "an unregistered agent id is not copied"
    );
}

/// Requests signed with another key, under another agent's token or none, expired, for another
/// business, for an exercise or regime not supported, or not signed at all: refused with the
/// protocol's error, ledgered as denials, nothing opened.
pub(crate) async fn bad_agent_requests_are_refused_and_change_nothing(app: TestApp) {
    let agents = Agents::registered(&app).await;
    let (token, other_token) = agents.paired(&app).await;
    create(&app, &customer("drp")).await;
    let deletion = json!({"exercise": "deletion", "regime": "ccpa", "email": "ada.drp@example.com", "email_verified": true});
    let (key, other) = (&agents.key, &agents.other_key);
    let (t, o) = (Some(token.as_str()), Some(other_token.as_str()));
    let refused = [
        (
            drp_signed(other, &drp_request(BUSINESS, -5, 300, &deletion)),
            t,
            StatusCode::FORBIDDEN,
        ),
        (
            drp_signed(key, &drp_request(BUSINESS, -5, 300, &deletion)),
            o,
            StatusCode::FORBIDDEN,
        ),
        (
            drp_signed(key, &drp_request(BUSINESS, -5, 300, &deletion)),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            drp_signed(key, &drp_request(BUSINESS, -600, -1, &deletion)),
            t,
            StatusCode::BAD_REQUEST,
        ),
        (
            drp_signed(key, &drp_request("ANOTHER_SHOP", -5, 300, &deletion)),
            t,
            StatusCode::FORBIDDEN,
        ),
        (
            drp_signed(
                key,
                &drp_request(BUSINESS, -5, 300, &json!({"exercise": "sale:opt_in"})),
            ),
            t,
            StatusCode::BAD_REQUEST,
        ),
        (
            drp_signed(
                key,
                &drp_request(
                    BUSINESS,
                    -5,
                    300,
                    &json!({"exercise": "access", "regime": "hipaa"}),
                ),
            ),
            t,
            StatusCode::BAD_REQUEST,
        ),
        ("bm90IHNpZ25lZA==".to_string(), t, StatusCode::BAD_REQUEST),
    ];
    for (body, token, status) in refused {
        let r = agents
            .post(&app, "/v1/data-rights-request", token, body)
            .await;
        assert_eq!(r.status(), status);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["code"], status.as_u16().to_string(), "{e}");
        assert!(e["message"].as_str().unwrap().len() > 10);
    }
    let open = officer_json(&app, Method::GET, "/v1/requests", None).await;
    assert_eq!(
        open["requests"].as_array().unwrap().len(),
        0,
        "refused requests changed nothing"
    );
    let leaves = app.store.leaves(0, 100_000).await.unwrap();
    // The five whose signature, token, time or business fails verification (the others are
    // refused for what they ask).
    let refusals = ledger_mentions(&leaves, "drp_verification_failed");
    assert!(
        refusals >= 5,
        "refused messages are ledgered as denials ({refusals})"
    );
}

/// Data Rights Protocol v0.9.4: a paired agent files a signed request that lands in the register
/// matched to the person, reads its status (no other agent may), hears of staff's changes on its
/// callback and revokes it once; removing the agent ends its tokens.
pub(crate) async fn drp_agents_file_and_track_requests(app: TestApp) {
    let agents = Agents::registered(&app).await;
    let (token, other_token) = agents.paired(&app).await;
    let person = create(&app, &customer("drp")).await;
    let callback = common::receiver(0, false).await;
    let deletion = json!({"exercise": "deletion", "regime": "ccpa", "agent-request-id": "r-1",
        "email": "ada.drp@example.com", "email_verified": true, "status_callback": callback.url});
    let message = drp_signed(&agents.key, &drp_request(BUSINESS, -5, 300, &deletion));
    let r = agents
        .post(&app, "/v1/data-rights-request", Some(&token), message)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let status: Value = r.json().await.unwrap();
    assert_eq!(
        (&status["status"], &status["agent_request_id"]),
        (&json!("open"), &json!("r-1"))
    );
    let id = status["request_id"].as_str().unwrap().to_string();
    assert!(status["expected_by"].as_str().unwrap() > status["received_at"].as_str().unwrap());
    let stored = officer_json(&app, Method::GET, &format!("/v1/requests/{id}"), None).await;
    assert_eq!(
        (&stored["kind"], &stored["source"]),
        (&json!("erasure"), &json!("agent"))
    );
    assert_eq!(stored["jurisdiction"], "ccpa");
    assert_eq!(stored["subject"], person, "matched through the blind index");
    callback.wait_for(1).await;
    let get = async |t: &str| {
        let r = agents
            .client
            .get(app.url(&format!("/v1/data-rights-request/{id}")));
        r.bearer_auth(t).send().await.unwrap()
    };
    let r = get(&token).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "open");
    assert_eq!(get(&other_token).await.status(), StatusCode::FORBIDDEN);
    // Staff take it on: the agent hears it on its callback, without personal values.
    let state = json!({"state": "in_progress"});
    let r = officer(
        &app,
        Method::POST,
        &format!("/v1/requests/{id}/state"),
        Some(state),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let got = callback.wait_for(2).await;
    let pushed: Value = serde_json::from_str(&got[1].body).unwrap();
    assert_eq!(
        (&pushed["status"], &pushed["request_id"]),
        (&json!("in_progress"), &json!(id))
    );
    assert!(
        !got[1].body.contains("ada.drp@example.com"),
        "no personal values in callbacks"
    );
    // A change made without the HTTP handlers (straight through core, as the CLI would) reaches
    // the agent too: the callbacks follow the outbox.
    let request = mamori_core::parse_id(&id).unwrap();
    app.vault
        .extend_request(&operator(), &request, "complexity")
        .await
        .unwrap();
    let got = callback.wait_for(3).await;
    let pushed: Value = serde_json::from_str(&got[2].body).unwrap();
    assert_eq!(
        (&pushed["request_id"], &pushed["status"]),
        (&json!(id), &json!("in_progress"))
    );
    // Revoke: signed by the agent; by another agent's key or token refused; once only.
    let revoke = async |t: &str, key: &ed25519_dalek::SigningKey| {
        let r = agents
            .client
            .delete(app.url(&format!("/v1/data-rights-request/{id}")))
            .bearer_auth(t);
        let r = r
            .header("content-type", "text/plain")
            .body(drp_signed(key, &json!({"reason": "changed my mind"})));
        r.send().await.unwrap()
    };
    assert_eq!(
        revoke(&token, &agents.other_key).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        revoke(&other_token, &agents.other_key).await.status(),
        StatusCode::FORBIDDEN
    );
    let r = revoke(&token, &agents.key).await;
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "revoked");
    assert_eq!(
        revoke(&token, &agents.key).await.status(),
        StatusCode::CONFLICT
    );
    app.vault
        .remove_agent(&operator(), "TEST_AGENT")
        .await
        .unwrap();
    assert_eq!(get(&token).await.status(), StatusCode::FORBIDDEN);
    let leaves = app.store.leaves(0, 100_000).await.unwrap();
    let by_agent = ledger_mentions(&leaves, "drp:TEST_AGENT");
    assert!(by_agent >= 4, "the agent's steps are ledgered ({by_agent})");
}
