//! The server under load: starting it on a bench database, its keys, its CPU and memory, and the
//! paced read load.

use super::*;

pub(super) struct Keys {
    pub(super) service: String,
    pub(super) officer: String,
    /// A privacy-center session of the first synthetic customer, and their id.
    pub(super) session: String,
    pub(super) person: [u8; 16],
    /// A privacy officer of the console (enrolled and trained), to sign in when measured.
    pub(super) staff: super::console::StaffLogin,
}

pub(super) async fn create_keys(vault: &Vault) -> anyhow::Result<Keys> {
    let operator = context::operator();
    let (_, service) = vault
        .create_api_key(&operator, "service", "bench service")
        .await?;
    let (_, officer) = vault
        .create_api_key(&operator, "privacy_ops", "bench privacy office automation")
        .await?;
    let started = vault.start_sign_in("customer0@example.com").await?;
    let code = started
        .code
        .context("the first synthetic customer has no e-mail")?;
    let (session, person) = vault
        .finish_sign_in(&started.challenge, &code)
        .await?
        .map_err(|refused| anyhow::anyhow!("bench sign-in refused: {refused:?}"))?;
    let staff = super::console::enrol_officer(vault).await?;
    Ok(Keys {
        staff,
        service,
        officer,
        session,
        person,
    })
}

/// The `mamori` binary that serves under load: the one built beside this one (`cargo build
/// --release -p mamori -p mamori-bench` puts both in `target/release`).
fn mamori_binary() -> anyhow::Result<std::path::PathBuf> {
    let beside = std::env::current_exe()?.with_file_name("mamori");
    anyhow::ensure!(
        beside.is_file(),
        "the bench runs the server as `{}`, which is not there; build it with `cargo build --release -p mamori`",
        beside.display()
    );
    Ok(beside)
}

/// `mamori serve` on the bench installation, as a child process.
pub(super) struct Server {
    pub(super) url: String,
    pub(super) keys: Keys,
    pub(super) child: std::process::Child,
}

impl Server {
    pub(super) async fn start(paths: &Paths, keys: Keys) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let listen = format!("127.0.0.1:{port}");
        let child = std::process::Command::new(mamori_binary()?)
            .arg("--data")
            .arg(&paths.data)
            .args(["--database", &paths.database, "--listen", &listen, "serve"])
            // The load is one key at well over the default 1,000 req/s: limit it far above.
            .args(["--rate-limit", "1000000"])
            .args(["--survey-rate-limit", "100000000"])
            .env("MAMORI_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("starting `mamori serve`")?;
        let server = Server {
            url: format!("http://{listen}"),
            keys,
            child,
        };
        let client = reqwest::Client::new();
        for _ in 0..600 {
            let answer = client.get(format!("{}/healthz", server.url)).send().await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server.stop();
        anyhow::bail!("`mamori serve` did not answer /healthz within 30 s")
    }

    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(super) fn stop(self) {}
}

/// The child never outlives the bench, whichever way the bench ends.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(super) struct ReadFigures {
    pub(super) rps: f64,
    pub(super) p50_ms: f64,
    pub(super) p99_ms: f64,
    pub(super) errors: u64,
    /// At the peak of the samples taken during the load.
    pub(super) rss: Rss,
    /// CPU time the server process spent per answered request during the measured seconds
    /// (user + system): what a request costs, which the shared machine's noise moves far less
    /// than its latency.
    pub(super) server_cpu_us: f64,
    /// The same for the load generator (this process).
    pub(super) client_cpu_us: f64,
}

/// User + system CPU seconds a process has used so far (`/proc/PID/stat`; 0 where unreadable).
pub(super) fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    ticks as f64 / per_second
}

/// Resident memory of a process in MB: the total, then its parts — heap and other private
/// memory, file-backed pages (the binary, mapped files) and shared memory (SQLite's WAL index).
#[derive(Clone, Copy, Default)]
pub(super) struct Rss {
    pub(super) total: f64,
    pub(super) anon: f64,
    pub(super) file: f64,
    pub(super) shmem: f64,
}

pub(super) fn rss_mb(pid: u32) -> Rss {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    Rss {
        total: field("VmRSS:"),
        anon: field("RssAnon:"),
        file: field("RssFile:"),
        shmem: field("RssShmem:"),
    }
}

/// `connections` clients each reading random subjects back to back for the planned time, after
/// a one-second warm-up. Every read is purpose-scoped and ledgered before it is answered.
pub(super) async fn read_load(
    server: &Server,
    ids: &[[u8; 16]],
    plan: &Plan,
) -> anyhow::Result<ReadFigures> {
    http_load(server, ids, plan, Target::Read, None).await
}

pub(super) fn insert_reads(reads: &ReadFigures, out: &mut BTreeMap<&'static str, Value>) {
    out.insert("read_rps", json!(reads.rps.round()));
    out.insert("read_p50_ms", json!(round3(reads.p50_ms)));
    out.insert("read_p99_ms", json!(round3(reads.p99_ms)));
    out.insert("read_errors", json!(reads.errors));
    out.insert("rss_mb", json!(reads.rss.total.round()));
    out.insert("rss_anon_mb", json!(reads.rss.anon.round()));
    out.insert("rss_file_mb", json!(reads.rss.file.round()));
    out.insert("rss_shmem_mb", json!(reads.rss.shmem.round()));
}

/// The audited read against the no-op of the same run (`--ratios-only` measures both
/// interleaved).
pub(super) fn read_against_baseline(reads: &ReadFigures, out: &mut BTreeMap<&'static str, Value>) {
    let baseline = (out.get("http_baseline_rps").and_then(Value::as_f64))
        .zip(out.get("http_baseline_p99_ms").and_then(Value::as_f64));
    if let Some((rps, p99)) = baseline {
        out.insert("read_vs_baseline", json!(round3(reads.rps / rps)));
        out.insert(
            "read_p99_vs_baseline_p99",
            json!(round3(reads.p99_ms / p99)),
        );
    }
}
