//! The `mamori` binary: init, policy check, API keys and ledger verification against tampering.

use std::process::Command;

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
    assert!(String::from_utf8_lossy(&ok.stdout).contains("5 leaves"));

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
