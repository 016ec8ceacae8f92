//! `mamori doctor`: the installation's security posture, checked — who can read the master key,
//! the key store and the database files, whether the database sits on a network filesystem,
//! whether links go out over https, whether backups and key rotations run, API keys never
//! rotated, failing webhooks, the ledger's integrity, the clock, and the staff controls the
//! policy asks for. Each finding has a severity and the command that fixes it; any high finding
//! makes the exit code non-zero.
//!
//! The machine's checks are [`Machine`], a [`posture::Installation`]; the vault's are
//! [`mamori_core::Vault::posture`], decided and ledgered (`posture.check`) like any admin read.
//! `mamori serve` hands the same [`Machine`] to the server, so the console shows what this
//! command prints.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::ExitCode;

use mamori_core::keys::EpochSchedule;
use mamori_core::keys::backup_schedule::{BackupMonitor, BackupSchedule};
use mamori_core::keys::epoch_store::{EpochStore, FILE as EPOCH_FILE};
use mamori_core::posture::{self, Fact, FileKind, Finding, Severity};
use mamori_policy::Language;

use crate::config::Config;
use crate::context::{self, Context, Paths};

const DAY_MS: i64 = 86_400_000;

/// What only this machine can check, with the configuration it needs.
pub struct Machine {
    data: std::path::PathBuf,
    database: String,
    key_file: Option<std::path::PathBuf>,
    public_url: Option<String>,
    backups: Option<BackupSchedule>,
    epochs: EpochSchedule,
}

impl Machine {
    pub fn new(paths: &Paths, config: &Config) -> anyhow::Result<Machine> {
        Ok(Machine {
            data: paths.data.clone(),
            database: paths.database.clone(),
            key_file: context::master_key_is_a_file(paths).then(|| paths.key_file.clone()),
            public_url: config.public_url.clone(),
            backups: config.backup_schedule(&paths.database)?,
            epochs: config.epoch_schedule()?,
        })
    }
}

impl posture::Installation for Machine {
    fn findings(&self, now_ms: i64) -> Vec<Finding> {
        let mut out = self.before_opening(now_ms);
        out.push(self.key_rotation(now_ms));
        out
    }
}

/// Files only their owner may read: group or others can if any of 0o077 is set.
fn open_to_others(path: &Path) -> Option<u32> {
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

/// The filesystem type of the mount holding `dir`, from /proc/mounts (the longest prefix).
fn filesystem_of(dir: &Path) -> Option<String> {
    let dir = std::fs::canonicalize(dir).ok()?;
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    (mounts.lines())
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let (_, point, kind) = (parts.next()?, parts.next()?, parts.next()?);
            dir.starts_with(point)
                .then(|| (point.len(), kind.to_string()))
        })
        .max()
        .map(|(_, kind)| kind)
}

const NETWORK_FILESYSTEMS: [&str; 8] = [
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "9p",
    "fuse.sshfs",
    "ceph",
];

impl Machine {
    /// The checks that need nothing opened (opening creates the key store).
    fn before_opening(&self, now_ms: i64) -> Vec<Finding> {
        let mut out = self.private_files();
        out.push(self.network_filesystem());
        out.push(self.public_url());
        out.push(self.backups(now_ms));
        out
    }

    fn private_files(&self) -> Vec<Finding> {
        let mut files = vec![(FileKind::KeyStore, self.data.join(EPOCH_FILE))];
        if let Some(key) = &self.key_file {
            files.push((FileKind::MasterKey, key.clone()));
        }
        if self.database.starts_with("sqlite://") {
            let db = self.data.join("mamori.db");
            for suffix in ["", "-wal", "-shm"] {
                files.push((
                    FileKind::Database,
                    format!("{}{suffix}", db.display()).into(),
                ));
            }
        }
        let journal = self.data.join(mamori_core::erasure_journal::FILE);
        files.push((FileKind::Database, journal));
        let mut out: Vec<Finding> = (files.into_iter())
            .filter_map(|(file, path)| {
                let mode = open_to_others(&path)?;
                let path = path.display().to_string();
                Some(Finding::new(
                    Severity::High,
                    Fact::FileOpen { file, path, mode },
                ))
            })
            .collect();
        if out.is_empty() {
            out.push(Finding::new(Severity::Ok, Fact::FilesPrivate));
        }
        if let Some(mode) = open_to_others(&self.data) {
            let path = self.data.display().to_string();
            let fact = Fact::DataDirectoryOpen { path, mode };
            out.push(Finding::new(Severity::Medium, fact));
        }
        out
    }

    fn network_filesystem(&self) -> Finding {
        let kind = filesystem_of(&self.data).unwrap_or_else(|| "unknown".into());
        if self.database.starts_with("sqlite://") && NETWORK_FILESYSTEMS.contains(&kind.as_str()) {
            return Finding::new(Severity::High, Fact::NetworkFilesystem { kind });
        }
        Finding::new(Severity::Ok, Fact::LocalFilesystem { kind })
    }

    fn public_url(&self) -> Finding {
        match self.public_url.clone() {
            None => Finding::new(Severity::Medium, Fact::NoPublicUrl),
            Some(url) if url.starts_with("https://") => {
                Finding::new(Severity::Ok, Fact::PublicUrlHttps { url })
            }
            Some(url) => Finding::new(Severity::High, Fact::PublicUrlClear { url }),
        }
    }

    fn backups(&self, now_ms: i64) -> Finding {
        let Some(schedule) = self.backups.clone() else {
            return Finding::new(Severity::Medium, Fact::NoBackupSchedule);
        };
        let to = schedule.to.display().to_string();
        let state = BackupMonitor::new(schedule).state(now_ms);
        match state.last_good_ms {
            None => Finding::new(Severity::High, Fact::NoBackupYet { to }),
            Some(last) if state.overdue => {
                let days = (now_ms - last) / DAY_MS;
                Finding::new(Severity::High, Fact::BackupOverdue { to, days })
            }
            Some(last) => {
                let hours = (now_ms - last) / 3_600_000;
                Finding::new(Severity::Ok, Fact::BackupFresh { to, hours })
            }
        }
    }

    fn key_rotation(&self, now_ms: i64) -> Finding {
        let epochs = match EpochStore::at(self.data.join(EPOCH_FILE)).epochs() {
            Ok(epochs) => epochs,
            Err(e) => {
                let why = format!("{e:#}");
                return Finding::new(Severity::High, Fact::NotOpen { why });
            }
        };
        let every = i64::try_from(self.epochs.every.as_millis()).unwrap_or(i64::MAX);
        let horizon = i64::try_from(self.epochs.horizon.as_millis()).unwrap_or(i64::MAX);
        let current = epochs.iter().find(|e| e.retired_ms.is_none());
        let stale = current.is_some_and(|c| now_ms - c.created_ms > every.saturating_mul(2));
        let kept = (epochs.iter())
            .filter(|e| {
                e.retired_ms
                    .is_some_and(|r| now_ms - r > horizon.saturating_add(every))
            })
            .count();
        if stale || kept > 0 {
            return Finding::new(Severity::Medium, Fact::KeysNotRotating { kept });
        }
        let epochs = epochs.len();
        Finding::new(Severity::Ok, Fact::KeysRotating { epochs })
    }
}

/// Every check, most severe first. The installation is opened after the machine's checks: a
/// fresh one gets its first key epoch, as at its first start; one that does not open (a master
/// key others can read) is a finding, and the vault's checks wait.
pub async fn findings(paths: &Paths, config: &Config) -> anyhow::Result<Vec<Finding>> {
    let machine = Machine::new(paths, config)?;
    let now_ms = mamori_core::now_ms();
    let mut before = machine.before_opening(now_ms);
    match Context::open(paths).await {
        Ok(mut ctx) => {
            ctx.vault.installation = Some(std::sync::Arc::new(machine));
            let found = ctx.vault.posture(&context::operator()).await?;
            ctx.vault.flush_ledger().await?;
            Ok(found)
        }
        Err(e) => {
            let why = format!("{e:#}");
            before.push(Finding::new(Severity::High, Fact::NotOpen { why }));
            posture::most_severe_first(&mut before);
            Ok(before)
        }
    }
}

/// `mamori doctor [--json]`.
pub async fn run(paths: &Paths, config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let found = findings(paths, config).await?;
    let high = (found.iter())
        .filter(|f| f.severity == Severity::High)
        .count();
    let en = Language::En;
    if json {
        let rows: Vec<serde_json::Value> = (found.iter())
            .map(|f| {
                let mut row = serde_json::json!({
                    "check": f.check(), "severity": f.severity,
                    "message": posture::words::say(&f.fact, en),
                });
                if let Some(fix) = posture::words::fix(&f.fact, en) {
                    row["fix"] = fix.into();
                }
                row
            })
            .collect();
        let body = serde_json::json!({"findings": rows, "high": high});
        println!("{}", serde_json::to_string_pretty(&body)?);
    } else {
        for f in &found {
            let label = format!("{:?}", f.severity).to_uppercase();
            let message = posture::words::say(&f.fact, en);
            println!("{label:<6} {:<18} {message}", f.check());
            if let Some(fix) = posture::words::fix(&f.fact, en) {
                println!("       {:<18} fix: {fix}", "");
            }
        }
    }
    Ok(if high > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
