//! Key epochs and retention at the bench's scale, each against a baseline of the same run: a
//! rotation's re-wraps against bare unwrap+wrap of one key, an idle retention sweep against a
//! plain scan of `subjects`, and a sweep erasing expired people against erasures made by the
//! same process without HTTP.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mamori::context::{self, Context, Paths};
use mamori_core::keys::EpochSchedule;
use mamori_crypto::{EpochRing, EpochSecret, Keyring, MasterKey};
use serde_json::{Value, json};

use super::{Plan, median, note, ops_per_second, round3};

/// The most people the erasing sweep is measured on.
const ERASING_SWEEP_MAX: usize = 200_000;

/// Erasures made directly (the baseline) before the sweep erases the rest.
const DIRECT_ERASURES: usize = 5_000;

pub(super) async fn figures(
    paths: &Paths,
    plan: &Plan,
    ids: &[[u8; 16]],
    out: &mut BTreeMap<&'static str, Value>,
) -> anyhow::Result<()> {
    let mut ctx = Context::open(paths).await?;
    note("key rotation: re-wraps vs bare unwrap+wrap");
    let raw = raw_rewraps_per_s(plan.crypto_seconds)?;
    let started = Instant::now();
    let report = (ctx.vault)
        .rotate_key_epochs(
            &context::operator(),
            &EpochSchedule::default(),
            true,
            &mut |_| {},
        )
        .await?;
    let rate = report.rewrapped as f64 / started.elapsed().as_secs_f64();
    out.insert("raw_rewraps_per_s", json!(raw.round()));
    out.insert("rotation_keys", json!(report.rewrapped));
    out.insert("rotation_rewraps_per_s", json!(rate.round()));
    out.insert("rotation_ratio", json!(round3(rate / raw)));

    note("retention sweep with nothing expired vs a scan of subjects");
    let (mut scans, mut sweeps) = (vec![], vec![]);
    for _ in 0..3 {
        let started = Instant::now();
        ctx.vault.subject_count().await?;
        scans.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        let swept = (ctx.vault)
            .sweep_retention(&context::operator(), false)
            .await?;
        anyhow::ensure!(swept.is_empty(), "the bench's people expired too early");
        sweeps.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let (scan, sweep) = (median(scans), median(sweeps));
    out.insert("subjects_scan_ms", json!(round3(scan)));
    out.insert("retention_idle_sweep_ms", json!(round3(sweep)));
    out.insert("retention_idle_ratio", json!(round3(sweep / scan)));

    // `ids` is a sample: count everyone the sweep would erase.
    if ctx.vault.subject_count().await? as usize > ERASING_SWEEP_MAX {
        // Sweeping a million expired people takes a quarter of an hour; the figure is
        // for 100,000, which `--quick` measures.
        note("the erasing sweep is measured by --quick runs (100,000 people)");
        ctx.vault.flush_ledger().await?;
        return Ok(());
    }
    let direct = DIRECT_ERASURES.min(ids.len() / 4);
    note(&format!(
        "{direct} erasures without HTTP vs a sweep erasing the rest"
    ));
    let started = Instant::now();
    erase_directly(&ctx.vault, &ids[..direct]).await?;
    let direct_rate = direct as f64 / started.elapsed().as_secs_f64();
    // Eight years on, everyone left has expired (the longest retention is seven years).
    let clock = mamori_core::clock::FakeClock::default();
    clock.advance(Duration::from_secs(8 * 366 * 86_400));
    ctx.vault.clock = Arc::new(clock);
    let started = Instant::now();
    let swept = (ctx.vault)
        .sweep_retention(&context::operator(), false)
        .await?;
    let sweep_rate = swept.people_erased as f64 / started.elapsed().as_secs_f64();
    out.insert("direct_erasures_per_s", json!(direct_rate.round()));
    out.insert("retention_erased", json!(swept.people_erased));
    out.insert("retention_erasures_per_s", json!(sweep_rate.round()));
    out.insert(
        "retention_erase_ratio",
        json!(round3(sweep_rate / direct_rate)),
    );
    ctx.vault.flush_ledger().await?;
    Ok(())
}

/// Moving one data key from one epoch to another, as a rotation does for each: unwrap + wrap.
fn raw_rewraps_per_s(seconds: f64) -> anyhow::Result<f64> {
    let keyring = Keyring::new(&MasterKey::generate()?);
    let subject = [9u8; 16];
    let first = EpochSecret::generate()?;
    let kept = keyring.seal_epoch_secret(1, &first);
    keyring.install_epochs(EpochRing::new([(1, first)]));
    let (_, wrapped) = keyring.new_subject_key(&subject)?;
    // Epoch 2 current, epoch 1 still held: each call unwraps under 1 and wraps under 2.
    let first = keyring.open_epoch_secret(1, &kept)?;
    keyring.install_epochs(EpochRing::new([(1, first), (2, EpochSecret::generate()?)]));
    let mut rates = vec![];
    for _ in 0..5 {
        rates.push(ops_per_second(seconds / 5.0, || {
            std::hint::black_box(keyring.rewrap_subject_key(&subject, &wrapped).ok());
        }));
    }
    Ok(median(rates))
}

/// Erasures as `DELETE /v1/subjects/{id}` makes them, from 64 tasks, without HTTP.
async fn erase_directly(vault: &mamori_core::Vault, ids: &[[u8; 16]]) -> anyhow::Result<()> {
    let officer = mamori_core::Actor {
        id: "bench".into(),
        role: "privacy_officer".into(),
    };
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in ids.chunks(ids.len().div_ceil(64).max(1)) {
        let (vault, officer, chunk) = (vault.clone(), officer.clone(), chunk.to_vec());
        tasks.spawn(async move {
            for id in &chunk {
                vault
                    .erase_subject(&officer, "data_subject_rights", id)
                    .await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}
