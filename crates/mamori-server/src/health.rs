//! Liveness (`/healthz`: the process answers) and readiness (`/readyz`: it can do its work).
//! A load balancer or Kubernetes sends traffic only while `/readyz` says 200; a 503 names the
//! failing check, and `mamori_ready{check=…}` shows each one in the metrics.

pub use mamori_proto::health::{BackupStatus, Check, CheckName, Readiness, ReadinessStatus};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Below this much free space on the database's disk (or a twentieth of a smaller disk) the
/// server says it is not ready: writes would soon fail (each answer waits for its commit).
pub const MIN_FREE_BYTES: u64 = 64 * 1024 * 1024;
/// A writer with work waiting that has not committed for this long is stuck.
const WRITER_STALL: Duration = Duration::from_secs(30);
/// How long the database may take to answer the readiness read.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(2);

fn check(name: CheckName, problem: Option<String>) -> Check {
    Check {
        name,
        ok: problem.is_none(),
        detail: problem,
    }
}

/// Free bytes on the filesystem holding `dir`, and the least it should keep free.
fn free_bytes(dir: &std::path::Path) -> std::io::Result<(u64, u64)> {
    let stat = rustix::fs::statvfs(dir)?;
    let total = stat.f_blocks.saturating_mul(stat.f_frsize);
    let free = stat.f_bavail.saturating_mul(stat.f_frsize);
    Ok((free, MIN_FREE_BYTES.min(total / 20)))
}

async fn checks(s: &AppState) -> Vec<Check> {
    let vault = &s.vault;
    let database = vault.database_problem(DATABASE_TIMEOUT).await;
    let writer_state = vault.writer_state();
    let storage = writer_state
        .storage_full
        .then(|| "the last write failed: the database's disk is full".to_string());
    let disk_space = match vault.data_dir() {
        None => None,
        Some(dir) => match free_bytes(&dir) {
            Ok((free, least)) if free < least => Some(format!(
                "{} KiB free on the database's disk, below {} KiB",
                free / 1024,
                least / 1024
            )),
            Ok(_) => None,
            Err(e) => Some(format!("free space unknown: {e}")),
        },
    };
    let idle_for = mamori_core::now_ms() - writer_state.last_commit_ms;
    let writer = (writer_state.has_pending && idle_for > WRITER_STALL.as_millis() as i64)
        .then(|| format!("work has waited {} s without a commit", idle_for / 1000));
    let integrity = writer_state.integrity_problem;
    vec![
        check(CheckName::Database, database),
        check(CheckName::Storage, storage),
        check(CheckName::DiskSpace, disk_space),
        check(CheckName::LedgerWriter, writer),
        check(CheckName::LedgerIntegrity, integrity),
    ]
}

/// How scheduled backups are going (None without `[backup]`); also sets their metrics.
pub fn backup_status(s: &AppState) -> Option<BackupStatus> {
    let monitor = s.vault.backups.as_ref()?;
    let now = mamori_core::now_ms();
    let state = monitor.state(now);
    let age_seconds = state
        .last_good_ms
        .map(|last| u64::try_from((now - last).max(0) / 1000).unwrap_or(0));
    s.metrics
        .backup_age
        .set(age_seconds.map_or(-1, |a| i64::try_from(a).unwrap_or(i64::MAX)));
    s.metrics
        .backup_failed
        .set(i64::from(state.last_failure.is_some()));
    Some(BackupStatus {
        age_seconds,
        overdue: state.overdue,
        last_attempt_failed: state.last_failure.is_some(),
    })
}

/// Runs every check and records each in the `mamori_ready` metric.
pub async fn refresh(s: &AppState) -> Vec<Check> {
    backup_status(s);
    let checks = checks(s).await;
    for c in &checks {
        s.metrics
            .ready
            .get_or_create(&crate::metrics::CheckLabel {
                check: c.name.as_str(),
            })
            .set(i64::from(c.ok));
    }
    checks
}

/// Whether the server can do its work now; 503 with the failing check otherwise.
#[utoipa::path(get, path = "/readyz",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(State(s): State<AppState>) -> Response {
    let checks = refresh(&s).await;
    let failing = checks.iter().find(|c| !c.ok).map(|c| c.name);
    let status = if failing.is_some() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let body = Readiness {
        status: if failing.is_some() {
            ReadinessStatus::NotReady
        } else {
            ReadinessStatus::Ready
        },
        failing,
        checks,
        backup: backup_status(&s),
    };
    (status, Json(body)).into_response()
}
