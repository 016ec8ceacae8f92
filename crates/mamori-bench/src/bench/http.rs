//! The HTTP load generator: requests written by hand, answers read with httparse, on a
//! current-thread runtime of its own so it takes as little as it can of the shared cores.

use super::*;

/// What the load generator asks for.
#[derive(Clone, Copy)]
pub(super) enum Target {
    /// `GET /v1/subjects/{id}` for order_fulfilment.
    Read,
    /// `GET /v1/consent/{id}?purpose=marketing_email&channel=email`.
    ConsentCheck,
    /// `GET /healthz`: no work, the baseline.
    Health,
}

impl Target {
    pub(super) fn path(self, id: &str) -> String {
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
pub(super) async fn http_load(
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
    let sampler = sample_server(server.pid(), start, end);
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
                let load = Load {
                    ids,
                    errors,
                    addr,
                    auth,
                    target,
                    interval,
                    start,
                    end,
                };
                tasks.push(tokio::spawn(one_connection(load, worker, connections)));
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

/// What each connection of the load shares.
#[derive(Clone)]
struct Load {
    ids: Arc<Vec<String>>,
    errors: Arc<AtomicU64>,
    addr: String,
    auth: String,
    target: Target,
    /// The time between one connection's requests, when paced.
    interval: Option<Duration>,
    /// Latencies count from `start` (after the warm-up); requests stop at `end`.
    start: Instant,
    end: Instant,
}

/// One keep-alive connection of the load (reopened after an error): its latencies, in ms.
async fn one_connection(load: Load, worker: usize, connections: usize) -> Vec<f64> {
    let mut latencies = Vec::with_capacity(50_000);
    let mut connection: Option<LeanConnection> = None;
    let mut n = worker as u64 * 7919;
    // Connections start spread over one interval, so the paced load is even.
    let mut next =
        Instant::now() + load.interval.unwrap_or_default() * worker as u32 / connections as u32;
    loop {
        if let Some(interval) = load.interval {
            tokio::time::sleep_until(next.into()).await;
            next += interval;
        }
        let now = Instant::now();
        if now >= load.end {
            break;
        }
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let id = &load.ids[(n >> 33) as usize % load.ids.len()];
        let sent = Instant::now();
        let ok = match &mut connection {
            Some(open) => open.get(&load.target.path(id), &load.auth).await,
            None => match LeanConnection::open(&load.addr).await {
                Ok(mut open) => {
                    let ok = open.get(&load.target.path(id), &load.auth).await;
                    connection = Some(open);
                    ok
                }
                Err(e) => Err(e),
            },
        };
        let took = sent.elapsed();
        if !matches!(ok, Ok(true)) {
            load.errors.fetch_add(1, Ordering::Relaxed);
        }
        if ok.is_err() {
            connection = None;
        }
        if sent >= load.start {
            latencies.push(took.as_secs_f64() * 1000.0);
        }
    }
    latencies
}

/// The server's peak memory and its and this process's CPU seconds between `start` and `end`.
fn sample_server(
    pid: u32,
    start: Instant,
    end: Instant,
) -> tokio::task::JoinHandle<(Rss, f64, f64)> {
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
}

/// One keep-alive HTTP/1.1 connection with one request in flight, written by hand and read with
/// httparse: the load generator shares this machine's two cores with the server under test, so
/// whatever it spends per request is taken from the server and shows in its tail. hyper's client
/// (its dispatcher, header maps and body channel) cost about 16 µs of CPU per request here; this
/// is a write and, almost always, one read.
pub(super) struct LeanConnection {
    pub(super) stream: tokio::net::TcpStream,
    pub(super) host: String,
    pub(super) request: Vec<u8>,
    pub(super) response: Vec<u8>,
}

/// Response heads are a few hundred bytes; more headers than this is not Mamori answering.
pub(super) const MAX_HEADERS: usize = 32;

impl LeanConnection {
    pub(super) async fn open(addr: &str) -> anyhow::Result<LeanConnection> {
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
    pub(super) async fn get(&mut self, path: &str, authorization: &str) -> anyhow::Result<bool> {
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
pub(super) fn complete_response(bytes: &[u8]) -> anyhow::Result<Option<(u16, usize)>> {
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
