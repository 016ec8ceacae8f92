//! One place forgets a person: every table the schema gives a `subject_id` column is either
//! cleared by every erasure (`FORGOTTEN_AT_ERASURE`) or listed as keeping the id, with why
//! (`KEPT_AFTER_ERASURE`). A table added later that names a person fails this test until it is
//! put in one list or the other — its rows cannot survive an erasure by being forgotten.

use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::Row;

use crate::common::{Backend, TestApp};
use mamori_store::{FORGOTTEN_AT_ERASURE, KEPT_AFTER_ERASURE};

/// Tables with a `subject_id` column, from the schema itself.
async fn tables_naming_a_subject(app: &TestApp) -> Vec<String> {
    let sql = match app.backend {
        Backend::Sqlite => {
            "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                            WHERE m.type = 'table' AND p.name = 'subject_id' ORDER BY m.name"
        }
        Backend::Postgres => {
            "SELECT table_name::text FROM information_schema.columns \
                              WHERE column_name = 'subject_id' AND table_schema = current_schema() ORDER BY 1"
        }
    };
    rows_of(app, sql, None).await
}

async fn rows_of(app: &TestApp, sql: &str, subject: Option<&[u8; 16]>) -> Vec<String> {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    match app.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
            let mut q = sqlx::query(sql);
            if let Some(s) = subject {
                q = q.bind(s.to_vec());
            }
            let rows = q.fetch_all(&pool).await.unwrap();
            rows.iter().map(|r| r.get::<String, _>(0)).collect()
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
            let mut q = sqlx::query(sql);
            if let Some(s) = subject {
                q = q.bind(s.to_vec());
            }
            let rows = q.fetch_all(&pool).await.unwrap();
            rows.iter().map(|r| r.get::<String, _>(0)).collect()
        }
    }
}

pub async fn every_table_naming_a_person_is_cleared_or_kept_for_a_reason(app: TestApp) {
    let kept: Vec<&str> = KEPT_AFTER_ERASURE.iter().map(|(t, _)| *t).collect();
    let named = tables_naming_a_subject(&app).await;
    for table in &named {
        assert!(
            FORGOTTEN_AT_ERASURE.contains(&table.as_str()) || kept.contains(&table.as_str()),
            "table `{table}` names a subject but an erasure neither clears it nor says why it keeps it"
        );
    }
    for table in FORGOTTEN_AT_ERASURE
        .iter()
        .chain(kept.iter().filter(|t| **t != "subjects"))
    {
        assert!(
            named.iter().any(|n| n == table),
            "`{table}` is listed but has no subject_id"
        );
    }

    // A person with a lookup index, a consent state and a sign-in challenge, erased: none is left.
    let id = crate::create(&app, &crate::customer_without_phone("forget")).await;
    let grant = json!({"purpose": "marketing_email", "channel": "email", "granted": true});
    assert_eq!(
        crate::consent(&app, &id, "service", grant).await.status(),
        StatusCode::OK
    );
    app.vault
        .start_sign_in("ada.forget@example.com")
        .await
        .unwrap();
    let subject = mamori_core::parse_id(&id).unwrap();
    let count =
        |table: &str| format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table} WHERE subject_id = $1");
    for table in ["lookup_index", "consent_state", "signin_challenges"] {
        assert_ne!(
            rows_of(&app, &count(table), Some(&subject)).await,
            ["0"],
            "{table} before"
        );
    }
    let r = crate::officer(&app, Method::DELETE, &format!("/v1/subjects/{id}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    for table in FORGOTTEN_AT_ERASURE {
        assert_eq!(
            rows_of(&app, &count(table), Some(&subject)).await,
            ["0"],
            "{table} after"
        );
    }
}
