//! `kill -9` in the middle: a key rotation killed while it re-wraps resumes where the database
//! says it stopped, every data key ends under the new epoch; a restore killed while it replays
//! the erasure journal is finished by the next start. Nothing is lost, the ledger verifies. On
//! SQLite and PostgreSQL.

use std::io::BufRead;

use super::restore::{Install, destroy_epoch, install};
use super::*;
use mamori_testkit::Backend;

const PEOPLE: usize = 12_000;

/// How many data keys sort below (`true`) or at and above key epoch `epoch`'s first byte string.
async fn keys_below(database: &str, epoch: u8, below: bool) -> i64 {
    let floor = vec![0xE1, 0, 0, 0, epoch];
    let sql = if below {
        "SELECT COUNT(*) FROM subjects WHERE wrapped_dek < $1"
    } else {
        "SELECT COUNT(*) FROM subjects WHERE wrapped_dek >= $1"
    };
    count(database, sql, Some(floor)).await
}

/// `sql` (a COUNT, with `$1` bound to `bind` if given) on either backend.
async fn count(database: &str, sql: &'static str, bind: Option<Vec<u8>>) -> i64 {
    use sqlx::Connection;
    if database.starts_with("sqlite://") {
        let mut conn = sqlx::SqliteConnection::connect(database).await.unwrap();
        let query = sqlx::query_scalar(sql);
        let query = if let Some(b) = bind {
            query.bind(b)
        } else {
            query
        };
        query.fetch_one(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(database).await.unwrap();
        let query = sqlx::query_scalar(sql);
        let query = if let Some(b) = bind {
            query.bind(b)
        } else {
            query
        };
        query.fetch_one(&mut conn).await.unwrap()
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
        assert!(moved > 0 && moved < PEOPLE as i64, "{backend:?}: {moved}");

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

const ERASED: usize = 600;

/// Creates people through the API; their ids.
async fn create_people(client: &reqwest::Client, base: &str, key: &str) -> Vec<String> {
    use futures_util::StreamExt;
    let create = |i: usize| async move {
        let body = serde_json::json!({"data": {"support_tickets": {"subject": format!("T{i}"), "status": "open"}}});
        let created: serde_json::Value = (client.post(format!("{base}/v1/subjects")))
            .bearer_auth(key)
            .header("mamori-purpose", "customer_support")
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        created["id"].as_str().unwrap().to_string()
    };
    futures_util::stream::iter(0..ERASED)
        .map(create)
        .buffer_unordered(8)
        .collect()
        .await
}

async fn erase_people(client: &reqwest::Client, base: &str, key: &str, ids: &[String]) {
    use futures_util::StreamExt;
    let erase = |id: &String| {
        let request = (client.delete(format!("{base}/v1/subjects/{id}")))
            .bearer_auth(key)
            .header("mamori-purpose", "data_subject_rights");
        async move { assert_eq!(request.send().await.unwrap().status(), 200) }
    };
    futures_util::stream::iter(ids)
        .for_each_concurrent(8, erase)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_killed_while_it_replays_the_journal_is_finished_by_the_next_start() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let dir = tempfile::tempdir().unwrap();
        let Some(mamori) = install(backend, dir.path()).await else {
            continue;
        };
        let service = mamori.ok(&["apikey", "create", "--role", "service", "--name", "s"]);
        let officer = mamori.ok(&["apikey", "create", "--role", "privacy_ops", "--name", "o"]);
        let client = reqwest::Client::new();
        let (mut server, base) = mamori.serve();
        wait_up(&client, &base).await;
        let ids = create_people(&client, &base, service.trim()).await;
        let file = dir.path().join("before.backup");
        mamori.ok(&["backup", "--to", file.to_str().unwrap()]);
        erase_people(&client, &base, officer.trim(), &ids).await;
        server.kill().unwrap();
        server.wait().unwrap();

        let mut restoring = mamori.command(&["restore", file.to_str().unwrap()]);
        restoring.env("MAMORI_LOG", "info");
        restoring.stdout(std::process::Stdio::null());
        restoring.stderr(std::process::Stdio::piped());
        let mut child = restoring.spawn().unwrap();
        let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        for line in stderr.lines() {
            if line.unwrap().contains("erased again so far") {
                break;
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let live = "SELECT COUNT(*) FROM subjects WHERE erased_ms IS NULL";
        let left = count(&mamori.database, live, None).await;
        eprintln!("{backend:?}: {left} of {ERASED} still to erase again after kill -9");
        assert!(left > 0 && left < ERASED as i64, "{backend:?}: {left}");

        let (mut server, base) = mamori.serve();
        wait_up(&client, &base).await;
        assert_eq!(count(&mamori.database, live, None).await, 0, "{backend:?}");
        let read = (client.get(format!("{base}/v1/subjects/{}", ids[0])))
            .bearer_auth(officer.trim())
            .header("mamori-purpose", "data_subject_rights");
        assert_eq!(read.send().await.unwrap().status(), 404);
        server.kill().unwrap();
        server.wait().unwrap();
        mamori.ok(&["ledger", "verify"]);
    }
}

/// `mamori key rotate-master`: the key store opens under the new key only, nothing derived
/// changes (API keys, the ledger's signatures), and a rotation cut short at either step is
/// finished or undone by the next command.
#[test]
fn the_master_key_rotates_and_an_interrupted_rotation_is_finished() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let key = mamori(
        &data,
        &["apikey", "create", "--role", "service", "--name", "s"],
    );
    assert!(key.status.success(), "{}", text(&key.stderr));
    let old = std::fs::read(data.join("master.key")).unwrap();
    let old_store = std::fs::read(data.join("key-epochs")).unwrap();
    let rotated = mamori(&data, &["key", "rotate-master"]);
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    assert!(text(&rotated.stdout).contains("rotated the master key"));
    let new = std::fs::read(data.join("master.key")).unwrap();
    assert_ne!(old, new);
    let listed = mamori(&data, &["apikey", "list"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    assert!(
        text(&listed.stdout).contains("service"),
        "the API key still works"
    );
    assert!(mamori(&data, &["ledger", "verify"]).status.success());

    // The old key opens nothing any more.
    std::fs::write(data.join("master.key"), &old).unwrap();
    let refused = mamori(&data, &["apikey", "list"]);
    assert!(text(&refused.stderr).contains("does not open under this master key"));

    // Cut short after the store was re-sealed: the next command puts the new key in place.
    let write_next = || {
        use std::os::unix::fs::PermissionsExt;
        let next = data.join("master.key.next");
        std::fs::write(&next, &new).unwrap();
        std::fs::set_permissions(&next, std::fs::Permissions::from_mode(0o600)).unwrap();
    };
    write_next();
    assert!(mamori(&data, &["apikey", "list"]).status.success());
    assert_eq!(std::fs::read(data.join("master.key")).unwrap(), new);
    assert!(!data.join("master.key.next").exists());

    // Cut short before: the store is still under the old key, the new one is dropped.
    std::fs::write(data.join("master.key"), &old).unwrap();
    std::fs::write(data.join("key-epochs"), &old_store).unwrap();
    write_next();
    assert!(mamori(&data, &["apikey", "list"]).status.success());
    assert_eq!(std::fs::read(data.join("master.key")).unwrap(), old);
    assert!(!data.join("master.key.next").exists());
}

/// A COUNT on either backend.
pub(crate) async fn count_rows(database: &str, sql: &'static str) -> i64 {
    count(database, sql, None).await
}

/// `subject.retention_erased` events in the ledger, on either backend.
async fn retention_erasures(database: &str) -> i64 {
    let sql = if database.starts_with("sqlite://") {
        "SELECT COUNT(*) FROM ledger_leaves WHERE CAST(data AS TEXT) LIKE '%subject.retention_erased%'"
    } else {
        "SELECT COUNT(*) FROM ledger_leaves WHERE convert_from(data, 'UTF8') LIKE '%subject.retention_erased%'"
    };
    count(database, sql, None).await
}

/// A retention sweep killed while it erases: the next sweep erases the rest; everyone is erased
/// exactly once (one ledger event each), the ledger verifies, and the next start completes the
/// erasure journal from the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_killed_midway_is_finished_by_the_next_and_erases_each_once() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let dir = tempfile::tempdir().unwrap();
        let Some(mamori) = install(backend, dir.path()).await else {
            continue;
        };
        import_people(&mamori, dir.path());
        // Everyone last active in 1970: every retention has passed.
        let old = "UPDATE subjects SET active_ms = 1";
        execute(&mamori.database, old).await;
        let erased = "SELECT COUNT(*) FROM subjects WHERE erased_ms IS NOT NULL";

        let mut sweeping = mamori.command(&["retention", "sweep"]);
        sweeping.stdout(std::process::Stdio::null());
        let mut child = sweeping.spawn().unwrap();
        while count(&mamori.database, erased, None).await == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let done = count(&mamori.database, erased, None).await;
        eprintln!("{backend:?}: {done} of {PEOPLE} erased before kill -9");
        assert!(done > 0 && done < PEOPLE as i64, "{backend:?}: {done}");
        assert_eq!(retention_erasures(&mamori.database).await, done);

        let finished = mamori.ok(&["retention", "sweep"]);
        let rest = PEOPLE as i64 - done;
        assert!(
            finished.contains(&format!("{rest} people erased as a whole")),
            "{finished}"
        );
        assert_eq!(count(&mamori.database, erased, None).await, PEOPLE as i64);
        assert_eq!(
            retention_erasures(&mamori.database).await,
            PEOPLE as i64,
            "each once"
        );
        mamori.ok(&["ledger", "verify"]);

        let (mut server, base) = mamori.serve();
        wait_up(&reqwest::Client::new(), &base).await;
        server.kill().unwrap();
        server.wait().unwrap();
        let journal = mamori_core::erasure_journal::ErasureJournal::at(
            mamori.data.join(mamori_core::erasure_journal::FILE),
        );
        let mut ids: Vec<_> = journal
            .entries()
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), PEOPLE, "{backend:?}: the journal names everyone");
    }
}

/// Runs a statement that changes rows, on either backend.
pub(crate) async fn execute(database: &str, sql: &'static str) {
    use sqlx::Connection;
    if database.starts_with("sqlite://") {
        let mut conn = sqlx::SqliteConnection::connect(database).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(database).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    }
}
