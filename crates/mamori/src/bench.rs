//! `mamori bench`: the performance targets of the vault, measured end to end on this machine in a
//! throw-away data directory. Every figure comes from the real paths (import pipeline, HTTP API
//! with audited reads, ledger writer, `ledger verify`), and each ratio is against a baseline
//! measured in the same run, because shared machines are noisy.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aes_gcm_siv::aead::{Aead, KeyInit};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use anyhow::Context as _;
use mamori_core::consent::ConsentChange;
use mamori_core::consent_import::ConsentImportRow;
use mamori_core::import::ImportRow;
use mamori_core::ledger::Item;
use mamori_core::{Actor, Vault};
use mamori_ledger::{Event, MerkleTree, Outcome, leaf_hash, verify_inclusion};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::context::{self, Context, Paths};
use crate::import::{self, Batch};
use mamori_core::ledger_verify::{Verdict, verify_database};

pub struct BenchArgs {
    pub quick: bool,
    /// A seconds-long smoke run for the test suite: every figure present, none meaningful.
    pub tiny: bool,
    /// Only the consent-check figures and the baselines they are read against.
    pub consent_only: bool,
    /// Subjects stored for the read test (default 1,000,000; 100,000 with --quick).
    pub subjects: Option<u64>,
    /// Where to build the throw-away installation (default: the system temp directory).
    pub dir: Option<PathBuf>,
    /// Database URL (default: SQLite in the throw-away directory). A PostgreSQL database given
    /// here must be empty; the bench fills it.
    pub database: Option<String>,
    /// Responses in the survey whose results are timed (default 1,000,000; 100,000 with --quick).
    pub survey_responses: Option<usize>,
}

/// Sizes of one run.
/// The consent-check throughput the latency target is stated at (issue 3).
const CONSENT_CHECK_RATE: f64 = 30_000.0;

struct Plan {
    subjects: u64,
    first_import: u64,
    read_seconds: f64,
    connections: usize,
    erase_small: usize,
    erase_large: usize,
    records_large: usize,
    ledger_appends: u64,
    proof_leaves: u64,
    crypto_seconds: f64,
    open_requests: usize,
    /// Responses in the survey whose results are timed.
    survey_responses: usize,
}

impl Plan {
    fn new(args: &BenchArgs) -> Plan {
        if args.tiny {
            return Plan {
                subjects: 2_000,
                first_import: 1_000,
                read_seconds: 1.0,
                connections: 8,
                erase_small: 3,
                erase_large: 1,
                records_large: 50,
                ledger_appends: 5_000,
                proof_leaves: 10_000,
                crypto_seconds: 0.05,
                open_requests: 200,
                survey_responses: 2_000,
            };
        }
        let subjects = args
            .subjects
            .unwrap_or(if args.quick { 100_000 } else { 1_000_000 })
            .max(1_000);
        Plan {
            subjects,
            first_import: subjects.min(100_000),
            read_seconds: if args.quick { 5.0 } else { 20.0 },
            connections: 64,
            erase_small: if args.quick { 30 } else { 100 },
            erase_large: if args.quick { 2 } else { 5 },
            records_large: 10_000,
            ledger_appends: if args.quick { 200_000 } else { 1_000_000 },
            proof_leaves: if args.quick { 1_000_000 } else { 10_000_000 },
            crypto_seconds: if args.quick { 0.3 } else { 1.0 },
            open_requests: 100_000,
            survey_responses: args.survey_responses.unwrap_or(if args.quick {
                100_000
            } else {
                1_000_000
            }),
        }
    }
}

/// Runs every measurement and returns them as one JSON object.
pub async fn run(args: BenchArgs) -> anyhow::Result<Value> {
    let plan = Plan::new(&args);
    let base = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("mamori-bench-{}", std::process::id()));
    let _cleanup = RemoveOnDrop(dir.clone());
    let paths = Paths::new(&dir, args.database.clone(), None);
    context::init(&paths).await?;
    // The bench's webhook receiver listens on loopback, which `mamori serve` refuses by default.
    std::fs::write(
        dir.join("mamori.toml"),
        "[outbound]\nallow = [\"127.0.0.0/8\"]\n",
    )?;
    let ctx = Context::open(&paths).await?;
    let vault = ctx.vault.clone();
    let mut out = BTreeMap::<&str, Value>::new();
    let mode = match (args.tiny, args.quick) {
        (true, _) => "tiny",
        (false, true) => "quick",
        (false, false) => "full",
    };
    out.insert("mode", json!(mode));
    out.insert("subjects", json!(plan.subjects));
    out.insert("cores", json!(num_cores()));
    out.insert("backend", json!(vault.backend()));

    note("sealing vs raw AEAD");
    let (raw, seal) = seal_vs_raw(plan.crypto_seconds)?;
    out.insert("raw_aead_seals_per_s", json!(raw.round()));
    out.insert("seals_per_s", json!(seal.round()));
    out.insert("seal_ratio", json!(round3(seal / raw)));

    note(&format!("importing {} subjects", plan.subjects));
    let mut ids = Vec::new();
    vault.prepare_bulk_load().await?;
    let first = import_synthetic(&vault, 0, plan.first_import, 10_000, &mut ids).await?;
    out.insert("import_subjects_per_s", json!(first.round()));
    if plan.subjects > plan.first_import {
        // Bigger batches pay off once the blind-index B-tree is large (`--batch 50000`).
        let rest =
            import_synthetic(&vault, plan.first_import, plan.subjects, 50_000, &mut ids).await?;
        out.insert(
            "import_rest_to_full_size_subjects_per_s",
            json!(rest.round()),
        );
    }

    note("granting marketing e-mail consent to every other subject");
    let grants = grant_half(&vault, &ids).await?;
    out.insert("consent_grants_per_s", json!(grants.round()));

    // The server under load is a separate `mamori serve` process, so its memory is its own.
    let keys = create_keys(&vault).await?;
    crate::bench_surveys::create(&vault).await?;
    drop(ctx);
    drop(vault);
    note("audited reads over HTTP");
    let server = Server::start(&paths, keys).await?;
    if args.consent_only {
        consent_checks(&server, &ids, &plan, &mut out).await?;
        server.stop();
        return Ok(into_value(out));
    }
    let reads = read_load(&server, &ids, &plan).await?;
    out.insert("read_rps", json!(reads.rps.round()));
    out.insert("read_p50_ms", json!(round3(reads.p50_ms)));
    out.insert("read_p99_ms", json!(round3(reads.p99_ms)));
    out.insert("read_errors", json!(reads.errors));
    out.insert("rss_mb", json!(reads.rss.total.round()));
    out.insert("rss_anon_mb", json!(reads.rss.anon.round()));
    out.insert("rss_file_mb", json!(reads.rss.file.round()));
    out.insert("rss_shmem_mb", json!(reads.rss.shmem.round()));

    note("inclusion proofs over HTTP");
    let (proof_median, proof_p99) = proofs_over_http(&server).await?;
    out.insert("proof_http_median_ms", json!(round3(proof_median)));
    out.insert("proof_http_p99_ms", json!(round3(proof_p99)));

    consent_checks(&server, &ids, &plan, &mut out).await?;

    note("audience filter over HTTP");
    // The checks just made leave a million ledger leaves for the server to index by subject;
    // the filter is timed once that background work is done, as every other figure is.
    out.insert("audience_settle_s", json!(round3(settle(&server).await)));
    let (audience_ms, checks_per_s) = audience_filter(&server, &ids).await?;
    out.insert("audience_filter_median_ms", json!(round3(audience_ms)));
    out.insert("audience_checks_per_s", json!(checks_per_s.round()));

    note("consent change → webhook on loopback");
    let hooks = crate::bench_webhooks::measure(
        &server.url,
        &server.keys.service,
        &server.keys.officer,
        &ids,
    )
    .await?;
    out.insert("webhook_latency_p50_ms", json!(round3(hooks.p50_ms)));
    out.insert("webhook_latency_p99_ms", json!(round3(hooks.p99_ms)));
    out.insert(
        "webhook_deliveries_per_s",
        json!(hooks.deliveries_per_s.round()),
    );

    note("data-subject rights: export and privacy-center pages");
    let rights = rights_figures(&server, plan.records_large).await?;
    out.insert(
        "export_ms_10k_records_10k_events",
        json!(round3(rights.export_ms)),
    );
    for (page, p95) in rights.page_p95_ms {
        out.insert(page, json!(round3(p95)));
    }

    note(&format!(
        "request queue with {} open requests",
        plan.open_requests
    ));
    let queue = request_queue(&server, &ids, plan.open_requests).await?;
    out.insert("requests_opened_per_s", json!(queue.opened_per_s.round()));
    out.insert(
        "request_queue_page_median_ms",
        json!(round3(queue.page_median_ms)),
    );
    out.insert(
        "request_queue_page_p95_ms",
        json!(round3(queue.page_p95_ms)),
    );

    note("anonymous survey responses over HTTP (free text scrubbed)");
    let ingestion =
        crate::bench_surveys::ingest(&server.url, plan.read_seconds.min(5.0), plan.connections)
            .await?;
    out.insert(
        "survey_responses_per_s",
        json!(ingestion.responses_per_s.round()),
    );
    out.insert("survey_response_p99_ms", json!(round3(ingestion.p99_ms)));

    note("erasure");
    let (small, large) = erasures(&server, &ids, &plan).await?;
    out.insert("erase_median_ms", json!(round3(small)));
    out.insert("erase_median_ms_10k_records", json!(round3(large)));
    server.stop();

    let ctx = Context::open(&paths).await?;
    note(&format!(
        "survey results with {} responses",
        plan.survey_responses
    ));
    let (stored, results_ms) =
        crate::bench_surveys::results(&ctx.vault, plan.survey_responses).await?;
    out.insert("survey_results_responses", json!(stored));
    out.insert("survey_results_median_ms", json!(round3(results_ms)));

    note("ledger appends");
    let appends = ledger_appends(&ctx.vault, plan.ledger_appends).await?;
    out.insert("ledger_append_per_s", json!(appends.round()));
    drop(ctx);

    note("ledger verify");
    let keyring = context::keyring(&paths)?;
    match verify_database(&paths.database, &keyring, vec![]).await? {
        Verdict::Ok {
            leaves, seconds, ..
        } => {
            out.insert("ledger_leaves", json!(leaves));
            out.insert(
                "ledger_verify_leaves_per_s",
                json!((leaves as f64 / seconds).round()),
            );
        }
        Verdict::Failed(why) => anyhow::bail!("the bench ledger failed verification: {why}"),
    }

    note(&format!("inclusion proofs at {} leaves", plan.proof_leaves));
    out.insert("proof_leaves", json!(plan.proof_leaves));
    out.insert(
        "proof_ms",
        json!(round3(proof_median_ms(plan.proof_leaves)?)),
    );
    Ok(into_value(out))
}

fn into_value(out: BTreeMap<&str, Value>) -> Value {
    Value::Object(out.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// The no-op baseline (saturated and paced) and consent checks (paced at the target's rate,
/// then saturated).
async fn consent_checks(
    server: &Server,
    ids: &[[u8; 16]],
    plan: &Plan,
    out: &mut BTreeMap<&str, Value>,
) -> anyhow::Result<()> {
    // The ceiling of this HTTP stack and load generator on this machine, in the same run:
    // `GET /healthz` does no work, so the checks' figures can be read as a fraction of it.
    note("baseline: GET /healthz over HTTP");
    let baseline = http_load(server, ids, plan, Target::Health, None).await?;
    out.insert("http_baseline_rps", json!(baseline.rps.round()));
    out.insert("http_baseline_p99_ms", json!(round3(baseline.p99_ms)));
    let paced = http_load(server, ids, plan, Target::Health, Some(CONSENT_CHECK_RATE)).await?;
    out.insert("http_baseline_paced_p99_ms", json!(round3(paced.p99_ms)));
    out.insert(
        "http_baseline_paced_server_cpu_us",
        json!(round3(paced.server_cpu_us)),
    );
    out.insert(
        "http_baseline_paced_client_cpu_us",
        json!(round3(paced.client_cpu_us)),
    );

    note("consent checks over HTTP");
    // The target's latency is at 30,000 checks/s: measured with that load, paced,
    // before the saturation run, whose backlog of ledger leaves would still be checkpointing.
    let paced = http_load(
        server,
        ids,
        plan,
        Target::ConsentCheck,
        Some(CONSENT_CHECK_RATE),
    )
    .await?;
    out.insert("consent_check_paced_rps", json!(paced.rps.round()));
    out.insert("consent_check_paced_p50_ms", json!(round3(paced.p50_ms)));
    out.insert("consent_check_paced_p99_ms", json!(round3(paced.p99_ms)));
    out.insert(
        "consent_check_paced_server_cpu_us",
        json!(round3(paced.server_cpu_us)),
    );
    out.insert(
        "consent_check_paced_client_cpu_us",
        json!(round3(paced.client_cpu_us)),
    );
    let checks = http_load(server, ids, plan, Target::ConsentCheck, None).await?;
    out.insert("consent_check_rps", json!(checks.rps.round()));
    out.insert("consent_check_p99_ms", json!(round3(checks.p99_ms)));
    out.insert("consent_check_errors", json!(checks.errors));
    out.insert(
        "consent_check_vs_baseline",
        json!(round3(checks.rps / baseline.rps)),
    );

    Ok(())
}

fn note(what: &str) {
    eprintln!("bench: {what}…");
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn num_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Operations per second of `op`, run in rounds of 1,000 for about `seconds`.
fn ops_per_second(seconds: f64, mut op: impl FnMut()) -> f64 {
    let started = Instant::now();
    let mut done = 0u64;
    while started.elapsed().as_secs_f64() < seconds {
        for _ in 0..1000 {
            op();
        }
        done += 1000;
    }
    done as f64 / started.elapsed().as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Sealing a 64-byte value under a subject key vs bare AES-256-GCM-SIV on the same 64 bytes,
/// interleaved five times; medians of each. A throwaway keyring seals exactly as the vault's.
fn seal_vs_raw(seconds: f64) -> anyhow::Result<(f64, f64)> {
    let keyring = mamori_crypto::Keyring::new(&mamori_crypto::MasterKey::generate()?);
    let value = [0x5au8; 64];
    let cipher = Aes256GcmSiv::new_from_slice(&[7u8; 32]).expect("32-byte key");
    let nonce = Nonce::from([1u8; 12]);
    let (key, _) = keyring
        .new_subject_key(&[9u8; 16])
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (mut raw, mut seal) = (vec![], vec![]);
    for _ in 0..5 {
        raw.push(ops_per_second(seconds / 5.0, || {
            std::hint::black_box(cipher.encrypt(&nonce, &value[..]).expect("encrypt"));
        }));
        seal.push(ops_per_second(seconds / 5.0, || {
            std::hint::black_box(key.seal("contact", "email", &value));
        }));
    }
    Ok((median(raw), median(seal)))
}

/// A synthetic customer: 5 fields over 2 categories, e-mail, phone and external id indexed.
fn synthetic_row(i: u64) -> ImportRow {
    let data = json!({
        "contact": {
            "name": format!("Customer {i}"),
            "email": format!("customer{i}@example.com"),
            "phone": format!("+3361{:07}", i % 10_000_000),
        },
        "address": { "city": "Paris", "country": "FR" },
    });
    ImportRow {
        line: i + 1,
        external_id: Some(format!("cust-{i}")),
        data: serde_json::from_value(data).expect("static shape"),
    }
}

/// Imports rows `from..to` through the same pipeline as `mamori import`; returns subjects/s.
/// Keeps up to 100,000 of the new ids (evenly spread) for the read test.
async fn import_synthetic(
    vault: &Vault,
    from: u64,
    to: u64,
    batch: u64,
    ids: &mut Vec<[u8; 16]>,
) -> anyhow::Result<f64> {
    let keep_every = (to / 100_000).max(1) as usize;
    let (tx, mut rx) = mpsc::channel(2);
    let producer = tokio::task::spawn_blocking(move || {
        let mut start = from;
        while start < to {
            let end = (start + batch).min(to);
            let batch = Batch {
                rows: (start..end).map(synthetic_row).collect(),
                rejected: vec![],
                rows_read: end - start,
                position: end,
            };
            if tx.blocking_send(Ok(batch)).is_err() {
                break;
            }
            start = end;
        }
    });
    let actor = Actor {
        id: "cli:bench".into(),
        role: "service".into(),
    };
    let import_id = *b"mamori-bench-import-000000000000";
    let started = Instant::now();
    let mut imported = 0u64;
    import::pipeline(
        vault,
        &actor,
        "order_fulfilment",
        import_id,
        &mut rx,
        |done| {
            anyhow::ensure!(
                done.report.rejected.is_empty(),
                "bench rows were rejected: {:?}",
                done.report.rejected.first()
            );
            imported += done.report.imported;
            ids.extend(done.report.ids.iter().step_by(keep_every));
            Ok(())
        },
    )
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    producer.await?;
    Ok(imported as f64 / seconds)
}

/// Grants `marketing_email` on e-mail to every other id through the consent import (ledgered,
/// announced, as `mamori import consents` does); returns grants/s.
async fn grant_half(vault: &Vault, ids: &[[u8; 16]]) -> anyhow::Result<f64> {
    let actor = mamori_core::Actor {
        id: "cli:bench".into(),
        role: "service".into(),
    };
    let started = Instant::now();
    let mut granted = 0;
    let rows: Vec<ConsentImportRow> = ids
        .iter()
        .step_by(2)
        .enumerate()
        .map(|(i, id)| ConsentImportRow {
            line: i as u64 + 1,
            subject: mamori_core::format_id(id),
            change: ConsentChange {
                purpose: "marketing_email".into(),
                channel: Some("email".into()),
                granted: true,
                source: Some("import".into()),
                notice_version: None,
            },
            at_ms: mamori_core::now_ms() - 1_000,
        })
        .collect();
    for batch in rows.chunks(10_000) {
        let report = vault.import_consents(&actor, batch.to_vec()).await?;
        anyhow::ensure!(report.rejected.is_empty(), "bench consents were rejected");
        granted += report.imported;
    }
    Ok(granted as f64 / started.elapsed().as_secs_f64())
}

/// Waits (at most two minutes) until the server uses under 5 % of a core for a second, and
/// returns how long that took.
async fn settle(server: &Server) -> f64 {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        let before = cpu_seconds(server.pid());
        tokio::time::sleep(Duration::from_secs(1)).await;
        if cpu_seconds(server.pid()) - before < 0.05 {
            break;
        }
    }
    started.elapsed().as_secs_f64()
}

/// Audience size per filter call: the API's maximum.
const AUDIENCE: usize = 100_000;

/// `POST /v1/consent/filter` with 100,000 ids (half of them granted), timed from sending the
/// prepared body to the last byte of the streamed answer; median of 5 calls and checks/s.
async fn audience_filter(server: &Server, ids: &[[u8; 16]]) -> anyhow::Result<(f64, f64)> {
    let audience: Vec<String> = ids
        .iter()
        .cycle()
        .take(AUDIENCE)
        .map(mamori_core::format_id)
        .collect();
    let body = serde_json::to_vec(
        &json!({"purpose": "marketing_email", "channel": "email", "subjects": audience}),
    )?;
    let client = reqwest::Client::new();
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let answer = client
            .post(format!("{}/v1/consent/filter", server.url))
            .bearer_auth(&server.keys.service)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        let allowed: Value = serde_json::from_slice(&answer)?;
        anyhow::ensure!(
            allowed["allowed"].as_array().is_some_and(|a| !a.is_empty()),
            "the audience filter allowed nobody"
        );
    }
    let ms = median(times);
    Ok((ms, AUDIENCE as f64 / (ms / 1000.0)))
}

struct Keys {
    service: String,
    officer: String,
    /// A privacy-center session of the first synthetic customer, and their id.
    session: String,
    person: [u8; 16],
}

async fn create_keys(vault: &Vault) -> anyhow::Result<Keys> {
    let operator = context::operator();
    let (_, service) = vault
        .create_api_key(&operator, "service", "bench service")
        .await?;
    let (_, officer) = vault
        .create_api_key(&operator, "privacy_officer", "bench officer")
        .await?;
    let started = vault.start_sign_in("customer0@example.com").await?;
    let code = started
        .code
        .context("the first synthetic customer has no e-mail")?;
    let (session, person) = vault
        .finish_sign_in(&started.challenge, &code)
        .await?
        .map_err(|refused| anyhow::anyhow!("bench sign-in refused: {refused:?}"))?;
    Ok(Keys {
        service,
        officer,
        session,
        person,
    })
}

/// `mamori serve` on the bench installation, as a child process.
struct Server {
    url: String,
    keys: Keys,
    child: std::process::Child,
}

impl Server {
    async fn start(paths: &Paths, keys: Keys) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let listen = format!("127.0.0.1:{port}");
        let child = std::process::Command::new(std::env::current_exe()?)
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

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stop(self) {}
}

/// The child never outlives the bench, whichever way the bench ends.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct ReadFigures {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    /// At the peak of the samples taken during the load.
    rss: Rss,
    /// CPU time the server process spent per answered request during the measured seconds
    /// (user + system): what a request costs, which the shared machine's noise moves far less
    /// than its latency.
    server_cpu_us: f64,
    /// The same for the load generator (this process).
    client_cpu_us: f64,
}

/// User + system CPU seconds a process has used so far (`/proc/PID/stat`; 0 where unreadable).
fn cpu_seconds(pid: u32) -> f64 {
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
struct Rss {
    total: f64,
    anon: f64,
    file: f64,
    shmem: f64,
}

fn rss_mb(pid: u32) -> Rss {
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
async fn read_load(server: &Server, ids: &[[u8; 16]], plan: &Plan) -> anyhow::Result<ReadFigures> {
    http_load(server, ids, plan, Target::Read, None).await
}

/// What the load generator asks for.
#[derive(Clone, Copy)]
enum Target {
    /// `GET /v1/subjects/{id}` for order_fulfilment.
    Read,
    /// `GET /v1/consent/{id}?purpose=marketing_email&channel=email`.
    ConsentCheck,
    /// `GET /healthz`: no work, the baseline.
    Health,
}

impl Target {
    fn path(self, id: &str) -> String {
        match self {
            Target::Read => format!("/v1/subjects/{id}"),
            Target::ConsentCheck => {
                format!("/v1/consent/{id}?purpose=marketing_email&channel=email")
            }
            Target::Health => "/healthz".to_string(),
        }
    }
}

/// Load over `plan.connections` connections: as fast as the server answers, or — with `pace`
/// (requests/s in total) — each connection sending on a fixed schedule, so the latency is the
/// one seen at that throughput rather than at saturation (where queueing sets the tail).
async fn http_load(
    server: &Server,
    ids: &[[u8; 16]],
    plan: &Plan,
    target: Target,
    pace: Option<f64>,
) -> anyhow::Result<ReadFigures> {
    anyhow::ensure!(!ids.is_empty(), "no subjects to read");
    let ids: Arc<Vec<String>> = Arc::new(ids.iter().map(mamori_core::format_id).collect());
    let errors = Arc::new(AtomicU64::new(0));
    let warmup = Duration::from_secs(1);
    let measure = Duration::from_secs_f64(plan.read_seconds);
    let start = Instant::now() + warmup;
    let end = start + measure;
    let sampler = {
        let pid = server.pid();
        tokio::spawn(async move {
            let mut peak = Rss::default();
            tokio::time::sleep_until(start.into()).await;
            let cpu_at_start = cpu_seconds(pid);
            let own_at_start = cpu_seconds(std::process::id());
            while Instant::now() < end {
                let now = rss_mb(pid);
                if now.total > peak.total {
                    peak = now;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            (
                peak,
                cpu_seconds(pid) - cpu_at_start,
                cpu_seconds(std::process::id()) - own_at_start,
            )
        })
    };
    let connections = plan.connections;
    let (addr, auth) = (
        server.url.trim_start_matches("http://").to_string(),
        format!("Bearer {}", server.keys.service),
    );
    let errors_seen = errors.clone();
    let generator = move || -> anyhow::Result<Vec<f64>> {
        let errors = errors_seen;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let mut tasks = Vec::new();
            for worker in 0..connections {
                let (ids, errors) = (ids.clone(), errors.clone());
                let (addr, auth) = (addr.clone(), auth.clone());
                let interval = pace.map(|rate| Duration::from_secs_f64(connections as f64 / rate));
                tasks.push(tokio::spawn(async move {
                    let mut latencies = Vec::with_capacity(50_000);
                    let mut connection: Option<LeanConnection> = None;
                    let mut n = worker as u64 * 7919;
                    // Connections start spread over one interval, so the paced load is even.
                    let mut next = Instant::now()
                        + interval.unwrap_or_default() * worker as u32 / connections as u32;
                    loop {
                        if let Some(interval) = interval {
                            tokio::time::sleep_until(next.into()).await;
                            next += interval;
                        }
                        let now = Instant::now();
                        if now >= end {
                            break;
                        }
                        n = n
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        let id = &ids[(n >> 33) as usize % ids.len()];
                        let sent = Instant::now();
                        let ok = match &mut connection {
                            Some(open) => open.get(&target.path(id), &auth).await,
                            None => match LeanConnection::open(&addr).await {
                                Ok(mut open) => {
                                    let ok = open.get(&target.path(id), &auth).await;
                                    connection = Some(open);
                                    ok
                                }
                                Err(e) => Err(e),
                            },
                        };
                        let took = sent.elapsed();
                        if !matches!(ok, Ok(true)) {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                        if ok.is_err() {
                            connection = None;
                        }
                        if sent >= start {
                            latencies.push(took.as_secs_f64() * 1000.0);
                        }
                    }
                    latencies
                }));
            }
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await?);
            }
            Ok(all)
        })
    };
    let mut all = tokio::task::spawn_blocking(move || {
        std::thread::Builder::new()
            .name("load-generator".into())
            .spawn(generator)?
            .join()
            .map_err(|_| anyhow::anyhow!("the load generator panicked"))?
    })
    .await??;
    let (rss, server_cpu, client_cpu) = sampler.await?;
    all.sort_by(f64::total_cmp);
    anyhow::ensure!(!all.is_empty(), "no reads completed");
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Ok(ReadFigures {
        rps: all.len() as f64 / measure.as_secs_f64(),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        errors: errors.load(Ordering::Relaxed),
        rss,
        server_cpu_us: server_cpu * 1e6 / all.len() as f64,
        client_cpu_us: client_cpu * 1e6 / all.len() as f64,
    })
}

/// One keep-alive HTTP/1.1 connection with one request in flight, written by hand and read with
/// httparse: the load generator shares this machine's two cores with the server under test, so
/// whatever it spends per request is taken from the server and shows in its tail. hyper's client
/// (its dispatcher, header maps and body channel) cost about 16 µs of CPU per request here; this
/// is a write and, almost always, one read.
struct LeanConnection {
    stream: tokio::net::TcpStream,
    host: String,
    request: Vec<u8>,
    response: Vec<u8>,
}

/// Response heads are a few hundred bytes; more headers than this is not Mamori answering.
const MAX_HEADERS: usize = 32;

impl LeanConnection {
    async fn open(addr: &str) -> anyhow::Result<LeanConnection> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(LeanConnection {
            stream,
            host: addr.to_string(),
            request: Vec::with_capacity(512),
            response: Vec::with_capacity(4096),
        })
    }

    /// Sends `GET path` and reads the whole answer; true when it was a success.
    async fn get(&mut self, path: &str, authorization: &str) -> anyhow::Result<bool> {
        use std::io::Write as _;
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        self.request.clear();
        write!(
            self.request,
            "GET {path} HTTP/1.1\r\nhost: {}\r\nauthorization: {authorization}\r\nmamori-purpose: order_fulfilment\r\n\r\n",
            self.host
        )?;
        self.stream.write_all(&self.request).await?;
        self.response.clear();
        loop {
            if self.stream.read_buf(&mut self.response).await? == 0 {
                anyhow::bail!("the server closed the connection");
            }
            if let Some((status, whole)) = complete_response(&self.response)? {
                anyhow::ensure!(
                    whole == self.response.len(),
                    "the server answered more than was asked"
                );
                return Ok((200..300).contains(&status));
            }
        }
    }
}

/// The status and total length of the response at the start of `bytes`, once it is all there
/// (`None` while more is to come). Mamori answers with a Content-Length; anything else is an error.
fn complete_response(bytes: &[u8]) -> anyhow::Result<Option<(u16, usize)>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut head = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(head_len) = head.parse(bytes)? else {
        return Ok(None);
    };
    let length = head
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| {
            std::str::from_utf8(h.value)
                .ok()?
                .trim()
                .parse::<usize>()
                .ok()
        })
        .context("a response without a Content-Length")?;
    let status = head.code.context("a response without a status")?;
    let whole = head_len + length;
    Ok((bytes.len() >= whole).then_some((status, whole)))
}

/// Median time of `DELETE /v1/subjects/{id}` for subjects with one record, and for subjects
/// with `records_large` records each.
async fn erasures(server: &Server, ids: &[[u8; 16]], plan: &Plan) -> anyhow::Result<(f64, f64)> {
    let needed = plan.erase_small + plan.erase_large;
    anyhow::ensure!(
        ids.len() >= needed,
        "not enough subjects for the erase test"
    );
    // Take subjects from the end: the read test's ids stay valid if it is ever rerun.
    let victims = &ids[ids.len() - needed..];
    let (small, large) = victims.split_at(plan.erase_small);
    for id in small {
        add_records(server, id, 1).await?;
    }
    for id in large {
        add_records(server, id, plan.records_large).await?;
    }
    let client = reqwest::Client::new();
    let erase = async |id: &[u8; 16]| -> anyhow::Result<f64> {
        let sent = Instant::now();
        let response = client
            .delete(format!(
                "{}/v1/subjects/{}",
                server.url,
                mamori_core::format_id(id)
            ))
            .header("authorization", format!("Bearer {}", server.keys.officer))
            .header("mamori-purpose", "data_subject_rights")
            .send()
            .await?;
        let took = sent.elapsed().as_secs_f64() * 1000.0;
        anyhow::ensure!(
            response.status().is_success(),
            "erase answered {}",
            response.status()
        );
        Ok(took)
    };
    let mut small_times = vec![];
    for id in small {
        small_times.push(erase(id).await?);
    }
    let mut large_times = vec![];
    for id in large {
        large_times.push(erase(id).await?);
    }
    Ok((median(small_times), median(large_times)))
}

/// `GET /v1/ledger/proof/inclusion` for 500 random leaves of the whole ledger, one at a time,
/// sent to last byte: each reads its leaf's block back from the database. Median and p99, ms.
async fn proofs_over_http(server: &Server) -> anyhow::Result<(f64, f64)> {
    let client = reqwest::Client::new();
    let head: Value = client
        .get(format!("{}/v1/ledger/head", server.url))
        .bearer_auth(&server.keys.service)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let size = head["size"]
        .as_u64()
        .context("ledger head without a size")?;
    let mut times = Vec::with_capacity(500);
    let mut n = 99u64;
    for _ in 0..500 {
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let leaf = (n >> 11) % size;
        let url = format!(
            "{}/v1/ledger/proof/inclusion?leaf={leaf}&size={size}",
            server.url
        );
        let sent = Instant::now();
        let answer = client
            .get(url)
            .bearer_auth(&server.keys.service)
            .send()
            .await?;
        anyhow::ensure!(
            answer.status().is_success(),
            "proof answered {}",
            answer.status()
        );
        answer.bytes().await?;
        times.push(sent.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times[times.len() * 99 / 100]))
}

struct RightsFigures {
    export_ms: f64,
    page_p95_ms: Vec<(&'static str, f64)>,
}

/// Issue 4's targets: the export of a person with `records` records and as many ledger events
/// about them (the record creations), and the privacy-center pages as that person, signed in.
async fn rights_figures(server: &Server, records: usize) -> anyhow::Result<RightsFigures> {
    let person = server.keys.person;
    add_records(server, &person, records).await?;
    // The subject index runs once a second; measure what a person sees once it caught up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    // No redirects: a page that sends the person to sign in must count as a failure.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let timed = async |request: reqwest::RequestBuilder| -> anyhow::Result<f64> {
        let sent = Instant::now();
        let response = request.send().await?;
        let status = response.status();
        response.bytes().await?;
        anyhow::ensure!(status == reqwest::StatusCode::OK, "answered {status}");
        Ok(sent.elapsed().as_secs_f64() * 1000.0)
    };
    let export_url = format!(
        "{}/v1/subjects/{}/export",
        server.url,
        mamori_core::format_id(&person)
    );
    let mut exports = vec![];
    for _ in 0..5 {
        let request = client
            .get(&export_url)
            .bearer_auth(&server.keys.officer)
            .header("mamori-purpose", "data_subject_rights");
        exports.push(timed(request).await?);
    }
    let cookie = format!("mamori_session={}", server.keys.session);
    let mut page_p95_ms = vec![];
    for (name, path) in [
        ("page_my_data_p95_ms", "/privacy/me"),
        ("page_my_choices_p95_ms", "/privacy/choices"),
        ("page_access_log_p95_ms", "/privacy/me/activity"),
    ] {
        let mut times = vec![];
        for _ in 0..200 {
            let request = client
                .get(format!("{}{path}", server.url))
                .header("cookie", &cookie);
            times.push(timed(request).await?);
        }
        times.sort_by(f64::total_cmp);
        page_p95_ms.push((name, times[times.len() * 95 / 100]));
    }
    Ok(RightsFigures {
        export_ms: median(exports),
        page_p95_ms,
    })
}

struct QueueFigures {
    opened_per_s: f64,
    page_median_ms: f64,
    page_p95_ms: f64,
}

/// Opens `n` requests over the API (kinds, laws and arrival days mixed, so due dates spread),
/// then times the staff's view of the queue: the first page, a page further on by cursor, and
/// the requests due within a week — 100 rows each, 60 times each.
async fn request_queue(
    server: &Server,
    ids: &[[u8; 16]],
    n: usize,
) -> anyhow::Result<QueueFigures> {
    const KINDS: [&str; 4] = ["access", "erasure", "rectification", "opt_out_of_sale"];
    const LAWS: [&str; 4] = ["gdpr", "ccpa", "lgpd", "appi"];
    let client = reqwest::Client::new();
    let url = format!("{}/v1/requests", server.url);
    let auth = format!("Bearer {}", server.keys.officer);
    let today = time::OffsetDateTime::now_utc();
    let started = Instant::now();
    let mut pending = tokio::task::JoinSet::new();
    for i in 0..n {
        if pending.len() >= 64 {
            pending.join_next().await.expect("non-empty")??;
        }
        let received = today - time::Duration::days((i % 10) as i64);
        let body = json!({
            "kind": KINDS[i % 4],
            "jurisdiction": LAWS[(i / 4) % 4],
            "subject": mamori_core::format_id(&ids[(i * 7919) % ids.len()]),
            "received_at": received.format(&time::format_description::well_known::Rfc3339)?,
        });
        let request = client
            .post(&url)
            .header("authorization", &auth)
            .header("mamori-purpose", "data_subject_rights")
            .json(&body);
        pending.spawn(async move {
            let response = request.send().await?;
            let status = response.status();
            anyhow::ensure!(status.is_success(), "opening a request answered {status}");
            Ok(())
        });
    }
    while let Some(done) = pending.join_next().await {
        done??;
    }
    let opened_per_s = n as f64 / started.elapsed().as_secs_f64();

    let first: Value = client
        .get(format!("{url}?limit=100"))
        .header("authorization", &auth)
        .header("mamori-purpose", "data_subject_rights")
        .send()
        .await?
        .json()
        .await?;
    let mut cursor = first["next"].as_str().unwrap_or_default().to_string();
    let week =
        (today + time::Duration::days(7)).format(&time::format_description::well_known::Rfc3339)?;
    let mut times = vec![];
    for round in 0..60 {
        let query = match round % 3 {
            0 => "limit=100".to_string(),
            1 => format!("limit=100&after={cursor}"),
            _ => format!("limit=100&due_before={}", urlencode(&week)),
        };
        let sent = Instant::now();
        let response = client
            .get(format!("{url}?{query}"))
            .header("authorization", &auth)
            .header("mamori-purpose", "data_subject_rights")
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "the queue answered {}",
            response.status()
        );
        let page: Value = response.json().await?;
        times.push(sent.elapsed().as_secs_f64() * 1000.0);
        if round % 3 == 1
            && let Some(next) = page["next"].as_str()
        {
            cursor = next.to_string();
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(QueueFigures {
        opened_per_s,
        page_median_ms: times[times.len() / 2],
        page_p95_ms: times[times.len() * 95 / 100],
    })
}

/// Percent-encodes the characters of an RFC 3339 time that a query string cannot carry as is.
fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

/// Adds `n` order records to one subject over the API, 64 requests at a time.
async fn add_records(server: &Server, id: &[u8; 16], n: usize) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let url = format!(
        "{}/v1/subjects/{}/records",
        server.url,
        mamori_core::format_id(id)
    );
    let auth = format!("Bearer {}", server.keys.service);
    let body = json!({"category": "orders", "data": {
        "order_number": "A-1", "total": 12.5, "currency": "EUR", "items": "1 × tea"
    }});
    let mut pending = tokio::task::JoinSet::new();
    for _ in 0..n {
        if pending.len() >= 64 {
            pending.join_next().await.expect("non-empty")??;
        }
        let request = client
            .post(&url)
            .header("authorization", &auth)
            .header("mamori-purpose", "order_fulfilment")
            .json(&body);
        pending.spawn(async move {
            let status = request.send().await?.status();
            anyhow::ensure!(status.is_success(), "adding a record answered {status}");
            Ok(())
        });
    }
    while let Some(done) = pending.join_next().await {
        done??;
    }
    Ok(())
}

/// Ledger events appended through the writer in batches of 1,000, four batches in flight.
async fn ledger_appends(vault: &Vault, total: u64) -> anyhow::Result<f64> {
    const BATCH: u64 = 1_000;
    let event = Event {
        time_ms: mamori_core::now_ms(),
        actor: "key:0190c7a2-0000-7000-8000-000000000000".into(),
        role: "service".into(),
        purpose: Some("order_fulfilment".into()),
        action: "subject.read".into(),
        subject: Some("0190c7a2-0000-7000-8000-000000000001".into()),
        categories: vec!["contact".into(), "address".into()],
        outcome: Outcome::Allowed,
    };
    let started = Instant::now();
    let mut pending = tokio::task::JoinSet::new();
    let mut sent = 0;
    while sent < total {
        if pending.len() >= 4 {
            pending.join_next().await.expect("non-empty")??;
        }
        let n = BATCH.min(total - sent);
        let items = (0..n)
            .map(|_| Item {
                changes: vec![],
                events: vec![event.clone()],
            })
            .collect();
        let vault = vault.clone();
        pending.spawn(async move { vault.bench_submit_all(items).await.map(|_| ()) });
        sent += n;
    }
    while let Some(done) = pending.join_next().await {
        done??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// Median time to produce (and, outside the timing, check) an inclusion proof in a tree of
/// `leaves` leaves, over 1,000 random leaves. The tree keeps block roots only, as the ledger's
/// does, so each proof includes reading back its leaf's block (here from memory, standing in for
/// the store) and checking it against the block root.
fn proof_median_ms(leaves: u64) -> anyhow::Result<f64> {
    let mut tree = MerkleTree::new();
    let mut stored = Vec::with_capacity(leaves as usize);
    for i in 0..leaves {
        let hash = leaf_hash(&i.to_be_bytes());
        stored.push(hash);
        tree.push_leaf_hash(hash);
    }
    let read =
        |range: std::ops::Range<u64>| stored[range.start as usize..range.end as usize].to_vec();
    let root = tree.resolve(|t, b| t.root(leaves, b), read)?;
    let mut times = Vec::with_capacity(1000);
    let mut n = 12345u64;
    for _ in 0..1000 {
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let index = (n >> 11) % leaves;
        let started = Instant::now();
        let proof = tree.resolve(|t, b| t.inclusion_proof(index, leaves, b), read)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        let leaf = stored[index as usize];
        anyhow::ensure!(
            verify_inclusion(index, leaves, &leaf, &proof, &root).is_ok(),
            "inclusion proof did not verify"
        );
    }
    Ok(median(times))
}

/// Prints the figures for a person: one line each.
pub fn print_table(figures: &Value, out: &mut impl std::io::Write) -> std::io::Result<()> {
    if let Value::Object(map) = figures {
        for (k, v) in map {
            writeln!(out, "{k:42} {v}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::complete_response;

    #[test]
    fn a_response_is_complete_once_its_content_length_is_there() {
        let whole = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";
        assert_eq!(complete_response(whole).unwrap(), Some((200, whole.len())));
        // Cut anywhere before the end: not yet.
        for cut in [0, 5, 30, whole.len() - 1] {
            assert_eq!(complete_response(&whole[..cut]).unwrap(), None, "cut {cut}");
        }
        let refused = b"HTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(
            complete_response(refused).unwrap(),
            Some((429, refused.len()))
        );
        assert!(complete_response(b"HTTP/1.1 200 OK\r\n\r\n").is_err());
        assert!(complete_response(b"SMTP 220 hello\r\n\r\n").is_err());
    }
}
