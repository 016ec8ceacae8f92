//! Backups on a schedule inside `serve` (`[backup] to`, `every`, `keep` in mamori.toml): one when
//! the last good one is `every` old, the oldest beyond `keep` deleted, and the age of the last
//! good one kept for readiness and metrics.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::admin::Granted;
use crate::error::Result;
use crate::keys::backup::{BACKUP_PREFIX, BACKUP_SUFFIX, read_manifest};
use crate::vault::{Actor, Vault};

/// Where and how often `serve` backs up.
#[derive(Debug, Clone)]
pub struct BackupSchedule {
    /// The directory the backups go to.
    pub to: PathBuf,
    pub every: Duration,
    /// How many backups are kept; older ones are deleted.
    pub keep: usize,
    /// The database to copy (PostgreSQL is dumped with `pg_dump` from this URL).
    pub database_url: String,
}

/// What readiness and metrics say about backups.
#[derive(Debug)]
pub struct BackupMonitor {
    pub schedule: BackupSchedule,
    /// When the last good backup was taken (0: none known).
    last_good_ms: AtomicI64,
    /// Why the last attempt failed, if it did (in words; never a value of anyone's data).
    last_failure: Mutex<Option<String>>,
}

/// The state of backups at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupState {
    pub last_good_ms: Option<i64>,
    /// More than twice the interval since the last good backup (or none at all after that long
    /// since start).
    pub overdue: bool,
    pub last_failure: Option<String>,
}

impl BackupMonitor {
    /// Starts from the newest backup already in the directory, so a restart does not back up
    /// at once.
    pub fn new(schedule: BackupSchedule) -> BackupMonitor {
        let newest = existing_backups(&schedule.to)
            .into_iter()
            .map(|(created_ms, _)| created_ms)
            .max()
            .unwrap_or(0);
        BackupMonitor {
            schedule,
            last_good_ms: AtomicI64::new(newest),
            last_failure: Mutex::new(None),
        }
    }

    pub fn state(&self, now_ms: i64) -> BackupState {
        let last = self.last_good_ms.load(Ordering::Acquire);
        let every = i64::try_from(self.schedule.every.as_millis()).unwrap_or(i64::MAX);
        BackupState {
            last_good_ms: (last > 0).then_some(last),
            overdue: last > 0 && now_ms - last > every.saturating_mul(2),
            last_failure: self
                .last_failure
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }

    fn due(&self, now_ms: i64) -> bool {
        let every = i64::try_from(self.schedule.every.as_millis()).unwrap_or(i64::MAX);
        now_ms - self.last_good_ms.load(Ordering::Acquire) >= every
    }
}

/// The backups in `dir` Mamori named, with the time their manifests give, oldest first.
fn existing_backups(dir: &std::path::Path) -> Vec<(i64, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(i64, PathBuf)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with(BACKUP_PREFIX) && name.ends_with(BACKUP_SUFFIX)
        })
        .filter_map(|p| {
            let file = std::fs::File::open(&p).ok()?;
            let mut reader = std::io::BufReader::new(file);
            let (manifest, _) = read_manifest(&mut reader, "").ok()?;
            Some((manifest.created_ms, p))
        })
        .collect();
    found.sort();
    found
}

/// The actor of scheduled backups in the ledger.
fn scheduler() -> Actor {
    Actor {
        id: "backup-schedule".into(),
        role: "system".into(),
    }
}

impl Vault {
    /// One look of the backup job: a backup if one is due, then the oldest beyond `keep` go.
    pub async fn scheduled_backup(&self, monitor: &BackupMonitor) -> Result<()> {
        let now = self.now_ms();
        if !monitor.due(now) {
            return Ok(());
        }
        let schedule = &monitor.schedule;
        let granted = Granted::scheduled(&scheduler(), "backup.create", now);
        self.ledger.submit(vec![], vec![granted.event()]).await??;
        let start = self.backup_start().await;
        let made =
            (self.back_up_after(start, &schedule.to, &schedule.database_url, |_, _| {})).await;
        let mut failure = monitor
            .last_failure
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match made {
            Ok((path, manifest)) => {
                monitor
                    .last_good_ms
                    .store(manifest.created_ms, Ordering::Release);
                *failure = None;
                tracing::info!(file = %path.display(), epoch = manifest.epoch, "backup taken");
            }
            Err(e) => {
                *failure = Some(e.to_string());
                return Err(e);
            }
        }
        drop(failure);
        let backups = existing_backups(&schedule.to);
        let extra = backups.len().saturating_sub(schedule.keep);
        for (_, old) in backups.into_iter().take(extra) {
            match std::fs::remove_file(&old) {
                Ok(()) => tracing::info!(file = %old.display(), "old backup deleted"),
                Err(e) => {
                    tracing::warn!(file = %old.display(), error = %e, "an old backup could not be deleted")
                }
            }
        }
        Ok(())
    }
}
