//! `mamori doctor`: a fresh installation has no high finding; a master key others can read, an
//! http public URL or a missing backup are high, named with their fix, and make it exit non-zero;
//! `--json` is one object; the checks that read the vault are ledgered.

use std::os::unix::fs::PermissionsExt;

use super::*;

fn doctor_json(data: &std::path::Path) -> (bool, serde_json::Value) {
    let out = mamori(data, &["doctor", "--json"]);
    let body = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("not JSON: {}{}", text(&out.stdout), text(&out.stderr)));
    (out.status.success(), body)
}

fn severity_of(body: &serde_json::Value, check: &str) -> Vec<String> {
    (body["findings"].as_array().unwrap().iter())
        .filter(|f| f["check"] == check)
        .map(|f| f["severity"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn doctor_reports_the_posture_and_fails_on_high_findings() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let (ok, body) = doctor_json(&data);
    assert!(ok, "{body:#}");
    assert_eq!(body["high"], 0, "{body:#}");
    assert_eq!(severity_of(&body, "files"), ["ok"]);
    assert_eq!(severity_of(&body, "public_url"), ["medium"]);
    assert_eq!(severity_of(&body, "backups"), ["medium"]);
    // The example's roles that ask for MFA or training take no keys, and none were made.
    assert_eq!(severity_of(&body, "staff_controls"), ["ok"]);
    assert_eq!(severity_of(&body, "staff_training"), ["ok"], "no staff yet");
    let verified = text(&mamori(&data, &["ledger", "verify"]).stdout);
    assert!(verified.contains("ok"), "{verified}");

    let key = data.join("master.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = format!(
        "public_url = \"http://privacy.example.com\"\n[backup]\nto = \"{}\"\n",
        dir.path().join("backups").display()
    );
    std::fs::write(data.join("mamori.toml"), config).unwrap();
    let (ok, body) = doctor_json(&data);
    assert!(!ok, "high findings fail the command");
    assert_eq!(body["high"], 4, "{body:#}");
    for check in ["master_key", "public_url", "backups", "installation"] {
        assert_eq!(severity_of(&body, check), ["high"], "{check}: {body:#}");
    }
    let first = &body["findings"][0];
    assert_eq!(first["severity"], "high", "most severe first");
    let fix = (body["findings"].as_array().unwrap().iter())
        .find(|f| f["check"] == "master_key")
        .unwrap()["fix"]
        .clone();
    assert_eq!(fix, format!("chmod 600 {}", key.display()));
    // In words, one line per finding and its fix.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = mamori(&data, &["doctor"]);
    assert!(!out.status.success());
    let said = text(&out.stdout);
    assert!(said.starts_with("HIGH"), "{said}");
    assert!(
        said.contains("is not https") && said.contains("fix:"),
        "{said}"
    );
    let out = mamori(&data, &["doctor", "--nonsense"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--nonsense"));
}

/// Keys minted before the policy asked the role's people for MFA or training are refused at use
/// (403 with the reason) once it does; new ones cannot be made; the doctor names the old ones.
#[tokio::test]
async fn keys_of_roles_that_need_mfa_or_training_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let example = std::fs::read_to_string(data.join("policy.toml")).unwrap();
    let lax =
        (example.replace("require_mfa = true\n", "")).replace("require_training = true\n", "");
    std::fs::write(data.join("policy.toml"), &lax).unwrap();
    let create = |role: &str| mamori(&data, &["apikey", "create", "--role", role, "--name", "k"]);
    let officer = text(&create("privacy_officer").stdout).trim().to_string();
    let support = text(&create("support").stdout).trim().to_string();
    assert!(officer.starts_with("mamori_") && support.starts_with("mamori_"));

    std::fs::write(data.join("policy.toml"), &example).unwrap();
    let refused = create("privacy_officer");
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("machine = true"),
        "{}",
        text(&refused.stderr)
    );
    assert!(
        create("privacy_ops").status.success(),
        "a machine role takes keys"
    );
    let (_, body) = doctor_json(&data);
    assert_eq!(severity_of(&body, "staff_controls"), ["medium"], "{body:#}");

    let client = reqwest::Client::new();
    let (mut server, base) = serve(&data);
    wait_up(&client, &base).await;
    for (key, code) in [(&officer, "mfa_required"), (&support, "training_required")] {
        let r = (client.get(format!("{base}/v1/subjects?email=a@example.com")))
            .bearer_auth(key)
            .header("Mamori-Purpose", "data_subject_rights")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::FORBIDDEN);
        let problem: serde_json::Value = r.json().await.unwrap();
        assert_eq!(problem["code"], code, "{problem}");
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(mamori(&data, &["ledger", "verify"]).status.success());
}
