//! `mamori staff invite|list`: the one-time enrolment link printed once, under public_url; the
//! list shows the address (unsealed for the administrator) and whether the person enrolled; bad
//! input is refused with a message and changes nothing.

use super::*;

#[test]
fn staff_invite_prints_a_one_time_link_and_list_shows_who_enrolled() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    std::fs::write(
        data.join("mamori.toml"),
        "public_url = \"https://privacy.example.com\"\n",
    )
    .unwrap();
    let out = mamori(
        &data,
        &["staff", "invite", "Ana@Example.com", "--role", "support"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("https://privacy.example.com/console/enrol?token="),
        "{said}"
    );
    let listed = text(&mamori(&data, &["staff", "list"]).stdout);
    assert!(
        listed.contains("support  ana@example.com  invited"),
        "{listed}"
    );

    for (args, words) in [
        (
            &["staff", "invite", "ana@example.com", "--role", "support"][..],
            "already a member of staff",
        ),
        (
            &["staff", "invite", "nobody", "--role", "support"][..],
            "e-mail address",
        ),
        (
            &["staff", "invite", "bo@example.com", "--role", "nope"][..],
            "not a staff role",
        ),
    ] {
        let out = mamori(&data, args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            text(&out.stderr).contains(words),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let listed = text(&mamori(&data, &["staff", "list"]).stdout);
    assert_eq!(
        listed.lines().count(),
        1,
        "refusals change nothing: {listed}"
    );
    for file in ["mamori.db", "mamori.db-wal"] {
        let bytes = std::fs::read(data.join(file)).unwrap_or_default();
        let found = String::from_utf8_lossy(&bytes).contains("ana@example.com");
        assert!(!found, "{file}: the address is sealed, never plaintext");
    }
}

#[test]
fn staff_disable_ends_a_members_access_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    assert!(mamori(&data, &["init"]).status.success());
    let out = mamori(
        &data,
        &[
            "staff",
            "invite",
            "leo@example.com",
            "--role",
            "support",
            "--base-url",
            "https://x.example",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = text(&mamori(&data, &["staff", "list"]).stdout);
    let id = listed.split_whitespace().next().unwrap().to_string();
    let out = mamori(&data, &["staff", "disable", &id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("is disabled"),
        "{}",
        text(&out.stdout)
    );
    let listed = text(&mamori(&data, &["staff", "list"]).stdout);
    assert!(listed.contains("leo@example.com  disabled"), "{listed}");
    for (args, words) in [
        (vec!["staff", "disable", id.as_str()], "disabled already"),
        (
            vec!["staff", "disable", "not-an-id"],
            "no such member of staff",
        ),
        (
            vec!["staff", "disable", "01a24edc-505e-7481-9c3e-e3afe95710e2"],
            "no such member of staff",
        ),
    ] {
        let out = mamori(&data, &args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            text(&out.stderr).contains(words),
            "{args:?}: {}",
            text(&out.stderr)
        );
    } // Starting them over enables them again with a new link (the first one is void).
    let out = mamori(
        &data,
        &["staff", "reset", &id, "--base-url", "https://x.example"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("https://x.example/console/enrol?token="));
    let listed = text(&mamori(&data, &["staff", "list"]).stdout);
    assert!(listed.contains("leo@example.com  invited"), "{listed}");
    let out = mamori(&data, &["staff", "reset", "not-an-id"]);
    assert!(text(&out.stderr).contains("no such member of staff") && !out.status.success());
}
