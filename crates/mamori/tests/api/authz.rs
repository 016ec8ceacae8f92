//! The authorisation contract: every role × every operation of the OpenAPI document × every
//! purpose, answered as the policy implies (allowed, or 403 and ledgered). The rule for each
//! operation is named here; an operation the document has and this table lacks fails the test,
//! so no route can be added without saying which decision guards it.

use mamori_policy::{Action, AdminPermission, IdSet, LegalBasis, Policy, SurveyPermission};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{POLICY, TestApp};

/// What guards an operation.
#[derive(Clone, Copy)]
enum Rule {
    /// The access decision for the `Mamori-Purpose` header, this action, these categories.
    Data(Action, &'static [&'static str]),
    /// The rights purpose (consents and the access log) and a purpose-scoped view.
    Export,
    /// A role that may use the rights purpose: the register of requests, the access log.
    Rights,
    /// A role that may use the consent purpose the body or query names.
    ConsentPurpose,
    /// A role that may use this one purpose (a receipt of a consent to it).
    UsesPurpose(&'static str),
    Admin(AdminPermission),
    /// An administrative permission and the access decision for the header's purpose (notices
    /// read people's addresses as the caller).
    AdminData(AdminPermission, Action, &'static [&'static str]),
    Surveys(SurveyPermission),
    /// Survey definitions: either survey permission.
    SurveyList,
    /// The access decision for the body's purpose (viewing contact details), and the vendor
    /// register: the role may disclose to this vendor, which serves the purpose.
    Disclose(&'static str),
    /// Any valid API key: public facts (the signed head, proofs), stateless tools (scrub).
    AnyKey,
    /// No API key: people answering surveys, DRP agents (their own tokens), health.
    NoKey,
}

const ALL: &[&str] = &[
    "contact",
    "address",
    "orders",
    "payment",
    "preferences",
    "support_tickets",
    "survey_answers",
];

fn rule_of(method: &Method, path: &str) -> Option<Rule> {
    use Action::*;
    use AdminPermission as A;
    use SurveyPermission as S;
    let m = method.as_str();
    Some(match (m, path) {
        ("POST", "/v1/subjects") => Rule::Data(Create, &["contact"]),
        ("GET", "/v1/subjects") => Rule::Data(View, &["contact"]),
        ("GET", "/v1/subjects/{id}") => Rule::Data(View, ALL),
        ("PATCH", "/v1/subjects/{id}") => Rule::Data(Modify, &["contact"]),
        ("DELETE", "/v1/subjects/{id}") => Rule::Data(Delete, ALL),
        ("GET", "/v1/subjects/{id}/records") => Rule::Data(View, ALL),
        ("POST", "/v1/subjects/{id}/records") => Rule::Data(Create, &["support_tickets"]),
        ("GET", "/v1/subjects/{id}/export") => Rule::Export,
        ("GET", "/v1/subjects/{id}/access-log") => Rule::Rights,
        ("POST", "/v1/subjects/{id}/disclosures") => Rule::Disclose("kuroneko_logistics"),
        ("GET", "/v1/subjects/{id}/vendor-tasks") => Rule::Admin(A::Vendors),
        ("GET", "/v1/vendor-tasks") => Rule::Admin(A::Vendors),
        ("GET", "/v1/records-of-processing") => Rule::Admin(A::Policy),
        ("GET", "/v1/disclosures") => Rule::Admin(A::Audit),
        ("GET", "/v1/disclosures/sold-or-shared") => Rule::Admin(A::Audit),
        ("POST", "/v1/disclosures/batch") => Rule::Disclose("kuroneko_logistics"),
        // Signed by the vendor with its own secret, never an API key.
        ("POST", "/v1/vendor-tasks/{id}/confirm") => Rule::NoKey,
        (_, p) if p.starts_with("/v1/requests") => Rule::Rights,
        ("POST", "/v1/consent/receipts/verify") => Rule::UsesPurpose("marketing_email"),
        (_, p) if p.starts_with("/v1/consent/") => Rule::ConsentPurpose,
        ("GET", "/v1/events") => Rule::Admin(A::Events),
        (_, p) if p.starts_with("/v1/holds") => Rule::Admin(A::Retention),
        ("POST", "/v1/incidents/{id}/notices") => Rule::AdminData(A::Incidents, View, &["contact"]),
        (_, p) if p.starts_with("/v1/incidents") => Rule::Admin(A::Incidents),
        ("POST", "/v1/drills") => Rule::Admin(A::Incidents),
        (_, p) if p.starts_with("/v1/webhooks") => Rule::Admin(A::Webhooks),
        (_, p) if p.starts_with("/v1/ledger/") => Rule::AnyKey,
        ("POST", "/v1/scrub") => Rule::AnyKey,
        (_, p) if p.starts_with("/v1/agent/") || p.starts_with("/v1/data-rights-request") => {
            Rule::NoKey
        }
        ("GET", "/v1/surveys") => Rule::SurveyList,
        ("POST", "/v1/surveys") => Rule::Surveys(S::Manage),
        ("POST", "/v1/surveys/{slug}/close") => Rule::Surveys(S::Manage),
        ("POST", "/v1/surveys/{slug}/invitations") => Rule::Surveys(S::Manage),
        ("POST", "/v1/surveys/{slug}/releases") => Rule::Surveys(S::Manage),
        ("GET", "/v1/reports/privacy") => Rule::Surveys(S::Manage),
        ("GET", "/v1/surveys/{slug}/results") => Rule::Surveys(S::Results),
        ("GET", "/v1/surveys/{slug}/results.csv") => Rule::Surveys(S::Results),
        ("GET", "/v1/surveys/{slug}/charts/{question}") => Rule::Surveys(S::Results),
        ("GET", "/v1/surveys/{slug}/texts") => Rule::Surveys(S::Results),
        ("GET", "/v1/surveys/{slug}/releases") => Rule::Surveys(S::Results),
        ("POST", "/v1/surveys/{slug}/responses") => Rule::NoKey,
        ("POST", "/v1/surveys/{slug}/tokens") => Rule::NoKey,
        ("GET", "/v1/surveys/{slug}/issuer") => Rule::NoKey,
        ("GET", "/healthz") | ("GET", "/readyz") => Rule::NoKey,
        _ => return None,
    })
}

/// Whether the policy allows `role` the operation for `purpose`, read from the policy itself
/// (not through the decision under test). Nobody has consented in this test.
fn expected(policy: &Policy, rule: Rule, role: &str, purpose: &str) -> bool {
    let r = policy.role(role).unwrap();
    let cats = |names: &[&str]| {
        names
            .iter()
            .fold(IdSet::EMPTY, |s, n| s.with(policy.category(n).unwrap().id))
    };
    let uses = |p: &str| policy.purpose(p).is_some_and(|p| r.purposes.contains(p.id));
    let decide = |action: Action, names: &[&str]| {
        let Some(p) = policy.purpose(purpose) else {
            return false;
        };
        let wanted = cats(names);
        let ok = match action {
            Action::View => wanted.0 & p.categories.0 & r.view.0 != 0,
            _ => p.categories.is_superset_of(wanted) && r.may(action).is_superset_of(wanted),
        };
        uses(purpose) && ok && p.legal_basis != LegalBasis::Consent
    };
    match rule {
        Rule::Data(action, names) => decide(action, names),
        Rule::Export => uses(mamori_policy::RIGHTS_PURPOSE) && decide(Action::View, ALL),
        Rule::Rights => uses(mamori_policy::RIGHTS_PURPOSE),
        Rule::ConsentPurpose => uses(purpose),
        Rule::UsesPurpose(p) => uses(p),
        Rule::Admin(p) => r.admin.contains(p),
        Rule::AdminData(p, action, names) => r.admin.contains(p) && decide(action, names),
        Rule::Surveys(SurveyPermission::Manage) => r.surveys.manage,
        Rule::Surveys(SurveyPermission::Results) => r.surveys.results,
        Rule::SurveyList => r.surveys.manage || r.surveys.results,
        Rule::Disclose(vendor) => {
            let serves = (policy.vendor(vendor).zip(policy.purpose(purpose)))
                .is_some_and(|(v, p)| v.purposes.contains(p.id));
            decide(Action::View, &["contact"]) && r.disclose.iter().any(|d| d == vendor) && serves
        }
        Rule::AnyKey | Rule::NoKey => true,
    }
}

/// The purposes an operation is tried with: every purpose (and an unknown one) where the
/// header decides; the consent purposes where the body names one; one otherwise.
fn purposes_for(policy: &Policy, rule: Rule) -> Vec<String> {
    match rule {
        Rule::Data(..) | Rule::Export | Rule::AdminData(..) | Rule::Disclose(_) => policy
            .purposes
            .iter()
            .map(|p| p.name.clone())
            .chain(["no_such_purpose".to_string()])
            .collect(),
        Rule::ConsentPurpose => policy
            .purposes
            .iter()
            .filter(|p| p.legal_basis == LegalBasis::Consent)
            .map(|p| p.name.clone())
            .collect(),
        _ => vec![mamori_policy::RIGHTS_PURPOSE.to_string()],
    }
}

/// Fixtures the requests point at: a subject that does not exist (an allowed request then
/// answers 404, a refused one 403 — the decision comes first), a survey, a receipt.
struct Fixtures {
    ghost: String,
    receipt: String,
}

fn channel_of(policy: &Policy, purpose: &str) -> Value {
    policy
        .purpose(purpose)
        .and_then(|p| p.channels.first())
        .and_then(|c| mamori_policy::Channel::ALL.iter().find(|(_, x)| x == c))
        .map_or(Value::Null, |(n, _)| json!(n))
}

/// A period for the records of provision.
const PERIOD: &str = "from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z";

fn request(
    app: &TestApp,
    policy: &Policy,
    f: &Fixtures,
    method: &Method,
    template: &str,
    purpose: &str,
    n: usize,
) -> (String, Option<Value>) {
    let path = template
        .replace("{id}", &f.ghost)
        .replace("{slug}", "matrix")
        .replace("{question}", "speed")
        .replace("{agent_id}", "NO_AGENT")
        .replace("{request_id}", &f.ghost);
    let channel = channel_of(policy, purpose);
    let _ = app;
    let (path, body) = match (method.as_str(), template) {
        ("POST", "/v1/subjects") => (path, Some(json!({"data": {"contact": {"name": "Ada"}}}))),
        ("GET", "/v1/subjects") => (format!("{path}?email=nobody%40example.com"), None),
        ("PATCH", _) => (path, Some(json!({"data": {"contact": {"name": "Bea"}}}))),
        ("POST", "/v1/subjects/{id}/records") => (
            path,
            Some(
                json!({"category": "support_tickets", "data": {"subject": "Hi", "message": "Help", "status": "open"}}),
            ),
        ),
        ("POST", "/v1/requests") => (
            path,
            Some(json!({"kind": "access", "jurisdiction": "gdpr", "source": "staff"})),
        ),
        ("POST", "/v1/requests/{id}/verification") => (path, Some(json!({"how": "call_back"}))),
        ("POST", "/v1/requests/{id}/extend") => (path, Some(json!({"reason": "complexity"}))),
        ("POST", "/v1/requests/{id}/state") => (path, Some(json!({"state": "in_progress"}))),
        ("GET", "/v1/consent/{id}") => (
            format!(
                "{path}?purpose={purpose}&channel={}",
                channel.as_str().unwrap_or("")
            ),
            None,
        ),
        ("PUT", "/v1/consent/{id}") => (
            path,
            Some(json!({"purpose": purpose, "channel": channel, "granted": false})),
        ),
        ("POST", "/v1/consent/filter") => (
            path,
            Some(json!({"purpose": purpose, "channel": channel, "subjects": [f.ghost]})),
        ),
        ("POST", "/v1/consent/{id}/unsubscribe-link") => {
            (path, Some(json!({"purpose": purpose, "channel": channel})))
        }
        ("POST", "/v1/consent/receipts/verify") => (path, Some(json!({"receipt": f.receipt}))),
        ("GET", "/v1/events") => (format!("{path}?after=0"), None),
        ("GET", "/v1/disclosures") => (format!("{path}?{PERIOD}"), None),
        ("POST", "/v1/subjects/{id}/disclosures") => (
            path,
            Some(
                json!({"vendor": "kuroneko_logistics", "purpose": purpose, "categories": ["contact"]}),
            ),
        ),
        ("POST", "/v1/disclosures/batch") => (
            path,
            Some(
                json!({"vendor": "kuroneko_logistics", "purpose": purpose, "categories": ["contact"], "subjects": [f.ghost]}),
            ),
        ),
        ("POST", "/v1/holds") => (
            path,
            Some(json!({"subject": f.ghost, "reason": "litigation"})),
        ),
        ("POST", "/v1/drills") => (path, Some(json!({"scenario": "lost_laptop"}))),
        ("POST", "/v1/incidents") => (
            path,
            Some(json!({"title": "Matrix", "kind": "other", "severity": "low"})),
        ),
        ("POST", "/v1/incidents/{id}/entries") => (path, Some(json!({"version": 1, "note": "x"}))),
        ("POST", "/v1/incidents/{id}/containment") => (
            path,
            Some(json!({"version": 1, "action": "revoke_api_key", "target": f.ghost})),
        ),
        ("POST", "/v1/incidents/{id}/impact") => (
            path,
            Some(
                json!({"actors": ["staff:x"], "from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}),
            ),
        ),
        ("POST", "/v1/incidents/{id}/notices") => (
            path,
            Some(
                json!({"scope": {"actors": ["staff:x"], "from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}}),
            ),
        ),
        ("GET", "/v1/incidents/{id}/regulator-draft") => {
            (format!("{path}?jurisdiction=gdpr"), None)
        }
        ("POST", "/v1/webhooks") => (
            path,
            Some(json!({"url": "http://127.0.0.1:9/hook", "events": ["consent.changed"]})),
        ),
        ("POST", "/v1/webhooks/{id}/replay") => (path, Some(json!({"from": 1}))),
        ("POST", "/v1/webhooks/{id}/rotate-secret") => (path, Some(json!({"grace_hours": 0}))),
        ("GET", "/v1/ledger/proof/inclusion") => (format!("{path}?leaf=0"), None),
        ("GET", "/v1/ledger/proof/consistency") => (format!("{path}?first=1&second=2"), None),
        ("POST", "/v1/scrub") => (path, Some(json!({"texts": ["call 090-1234-5678"]}))),
        ("POST", "/v1/surveys") => (path, Some(super::survey_definition(&format!("matrix-{n}")))),
        ("POST", "/v1/surveys/{slug}/invitations") => (path, Some(json!({"subjects": [f.ghost]}))),
        ("POST", "/v1/surveys/{slug}/releases") => (path, Some(json!({"epsilon": 0.1}))),
        ("GET", "/v1/surveys/{slug}/texts") => (format!("{path}?question=comment"), None),
        ("POST", "/v1/surveys/{slug}/responses") => (path, Some(json!({"answers": {"speed": 3}}))),
        ("POST", "/v1/surveys/{slug}/tokens") => (
            path,
            Some(json!({"invitation": "x", "blinded_token": "AA"})),
        ),
        _ => (path, None),
    };
    (path, body)
}

/// Every operation the OpenAPI document describes, as (method, path template).
async fn operations(app: &TestApp) -> Vec<(Method, String)> {
    let spec: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            out.push((method.to_uppercase().parse().unwrap(), path.clone()));
        }
    }
    out
}

pub async fn every_role_endpoint_and_purpose_is_answered_as_the_policy_implies(app: TestApp) {
    let policy = Policy::parse("policy.toml", &POLICY).unwrap();
    let service = app.as_role(Method::POST, "/v1/subjects", "service", "order_fulfilment");
    let created: Value = service
        .json(&json!({"data": {"contact": {"name": "Receipt holder"}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let holder = created["id"].as_str().unwrap().to_string();
    let granted: Value = app
        .client
        .put(app.url(&format!("/v1/consent/{holder}")))
        .bearer_auth(&app.keys["service"])
        .json(&json!({"purpose": "marketing_email", "channel": "email", "granted": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fixtures = Fixtures {
        ghost: uuid::Uuid::now_v7().to_string(),
        receipt: granted["receipt"].as_str().unwrap().to_string(),
    };
    let r = super::officer(
        &app,
        Method::POST,
        "/v1/surveys",
        Some(super::survey_definition("matrix")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    let ops = operations(&app).await;
    let unguarded: Vec<String> = ops
        .iter()
        .filter(|(m, p)| rule_of(m, p).is_none())
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        unguarded.is_empty(),
        "operations without a rule in the authorisation matrix: {unguarded:?}"
    );
    let roles: Vec<String> = policy.roles.iter().map(|r| r.name.clone()).collect();
    let (mut checked, mut refused) = (0, 0);
    let ledger_before = super::ledger_size(&app).await;
    for (method, template) in &ops {
        let rule = rule_of(method, template).unwrap();
        if matches!(rule, Rule::NoKey) {
            continue;
        }
        for purpose in purposes_for(&policy, rule) {
            for role in &roles {
                checked += 1;
                let (path, body) = request(
                    &app, &policy, &fixtures, method, template, &purpose, checked,
                );
                let mut req = app.as_role(method.clone(), &path, role, &purpose);
                if let Some(b) = body {
                    req = req.json(&b);
                }
                let r = req.send().await.unwrap();
                let status = r.status();
                let what = format!("{role} {method} {template} for {purpose}: {status}");
                if expected(&policy, rule, role, &purpose) {
                    assert!(
                        status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                        "{what}, expected allowed: {}",
                        r.text().await.unwrap_or_default()
                    );
                } else {
                    refused += 1;
                    assert_eq!(status, StatusCode::FORBIDDEN, "{what}, expected 403");
                    let body: Value = r.json().await.unwrap();
                    assert!(body["code"].is_string(), "{what}: {body}");
                }
            }
        }
    }
    // Every refusal left its event (allowed requests left theirs too).
    let grown = super::ledger_size(&app).await - ledger_before;
    assert!(
        grown >= refused,
        "{refused} refusals, ledger grew by {grown}"
    );
    assert!(
        checked > 500 && refused > 200,
        "{checked} checked, {refused} refused"
    );
}

/// Administrative actions need the policy's permission (refusals ledgered with the actor and
/// the action), and webhook targets must be public https unless the operator allows the
/// network: loopback is allowed in the tests, metadata and private addresses are not.
pub async fn administrative_actions_need_a_permission_and_a_public_target(app: TestApp) {
    let before = super::ledger_size(&app).await;
    let r = app
        .client
        .post(app.url("/v1/webhooks"))
        .bearer_auth(&app.keys["analyst"])
        .json(&json!({"url": "https://hooks.example/x", "events": ["*"]}))
        .send()
        .await
        .unwrap();
    super::problem(r, StatusCode::FORBIDDEN, "permission_not_granted").await;
    assert_eq!(super::ledger_size(&app).await, before + 1);
    let mut leaves = app.store.stream_leaves(before);
    let leaf = leaves.recv().await.unwrap().unwrap().remove(0);
    let event = mamori_ledger::Event::from_leaf_data(&leaf.data).unwrap();
    assert_eq!(
        (event.role.as_str(), event.action.as_str()),
        ("analyst", "webhook.add")
    );
    assert!(matches!(
        event.outcome,
        mamori_ledger::Outcome::Denied { .. }
    ));

    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "https://[::ffff:169.254.169.254]/",
        "https://10.0.0.1/hook",
        "http://192.168.1.1/",
        "https://[fd00::1]/",
        "ftp://127.0.0.1/",
    ] {
        let r = app
            .client
            .post(app.url("/v1/webhooks"))
            .bearer_auth(&app.keys["privacy_officer"])
            .json(&json!({"url": url, "events": ["*"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let body = r.text().await.unwrap();
        assert!(
            !body.contains("169.254") && !body.contains("10.0.0.1"),
            "{body}"
        );
    }
    let hooks: Value = super::officer(&app, Method::GET, "/v1/webhooks", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hooks.as_array().unwrap().len(), 0, "nothing was subscribed");
    let r = app
        .client
        .post(app.url("/v1/webhooks"))
        .bearer_auth(&app.keys["privacy_officer"])
        .json(&json!({"url": "http://localhost:9/hook", "events": ["*"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "loopback is allowed here");
}
