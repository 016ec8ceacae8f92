//! The ledger from the command line: verify, anchored heads, and their settings.

use super::*;

#[test]
fn ledger_verify_names_the_first_tampered_leaf() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    for i in 0..5 {
        let out = mamori(
            &data,
            &[
                "apikey",
                "create",
                "--role",
                "analyst",
                "--name",
                &format!("k{i}"),
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("mamori_"));
    }
    let listed = mamori(&data, &["apikey", "list"]);
    assert_eq!(String::from_utf8_lossy(&listed.stdout).lines().count(), 5);
    let out = mamori(
        &data,
        &["apikey", "create", "--role", "nobody", "--name", "x"],
    );
    assert!(!out.status.success());
    let ok = mamori(&data, &["ledger", "verify"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // Five keys created and one listing (ledgered like every administrative action); the
    // refused role changed nothing.
    assert!(String::from_utf8_lossy(&ok.stdout).contains("6 leaves"));

    // Change one byte of leaf 3's stored event.
    let db = data.join("mamori.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.unwrap();
        sqlx::query("UPDATE ledger_leaves SET data = CAST(replace(CAST(data AS TEXT), 'apikey.create', 'apikey.cre4te') AS BLOB) WHERE idx = 3")
            .execute(&mut conn)
            .await
            .unwrap();
    });
    let bad = mamori(&data, &["ledger", "verify"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("leaf 3"), "{err}");
}

/// Deleting the ledger's newest leaves with their heads leaves a ledger consistent with itself;
/// the heads anchored outside the database catch it: `ledger verify --witness` names the
/// missing range, and the server refuses to start over it (exit code 3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_ledger_is_caught_by_its_anchored_heads() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let key = text(
        &mamori(
            &data,
            &["apikey", "create", "--role", "service", "--name", "t"],
        )
        .stdout,
    )
    .trim()
    .to_string();
    let client = reqwest::Client::new();
    let (mut server, base) = serve(&data);
    wait_up(&client, &base).await;
    for i in 0..120 {
        let r = client
            .post(format!("{base}/v1/subjects"))
            .bearer_auth(&key)
            .header("mamori-purpose", "order_fulfilment")
            .json(&serde_json::json!({"data": {"contact": {"name": format!("T{i}")}}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    // SAFETY: sends a signal to the child this test started.
    unsafe {
        libc::kill(server.id() as i32, libc::SIGTERM);
    }
    assert!(server.wait().unwrap().success());
    let heads = data.join("ledger-heads.jsonl");
    let anchored = std::fs::read_to_string(&heads).unwrap();
    let last: serde_json::Value = serde_json::from_str(anchored.lines().last().unwrap()).unwrap();
    let size = last["size"].as_i64().unwrap();
    assert!(size >= 121, "{anchored}");

    // Cut the newest 100 leaves and their heads.
    let db = data.join("mamori.db");
    let cut = size - 100;
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
                .await
                .unwrap();
            for sql in [
                "DELETE FROM ledger_leaves WHERE idx >= $1",
                "DELETE FROM tree_heads WHERE size > $1",
            ] {
                sqlx::query(sql).bind(cut).execute(&mut conn).await.unwrap();
            }
        });
    })
    .await
    .unwrap();
    let alone = mamori(&data, &["ledger", "verify"]);
    assert!(
        alone.status.success(),
        "by itself the cut ledger verifies: {}",
        text(&alone.stderr)
    );
    let witnessed = mamori(
        &data,
        &["ledger", "verify", "--witness", heads.to_str().unwrap()],
    );
    assert!(!witnessed.status.success());
    let err = text(&witnessed.stderr);
    assert!(
        err.contains(&format!("leaves {cut}..{size} are missing")),
        "{err}"
    );

    let refused = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data")
        .arg(&data)
        .args(["--listen", &format!("127.0.0.1:{}", free_port()), "serve"])
        .env_remove("MAMORI_MASTER_KEY")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("cannot be trusted"));
}

/// The settings this file adds do what they say: `[ledger] heads` moves the anchored heads
/// where it points, and `[drp] token_days` is checked (0 is refused at start).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_heads_and_token_days_settings_take_effect() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let heads = dir.path().join("elsewhere-heads.jsonl");
    let config = |days: u32| {
        format!(
            "[ledger]\nheads = \"{}\"\n\n[drp]\ntoken_days = {days}\n",
            heads.display()
        )
    };
    std::fs::write(data.join("mamori.toml"), config(0)).unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data")
        .arg(&data)
        .args(["--listen", &format!("127.0.0.1:{}", free_port()), "serve"])
        .env_remove("MAMORI_MASTER_KEY")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("drp.token_days must be at least 1"),
        "{}",
        text(&refused.stderr)
    );
    std::fs::write(data.join("mamori.toml"), config(30)).unwrap();
    // Something in the ledger, so there is a signed head to anchor.
    let key = mamori(
        &data,
        &["apikey", "create", "--role", "service", "--name", "k"],
    );
    assert!(key.status.success(), "{}", text(&key.stderr));
    let client = reqwest::Client::new();
    let (mut server, base) = serve(&data);
    wait_up(&client, &base).await;
    // SAFETY: sends a signal to the child this test started.
    unsafe {
        libc::kill(server.id() as i32, libc::SIGTERM);
    }
    assert!(server.wait().unwrap().success());
    assert!(
        std::fs::read_to_string(&heads)
            .unwrap()
            .contains("\"signature\"")
    );
    assert!(
        !data.join("ledger-heads.jsonl").exists(),
        "the default file is not used"
    );
}

/// `mamori ledger rotate-key`: heads from then on name the new key; `ledger verify` checks each
/// head with the key of its time and `ledger keys` lists both. A head the first key signs dated
/// after its retirement — what someone holding the retired key could forge — fails verification.
#[test]
fn rotated_ledger_keys_check_each_head_with_the_key_of_its_time() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let create = |name: &str| {
        let out = mamori(
            &data,
            &["apikey", "create", "--role", "analyst", "--name", name],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
    };
    create("before");
    let listed = text(&mamori(&data, &["ledger", "keys"]).stdout);
    assert_eq!(listed.lines().count(), 1, "{listed}");
    let first = listed.split_whitespace().next().unwrap().to_string();

    let out = mamori(&data, &["ledger", "rotate-key"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    create("after");
    let listed = text(&mamori(&data, &["ledger", "keys"]).stdout);
    assert_eq!(listed.lines().count(), 2, "{listed}");
    let second = listed
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    assert!(text(&out.stdout).contains(second) && second != first);
    let db = data.join("mamori.db");
    let keys_used = query_i64(&db, "SELECT COUNT(DISTINCT key_id) FROM tree_heads");
    assert_eq!(keys_used, 2, "heads before and after name their keys");
    let ok = mamori(&data, &["ledger", "verify"]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));

    // The first key is derived from the root: someone with the root could still sign with it,
    // but not a head dated after its retirement.
    let paths = mamori::context::Paths::new(&data, None, None);
    let keyring = mamori::context::keyring(&paths).unwrap();
    let old = mamori_ledger::HeadSigner::from_seed(&keyring.original_ledger_seed());
    assert_eq!(old.key_id(), first);
    let size = query_i64(&db, "SELECT MAX(size) FROM tree_heads") as u64;
    let root: [u8; 32] = [0; 32];
    let forged = old.sign(mamori_ledger::TreeHead {
        size: size + 1,
        timestamp_ms: mamori_core::now_ms() + 3_600_000,
        root,
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let url = format!("sqlite://{}", db.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("INSERT INTO tree_heads (size, timestamp_ms, root, signature, key_id) VALUES (?, ?, ?, ?, ?)")
            .bind(forged.head.size as i64)
            .bind(forged.head.timestamp_ms)
            .bind(&forged.head.root[..])
            .bind(&forged.signature[..])
            .bind(forged.key_id.clone())
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    });
    let bad = mamori(&data, &["ledger", "verify"]);
    assert!(!bad.status.success());
    let err = text(&bad.stderr);
    assert!(
        err.contains("dated outside the time its signing key"),
        "{err}"
    );
}
