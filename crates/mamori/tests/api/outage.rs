//! A database lost under a running server: the SQLite file deleted, or the PostgreSQL database
//! dropped. Readiness fails naming `database`, and writes are refused with 503
//! `database_unavailable` (problem+json) rather than acknowledged into a file nobody will open
//! again or answered with a bare 500.

use reqwest::StatusCode;

use crate::common::{Backend, TestApp};

async fn lose_the_database(app: &TestApp) {
    match app.backend {
        Backend::Sqlite => {
            let path = app.database_url.strip_prefix("sqlite://").unwrap();
            std::fs::remove_file(path).unwrap();
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let (base, name) = app.database_url.rsplit_once('/').unwrap();
            let mut admin = sqlx::PgConnection::connect(&format!("{base}/postgres"))
                .await
                .unwrap();
            let drop = format!("DROP DATABASE {name} WITH (FORCE)");
            sqlx::query(sqlx::AssertSqlSafe(drop))
                .execute(&mut admin)
                .await
                .unwrap();
        }
    }
}

pub async fn a_lost_database_fails_readiness_by_name_and_refuses_writes(app: TestApp) {
    crate::create(&app, &crate::customer("before-loss")).await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);

    lose_the_database(&app).await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["failing"], "database", "{ready}");

    let person = crate::customer_without_phone("after-loss");
    let r = app
        .as_role(
            reqwest::Method::POST,
            "/v1/subjects",
            "service",
            "order_fulfilment",
        )
        .json(&person)
        .send()
        .await
        .unwrap();
    let problem = crate::problem(r, StatusCode::SERVICE_UNAVAILABLE, "database_unavailable").await;
    assert!(!problem.to_string().contains("after-loss"), "{problem}");
    // Liveness is another matter: the process is up and says so.
    let live = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
}
