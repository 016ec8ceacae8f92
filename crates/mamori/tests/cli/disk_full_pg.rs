//! A full disk under PostgreSQL: a throw-away cluster on a small tmpfs (as root, as CI runs),
//! filled up while `mamori serve` writes to it. Writes are refused with 507
//! `insufficient_storage` (PostgreSQL's `53100 disk_full`), readiness fails `storage`, and once
//! space returns writes work again without a restart; the ledger still verifies.

use std::path::{Path, PathBuf};

use mamori_testkit::pg_bin;
use std::process::Command;

use super::{free_bytes, free_port, is_root, text, wait_up};

fn as_postgres(bin: &Path) -> Command {
    let mut c = Command::new("runuser");
    c.args(["-u", "postgres", "--"]).arg(bin);
    c
}

/// Stops the cluster, then unmounts the tmpfs under it.
struct Cluster {
    pg_ctl: PathBuf,
    data: PathBuf,
    mount: PathBuf,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = as_postgres(&self.pg_ctl)
            .arg("-D")
            .arg(&self.data)
            .args(["stop", "-m", "immediate"])
            .output();
        let _ = Command::new("umount").arg("-l").arg(&self.mount).status();
    }
}

/// A cluster of its own on an 80 MiB tmpfs at `mount` (about 40 MB of it free), and its URL.
fn start_cluster(mount: &Path, initdb: PathBuf, pg_ctl: PathBuf) -> (Cluster, String) {
    std::fs::create_dir_all(mount).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=80m", "tmpfs"])
        .arg(mount)
        .status()
        .unwrap();
    assert!(mounted.success(), "mount tmpfs");
    let data = mount.join("data");
    let cluster = Cluster {
        pg_ctl,
        data: data.clone(),
        mount: mount.to_path_buf(),
    };
    assert!(
        Command::new("chown")
            .args(["postgres:postgres"])
            .arg(mount)
            .status()
            .unwrap()
            .success()
    );
    let init = as_postgres(&initdb)
        .arg("-D")
        .arg(&data)
        .args(["-U", "mamori", "--auth=trust", "-E", "UTF8", "--no-sync"])
        .output()
        .unwrap();
    assert!(init.status.success(), "initdb: {}", text(&init.stderr));
    let port = free_port();
    let started = as_postgres(&cluster.pg_ctl)
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(mount.join("log"))
        .args(["-w", "start", "-o"])
        .arg(format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1",
            mount.display()
        ))
        .output()
        .unwrap();
    assert!(
        started.status.success(),
        "pg_ctl start: {}",
        text(&started.stderr)
    );
    (
        cluster,
        format!("postgres://mamori@127.0.0.1:{port}/postgres"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_under_postgresql_refuses_writes_clearly_and_recovers_by_itself() {
    if !is_root() {
        eprintln!("!!! not root: the PostgreSQL disk-full test needs to mount a tmpfs !!!");
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run this test as root"
        );
        return;
    }
    let (Some(initdb), Some(pg_ctl)) = (pg_bin("initdb"), pg_bin("pg_ctl")) else {
        assert_ne!(
            std::env::var("MAMORI_REQUIRE_POSTGRES").as_deref(),
            Ok("1"),
            "MAMORI_REQUIRE_POSTGRES=1 but no PostgreSQL binaries were found"
        );
        eprintln!("!!! SKIPPING the PostgreSQL disk-full test: no PostgreSQL binaries !!!");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("pg");
    let (cluster, database) = start_cluster(&mount, initdb, pg_ctl);

    let home = dir.path().join("mamori");
    let mamori = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mamori"))
            .arg("--data")
            .arg(&home)
            .args(["--database", &database])
            .args(args)
            .env_remove("MAMORI_MASTER_KEY")
            .output()
            .unwrap()
    };
    assert!(mamori(&["init"]).status.success());
    let key = text(&mamori(&["apikey", "create", "--role", "service", "--name", "t"]).stdout)
        .trim()
        .to_string();
    let listen = format!("127.0.0.1:{}", free_port());
    let mut server = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data")
        .arg(&home)
        .args(["--database", &database, "--listen", &listen, "serve"])
        .env_remove("MAMORI_MASTER_KEY")
        .env("MAMORI_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://{listen}");
    let client = reqwest::Client::new();
    wait_up(&client, &base).await;

    let filler = mount.join("filler");
    let room = free_bytes(&mount).saturating_sub(3_000_000);
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
    for i in 0..50_000 {
        let r = create(i).await.unwrap();
        if r.status() != 201 {
            let content_type = r.headers()["content-type"].clone();
            refused = Some((r.status(), content_type, r.text().await.unwrap()));
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
    assert_eq!(ready["failing"], "storage", "{ready}");

    // Space comes back: writes work again, without a restart of either server.
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
    let verify = mamori(&["ledger", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    drop(cluster);
}
