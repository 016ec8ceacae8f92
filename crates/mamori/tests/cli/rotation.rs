//! Key rotation survives `kill -9`: a rotation killed while it re-wraps resumes where the
//! database says it stopped, every data key ends under the new epoch, nothing is lost, and the
//! ledger verifies. On SQLite and PostgreSQL.

use std::io::BufRead;

use super::restore::{Install, destroy_epoch, install};
use super::*;
use mamori_testkit::Backend;

const PEOPLE: usize = 12_000;

/// How many data keys sort below (`true`) or at and above key epoch `epoch`'s first byte string.
async fn keys_below(database: &str, epoch: u8, below: bool) -> i64 {
    use sqlx::Connection;
    let floor = vec![0xE1, 0, 0, 0, epoch];
    let sql = if below {
        "SELECT COUNT(*) FROM subjects WHERE wrapped_dek < $1"
    } else {
        "SELECT COUNT(*) FROM subjects WHERE wrapped_dek >= $1"
    };
    if database.starts_with("sqlite://") {
        let mut conn = sqlx::SqliteConnection::connect(database).await.unwrap();
        sqlx::query_scalar(sql)
            .bind(floor)
            .fetch_one(&mut conn)
            .await
            .unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(database).await.unwrap();
        sqlx::query_scalar(sql)
            .bind(floor)
            .fetch_one(&mut conn)
            .await
            .unwrap()
    }
}

fn import_people(mamori: &Install, dir: &std::path::Path) {
    let csv = dir.join("people.csv");
    let mut body = String::from("external_id,contact.name,contact.email\n");
    for i in 0..PEOPLE {
        body.push_str(&format!("r{i},Person {i},rot{i}@example.com\n"));
    }
    std::fs::write(&csv, body).unwrap();
    let file = csv.to_str().unwrap();
    mamori.ok(&[
        "import",
        "--file",
        file,
        "--purpose",
        "order_fulfilment",
        "--batch",
        "4000",
    ]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_killed_midway_resumes_and_loses_nothing() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let dir = tempfile::tempdir().unwrap();
        let Some(mamori) = install(backend, dir.path()).await else {
            continue;
        };
        import_people(&mamori, dir.path());
        assert_eq!(keys_below(&mamori.database, 1, false).await, PEOPLE as i64);

        let mut rotating = mamori.command(&["key", "rotate", "--now"]);
        rotating.stderr(std::process::Stdio::piped());
        let mut child = rotating.spawn().unwrap();
        let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        for line in stderr.lines() {
            if line.unwrap().starts_with("re-wrapped") {
                break;
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let moved = keys_below(&mamori.database, 2, false).await;
        eprintln!("{backend:?}: {moved} of {PEOPLE} keys re-wrapped before kill -9");
        assert!(moved > 0, "{backend:?}");

        let resumed = mamori.ok(&["key", "rotate"]);
        assert!(resumed.contains("key epoch 2 is current"), "{resumed}");
        let rest = PEOPLE as i64 - moved;
        assert!(
            resumed.contains(&format!("re-wrapped {rest} data keys")),
            "{resumed}"
        );
        assert_eq!(
            keys_below(&mamori.database, 2, true).await,
            0,
            "{backend:?}"
        );
        assert_eq!(keys_below(&mamori.database, 2, false).await, PEOPLE as i64);
        mamori.ok(&["ledger", "verify"]);

        // With epoch 1 gone, as the horizon will make it, the server opens every key.
        destroy_epoch(&mamori.data, 1);
        let (mut server, base) = mamori.serve();
        let client = reqwest::Client::new();
        wait_up(&client, &base).await;
        assert_eq!(server.try_wait().unwrap(), None, "{backend:?}: refused");
        server.kill().unwrap();
        server.wait().unwrap();
    }
}
