//! Backups and restores as the README says: `mamori backup` while the server runs, an erasure,
//! `mamori restore` — the person stays erased (the erasure journal is replayed), the ledger
//! verifies. A backup changed after it was made, or sealed under a key epoch that has since been
//! destroyed, is refused; so is a raw copy whose epochs are gone. On SQLite and PostgreSQL.

use super::*;
use mamori_testkit::Backend;

pub(crate) struct Install {
    pub(crate) data: std::path::PathBuf,
    pub(crate) database: String,
}

impl Install {
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mamori"));
        command
            .arg("--data")
            .arg(&self.data)
            .args(["--database", &self.database])
            .args(args)
            .env_remove("MAMORI_MASTER_KEY")
            .env_remove("MAMORI_POLICY");
        command
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        self.command(args).output().unwrap()
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    }

    pub(crate) fn serve(&self) -> (std::process::Child, String) {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_mamori"))
            .arg("--data")
            .arg(&self.data)
            .args(["--database", &self.database])
            .args(["--listen", &format!("127.0.0.1:{port}"), "serve"])
            .env_remove("MAMORI_MASTER_KEY")
            .env("MAMORI_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        (child, format!("http://127.0.0.1:{port}"))
    }
}

fn stop(mut server: std::process::Child) {
    server.kill().unwrap();
    server.wait().unwrap();
}

pub(crate) async fn install(backend: Backend, dir: &std::path::Path) -> Option<Install> {
    let database = mamori_testkit::database_url(backend, dir).await?;
    let install = Install {
        data: dir.join("d"),
        database,
    };
    install.ok(&["init"]);
    Some(install)
}

/// Drops `epoch` from the key store, as the rotation does once the horizon has passed.
pub(crate) fn destroy_epoch(data: &std::path::Path, epoch: u64) {
    let path = data.join("key-epochs");
    let mut store: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let epochs = store["epochs"].as_array_mut().unwrap();
    epochs.retain(|e| e["id"].as_u64() != Some(epoch));
    std::fs::write(&path, serde_json::to_vec(&store).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_backup_does_not_bring_an_erased_person_back() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let dir = tempfile::tempdir().unwrap();
        let Some(mamori) = install(backend, dir.path()).await else {
            continue;
        };
        let service = mamori.ok(&["apikey", "create", "--role", "service", "--name", "s"]);
        let officer = mamori.ok(&["apikey", "create", "--role", "privacy_ops", "--name", "o"]);
        let (service, officer) = (service.trim(), officer.trim());
        let client = reqwest::Client::new();
        let (server, base) = mamori.serve();
        wait_up(&client, &base).await;
        // Support tickets: nothing a law requires keeping, so the erasure leaves nothing readable.
        let body = serde_json::json!({"external_id": "restore-1", "data": {"support_tickets": {"subject": "Old copy", "status": "open"}}});
        let created: serde_json::Value = (client.post(format!("{base}/v1/subjects")))
            .bearer_auth(service)
            .header("mamori-purpose", "customer_support")
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap().to_string();
        // Someone who stays: their key is what a copy under destroyed epochs cannot open.
        let stays = serde_json::json!({"data": {"support_tickets": {"subject": "Stays", "status": "open"}}});
        let kept = (client.post(format!("{base}/v1/subjects")))
            .bearer_auth(service)
            .header("mamori-purpose", "customer_support")
            .json(&stays);
        assert_eq!(kept.send().await.unwrap().status(), 201);
        let backups = dir.path().join("backups");
        std::fs::create_dir(&backups).unwrap();
        let made = mamori.ok(&["backup", "--to", backups.to_str().unwrap()]);
        assert!(
            made.contains("sealed under key epoch 1"),
            "{backend:?}: {made}"
        );
        let file = std::fs::read_dir(&backups)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let sealed = std::fs::read(&file).unwrap();
        // Sealed whole: not even the ledger's action names are readable in it.
        let readable = |needle: &[u8]| sealed.windows(needle.len()).any(|w| w == needle);
        assert!(!readable(b"subject.create") && !readable(b"support_tickets"));

        let erased = (client.delete(format!("{base}/v1/subjects/{id}")))
            .bearer_auth(officer)
            .header("mamori-purpose", "data_subject_rights");
        assert_eq!(erased.send().await.unwrap().status(), 200);
        stop(server);

        let restored = mamori.ok(&["restore", file.to_str().unwrap()]);
        assert!(
            restored.contains("1 people erased since"),
            "{backend:?}: {restored}"
        );
        let (server, base) = mamori.serve();
        wait_up(&client, &base).await;
        let read = (client.get(format!("{base}/v1/subjects/{id}")))
            .bearer_auth(officer)
            .header("mamori-purpose", "data_subject_rights");
        assert_eq!(
            read.send().await.unwrap().status(),
            404,
            "{backend:?}: back"
        );
        let found: serde_json::Value = (client
            .get(format!("{base}/v1/subjects?external_id=restore-1")))
        .bearer_auth(service)
        .header("mamori-purpose", "customer_support")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(found["ids"], serde_json::json!([]), "{backend:?}: found");
        stop(server);
        mamori.ok(&["ledger", "verify"]);

        refusals(&mamori, &file).await;
        eprintln!("backups and restore: {backend:?} done");
    }
}

/// A consistent copy of a SQLite database by hand (what an operator's own backup would be).
async fn vacuum_into(db: &std::path::Path, to: &std::path::Path) {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let sql = format!("VACUUM INTO '{}'", to.display());
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .unwrap();
    // Closed before anything replaces the file: a connection closed later would checkpoint
    // its WAL into whatever the file then is.
    conn.close().await.unwrap();
}

/// A changed backup, one from another installation, and one whose epoch is destroyed.
/// The leaves `ledger verify` counted.
fn verified_leaves(verified: String) -> u64 {
    let after = verified.split("ok — ").nth(1).unwrap().to_string();
    after.split(' ').next().unwrap().parse::<u64>().unwrap()
}

async fn refusals(mamori: &Install, file: &std::path::Path) {
    // Not a backup at all, and a backup that would replace a file: refused, nothing written.
    let junk = file.with_extension("junk");
    std::fs::write(&junk, "CANARY not a backup\n").unwrap();
    let out = mamori.run(&["restore", junk.to_str().unwrap()]);
    let said = text(&out.stderr);
    assert!(
        !out.status.success() && said.contains("is not a Mamori backup"),
        "{said}"
    );
    assert!(!said.contains("CANARY"), "{said}");
    let leaves = || {
        let said = mamori.ok(&["ledger", "verify"]);
        said.split(" leaves")
            .next()
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string()
    };
    let before = leaves();
    let out = mamori.run(&["backup", "--to", junk.to_str().unwrap()]);
    assert!(!out.status.success() && text(&out.stderr).contains("never replaces a file"));
    assert!(
        std::fs::read_to_string(&junk)
            .unwrap()
            .starts_with("CANARY")
    );
    assert_eq!(leaves(), before, "a refused backup ledgers nothing");

    let mut changed = std::fs::read(file).unwrap();
    let middle = changed.len() - 40;
    changed[middle] ^= 1;
    let changed_file = file.with_extension("changed");
    std::fs::write(&changed_file, &changed).unwrap();
    let out = mamori.run(&["restore", changed_file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("changed or cut short"),
        "{}",
        text(&out.stderr)
    );

    let other_dir = tempfile::tempdir().unwrap();
    let other = Install {
        data: other_dir.path().join("d"),
        database: format!("sqlite://{}", other_dir.path().join("o.db").display()),
    };
    other.ok(&["init"]);
    let out = other.run(&["restore", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("another installation"),
        "{}",
        text(&out.stderr)
    );

    // A raw copy of the SQLite files (not made by `mamori backup`), from before the rotation.
    let mut raw = None;
    if let Some(db) = mamori.database.strip_prefix("sqlite://") {
        let db = std::path::PathBuf::from(db);
        let copy = file.with_extension("raw");
        vacuum_into(&db, &copy).await;
        raw = Some((db, copy));
    }
    let rotated = mamori.ok(&["key", "rotate", "--now"]);
    assert!(rotated.contains("started key epoch 2"), "{rotated}");
    destroy_epoch(&mamori.data, 1);
    let out = mamori.run(&["restore", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(
        said.contains("key epoch 1, which has been destroyed"),
        "{said}"
    );
    assert!(said.contains("older than the backup horizon"), "{said}");
    if let Some((db, copy)) = raw {
        // Put in place by hand, it is refused by the server: its keys are under epoch 1.
        let live = db.with_extension("live");
        vacuum_into(&db, &live).await;
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
        std::fs::rename(&copy, &db).unwrap();
        let log = file.with_extension("serve.log");
        let mut server = mamori
            .command(&["--listen", &format!("127.0.0.1:{}", free_port()), "serve"])
            .env("MAMORI_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut refused = None;
        // Up to a minute: under a full test run the machine's two cores are busy.
        for _ in 0..1200 {
            refused = server.try_wait().unwrap();
            if refused.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let Some(refused) = refused else {
            stop(server);
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("a copy under destroyed epochs was served:\n{log}");
        };
        assert_eq!(refused.code(), Some(4));
        std::fs::rename(&live, &db).unwrap();
    }
    // The live database was re-wrapped under epoch 2 and serves on.
    let before = verified_leaves(mamori.ok(&["ledger", "verify"]));
    let status = mamori.ok(&["key", "status"]);
    assert!(status.contains("epoch 2: current"), "{status}");
    let after = verified_leaves(mamori.ok(&["ledger", "verify"]));
    assert_eq!(after, before + 1, "reading the key status is ledgered");
}

/// `[backup]` in mamori.toml: `serve` takes one at once (none yet), and readiness and metrics
/// give its age; the backup restores.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_backups_are_taken_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mamori = install(Backend::Sqlite, dir.path()).await.unwrap();
    let auto = dir.path().join("auto");
    let config = format!(
        "[backup]\nto = \"{}\"\nevery = \"1h\"\nkeep = 3\n",
        auto.display()
    );
    std::fs::write(mamori.data.join("mamori.toml"), config).unwrap();
    let client = reqwest::Client::new();
    let (server, base) = mamori.serve();
    wait_up(&client, &base).await;
    // Taken at once (none yet); readiness gives its age once it is sealed.
    let mut ready = serde_json::Value::Null;
    for _ in 0..600 {
        ready = (client.get(format!("{base}/readyz")).send().await)
            .unwrap()
            .json()
            .await
            .unwrap();
        if ready["backup"]["age_seconds"].is_u64() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ready["backup"]["age_seconds"].is_u64(), "{ready}");
    assert_eq!(ready["backup"]["overdue"], false, "{ready}");
    let metrics = (client.get(format!("{base}/metrics")).send().await)
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("mamori_backup_last_attempt_failed 0"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("mamori_backup_age_seconds -1"),
        "{metrics}"
    );
    stop(server);
    let file = std::fs::read_dir(&auto)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let restored = mamori.ok(&["restore", file.to_str().unwrap()]);
    assert!(restored.contains("restored"), "{restored}");
}
