//! Faults and how they end: draining on SIGTERM, a full disk, a read-only data directory; and
//! init with a given policy.

use super::*;

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

/// A tmpfs of `size` mounted at a directory (root only), unmounted when dropped.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(at: &std::path::Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(at).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .unwrap();
        assert!(status.success(), "mount tmpfs");
        Tmpfs(at.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
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
    let tmpfs = Tmpfs::mount(&dir.path().join("full"), "6m");
    let mount = tmpfs.0.clone();
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
    let room = free_bytes(&mount).saturating_sub(400_000);
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
    let policy = include_str!("../../../../examples/policy.toml")
        .replace("Kitsune Goods Ltd.", "Tanuki Tea");
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
