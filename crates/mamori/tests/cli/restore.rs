//! A backup taken before an erasure, restored as docs/SECURITY.md says, does not give the
//! person back: the server replays the erasure journal (kept beside the master key, outside
//! the database and its backups) before it serves.

use super::*;

/// A consistent copy of the live SQLite database, taken while the server runs.
async fn backup(db: &std::path::Path, to: &std::path::Path) {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let sql = format!("VACUUM INTO '{}'", to.display());
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .unwrap();
}

/// Puts the copy back in place of the database and sets the anchored heads aside, as the
/// recovery steps say (a restore is an accepted rollback of the ledger).
fn restore(data: &std::path::Path, copy: &std::path::Path) {
    let db = data.join("mamori.db");
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    std::fs::copy(copy, &db).unwrap();
    let heads = data.join("ledger-heads.jsonl");
    if heads.exists() {
        std::fs::rename(&heads, data.join("ledger-heads.jsonl.before-restore")).unwrap();
    }
}

fn key(data: &std::path::Path, role: &str) -> String {
    let out = mamori(data, &["apikey", "create", "--role", role, "--name", role]);
    text(&out.stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_backup_does_not_bring_an_erased_person_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let (service, officer) = (key(&data, "service"), key(&data, "privacy_officer"));
    let client = reqwest::Client::new();
    let (mut server, base) = serve(&data);
    wait_up(&client, &base).await;
    // Support tickets: nothing a law requires keeping, so the erasure leaves nothing readable.
    let body = serde_json::json!({"external_id": "restore-1", "data": {"support_tickets": {"subject": "Old copy", "status": "open"}}});
    let created: serde_json::Value = (client.post(format!("{base}/v1/subjects")))
        .bearer_auth(&service)
        .header("mamori-purpose", "customer_support")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let copy = dir.path().join("before-erasure.db");
    backup(&data.join("mamori.db"), &copy).await;
    let as_officer = |method: reqwest::Method, path: String| {
        (client.request(method, format!("{base}{path}")))
            .bearer_auth(&officer)
            .header("mamori-purpose", "data_subject_rights")
    };
    let erased = as_officer(reqwest::Method::DELETE, format!("/v1/subjects/{id}"));
    assert_eq!(erased.send().await.unwrap().status(), 200);
    server.kill().unwrap();
    server.wait().unwrap();

    restore(&data, &copy);
    let (mut server, base) = serve(&data);
    wait_up(&client, &base).await;
    let read = (client.get(format!("{base}/v1/subjects/{id}")))
        .bearer_auth(&officer)
        .header("mamori-purpose", "data_subject_rights");
    let read = read.send().await.unwrap();
    let status = read.status();
    assert_eq!(
        status,
        404,
        "the person is back: {}",
        read.text().await.unwrap()
    );
    let found: serde_json::Value = (client
        .get(format!("{base}/v1/subjects?external_id=restore-1")))
    .bearer_auth(&service)
    .header("mamori-purpose", "customer_support")
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(found["ids"], serde_json::json!([]), "found by external id");
    server.kill().unwrap();
    server.wait().unwrap();
    let verify = mamori(&data, &["ledger", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
}
