//! What left, as the laws ask it recorded: the records of provision for a period (APPI: which
//! are third-party provisions) and the CCPA's categories sold or shared in the last 12 months,
//! from the disclosure records; the permission that guards them; bad periods refused.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Backend, POLICY, TestApp, spawn_app_with_policy};

/// The example, with a partner brand that receives data as a separate controller for the
/// purpose flagged as a sale or share.
fn partner_policy() -> String {
    let policy = POLICY.replace(
        "disclose = [\"kuroneko_logistics\", \"postbird\"]",
        "disclose = [\"kuroneko_logistics\", \"partnerco\", \"postbird\"]",
    );
    assert_ne!(policy, *POLICY);
    policy
        + r#"
[vendors.partnerco]
name = "Partner Brands LLC"
role = "independent_controller"
purposes = ["partner_sharing"]
categories = ["contact", "preferences"]
countries = ["US"]
transfers = ["sccs", "appi_equivalent_measures"]
contract = { reference = "PB-2026-001", start = 2026-01-01 }
review = { on = 2026-06-01, result = "passed" }
contact = "privacy@partner.example"
"#
}

async fn disclose(app: &TestApp, id: &str, vendor: &str, purpose: &str, category: &str) {
    let body = json!({"vendor": vendor, "purpose": purpose, "categories": [category]});
    let path = format!("/v1/subjects/{id}/disclosures");
    let r = app
        .client
        .post(app.url(&path))
        .bearer_auth(&app.keys["service"]);
    assert_eq!(
        r.json(&body).send().await.unwrap().status(),
        StatusCode::CREATED
    );
}

/// `from=…&to=…` for a day either side of now.
pub fn period(app: &TestApp) -> String {
    let day = 86_400_000;
    let (from, to) = (app.vault.now_ms() - day, app.vault.now_ms() + day);
    let (from, to) = (mamori_core::format_time(from), mamori_core::format_time(to));
    format!("from={from}&to={to}")
}

async fn recorded(backend: Backend) {
    let Some(app) = spawn_app_with_policy(backend, &partner_policy()).await else {
        return;
    };
    let id = crate::create(&app, &crate::customer("provision")).await;
    let grant = json!({"purpose": "partner_sharing", "channel": "email", "granted": true});
    assert_eq!(
        crate::consent(&app, &id, "service", grant).await.status(),
        StatusCode::OK
    );
    disclose(
        &app,
        &id,
        "kuroneko_logistics",
        "order_fulfilment",
        "address",
    )
    .await;
    disclose(&app, &id, "partnerco", "partner_sharing", "contact").await;
    let path = format!("/v1/disclosures?{}", period(&app));
    let r = crate::officer(&app, Method::GET, &path, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let answer: Value = r.json().await.unwrap();
    let records = answer["records"].as_array().unwrap();
    let summary: Vec<(&str, &str, &str, bool)> = (records.iter())
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap();
            (
                text("vendor"),
                text("vendor_role"),
                text("legal_basis"),
                r["appi_record"] == true,
            )
        })
        .collect();
    let expected = [
        ("kuroneko_logistics", "processor", "contract", false),
        ("partnerco", "independent_controller", "consent", true),
    ];
    assert_eq!(summary, expected);
    assert!(records.iter().all(|r| r["subject"] == id.as_str()) && answer["truncated"] == false);
    let csv = crate::officer(&app, Method::GET, &format!("{path}&format=csv"), None).await;
    let csv = csv.text().await.unwrap();
    assert!(
        csv.starts_with("id,subject,vendor,vendor_role,purpose,legal_basis"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let r = crate::officer(&app, Method::GET, "/v1/disclosures/sold-or-shared", None).await;
    let sold: Value = r.json().await.unwrap();
    assert_eq!(sold["categories"], json!(["contact"]));
    assert_eq!(
        (&sold["recipients"], &sold["purposes"]),
        (&json!(["partnerco"]), &json!(["partner_sharing"]))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisions_and_sales_are_recorded_on_sqlite() {
    recorded(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisions_and_sales_are_recorded_on_postgres() {
    recorded(Backend::Postgres).await;
}

pub async fn provision_records_refuse_bad_periods_and_other_roles(app: TestApp) {
    let (earlier, later) = ("2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z");
    for (query, status, code) in [
        (
            format!("from={earlier}&to={later}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_time",
        ),
        (
            format!("from=yesterday&to={later}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_time",
        ),
        (
            format!("{}&format=pdf", period(&app)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            format!("from={earlier}"),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
    ] {
        let r = crate::officer(&app, Method::GET, &format!("/v1/disclosures?{query}"), None).await;
        crate::problem(r, status, code).await;
    }
    for path in [
        format!("/v1/disclosures?{}", period(&app)),
        "/v1/disclosures/sold-or-shared".into(),
    ] {
        let r = app
            .as_role(Method::GET, &path, "service", "order_fulfilment")
            .send()
            .await
            .unwrap();
        crate::problem(r, StatusCode::FORBIDDEN, "permission_not_granted").await;
    }
}
