//! Test support shared by Mamori's integration tests (the server's and core's): a throw-away
//! PostgreSQL cluster started once per test binary (as the `postgres` user when run as root),
//! a fresh database per test, and which backends a test runs on.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The two database backends every integration test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database for `backend`: SQLite in `dir`, or a new database in the throw-away
/// PostgreSQL cluster (None if there is none, skipped loudly unless MAMORI_REQUIRE_POSTGRES=1).
pub async fn database_url(backend: Backend, dir: &std::path::Path) -> Option<String> {
    match backend {
        Backend::Sqlite => Some(format!("sqlite://{}", dir.join("mamori.db").display())),
        Backend::Postgres => Some(fresh_postgres_database(&postgres_base()?).await),
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A PostgreSQL program, from PATH or Debian's versioned directories.
pub fn pg_bin(name: &str) -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect())
        .unwrap_or_default();
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        for e in entries.flatten() {
            candidates.push(e.path().join("bin").join(name));
        }
    }
    candidates.into_iter().find(|p| p.is_file())
}

/// Runs a PostgreSQL tool, as the `postgres` user when we are root (initdb refuses root).
fn pg_command(bin: &PathBuf) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

/// The base URL of a throw-away cluster, started on first use and stopped when the tests exit.
/// Without PostgreSQL binaries this returns None and the caller skips loudly, unless
/// MAMORI_REQUIRE_POSTGRES=1, which turns absence into a failure.
pub fn postgres_base() -> Option<String> {
    static BASE: OnceLock<Option<String>> = OnceLock::new();
    BASE.get_or_init(|| {
        let (Some(initdb), Some(postgres)) = (pg_bin("initdb"), pg_bin("postgres")) else {
            if std::env::var("MAMORI_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("MAMORI_REQUIRE_POSTGRES=1 but no initdb/postgres binaries were found");
            }
            eprintln!("!!! SKIPPING PostgreSQL tests: no PostgreSQL binaries found !!!");
            return None;
        };
        let dir = std::env::temp_dir().join(format!("mamori-pg-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).status().unwrap();
        }
        let data = dir.join("data");
        let out = pg_command(&initdb).arg("-D").arg(&data).args(["-U", "mamori", "--auth=trust", "-E", "UTF8", "--no-sync"]).output().unwrap();
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        let port = free_port();
        // A watchdog shell owns the server and stops it when this test process is gone.
        let script = format!(
            "{pg} -D {data} -p {port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200 >{dir}/log 2>&1 & pid=$!; \
             while [ -d /proc/{me} ]; do sleep 1; done; kill -INT $pid; wait $pid; rm -rf {dir}",
            pg = postgres.display(),
            data = data.display(),
            dir = dir.display(),
            me = std::process::id()
        );
        let mut watchdog = if is_root() { let mut c = Command::new("runuser"); c.args(["-u", "postgres", "--", "sh", "-c", &script]); c } else { let mut c = Command::new("sh"); c.args(["-c", &script]); c };
        // Deliberately not waited for: it outlives this process to stop the cluster after it.
        #[allow(clippy::zombie_processes)]
        let _watchdog = watchdog.spawn().unwrap();
        let base = format!("postgres://mamori@127.0.0.1:{port}");
        for _ in 0..600 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                std::thread::sleep(std::time::Duration::from_millis(300));
                return Some(base);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("PostgreSQL did not start; see {}/log", dir.display());
    })
    .clone()
}

/// A new, empty database in the cluster at `base`: its URL.
pub async fn fresh_postgres_database(base: &str) -> String {
    use sqlx::Connection;
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&format!("{base}/postgres"))
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    format!("{base}/{name}")
}
