//! Test kit: every test gets the whole server on a free port with a fresh database, on SQLite
//! or on a throw-away PostgreSQL cluster started once per test binary.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use mamori_core::{Actor, Vault, ledger::Ledger};
use mamori_crypto::{Keyring, MasterKey};
use mamori_ledger::HeadSigner;
use mamori_policy::Policy;
use mamori_store::Store;

/// The example policy as shipped (its people-only roles refuse API keys).
pub const EXAMPLE_POLICY: &str = include_str!("../../../../examples/policy.toml");

/// The example policy without `require_mfa` and `require_training`, so the tests can act in every
/// role through API keys; what those flags do is tested under [`EXAMPLE_POLICY`] itself.
pub static POLICY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let stripped = EXAMPLE_POLICY
        .replace("require_mfa = true\n", "")
        .replace("require_training = true\n", "");
    assert_ne!(
        stripped, EXAMPLE_POLICY,
        "the example asks for MFA and training"
    );
    stripped
});
pub const MASTER_HEX: &str = "4d616d6f726920746573742d6f6e6c79206d6173746572206b657920212121ff";

/// Everything the server logged, for canary checks.
pub fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer_buffer = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || LogWriter(writer_buffer.clone()))
            .try_init();
        buffer
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub vault: Vault,
    /// The vault's own store and ledger writer, for tests that look at what is at rest (the
    /// server and the CLI cannot reach them: only core can).
    pub store: Arc<dyn Store>,
    pub ledger: Ledger,
    pub keys: HashMap<&'static str, String>,
    pub backend: Backend,
    pub dir: tempfile::TempDir,
    pub database_url: String,
    /// The vault's clock: a test moves it forward instead of waiting.
    pub clock: mamori_core::clock::FakeClock,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A request as `role` for `purpose`.
    pub fn as_role(
        &self,
        method: reqwest::Method,
        path: &str,
        role: &str,
        purpose: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(&self.keys[role])
            .header("Mamori-Purpose", purpose)
    }

    /// GET `path` as `role` for `purpose`: the answer's status and JSON body (null if none).
    pub async fn get_as(
        &self,
        path: &str,
        role: &str,
        purpose: &str,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let r = self
            .as_role(reqwest::Method::GET, path, role, purpose)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// The subjects a lookup (`email=…`, `phone=…`, `external_id=…`) finds, as the service
    /// fulfilling orders.
    pub async fn look_up(&self, query: &str) -> serde_json::Value {
        let (_, v) = self
            .get_as(
                &format!("/v1/subjects?{query}"),
                "service",
                "order_fulfilment",
            )
            .await;
        v["ids"].clone()
    }

    /// Runs one statement with two blob parameters straight against the database, bypassing
    /// Mamori: how the tests play an attacker or a disk that changes stored bytes.
    pub async fn execute_raw(&self, sql: &'static str, first: &[u8], second: &[u8]) {
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.database_url).await.unwrap();
                sqlx::query(sql)
                    .bind(first)
                    .bind(second)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.database_url).await.unwrap();
                sqlx::query(sql)
                    .bind(first)
                    .bind(second)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        }
    }

    /// Runs one statement without parameters straight against the database.
    pub async fn execute_sql(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.database_url).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.database_url).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
        }
    }

    /// Fails if `canary` is in the ledger, the logs or (on SQLite) any database file, WAL
    /// included: free text the staff write is kept only sealed.
    pub async fn assert_canary_nowhere(&self, canary: &str) {
        self.ledger.flush().await.unwrap();
        for leaf in self.store.leaves(0, 1_000_000).await.unwrap() {
            let text = String::from_utf8_lossy(&leaf.data);
            assert!(!text.contains(canary), "the ledger holds the canary");
        }
        let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).to_string();
        assert!(!logs.contains(canary), "the logs hold the canary");
        for f in self.sqlite_files() {
            let bytes = std::fs::read(&f).unwrap();
            assert!(
                !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                "{} holds the canary in plaintext",
                f.display()
            );
        }
    }

    pub fn sqlite_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("mamori.db"))
            .collect()
    }
}

use mamori_testkit::fresh_postgres_database;
pub use mamori_testkit::{Backend, postgres_base};

/// Starts the whole server for `backend`, or None if that backend is unavailable (skipped loudly).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with_policy(backend, &POLICY).await
}

/// [`spawn_app`] under another policy (a variant of the example, for what it cannot show).
pub async fn spawn_app_with_policy(backend: Backend, policy: &str) -> Option<TestApp> {
    captured_logs();
    let dir = tempfile::tempdir().unwrap();
    let database_url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("mamori.db").display()),
        Backend::Postgres => fresh_postgres_database(&postgres_base()?).await,
    };
    let policy = Arc::new(Policy::parse("policy.toml", policy).unwrap());
    let keyring = Arc::new(Keyring::new(&MasterKey::from_hex(MASTER_HEX).unwrap()));
    let store: Arc<dyn Store> = Arc::from(mamori_store::open(&database_url).await.unwrap());
    let ledger = Ledger::start(
        store.clone(),
        HeadSigner::from_seed(&keyring.ledger_signing_seed()),
    )
    .await
    .unwrap();
    let mut vault = Vault::new(policy, keyring, store.clone(), ledger.clone());
    // Webhook receivers and DRP callbacks in the tests listen on loopback.
    vault.outbound = Arc::new(mamori_core::outbound::Outbound::loopback());
    let clock = mamori_core::clock::FakeClock::default();
    vault.clock = Arc::new(clock.clone());
    let operator = Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    };
    let mut keys = HashMap::new();
    for role in [
        "service",
        "support",
        "marketing",
        "analyst",
        "privacy_officer",
        "privacy_ops",
    ] {
        // Under the example as shipped, roles whose people need MFA or training take no keys.
        let refuses_keys = vault.policy.role(role).and_then(|r| r.key_refusal());
        if refuses_keys.is_some() {
            continue;
        }
        let (_, token) = vault
            .create_api_key(&operator, role, &format!("test {role}"))
            .await
            .unwrap();
        keys.insert(role, token);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(mamori_server::serve(
        listener,
        vault.clone(),
        test_limits(),
        std::future::pending(),
    ));
    Some(TestApp {
        base,
        client: reqwest::Client::new(),
        vault,
        store,
        ledger,
        keys,
        backend,
        dir,
        database_url,
        clock,
    })
}

/// Another `mamori serve` on `app`'s database, as a second machine behind a load balancer
/// would run it: its own pools, ledger writer, background jobs and port; the same keys.
pub struct OtherServer {
    pub base: String,
    pub vault: Vault,
    pub ledger: Ledger,
}

pub async fn second_server(app: &TestApp) -> OtherServer {
    let keyring = Arc::new(Keyring::new(&MasterKey::from_hex(MASTER_HEX).unwrap()));
    let store: Arc<dyn Store> = Arc::from(mamori_store::open(&app.database_url).await.unwrap());
    let signer = HeadSigner::from_seed(&keyring.ledger_signing_seed());
    let ledger = Ledger::start(store.clone(), signer).await.unwrap();
    let mut vault = Vault::new(app.vault.policy.clone(), keyring, store, ledger.clone());
    vault.outbound = Arc::new(mamori_core::outbound::Outbound::loopback());
    // One time for both, as machines kept in step by NTP would have.
    vault.clock = app.vault.clock.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let serving = mamori_server::serve(
        listener,
        vault.clone(),
        test_limits(),
        std::future::pending(),
    );
    tokio::spawn(serving);
    OtherServer {
        base,
        vault,
        ledger,
    }
}

/// Runs one async test body on both backends.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let app = $crate::common::spawn_app($crate::common::Backend::Sqlite).await.expect("sqlite always available");
                super::$name(app).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(app) = $crate::common::spawn_app($crate::common::Backend::Postgres).await else { return };
                super::$name(app).await;
            })*
        }
    };
}

/// The default per-key limit, and a failed-authentication limit low enough to test.
pub fn test_limits() -> mamori_server::Limits {
    mamori_server::Limits {
        failed_auth_per_ip: 4,
        demo_outbox: true,
        // Tests call `send_due_reminders` themselves; a background pass would race them.
        deadline_reminders: false,
        // Tests send incident notices themselves, through a mailer they read.
        incident_notices: false,
        webhooks: mamori_core::webhooks::WebhookSettings {
            max_attempts: 3,
            backoff_base: std::time::Duration::from_millis(20),
            timeout: std::time::Duration::from_millis(800),
        },
        ..mamori_server::Limits::default()
    }
}

/// What a webhook receiver got: headers of interest and the body.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
}

/// A webhook target on a free port: answers 500 to the first `fail_first` deliveries (or never
/// answers, if `hang`), 204 after that.
pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Delivery>>>,
}

pub async fn receiver(fail_first: usize, hang: bool) -> Receiver {
    use axum::http::{HeaderMap, StatusCode};
    let got: Arc<Mutex<Vec<Delivery>>> = Arc::default();
    let failures = Arc::new(std::sync::atomic::AtomicUsize::new(fail_first));
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let (sink, failures) = (sink.clone(), failures.clone());
            async move {
                if hang {
                    tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                }
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string()
                };
                sink.lock().unwrap().push(Delivery {
                    id: header("webhook-id"),
                    timestamp: header("webhook-timestamp"),
                    signature: header("webhook-signature"),
                    body,
                });
                let failing = failures
                    .fetch_update(
                        std::sync::atomic::Ordering::SeqCst,
                        std::sync::atomic::Ordering::SeqCst,
                        |n| n.checked_sub(1),
                    )
                    .is_ok();
                if failing {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver { url, got }
}

impl Receiver {
    /// Waits (up to 10 s) until at least `n` deliveries arrived; returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Delivery> {
        for _ in 0..500 {
            let got = self.got.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!(
            "expected {n} webhook deliveries, got {:?}",
            self.got.lock().unwrap()
        );
    }
}
