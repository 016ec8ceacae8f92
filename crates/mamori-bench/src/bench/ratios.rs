//! The hot paths as ratios to the same server's no-op (`GET /healthz`): the audited read and
//! the consent check, each measured with the same connections and load generator as the no-op,
//! interleaved (no-op, read, check, twice), so a machine that is slower today is slower for
//! all three. Throughput ratios (≥ target) and p99 ratios (≤ target), from the mean of the two
//! rounds.

use super::*;

/// One path's two rounds.
#[derive(Default)]
struct Rounds {
    rps: Vec<f64>,
    p99_ms: Vec<f64>,
    server_cpu_us: Vec<f64>,
    errors: u64,
}

impl Rounds {
    fn add(&mut self, f: &ReadFigures) {
        self.rps.push(f.rps);
        self.p99_ms.push(f.p99_ms);
        self.server_cpu_us.push(f.server_cpu_us);
        self.errors += f.errors;
    }
}

/// Each path's figures: req/s, p99, server CPU per request, errors, req/s ÷ the no-op's, p99 ÷
/// the no-op's.
const READ: [&str; 6] = [
    "ratio_read_rps",
    "ratio_read_p99_ms",
    "ratio_read_server_cpu_us",
    "ratio_read_errors",
    "ratio_read_vs_noop",
    "ratio_read_p99_vs_noop_p99",
];
const CHECK: [&str; 6] = [
    "ratio_consent_check_rps",
    "ratio_consent_check_p99_ms",
    "ratio_consent_check_server_cpu_us",
    "ratio_consent_check_errors",
    "ratio_consent_check_vs_noop",
    "ratio_consent_check_p99_vs_noop_p99",
];

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len().max(1) as f64
}

pub(super) async fn figures(
    server: &Server,
    ids: &[[u8; 16]],
    plan: &Plan,
    out: &mut BTreeMap<&'static str, Value>,
) -> anyhow::Result<()> {
    let (mut noop, mut read, mut check) = (Rounds::default(), Rounds::default(), Rounds::default());
    for round in 1..=2 {
        note(&format!(
            "round {round}: the no-op, audited reads, consent checks"
        ));
        noop.add(&http_load(server, ids, plan, Target::Health, None).await?);
        read.add(&http_load(server, ids, plan, Target::Read, None).await?);
        check.add(&http_load(server, ids, plan, Target::ConsentCheck, None).await?);
    }
    let (base_rps, base_p99) = (mean(&noop.rps), mean(&noop.p99_ms));
    out.insert("ratio_noop_rps", json!(base_rps.round()));
    out.insert("ratio_noop_p99_ms", json!(round3(base_p99)));
    for (keys, rounds) in [(READ, &read), (CHECK, &check)] {
        let (rps, p99) = (mean(&rounds.rps), mean(&rounds.p99_ms));
        let [k_rps, k_p99, k_cpu, k_errors, k_vs, k_p99_vs] = keys;
        out.insert(k_rps, json!(rps.round()));
        out.insert(k_p99, json!(round3(p99)));
        out.insert(k_cpu, json!(round3(mean(&rounds.server_cpu_us))));
        out.insert(k_errors, json!(rounds.errors));
        out.insert(k_vs, json!(round3(rps / base_rps)));
        out.insert(k_p99_vs, json!(round3(p99 / base_p99)));
    }
    Ok(())
}
