//! mamori import: subjects from CSV and JSONL, resuming after a kill, and consents with their
//! original times.

use super::*;

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
