//! The administrative commands: policy, webhooks, agents, scrub, surveys, report.

use super::*;

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
    // What require_mfa, require_training and machine mean together, role by role.
    let said = text(&ok.stdout);
    for line in [
        "role privacy_officer: people sign in with a second factor and act while their training is current; API keys are refused",
        "role support: people act while their training is current; API keys are refused",
        "role privacy_ops: people sign in with a second factor (the console always asks for one); API keys act (declared for machines",
        "role service: people sign in with a second factor (the console always asks for one); API keys act",
    ] {
        assert!(said.contains(line), "{line}\n{said}");
    }
    let bad = dir.path().join("bad.toml");
    let text = include_str!("../../../../examples/policy.toml").replacen(
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

#[test]
fn policy_diff_explains_changes() {
    let dir = tempfile::tempdir().unwrap();
    let base = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/policy.toml");
    let newer = dir.path().join("new.toml");
    let shorter = include_str!("../../../../examples/policy.toml").replacen(
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
    // The records of processing name the version in force, in each format the CLI gives.
    let records = text(&mamori(&data, &["policy", "records", "--lang", "fr"]).stdout);
    assert!(records.contains("_Version v2, publiée le "), "{records}");
    let csv = mamori(&data, &["policy", "records", "--format", "csv"]);
    assert!(
        text(&csv.stdout).starts_with("id,Purpose,Legal basis"),
        "{}",
        text(&csv.stderr)
    );
    let refused = mamori(&data, &["policy", "records", "--lang", "de"]);
    assert!(!refused.status.success() && text(&refused.stderr).contains("en, ja or fr"));
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
    let broken = include_str!("../../../../examples/survey.toml")
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
    let definition = include_str!("../../../../examples/survey.toml")
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
    let definition = include_str!("../../../../examples/survey.toml")
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

/// `key_command` in mamori.toml: the master key comes from what the command prints (no
/// `master.key` is written); a failing command or one printing something else is refused without
/// repeating what it printed.
#[test]
fn the_master_key_can_come_from_a_command() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    std::fs::create_dir_all(&data).unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, format!("{}\n", "ab".repeat(32))).unwrap();
    let config = format!("key_command = \"cat {}\"\n", secret.display());
    std::fs::write(data.join("mamori.toml"), config).unwrap();
    let init = mamori(&data, &["init"]);
    assert!(init.status.success(), "{}", text(&init.stderr));
    assert!(!data.join("master.key").exists());
    let key = mamori(
        &data,
        &["apikey", "create", "--role", "service", "--name", "s"],
    );
    assert!(key.status.success(), "{}", text(&key.stderr));

    std::fs::write(&secret, "CANARY-not-a-key\n").unwrap();
    let refused = mamori(&data, &["apikey", "list"]);
    assert!(!refused.status.success());
    let said = text(&refused.stderr);
    assert!(said.contains("did not print a master key"), "{said}");
    assert!(!said.contains("CANARY"), "{said}");

    std::fs::write(&secret, format!("{}\n", "cd".repeat(32))).unwrap();
    let other = mamori(&data, &["apikey", "list"]);
    assert!(!other.status.success());
    assert!(text(&other.stderr).contains("does not open under this master key"));

    std::fs::remove_file(&secret).unwrap();
    let failed = mamori(&data, &["apikey", "list"]);
    assert!(
        text(&failed.stderr).contains("key_command failed"),
        "{}",
        text(&failed.stderr)
    );
}

/// `mamori retention sweep`: nothing expired in a new installation; the sweep is ledgered.
#[test]
fn a_retention_sweep_counts_and_is_ledgered() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let dry = mamori(&data, &["retention", "sweep", "--dry-run"]);
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    assert!(text(&dry.stdout).contains("nothing has passed its retention"));
    let done = mamori(&data, &["retention", "sweep"]);
    assert!(text(&done.stdout).contains("0 people erased as a whole"));
    let sweeps = query_i64(
        &data.join("mamori.db"),
        "SELECT COUNT(*) FROM ledger_leaves WHERE CAST(data AS TEXT) LIKE '%retention.sweep%'",
    );
    assert_eq!(sweeps, 2, "the dry run and the sweep");
}

/// `mamori hold add|list|lift`, and its bad inputs.
#[test]
fn legal_holds_are_placed_listed_and_lifted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let add = [
        "hold",
        "add",
        "--category",
        "orders",
        "--reason",
        "tax_audit",
        "--until",
        "2099-12-31",
    ];
    let placed = mamori(&data, &add);
    assert!(placed.status.success(), "{}", text(&placed.stderr));
    let id = text(&placed.stdout).trim().to_string();
    let listed = text(&mamori(&data, &["hold", "list"]).stdout);
    assert!(
        listed.contains(&id) && listed.contains("tax_audit") && listed.contains("2100-01-01"),
        "{listed}"
    );
    for (args, said) in [
        (
            &["hold", "add", "--category", "orders", "--reason", "CANARY"][..],
            "--reason must be one of",
        ),
        (
            &[
                "hold",
                "add",
                "--subject",
                "CANARY",
                "--reason",
                "litigation",
            ],
            "not a subject id",
        ),
        (
            &["hold", "add", "--reason", "litigation"],
            "a subject, a category, or both",
        ),
        (
            &[
                "hold",
                "add",
                "--category",
                "orders",
                "--reason",
                "litigation",
                "--until",
                "1999-01-01",
            ],
            "in the future",
        ),
    ] {
        let out = mamori(&data, args);
        assert!(!out.status.success(), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains(said) && !err.contains("CANARY"),
            "{args:?}: {err}"
        );
    }
    assert!(text(&mamori(&data, &["hold", "lift", &id]).stdout).contains("lifted"));
    let again = mamori(&data, &["hold", "lift", &id]);
    assert!(text(&again.stderr).contains("no legal hold in force"));
    assert!(
        text(&mamori(&data, &["hold", "list"]).stdout)
            .trim()
            .is_empty()
    );
}

#[test]
fn vendor_commands_answer_and_refuse_an_unknown_vendor() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let secret = mamori(&data, &["vendor", "secret", "postbird"]);
    let (out, err) = (text(&secret.stdout), text(&secret.stderr));
    assert!(out.starts_with("whsec_"), "{err}");
    let again = mamori(&data, &["vendor", "secret", "postbird"]);
    assert_eq!(text(&again.stdout), out, "derived, the same each time");
    let unknown = mamori(&data, &["vendor", "secret", "nobody_inc"]);
    let err = text(&unknown.stderr);
    assert!(!unknown.status.success() && err.contains("vendor"), "{err}");
    assert!(!err.contains("nobody_inc"), "never echoed");
    let tasks = mamori(&data, &["vendor", "tasks", "--open"]);
    assert!(tasks.status.success() && text(&tasks.stdout).is_empty());
}
