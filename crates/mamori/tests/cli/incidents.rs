//! `mamori incident`: open, list, add to the timeline and show, as the operator; a wrong kind,
//! a stale version or a backward status is refused with a clear message and changes nothing.

use super::*;

fn ok(data: &std::path::Path, args: &[&str]) -> String {
    let out = mamori(data, args);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn incidents_are_opened_and_worked_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let open = [
        "incident",
        "open",
        "--title",
        "Service key in a public repository",
        "--kind",
        "leaked_credential",
        "--severity",
        "high",
        "--detected-at",
        "2026-03-01T08:00:00Z",
    ];
    let id = ok(&data, &open).trim().to_string();
    assert_eq!(id.len(), 36, "{id}");
    let listed = ok(&data, &["incident", "list"]);
    assert!(
        listed.contains(&id) && listed.contains("open  high  leaked_credential"),
        "{listed}"
    );
    let added = ok(
        &data,
        &[
            "incident",
            "add",
            &id,
            "--version",
            "1",
            "--status",
            "contained",
            "--note",
            "key revoked",
        ],
    );
    assert!(
        added.contains("status contained") && added.contains("— key revoked"),
        "{added}"
    );
    assert!(added.contains("version 2"), "{added}");

    let refused = [
        (
            vec![
                "incident",
                "open",
                "--title",
                "t",
                "--kind",
                "flood",
                "--severity",
                "low",
            ],
            "--kind must be one of",
        ),
        (
            vec!["incident", "add", &id, "--version", "1", "--note", "late"],
            "changed since it was read",
        ),
        (
            vec!["incident", "add", &id, "--version", "2", "--status", "open"],
            "only moves forward",
        ),
        (
            vec![
                "incident",
                "add",
                &id,
                "--version",
                "2",
                "--link",
                "printer",
            ],
            "--link is KIND:ID",
        ),
        (vec!["incident", "show", "nope"], "not an incident id"),
    ];
    for (args, says) in refused {
        let out = mamori(&data, &args);
        assert!(!out.status.success(), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let shown = ok(&data, &["incident", "show", &id]);
    assert!(
        shown.contains("version 2") && shown.contains("Service key in a public repository"),
        "{shown}"
    );
    assert_eq!(
        shown.lines().count(),
        4,
        "two entries, nothing refused was added: {shown}"
    );
}

#[test]
fn a_key_is_revoked_from_the_incident_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    ok(
        &data,
        &["apikey", "create", "--role", "service", "--name", "leaked"],
    );
    let listed = ok(&data, &["apikey", "list"]);
    let key = listed.split('\t').next().unwrap().trim().to_string();
    let open = [
        "incident",
        "open",
        "--title",
        "Key leaked",
        "--kind",
        "leaked_credential",
        "--severity",
        "high",
    ];
    let id = ok(&data, &open).trim().to_string();
    let out = mamori(&data, &["incident", "contain", &id, "--version", "1"]);
    assert!(!out.status.success(), "a step is named");
    let contained = ok(
        &data,
        &[
            "incident",
            "contain",
            &id,
            "--version",
            "1",
            "--revoke-key",
            &key,
        ],
    );
    assert!(
        contained.contains(&format!("containment  api_key {key}")),
        "{contained}"
    );
    assert!(ok(&data, &["apikey", "list"]).contains("revoked"));
}

/// A webhook paused and re-keyed from the incident, resumed and re-keyed with a grace period
/// from `mamori webhook`; an agent paused and resumed; unknown ones refused.
#[test]
fn webhooks_and_agents_are_paused_and_rekeyed_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let add = ["webhook", "add", "--url", "https://203.0.113.7/hook"];
    let added = ok(&data, &add);
    let (hook, first) = added.trim().split_once('\t').unwrap();
    let key = "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=";
    ok(
        &data,
        &[
            "agent",
            "add",
            "SLOW",
            "--name",
            "Slow",
            "--verify-key",
            key,
        ],
    );
    let open = [
        "incident",
        "open",
        "--title",
        "Secret leaked",
        "--kind",
        "leaked_credential",
        "--severity",
        "high",
    ];
    let id = ok(&data, &open).trim().to_string();
    let contain = |version: &str, step: &str, target: &str| {
        ok(
            &data,
            &[
                "incident",
                "contain",
                &id,
                "--version",
                version,
                step,
                target,
            ],
        )
    };
    assert!(contain("1", "--pause-webhook", hook).contains("containment  webhook"));
    let rekeyed = contain("2", "--rotate-webhook-secret", hook);
    let second = rekeyed.lines().last().unwrap();
    assert!(second.starts_with("whsec_") && second != first, "{rekeyed}");
    contain("3", "--pause-agent", "SLOW");
    assert!(ok(&data, &["webhook", "list"]).contains("paused="));
    assert!(ok(&data, &["agent", "list"]).contains("SLOW\tpaused"));
    ok(&data, &["webhook", "resume", hook]);
    ok(&data, &["agent", "resume", "SLOW"]);
    assert!(!ok(&data, &["webhook", "list"]).contains("paused="));
    assert!(ok(&data, &["agent", "list"]).contains("SLOW\tactive"));
    let third = ok(&data, &["webhook", "rotate-secret", hook, "--grace", "24h"]);
    assert!(third.trim().starts_with("whsec_") && third.trim() != second);
    for args in [
        vec!["webhook", "rotate-secret", hook, "--grace", "200h"],
        vec!["webhook", "rotate-secret", hook, "--grace", "soon"],
        vec!["webhook", "pause", "00000000-0000-0000-0000-000000000007"],
        vec!["agent", "pause", "NOBODY"],
    ] {
        assert!(!mamori(&data, &args).status.success(), "{args:?}");
    }
    let verify = mamori(&data, &["ledger", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
}

#[test]
fn a_drill_is_started_and_reported_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let id = ok(&data, &["drill", "start", "vendor_breach", "--lang", "fr"])
        .trim()
        .to_string();
    let shown = ok(&data, &["incident", "show", &id]);
    assert!(
        shown.contains("Exercice") && shown.contains("(drill)"),
        "{shown}"
    );
    let report = ok(&data, &["drill", "report", &id]);
    assert!(
        report.contains("opened") && report.contains("notifying          skipped"),
        "{report}"
    );
    let out = mamori(&data, &["drill", "start", "flood"]);
    assert!(!out.status.success() && text(&out.stderr).contains("lost_laptop"));
}

#[test]
fn notices_and_regulator_drafts_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    ok(
        &data,
        &["apikey", "create", "--role", "service", "--name", "leaked"],
    );
    let listed = ok(&data, &["apikey", "list"]);
    let key = format!("key:{}", listed.split('\t').next().unwrap().trim());
    let open = [
        "incident",
        "open",
        "--title",
        "Key leaked",
        "--kind",
        "leaked_credential",
        "--severity",
        "high",
        "--detected-at",
        "2026-03-02T08:00:00Z",
    ];
    let id = ok(&data, &open).trim().to_string();
    let window = [
        "--from",
        "2026-03-01T00:00:00Z",
        "--to",
        "2026-03-02T00:00:00Z",
    ];
    let notify = [
        &["incident", "notify", &id, "--actor", &key][..],
        &window[..],
    ]
    .concat();
    let prepared = ok(&data, &notify);
    assert!(
        prepared.starts_with("0 people"),
        "nobody was reached: {prepared}"
    );
    assert!(ok(&data, &["incident", "notices", &id]).starts_with("0 people"));
    let draft = ok(&data, &["incident", "draft", &id, "--jurisdiction", "gdpr"]);
    assert!(
        draft.contains("GDPR Art. 33(3)") && draft.contains("Due: 2026-03-05T08:00:00Z"),
        "{draft}"
    );
    assert!(!draft.contains("Key leaked"), "no free text in a draft");
    let extend = [
        "incident",
        "add",
        &id,
        "--version",
        "2",
        "--extend",
        "gdpr:authority",
        "--until",
        "2026-03-09T08:00:00Z",
        "--note",
        "phased report agreed",
    ];
    assert!(ok(&data, &extend).contains("extension  gdpr:authority until 2026-03-09T08:00:00Z"));
    let draft = ok(&data, &["incident", "draft", &id, "--jurisdiction", "gdpr"]);
    assert!(
        draft.contains("Due: 2026-03-09T08:00:00Z"),
        "the extended deadline: {draft}"
    );
    let ja = ok(
        &data,
        &[
            "incident",
            "draft",
            &id,
            "--jurisdiction",
            "appi",
            "--lang",
            "ja",
        ],
    );
    assert!(ja.contains("再発防止策"), "{ja}");

    let unknown = [
        &["incident", "notify", &id, "--actor", "key:nope"][..],
        &window[..],
    ]
    .concat();
    let german = [&notify[..], &["--language", "de"][..]].concat();
    for (args, says) in [
        (unknown, "an actor is key:ID or staff:ID"),
        (german, "one of the policy's languages"),
        (
            vec!["incident", "draft", &id, "--jurisdiction", "mars"],
            "one of gdpr",
        ),
        (
            vec![
                "incident",
                "draft",
                &id,
                "--jurisdiction",
                "gdpr",
                "--lang",
                "de",
            ],
            "--lang must be",
        ),
    ] {
        let out = mamori(&data, &args);
        assert!(!out.status.success(), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
