//! The `mamori` binary: init, policy check, API keys and ledger verification against tampering.

use std::process::Command;

#[path = "cli/architecture.rs"]
mod architecture;
#[path = "cli/disk_full_pg.rs"]
mod disk_full_pg;
#[path = "cli/readme.rs"]
mod readme;

fn mamori(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("MAMORI_MASTER_KEY")
        .env_remove("MAMORI_DATABASE")
        .env_remove("MAMORI_POLICY")
        .output()
        .unwrap()
}

#[test]
fn policy_check_reports_locations_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let ok = mamori(
        dir.path(),
        &[
            "policy",
            "check",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/policy.toml"),
        ],
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let bad = dir.path().join("bad.toml");
    let text = include_str!("../../../examples/policy.toml").replacen(
        r#"retention = "7y""#,
        r#"retention = "forever""#,
        1,
    );
    std::fs::write(&bad, text).unwrap();
    let out = mamori(dir.path(), &["policy", "check", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:")
            && err.contains("retention `forever` cannot be read")
            && err.contains("hint:"),
        "{err}"
    );
}

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
                "support",
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

fn query_i64(db: &std::path::Path, sql: &'static str) -> i64 {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::{Connection, Row};
        let url = format!("sqlite://{}?mode=ro", db.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query(sql)
            .fetch_optional(&mut conn)
            .await
            .unwrap()
            .map_or(0, |r| r.get::<i64, _>(0))
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn import_csv_writes_rejects_without_values_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let csv = dir.path().join("people.csv");
    let mut body = String::from("external_id,contact.name,contact.email,address.country\n");
    for i in 1..=25 {
        match i {
            5 => body.push_str("c5,Five,CANARY-not-an-email,FR\n"),
            9 => body.push_str("c9,Nine,only-three-cells\n"),
            12 => body.push_str("c12,Twelve,person2@example.com,JP\n"),
            _ => body.push_str(&format!("c{i},Person {i},person{i}@example.com,FR\n")),
        }
    }
    std::fs::write(&csv, body).unwrap();
    let args = [
        "import",
        "--file",
        csv.to_str().unwrap(),
        "--purpose",
        "order_fulfilment",
        "--batch",
        "10",
    ];
    let out = mamori(&data, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("imported 22 subjects, rejected 3 rows"),
        "{}",
        text(&out.stdout)
    );
    let rejects = std::fs::read_to_string(dir.path().join("people.csv.rejects.jsonl")).unwrap();
    assert!(!rejects.contains("CANARY"), "{rejects}");
    let found: Vec<(u64, String)> = rejects
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["line"].as_u64().unwrap(),
                v["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (6, "invalid_value".to_string()),
            (10, "malformed_row".to_string()),
            (13, "identifier_taken".to_string())
        ]
    );
    // Running the same import again resumes after the last committed row: nothing is repeated.
    let again = mamori(&data, &args);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr).contains("the first 25 rows"),
        "{}",
        text(&again.stderr)
    );
    assert!(text(&again.stdout).contains("imported 0 subjects"));
    let db = data.join("mamori.db");
    assert_eq!(query_i64(&db, "SELECT COUNT(*) FROM subjects"), 22);
    let verify = mamori(&data, &["ledger", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
}

#[test]
fn import_jsonl_and_bad_invocations() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let jsonl = dir.path().join("people.jsonl");
    std::fs::write(
        &jsonl,
        concat!(
            r#"{"external_id": "j1", "data": {"contact": {"name": "J One", "email": "j1@example.com"}}}"#,
            "\n",
            r#"{"data": {"contact": {"name": "J Two"}, "address": {"country": "jp"}}}"#,
            "\n\n",
            r#"{"data": {"contact": {"name": "CANARY-broken"#,
            "\n",
            r#"{"data": {"contact": {"name": "J Four"}}, "nickname": "CANARY-extra"}"#,
            "\n",
            r#"{"data": {"contact": {"shoe_size": "44"}}}"#,
            "\n",
        ),
    )
    .unwrap();
    let file = jsonl.to_str().unwrap();
    let out = mamori(
        &data,
        &["import", "--file", file, "--purpose", "order_fulfilment"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("imported 2 subjects, rejected 3 rows"));
    let rejects = std::fs::read_to_string(dir.path().join("people.jsonl.rejects.jsonl")).unwrap();
    assert!(!rejects.contains("CANARY"), "{rejects}");
    assert!(rejects.contains(r#""line":4"#) && rejects.contains("malformed_row"));
    assert!(rejects.contains(r#""line":6"#) && rejects.contains("undeclared_field"));

    // Each bad invocation fails with a message a person can act on, and imports nothing.
    let csv = dir.path().join("bad.csv");
    std::fs::write(&csv, "contact.name,contact.shoe_size\nA,44\n").unwrap();
    let bad_column = mamori(
        &data,
        &[
            "import",
            "--file",
            csv.to_str().unwrap(),
            "--purpose",
            "order_fulfilment",
        ],
    );
    assert!(!bad_column.status.success());
    assert!(text(&bad_column.stderr).contains("`contact.shoe_size`"));
    let txt = dir.path().join("people.txt");
    std::fs::write(&txt, "x").unwrap();
    let bad_format = mamori(
        &data,
        &[
            "import",
            "--file",
            txt.to_str().unwrap(),
            "--purpose",
            "order_fulfilment",
        ],
    );
    assert!(text(&bad_format.stderr).contains("name the file .csv or .jsonl"));
    let bad_purpose = mamori(&data, &["import", "--file", file, "--purpose", "nope"]);
    assert!(!bad_purpose.status.success());
    assert!(text(&bad_purpose.stderr).contains("not declared in the policy"));
    let bad_batch = mamori(
        &data,
        &[
            "import",
            "--file",
            file,
            "--purpose",
            "order_fulfilment",
            "--batch",
            "0",
        ],
    );
    assert!(!bad_batch.status.success());
    let db = data.join("mamori.db");
    assert_eq!(query_i64(&db, "SELECT COUNT(*) FROM subjects"), 2);
}

#[test]
fn import_resumes_after_being_killed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let csv = dir.path().join("many.csv");
    let rows = 30_000;
    let mut body = String::from("external_id,contact.name,contact.email\n");
    for i in 0..rows {
        body.push_str(&format!("k{i},Person {i},p{i}@example.com\n"));
    }
    std::fs::write(&csv, body).unwrap();
    let args = [
        "import",
        "--file",
        csv.to_str().unwrap(),
        "--purpose",
        "order_fulfilment",
        "--batch",
        "500",
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data")
        .arg(&data)
        .args(args)
        .env_remove("MAMORI_MASTER_KEY")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let db = data.join("mamori.db");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while query_i64(&db, "SELECT COALESCE(MAX(rows_done), 0) FROM imports") < 1_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "import made no progress"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done = query_i64(&db, "SELECT COALESCE(MAX(rows_done), 0) FROM imports");
    assert!(
        done < rows,
        "the import finished before it could be interrupted"
    );
    assert_eq!(query_i64(&db, "SELECT COUNT(*) FROM subjects"), done);
    let out = mamori(&data, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!("the first {done} rows")),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(query_i64(&db, "SELECT COUNT(*) FROM subjects"), rows);
    assert!(!dir.path().join("many.csv.rejects.jsonl").exists());
}

/// Runs `mamori bench --tiny --json` with `extra` in a temporary directory: its figures, and the
/// directory (which the bench must leave empty).
fn tiny_bench(extra: &[&str]) -> (serde_json::Value, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(["bench", "--tiny", "--json"])
        .args(extra)
        .arg("--dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    (serde_json::from_slice(&out.stdout).unwrap(), dir)
}

#[test]
fn bench_reports_every_figure() {
    let (figures, dir) = tiny_bench(&[]);
    for key in [
        "seal_ratio",
        "import_subjects_per_s",
        "read_rps",
        "read_p99_ms",
        "erase_median_ms",
        "ledger_append_per_s",
        "ledger_verify_leaves_per_s",
        "proof_ms",
        "rss_mb",
        "consent_check_rps",
        "consent_check_paced_p99_ms",
        "consent_check_paced_server_cpu_us",
        "consent_check_paced_client_cpu_us",
        "http_baseline_rps",
        "http_baseline_paced_server_cpu_us",
        "audience_checks_per_s",
        "webhook_latency_p99_ms",
        "webhook_deliveries_per_s",
        "export_ms_10k_records_10k_events",
        "page_my_data_p95_ms",
        "page_my_choices_p95_ms",
        "page_access_log_p95_ms",
        "requests_opened_per_s",
        "request_queue_page_median_ms",
        "request_queue_page_p95_ms",
        "survey_responses_per_s",
        "survey_response_p99_ms",
        "survey_results_median_ms",
    ] {
        let v = figures[key].as_f64();
        assert!(v.is_some_and(|v| v >= 0.0), "{key}: {figures}");
    }
    assert!(figures["read_rps"].as_f64().unwrap() > 0.0);
    assert_eq!(figures["read_errors"], 0, "{figures}");
    assert_eq!(figures["consent_check_errors"], 0, "{figures}");
    assert!(figures["webhook_deliveries_per_s"].as_f64().unwrap() > 0.0);
    assert!(figures["survey_responses_per_s"].as_f64().unwrap() > 0.0);
    assert!(
        figures["survey_results_responses"].as_u64().unwrap() >= 2_000,
        "{figures}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "the throw-away installation is removed"
    );
}

#[test]
fn bench_consent_only_reports_the_consent_figures_and_their_baselines() {
    let (figures, dir) = tiny_bench(&["--consent-only"]);
    for key in [
        "raw_aead_seals_per_s",
        "http_baseline_rps",
        "http_baseline_paced_p99_ms",
        "consent_check_paced_p99_ms",
        "consent_check_rps",
    ] {
        assert!(
            figures[key].as_f64().is_some_and(|v| v > 0.0),
            "{key}: {figures}"
        );
    }
    // The server did the work: its CPU per request is measured, not zero.
    assert!(
        figures["consent_check_paced_server_cpu_us"]
            .as_f64()
            .is_some_and(|us| us > 0.0),
        "{figures}"
    );
    assert_eq!(figures["consent_check_errors"], 0, "{figures}");
    for skipped in [
        "read_rps",
        "webhook_latency_p99_ms",
        "survey_results_median_ms",
    ] {
        assert!(figures.get(skipped).is_none(), "{skipped}: {figures}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn webhook_commands_add_list_replay_remove() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    // Bad invocations fail with a message and start nothing.
    let out = mamori(
        &data,
        &[
            "webhook",
            "listen",
            "--on",
            "127.0.0.1:0",
            "--secret",
            "whsec_not base64!",
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("whsec_"),
        "{}",
        text(&out.stderr)
    );
    let out = mamori(&data, &["serve", "--webhook-attempts", "0"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--webhook-attempts"));
    let add = mamori(
        &data,
        &[
            "webhook",
            "add",
            "--url",
            "https://203.0.113.7/hook",
            "--events",
            "consent.changed,subject.erased",
        ],
    );
    assert!(add.status.success(), "{}", text(&add.stderr));
    let line = text(&add.stdout);
    let (id, secret) = line.trim().split_once('\t').unwrap();
    assert!(secret.starts_with("whsec_"));
    let list = text(&mamori(&data, &["webhook", "list"]).stdout);
    assert!(
        list.contains(id) && list.contains("consent.changed,subject.erased"),
        "{list}"
    );
    assert!(!list.contains(secret), "the secret is shown once only");
    let replay = mamori(&data, &["webhook", "replay", id, "--from", "1"]);
    assert!(replay.status.success(), "{}", text(&replay.stderr));
    let bad = mamori(
        &data,
        &["webhook", "add", "--url", "gopher://x", "--events", "*"],
    );
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("http:// or https://"));
    let bad = mamori(
        &data,
        &[
            "webhook",
            "add",
            "--url",
            "https://x.test/",
            "--events",
            "nope",
        ],
    );
    assert!(!bad.status.success());
    assert!(mamori(&data, &["webhook", "remove", id]).status.success());
    assert!(!mamori(&data, &["webhook", "remove", id]).status.success());
    assert!(!text(&mamori(&data, &["webhook", "list"]).stdout).contains(id));
    let verify = mamori(&data, &["ledger", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
}

/// A consent change committed while its webhook target is down, then the server killed with
/// SIGKILL: after a restart the event is still delivered (the outbox is the source of truth).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_event_survives_a_killed_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    // The receiver listens on loopback, which only an [outbound] allow opens.
    std::fs::write(
        data.join("mamori.toml"),
        "[outbound]\nallow = [\"127.0.0.1\"]\n",
    )
    .unwrap();
    let key = text(
        &mamori(
            &data,
            &["apikey", "create", "--role", "service", "--name", "t"],
        )
        .stdout,
    )
    .trim()
    .to_string();
    let hook_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hook = format!("http://127.0.0.1:{hook_port}/hook");
    let add = mamori(
        &data,
        &[
            "webhook",
            "add",
            "--url",
            &hook,
            "--events",
            "consent.changed",
        ],
    );
    assert!(add.status.success(), "{}", text(&add.stderr));

    let client = reqwest::Client::new();
    let (mut server, base) = serve(&data);
    wait_up(&client, &base).await;
    let created: serde_json::Value = client
        .post(format!("{base}/v1/subjects"))
        .bearer_auth(&key)
        .header("mamori-purpose", "order_fulfilment")
        .json(&serde_json::json!({"data": {"contact": {"name": "Kill Test"}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let r = client
        .put(format!("{base}/v1/consent/{id}"))
        .bearer_auth(&key)
        .json(
            &serde_json::json!({"purpose": "marketing_email", "channel": "email", "granted": true}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Let the worker try (the target is down), then kill the server without warning.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    server.kill().unwrap();
    server.wait().unwrap();

    // The target comes up — `mamori webhook listen`, checking signatures with the secret
    // `webhook add` printed — and so does the server again.
    let secret = text(&add.stdout)
        .trim()
        .split('\t')
        .nth(1)
        .unwrap()
        .to_string();
    let mut listener = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args([
            "webhook",
            "listen",
            "--on",
            &format!("127.0.0.1:{hook_port}"),
        ])
        .args(["--secret", &secret])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let printed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = printed.clone();
    let mut stdout = listener.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = std::io::Read::read(&mut stdout, &mut buf) {
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let (mut server, base) = serve(&data);
    wait_up(&client, &base).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !printed.lock().unwrap().contains("consent.changed") {
        assert!(std::time::Instant::now() < deadline, "the event was lost");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    listener.kill().unwrap();
    listener.wait().unwrap();
    let printed = printed.lock().unwrap().clone();
    let (head, body) = printed.split_once('\n').unwrap();
    assert!(head.ends_with("signature ok"), "{printed}");
    let body: serde_json::Value = serde_json::from_str(body.lines().next().unwrap()).unwrap();
    assert_eq!(body["type"], "consent.changed");
    assert_eq!(body["data"]["subject"], id.as_str());
}

/// `mamori serve` on `data` at a free port, quiet; its base URL.
fn serve(data: &std::path::Path) -> (std::process::Child, String) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data")
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}"), "serve"])
        .env_remove("MAMORI_MASTER_KEY")
        .env("MAMORI_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    (child, format!("http://127.0.0.1:{port}"))
}

async fn wait_up(client: &reqwest::Client, base: &str) {
    for _ in 0..300 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("server did not start");
}

/// The CLI beside a running server is a second process writing the same database: a key it
/// creates works on the server at once, one it revokes stops working within the key cache's
/// 2 s, the server goes on writing after it (it used to fail every write from then on: the
/// ledger index it meant to use was taken), and the ledger still verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_writes_beside_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let create_key = |name: &str| {
        let out = mamori(
            &data,
            &["apikey", "create", "--role", "service", "--name", name],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).trim().to_string()
    };
    let first = create_key("before");
    let client = reqwest::Client::new();
    let (mut server, base) = serve(&data);
    wait_up(&client, &base).await;
    let create = async |key: &str, name: &str| {
        client
            .post(format!("{base}/v1/subjects"))
            .bearer_auth(key)
            .header("mamori-purpose", "order_fulfilment")
            .json(&serde_json::json!({"data": {"contact": {"name": name}}}))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(create(&first, "One").await, 201);
    let second = create_key("beside");
    assert_eq!(create(&second, "Two").await, 201);
    assert_eq!(create(&first, "Three").await, 201);

    let listed = text(&mamori(&data, &["apikey", "list"]).stdout);
    let first_id = listed
        .lines()
        .find(|l| l.ends_with("\tbefore"))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .to_string();
    let revoked = mamori(&data, &["apikey", "revoke", &first_id]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while create(&first, "Refused").await != 401 {
        assert!(
            std::time::Instant::now() < deadline,
            "the revoked key still works"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(create(&second, "Four").await, 201);
    server.kill().unwrap();
    server.wait().unwrap();

    let verified = mamori(&data, &["ledger", "verify"]);
    assert!(
        verified.status.success(),
        "{}{}",
        text(&verified.stdout),
        text(&verified.stderr)
    );
}

#[test]
fn import_consents_keeps_original_times_and_never_goes_back_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let people = dir.path().join("people.csv");
    std::fs::write(&people, "external_id,contact.name\nc1,One\nc2,Two\n").unwrap();
    let out = mamori(
        &data,
        &[
            "import",
            "--file",
            people.to_str().unwrap(),
            "--purpose",
            "order_fulfilment",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let consents = dir.path().join("consents.csv");
    std::fs::write(
        &consents,
        concat!(
            "subject,purpose,channel,granted,timestamp,source,notice_version\n",
            // Notice labels of the system consents come from are kept as they are.
            "c1,marketing_email,email,true,2024-03-01T10:00:00Z,portal,legacy-2024\n",
            // Older than the grant above: joins the history, does not undo the grant.
            "c1,marketing_email,email,false,2023-01-01T10:00:00Z,agent,legacy-2022\n",
            "c2,marketing_sms,sms,true,2024-05-01T08:30:00+02:00,import,\n",
            "c3,marketing_email,email,true,2024-03-01T10:00:00Z,portal,legacy-2024\n",
            "c1,order_fulfilment,,true,2024-03-01T10:00:00Z,portal,legacy-2024\n",
            "c1,marketing_email,fax,true,2024-03-01T10:00:00Z,portal,legacy-2024\n",
            "c1,marketing_email,email,maybe,2024-03-01T10:00:00Z,portal,legacy-2024\n",
            "c1,marketing_email,email,true,yesterday,portal,legacy-2024\n",
            "c1,marketing_email,email,true,2999-01-01T00:00:00Z,portal,legacy-2024\n",
            // Mamori's own version names must exist: nothing is published here.
            "c2,marketing_email,email,true,2024-03-01T10:00:00Z,portal,v1\n",
        ),
    )
    .unwrap();
    let out = mamori(
        &data,
        &["import", "consents", "--file", consents.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("imported 3 consent records, rejected 7 rows"),
        "{}",
        text(&out.stdout)
    );
    let rejects = std::fs::read_to_string(dir.path().join("consents.csv.rejects.jsonl")).unwrap();
    for (line, code) in [
        (5, "subject_not_found"),
        (6, "not_consent_based"),
        (7, "unknown_channel"),
        (8, "malformed_row"),
        (9, "malformed_row"),
        (10, "invalid_value"),
        (11, "unknown_notice_version"),
    ] {
        assert!(
            rejects.contains(&format!(r#""line":{line}"#)) && rejects.contains(code),
            "line {line} {code}: {rejects}"
        );
    }
    let db = data.join("mamori.db");
    assert_eq!(query_i64(&db, "SELECT COUNT(*) FROM consent_events"), 3);
    assert_eq!(
        query_i64(
            &db,
            "SELECT COUNT(*) FROM outbox WHERE kind = 'consent.changed'"
        ),
        2,
        "the older withdrawal is history, not news"
    );
    assert_eq!(
        query_i64(
            &db,
            "SELECT granted FROM consent_state WHERE purpose = 'marketing_email'"
        ),
        1,
        "an older withdrawal does not override a newer grant"
    );
    assert_eq!(
        query_i64(
            &db,
            "SELECT updated_ms FROM consent_state WHERE purpose = 'marketing_sms'"
        ),
        1_714_545_000_000
    );
    let out = mamori(&data, &["import"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--purpose"));
    let verify = mamori(&data, &["ledger", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
}

#[test]
fn policy_diff_explains_changes() {
    let dir = tempfile::tempdir().unwrap();
    let base = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/policy.toml");
    let newer = dir.path().join("new.toml");
    let shorter = include_str!("../../../examples/policy.toml").replacen(
        r#"retention = "7y""#,
        r#"retention = "5y""#,
        1,
    );
    std::fs::write(&newer, shorter).unwrap();
    let out = mamori(
        dir.path(),
        &["policy", "diff", base, newer.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("narrows") && said.contains("kept shorter: 5y instead of 7y"),
        "{said}"
    );
    assert!(!said.contains("widen processing"));
    let back = mamori(
        dir.path(),
        &["policy", "diff", newer.to_str().unwrap(), base],
    );
    assert!(text(&back.stdout).contains("widen processing"));
    let same = mamori(dir.path(), &["policy", "diff", base, base]);
    assert!(text(&same.stdout).contains("no changes"));
    let missing = mamori(dir.path(), &["policy", "diff", base, "/nonexistent.toml"]);
    assert!(!missing.status.success());
}

#[test]
fn policy_publish_records_versions_and_consents_name_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let first = mamori(&data, &["policy", "publish"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(text(&first.stdout).contains("version v1"));
    assert!(text(&mamori(&data, &["policy", "publish"]).stdout).contains("unchanged"));
    let policy = data.join("policy.toml");
    let changed = std::fs::read_to_string(&policy).unwrap().replacen(
        r#"retention = "7y""#,
        r#"retention = "6y""#,
        1,
    );
    std::fs::write(&policy, changed).unwrap();
    assert!(text(&mamori(&data, &["policy", "publish"]).stdout).contains("version v2"));
    let versions = text(&mamori(&data, &["policy", "versions"]).stdout);
    assert_eq!(versions.lines().count(), 2, "{versions}");
    assert!(versions.contains("cli"));
    let db = data.join("mamori.db");
    assert_eq!(
        query_i64(
            &db,
            "SELECT COUNT(*) FROM outbox WHERE kind = 'notice.published'"
        ),
        2
    );
    // A consent recorded now names the notice in force.
    let people = dir.path().join("p.csv");
    std::fs::write(&people, "external_id,contact.name\nn1,N\n").unwrap();
    assert!(
        mamori(
            &data,
            &[
                "import",
                "--file",
                people.to_str().unwrap(),
                "--purpose",
                "order_fulfilment"
            ]
        )
        .status
        .success()
    );
    let consents = dir.path().join("c.csv");
    std::fs::write(
        &consents,
        "subject,purpose,channel,granted,timestamp\nn1,marketing_email,email,true,2025-01-01T00:00:00Z\n",
    )
    .unwrap();
    assert!(
        mamori(
            &data,
            &["import", "consents", "--file", consents.to_str().unwrap()]
        )
        .status
        .success()
    );
    let verify = mamori(&data, &["ledger", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
}

/// A fake SMTP server: accepts every message and hands over what came after DATA.
async fn fake_smtp() -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 fake ESMTP\r\n").await.unwrap();
                let (mut in_data, mut message) = (false, String::new());
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            let _ = tx.send(std::mem::take(&mut message));
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            message.push_str(&line);
                            message.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    // Like real servers, the refusal quotes the recipient.
                    if verb == "RCPT" && line.contains("bounce@") {
                        write
                            .write_all(b"550 5.1.1 <bounce@example.com>: no such user\r\n")
                            .await
                            .unwrap();
                        continue;
                    }
                    let answer: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 fake\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 go on\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            return;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(answer).await.unwrap();
                }
            });
        }
    });
    (port, rx)
}

/// The message as a reader sees it: soft line breaks joined, `=XX` bytes restored.
fn quoted_printable_decoded(raw: &str) -> String {
    let joined = raw.replace("=\n", "");
    let bytes = joined.as_bytes();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn cookie_of(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            c.strip_prefix(&format!("{name}="))?
                .split(';')
                .next()
                .map(str::to_string)
        })
}

/// `mamori serve` with a configuration file: sign-in codes by e-mail go out over SMTP with a
/// link that fills in the code (the link alone signs nobody in), codes to phone numbers go to
/// the SMS gateway with its token, and a broken configuration stops the server with a clear
/// message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_sends_codes_by_smtp_and_sms() {
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
    let (smtp_port, mut mails) = fake_smtp().await;
    let (sms_tx, mut texts) = tokio::sync::mpsc::unbounded_channel::<(String, serde_json::Value)>();
    let gateway = axum::Router::new().route(
        "/send",
        axum::routing::post(
            move |headers: axum::http::HeaderMap,
                  axum::Json(body): axum::Json<serde_json::Value>| {
                let sms_tx = sms_tx.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    let _ = sms_tx.send((auth, body));
                    axum::http::StatusCode::ACCEPTED
                }
            },
        ),
    );
    let gateway_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway_port = gateway_listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(gateway_listener, gateway).await.unwrap() });
    std::fs::write(
        data.join("mamori.toml"),
        format!(
            "public_url = \"https://privacy.shop.example\"\n\
             [mail]\nsmtp_url = \"smtp://127.0.0.1:{smtp_port}\"\nfrom = \"Shop <privacy@shop.example>\"\n\
             [sms]\nurl = \"http://127.0.0.1:{gateway_port}/send\"\ntoken_env = \"MAMORI_TEST_SMS_TOKEN\"\n\
             [deadlines]\nappi = {{ answer = \"7d\" }}\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data")
        .arg(&data)
        .args(["--listen", &format!("127.0.0.1:{port}"), "serve"])
        .env_remove("MAMORI_MASTER_KEY")
        .env("MAMORI_TEST_SMS_TOKEN", "gateway-secret")
        .stdout(std::process::Stdio::null())
        .env("MAMORI_LOG", "warn")
        .stderr(std::fs::File::create(dir.path().join("serve.log")).unwrap())
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut up = false;
    for _ in 0..300 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(up, "server did not start");
    let r = client
        .post(format!("{base}/v1/subjects"))
        .bearer_auth(&key)
        .header("mamori-purpose", "order_fulfilment")
        .json(&serde_json::json!({"data": {"contact": {"email": "mia@example.com", "phone": "+33 6 12 34 56 78"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = client
        .post(format!("{base}/v1/subjects"))
        .bearer_auth(&key)
        .header("mamori-purpose", "order_fulfilment")
        .json(&serde_json::json!({"data": {"contact": {"email": "bounce@example.com"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let page = client
        .get(format!("{base}/privacy/sign-in"))
        .send()
        .await
        .unwrap();
    let browser = cookie_of(&page, "mamori_csrf").unwrap();
    let html = page.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let jar = format!("mamori_csrf={browser}");
    let ask = async |address: &str| {
        let r = client
            .post(format!("{base}/privacy/sign-in"))
            .header("cookie", &jar)
            .form(&[("csrf", csrf.as_str()), ("lang", "en"), ("email", address)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    };
    let wait = std::time::Duration::from_secs(10);

    // E-mail: over SMTP, with the code and a link to the configured public address.
    ask("mia@example.com").await;
    let mail = tokio::time::timeout(wait, mails.recv())
        .await
        .expect("mail sent")
        .unwrap();
    let mail = quoted_printable_decoded(&mail);
    assert!(mail.contains("To: mia@example.com"), "{mail}");
    assert!(mail.contains("From: Shop <privacy@shop.example>"), "{mail}");
    let link_start = mail
        .find("https://privacy.shop.example/privacy/sign-in/link?")
        .expect("link");
    let link: String = mail[link_start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let code = link.split("code=").nth(1).unwrap()[..6].to_string();
    // Opening the link shows the form filled in; it signs nobody in by itself.
    let path = link.trim_start_matches("https://privacy.shop.example");
    let r = client.get(format!("{base}{path}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(cookie_of(&r, "mamori_session").is_none());
    assert_eq!(r.headers()["referrer-policy"], "same-origin");
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!("value=\"{code}\"")),
        "code filled in"
    );
    let challenge = link
        .split("challenge=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let r = client
        .post(format!("{base}/privacy/sign-in/code"))
        .header("cookie", &jar)
        .form(&[
            ("csrf", csrf.as_str()),
            ("lang", "en"),
            ("challenge", &challenge),
            ("code", &code),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "one click signs in");
    assert!(cookie_of(&r, "mamori_session").is_some());
    // A link cut short says so.
    let r = client
        .get(format!("{base}/privacy/sign-in/link?challenge=x&lang=en"))
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("link is incomplete"));

    // Phone: through the SMS gateway, with its token; the number is normalised.
    ask("+33 6 12 34 56 78").await;
    let (auth, body) = tokio::time::timeout(wait, texts.recv())
        .await
        .expect("text sent")
        .unwrap();
    assert_eq!(auth, "Bearer gateway-secret");
    assert_eq!(body["to"], "+33612345678");
    assert!(body["text"].as_str().unwrap().contains("code"), "{body}");
    // An unknown number gets the same answer and no message.
    ask("+33 6 99 99 99 99").await;
    let r = client
        .post(format!("{base}/privacy/sign-in"))
        .header("cookie", &jar)
        .form(&[
            ("csrf", csrf.as_str()),
            ("lang", "en"),
            ("email", "not an address"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        422,
        "neither an e-mail address nor a phone number"
    );
    // A refused recipient: logged by reply code, never with the server's text quoting it.
    ask("bounce@example.com").await;
    let log_path = dir.path().join("serve.log");
    let mut logged = String::new();
    for _ in 0..100 {
        logged = std::fs::read_to_string(&log_path).unwrap_or_default();
        if logged.contains("mail could not be delivered") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(logged.contains("mail could not be delivered"), "{logged}");
    assert!(logged.contains("550"), "{logged}");
    assert!(!logged.contains("bounce@example.com"), "{logged}");
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(300), texts.recv())
            .await
            .is_err()
    );

    // A configuration mistake stops the server with a message naming it.
    std::fs::write(
        data.join("mamori.toml"),
        "[deadlines]\ngdpr = { answer = \"soon\" }\n",
    )
    .unwrap();
    let out = mamori(&data, &["serve"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("deadlines.gdpr.answer"),
        "{}",
        text(&out.stderr)
    );
}

/// `mamori serve --tls-cert --tls-key`: HTTPS only, with HSTS and Secure cookies; plain HTTP on
/// that port gets no page; an unusable key stops the server with a clear message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_over_tls() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ])
        // An end-entity certificate (a CA one is refused as a server's own by webpki).
        .args([
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "extendedKeyUsage=serverAuth",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is installed");
    assert!(made.status.success(), "{}", text(&made.stderr));

    let bad = mamori(
        &data,
        &[
            "serve",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            cert.to_str().unwrap(),
        ],
    );
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("cannot be used"),
        "{}",
        text(&bad.stderr)
    );
    let half = mamori(&data, &["serve", "--tls-cert", cert.to_str().unwrap()]);
    assert!(
        !half.status.success(),
        "a certificate without its key is refused"
    );

    let port = free_port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data")
        .arg(&data)
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "serve",
            "--tls-cert",
        ])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .env_remove("MAMORI_MASTER_KEY")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();

    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read_to_string(&cert).unwrap();
    let der = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        pem.lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>(),
    )
    .unwrap();
    roots
        .add(rustls::pki_types::CertificateDer::from(der))
        .unwrap();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let get = async |path: &str| -> Option<String> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, tcp).await.ok()?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        tls.write_all(request.as_bytes()).await.ok()?;
        let mut answer = Vec::new();
        let _ = tls.read_to_end(&mut answer).await;
        Some(String::from_utf8_lossy(&answer).into_owned())
    };
    let mut answer = None;
    for _ in 0..300 {
        answer = get("/privacy/sign-in").await;
        if answer.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let answer = answer.expect("HTTPS answers").to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 200"), "{answer}");
    assert!(
        answer.contains("strict-transport-security: max-age=31536000"),
        "{answer}"
    );
    let cookie = answer
        .lines()
        .find(|l| l.starts_with("set-cookie: mamori_csrf="))
        .expect("csrf cookie");
    assert!(
        cookie.contains("; secure")
            && cookie.contains("httponly")
            && cookie.contains("samesite=strict"),
        "{cookie}"
    );

    // Plain HTTP to the same port gets no page.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    server.kill().unwrap();
    server.wait().unwrap();
}

/// `mamori agent add|list|remove`: a bad id or verify key, a reused id and an unknown agent are
/// refused with a message and change nothing.
#[test]
fn agent_commands_register_list_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    // The base64 of a 32-byte Ed25519 public key (RFC 8032 test 1).
    let key = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    for (args, says) in [
        (
            vec![
                "agent",
                "add",
                "BAD ID!",
                "--name",
                "x",
                "--verify-key",
                key,
            ],
            "agent id",
        ),
        (
            vec![
                "agent",
                "add",
                "CR",
                "--name",
                "x",
                "--verify-key",
                "bm90IGEga2V5",
            ],
            "verify key",
        ),
        (
            vec!["agent", "add", "CR", "--name", "x", "--verify-key", "%%%"],
            "verify key",
        ),
        (vec!["agent", "remove", "NOBODY"], ""),
    ] {
        let out = mamori(&data, &args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            text(&out.stderr).contains(says),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    assert_eq!(
        text(&mamori(&data, &["agent", "list"]).stdout),
        "",
        "nothing registered"
    );
    let add = mamori(
        &data,
        &[
            "agent",
            "add",
            "CR",
            "--name",
            "Consumer Reports",
            "--verify-key",
            key,
        ],
    );
    assert!(add.status.success(), "{}", text(&add.stderr));
    let again = mamori(
        &data,
        &["agent", "add", "CR", "--name", "x", "--verify-key", key],
    );
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("never reused"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(
        text(&mamori(&data, &["agent", "list"]).stdout),
        "CR\tactive\tConsumer Reports\n"
    );
    assert!(mamori(&data, &["agent", "remove", "CR"]).status.success());
    assert_eq!(
        text(&mamori(&data, &["agent", "list"]).stdout),
        "CR\tremoved\tConsumer Reports\n"
    );
    assert!(
        !mamori(&data, &["agent", "remove", "CR"]).status.success(),
        "removed once only"
    );
}

/// Runs `mamori scrub ARGS` with `input` on standard input.
fn scrub(args: &[&str], input: &[u8], env: &[(&str, &str)]) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("scrub")
        .args(args)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn scrub_reads_records_by_line_and_keeps_their_order() {
    let input = "mail ada@example.com please\n\
                 nothing personal, order #12345678\n\
                 \n\
                 paid with 4111 1111 1111 1111 from 10.0.0.1\n";
    let out = scrub(&[], input.as_bytes(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "mail [EMAIL] please\n\
         nothing personal, order #12345678\n\
         \n\
         paid with [CARD] from [IP]\n"
    );
    let out = scrub(&["--spans"], input.as_bytes(), &[]);
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0],
        serde_json::json!([{"kind": "email", "start": 5, "end": 20}])
    );
    assert_eq!(lines[1], serde_json::json!([]));
    assert_eq!(lines[3].as_array().unwrap().len(), 2);

    let out = scrub(
        &["--mode", "payment_card=mask", "--mode", "email=drop"],
        input.as_bytes(),
        &[],
    );
    assert!(text(&out.stdout).starts_with("mail  please\n"));
    assert!(text(&out.stdout).contains("**** **** **** 1111"));
    let out = scrub(
        &["--mode", "email=hash", "--hash-key-env", "SCRUB_KEY"],
        b"ada@example.com\nADA@example.com\n",
        &[("SCRUB_KEY", "secret")],
    );
    let hashed: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    assert!(hashed[0].starts_with("[EMAIL:"), "{hashed:?}");
    assert_eq!(hashed[0], hashed[1], "one address, one tag");
}

#[test]
fn scrub_refuses_bad_options_and_non_utf8_input_with_a_message() {
    for (args, says) in [
        (vec!["--mode", "passport=mask"], "unknown kind"),
        (vec!["--mode", "email"], "expected KIND=MODE"),
        (vec!["--mode", "email=blur"], "unknown mode"),
        (vec!["--mode", "email=hash"], "needs a key"),
        (
            vec!["--mode", "email=hash", "--hash-key-env", "NOT_SET_ANYWHERE"],
            "is not set",
        ),
    ] {
        let out = scrub(&args, b"ada@example.com\n", &[]);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            text(&out.stderr).contains(says),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            out.stdout.is_empty(),
            "nothing is written when the options are wrong"
        );
    }
    let out = scrub(&[], b"fine\n\xff\xfe broken\n", &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("line 2 is not UTF-8"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn survey_commands_create_list_report_and_close() {
    let dir = tempfile::tempdir().unwrap();
    assert!(mamori(dir.path(), &["init"]).status.success());
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/survey.toml");
    let out = mamori(dir.path(), &["survey", "create", file]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("/survey/how-we-use-your-data"));
    // The same slug again, a file with a mistake, a file that is not there: a message each.
    let again = mamori(dir.path(), &["survey", "create", file]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("slug exists already"),
        "{}",
        text(&again.stderr)
    );
    let bad = dir.path().join("bad.toml");
    let broken = include_str!("../../../examples/survey.toml")
        .replace("how-we-use-your-data", "other")
        .replace("fr = \"Oui\"", "");
    std::fs::write(&bad, broken).unwrap();
    let out = mamori(dir.path(), &["survey", "create", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("needs a text in fr"),
        "{}",
        text(&out.stderr)
    );
    let out = mamori(
        dir.path(),
        &["survey", "create", "/nonexistent/survey.toml"],
    );
    assert!(text(&out.stderr).contains("reading /nonexistent/survey.toml"));

    let out = mamori(dir.path(), &["survey", "list"]);
    assert_eq!(
        text(&out.stdout),
        "how-we-use-your-data\topen\t4 questions\n"
    );
    let out = mamori(dir.path(), &["survey", "results", "how-we-use-your-data"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["suppressed"], true, "no responses yet: nothing shown");
    let out = mamori(
        dir.path(),
        &[
            "survey",
            "results",
            "how-we-use-your-data",
            "--by",
            "comment",
        ],
    );
    assert!(!out.status.success());
    let out = mamori(dir.path(), &["survey", "close", "how-we-use-your-data"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = mamori(dir.path(), &["survey", "list"]);
    assert!(text(&out.stdout).contains("\tclosed\t"));
    let out = mamori(dir.path(), &["survey", "close", "no-such"]);
    assert!(
        text(&out.stderr).contains("no survey with this slug"),
        "{}",
        text(&out.stderr)
    );
}

/// `mamori survey invite` prints one link per subject for an invited survey, and refuses what
/// it cannot invite with a reason.
#[test]
fn survey_invite_prints_one_link_per_subject() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(mamori(&data, &["init"]).status.success());
    let csv = dir.path().join("people.csv");
    std::fs::write(
        &csv,
        "external_id,contact.name,contact.email\np1,One,one@example.com\np2,Two,two@example.com\n",
    )
    .unwrap();
    let out = mamori(
        &data,
        &[
            "import",
            "--file",
            csv.to_str().unwrap(),
            "--purpose",
            "order_fulfilment",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = dir.path().join("panel.toml");
    let definition = include_str!("../../../examples/survey.toml")
        .replace("how-we-use-your-data", "panel")
        .replace(
            "mode = \"anonymous\"",
            "mode = \"anonymous\"\naccess = \"invited\"",
        );
    std::fs::write(&file, definition).unwrap();
    let out = mamori(&data, &["survey", "create", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let subjects: Vec<String> = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let url = format!("sqlite://{}", data.join("mamori.db").display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let rows: Vec<Vec<u8>> = sqlx::query_scalar("SELECT id FROM subjects ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
        rows.iter()
            .map(|b| uuid::Uuid::from_slice(b).unwrap().to_string())
            .collect()
    });
    assert_eq!(subjects.len(), 2);
    let nobody = uuid::Uuid::new_v4().to_string();
    let out = mamori(
        &data,
        &[
            "survey",
            "invite",
            "panel",
            &subjects[0],
            &subjects[1],
            &nobody,
            "--base-url",
            "https://shop.example/",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    for (line, subject) in lines.iter().zip(&subjects) {
        assert!(
            line.starts_with(&format!(
                "{subject}\thttps://shop.example/survey/panel#invitation="
            )),
            "{line}"
        );
    }
    assert_eq!(lines[2], format!("{nobody}\trefused: subject_not_found"));
    let out = mamori(&data, &["survey", "list"]);
    assert!(
        text(&out.stdout).contains("panel\topen\t4 questions\tinvited: 2, tokens issued: 0"),
        "{}",
        text(&out.stdout)
    );
    // Bad input: a message each, nothing invited.
    let out = mamori(&data, &["survey", "invite", "panel", "not-a-uuid"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("not-a-uuid is not a subject id"));
    let out = mamori(&data, &["survey", "invite", "no-such", &subjects[0]]);
    assert!(
        text(&out.stderr).contains("no survey with this slug"),
        "{}",
        text(&out.stderr)
    );
}

/// `mamori survey release` makes a differentially private release and stops at the budget.
#[test]
fn survey_release_spends_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(mamori(&data, &["init"]).status.success());
    let file = dir.path().join("private.toml");
    let definition = include_str!("../../../examples/survey.toml")
        .replace("how-we-use-your-data", "private")
        .replace(
            "mode = \"anonymous\"",
            "mode = \"anonymous\"\nresults = \"differential_privacy\"\nepsilon_budget = 1.0",
        );
    // With no answers yet, a release is refused before any ε is spent (min_responses, default k).
    std::fs::write(&file, definition.replace("\"private\"", "\"waiting\"")).unwrap();
    let out = mamori(&data, &["survey", "create", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = mamori(&data, &["survey", "release", "waiting", "--epsilon", "0.5"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("at least 5 responses"),
        "{}",
        text(&out.stderr)
    );
    // This one releases whatever it has (min_responses = 0).
    let definition = definition.replace(
        "epsilon_budget = 1.0",
        "epsilon_budget = 1.0\nmin_responses = 0",
    );
    std::fs::write(&file, definition).unwrap();
    let out = mamori(&data, &["survey", "create", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = mamori(
        &data,
        &["survey", "release", "private", "--epsilon", "0.75"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["budget"]["epsilon_remaining"], 0.25);
    assert!(v["release"]["responses"].as_i64().unwrap() >= 0);
    let out = mamori(&data, &["survey", "list"]);
    assert!(
        text(&out.stdout).contains("ε spent 0.750 of 1"),
        "{}",
        text(&out.stdout)
    );
    let out = mamori(&data, &["survey", "release", "private", "--epsilon", "0.5"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("only ε = 0.250000"),
        "{}",
        text(&out.stderr)
    );
    let out = mamori(&data, &["survey", "results", "private"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("differential privacy"),
        "{}",
        text(&out.stderr)
    );
}

/// `mamori report` prints the privacy officer's report as Markdown, or JSON with --json.
#[test]
fn report_prints_markdown_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(mamori(&data, &["init"]).status.success());
    let out = mamori(&data, &["report"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let md = text(&out.stdout);
    assert!(md.starts_with("# Privacy report"), "{md}");
    assert!(
        md.contains("- Open: 0") && md.contains("built-in survey has not been created"),
        "{md}"
    );
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/survey.toml");
    assert!(mamori(&data, &["survey", "create", file]).status.success());
    let out = mamori(&data, &["report", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["customer_sentiment"]["available"], true);
    assert_eq!(
        v["customer_sentiment"]["responses"],
        serde_json::Value::Null,
        "below k"
    );
    assert_eq!(v["surveys"][0]["slug"], "how-we-use-your-data");
}

/// SIGTERM (what systemd, Docker and Kubernetes send) drains like Ctrl-C: the 30 consent checks
/// answered just before it — whose events wait for the next group commit — are all in the
/// ledger afterwards, and the server exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_and_keeps_every_answered_check() {
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
    let created: serde_json::Value = client
        .post(format!("{base}/v1/subjects"))
        .bearer_auth(&key)
        .header("mamori-purpose", "order_fulfilment")
        .json(&serde_json::json!({"data": {"contact": {"name": "Term Test"}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let checks = (0..30).map(|_| {
        client
            .get(format!(
                "{base}/v1/consent/{id}?purpose=marketing_email&channel=email"
            ))
            .bearer_auth(&key)
            .send()
    });
    for answer in futures_util::future::join_all(checks).await {
        assert_eq!(answer.unwrap().status(), 200);
    }
    // SAFETY: sends a signal to the child this test started.
    unsafe {
        libc::kill(server.id() as i32, libc::SIGTERM);
    }
    let status = server.wait().unwrap();
    assert!(status.success(), "exit after SIGTERM: {status:?}");
    let db = data.join("mamori.db");
    let checked = tokio::task::spawn_blocking(move || {
        query_i64(
            &db,
            "SELECT count(*) FROM ledger_leaves WHERE CAST(data AS TEXT) LIKE '%consent.check%'",
        )
    })
    .await
    .unwrap();
    assert_eq!(checked, 30);
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

/// A full disk: writes are refused with 507 `insufficient_storage` (never a bare 500) and
/// nothing half-done stays; once space returns, writes succeed again without a restart. Runs on
/// a small tmpfs, which only root can mount (CI runs as root).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_clearly_and_recovers_by_itself() {
    if !is_root() {
        eprintln!(
            "!!! not root: the disk-full test needs to mount a tmpfs; run the suite as root (CI does) !!!"
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run this test as root"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("full");
    std::fs::create_dir_all(&mount).unwrap();
    let status = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=6m", "tmpfs"])
        .arg(&mount)
        .status()
        .unwrap();
    assert!(status.success(), "mount tmpfs");
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mount.clone());
    let data = mount.join("d");
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
    // Fill the disk but for a little, so the database runs out of room soon.
    let filler = mount.join("filler");
    let free = |p: &std::path::Path| {
        let out = Command::new("df")
            .args(["-B1", "--output=avail"])
            .arg(p)
            .output()
            .unwrap();
        text(&out.stdout)
            .lines()
            .nth(1)
            .unwrap()
            .trim()
            .parse::<u64>()
            .unwrap()
    };
    let room = free(&mount).saturating_sub(400_000);
    std::fs::write(&filler, vec![0u8; room as usize]).unwrap();
    let create = |i: usize| {
        client
            .post(format!("{base}/v1/subjects"))
            .bearer_auth(&key)
            .header("mamori-purpose", "order_fulfilment")
            .json(&serde_json::json!({"data": {"contact": {"name": format!("{i}-{}", "x".repeat(150))}}}))
            .send()
    };
    let mut refused = None;
    for i in 0..20_000 {
        let r = create(i).await.unwrap();
        if r.status() != 201 {
            refused = Some((
                r.status(),
                r.headers()["content-type"].clone(),
                r.text().await.unwrap(),
            ));
            break;
        }
    }
    let (status, content_type, body) = refused.expect("the disk filled up");
    assert_eq!(status, 507, "{body}");
    assert_eq!(content_type, "application/problem+json");
    assert!(body.contains("insufficient_storage"), "{body}");
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert!(
        ready["failing"] == "storage" || ready["failing"] == "disk_space",
        "{ready}"
    );
    assert!(
        client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status()
            .is_success(),
        "alive, though not ready"
    );
    // Space comes back: writes work again, without a restart.
    std::fs::remove_file(&filler).unwrap();
    let mut recovered = false;
    for i in 0..100 {
        if create(100_000 + i).await.unwrap().status() == 201 {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(recovered, "writes did not recover once space returned");
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "{}", ready.text().await.unwrap());
    // SAFETY: sends a signal to the child this test started.
    unsafe {
        libc::kill(server.id() as i32, libc::SIGTERM);
    }
    assert!(server.wait().unwrap().success());
    let verify = mamori(&data, &["ledger", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| text(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A data directory mounted read-only: `serve` refuses at once, naming it.
#[test]
fn a_read_only_data_directory_is_refused_by_name() {
    if !is_root() {
        eprintln!("!!! not root: the read-only test needs to mount a tmpfs !!!");
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run this test as root"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("ro");
    std::fs::create_dir_all(&mount).unwrap();
    let run = |args: &[&str]| Command::new(args[0]).args(&args[1..]).status().unwrap();
    let m = mount.to_str().unwrap();
    assert!(run(&["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", m]).success());
    let data = mount.join("d");
    assert!(mamori(&data, &["init"]).status.success());
    assert!(run(&["mount", "-o", "remount,ro", m]).success());
    let out = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data")
        .arg(&data)
        .args(["--listen", &format!("127.0.0.1:{}", free_port()), "serve"])
        .env_remove("MAMORI_MASTER_KEY")
        .output()
        .unwrap();
    let _ = run(&["umount", "-l", m]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "the data directory {} is not writable",
            data.display()
        )),
        "{err}"
    );
}

/// `init --policy FILE` checks the policy and copies it into the data directory, so later
/// commands find it without the flag; a different one already there is never overwritten.
#[test]
fn init_with_a_policy_copies_it_into_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let own = dir.path().join("shop-policy.toml");
    let policy =
        include_str!("../../../examples/policy.toml").replace("Kitsune Goods Ltd.", "Tanuki Tea");
    std::fs::write(&own, &policy).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mamori"))
            .arg("--data")
            .arg(&data)
            .args(args)
            .env_remove("MAMORI_MASTER_KEY")
            .output()
            .unwrap()
    };
    let out = run(&["--policy", own.to_str().unwrap(), "init"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(data.join("policy.toml")).unwrap(),
        policy
    );
    let keys = run(&["apikey", "create", "--role", "service", "--name", "k"]);
    assert!(
        keys.status.success(),
        "later commands find the policy: {}",
        text(&keys.stderr)
    );
    std::fs::write(&own, policy.replace("Tanuki Tea", "Other")).unwrap();
    let again = run(&["--policy", own.to_str().unwrap(), "init"]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("exists and differs"),
        "{}",
        text(&again.stderr)
    );
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[organisation]\nname = 1\n").unwrap();
    let other = dir.path().join("d2");
    let out = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data")
        .arg(&other)
        .args(["--policy", bad.to_str().unwrap(), "init"])
        .env_remove("MAMORI_MASTER_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!other.join("policy.toml").exists());
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
