//! `mamori doctor`: the installation's security posture, checked — who can read the master key,
//! the key store and the database files, whether the database sits on a network filesystem,
//! whether links go out over https, whether backups and key rotations run, API keys never
//! rotated, failing webhooks, the ledger's integrity, the clock, and the staff controls the
//! policy asks for. Each finding has a severity and the command that fixes it; any high finding
//! makes the exit code non-zero. What it reads of the vault goes through the one door (the API
//! key and webhook listings are ledgered like any).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;

use crate::config::Config;
use crate::context::{self, Context, Paths};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Ok,
    Low,
    Medium,
    High,
}

/// One thing checked, and what to do about it.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub check: &'static str,
    pub severity: Severity,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn finding(
    check: &'static str,
    severity: Severity,
    message: String,
    fix: Option<String>,
) -> Finding {
    Finding {
        check,
        severity,
        message,
        fix,
    }
}

const DAY_MS: i64 = 86_400_000;

/// Files only their owner may read: group or others can if any of 0o077 is set.
fn open_to_others(path: &Path) -> Option<u32> {
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

fn private_files(paths: &Paths) -> Vec<Finding> {
    let mut files = vec![(
        "key_store",
        paths.data.join(mamori_core::keys::epoch_store::FILE),
    )];
    if context::master_key_is_a_file(paths) {
        files.push(("master_key", paths.key_file.clone()));
    }
    if paths.database.starts_with("sqlite://") {
        let db = paths.data.join("mamori.db");
        for suffix in ["", "-wal", "-shm"] {
            files.push(("database_files", format!("{}{suffix}", db.display()).into()));
        }
    }
    files.push((
        "database_files",
        paths.data.join(mamori_core::erasure_journal::FILE),
    ));
    let mut out = vec![];
    for (check, path) in files {
        if let Some(mode) = open_to_others(&path) {
            let shown = path.display();
            out.push(finding(
                check,
                Severity::High,
                format!("{shown} can be read by others (mode {mode:o})"),
                Some(format!("chmod 600 {shown}")),
            ));
        }
    }
    if out.is_empty() {
        let message =
            "the master key, key store and database files are readable by their owner only";
        out.push(finding("files", Severity::Ok, message.into(), None));
    }
    if let Some(mode) = open_to_others(&paths.data) {
        let shown = paths.data.display();
        out.push(finding(
            "data_directory",
            Severity::Medium,
            format!("{shown} can be listed by others (mode {mode:o})"),
            Some(format!("chmod 700 {shown}")),
        ));
    }
    out
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

fn network_filesystem(paths: &Paths) -> Finding {
    const NETWORK: [&str; 8] = [
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "9p",
        "fuse.sshfs",
        "ceph",
    ];
    let kind = filesystem_of(&paths.data).unwrap_or_else(|| "unknown".into());
    if paths.database.starts_with("sqlite://") && NETWORK.contains(&kind.as_str()) {
        return finding(
            "network_filesystem",
            Severity::High,
            format!(
                "the SQLite database is on a network filesystem ({kind}): its locks and syncs are not reliable there"
            ),
            Some("move --data to a local disk, or use PostgreSQL (--database postgres://…)".into()),
        );
    }
    finding(
        "network_filesystem",
        Severity::Ok,
        format!("the data directory is on {kind}"),
        None,
    )
}

fn public_url(config: &Config) -> Finding {
    let fix =
        Some("set public_url = \"https://…\" in mamori.toml (TLS at your reverse proxy)".into());
    match config.public_url.as_deref() {
        None => finding(
            "public_url",
            Severity::Medium,
            "no public_url: links in e-mails point at the listening address".into(),
            fix,
        ),
        Some(url) if url.starts_with("https://") => finding(
            "public_url",
            Severity::Ok,
            format!("links go out as {url}"),
            None,
        ),
        Some(url) => finding(
            "public_url",
            Severity::High,
            format!(
                "public_url {url} is not https: sign-in codes and sessions would travel in clear"
            ),
            fix,
        ),
    }
}

fn backups(config: &Config, paths: &Paths, now_ms: i64) -> anyhow::Result<Finding> {
    let Some(schedule) = config.backup_schedule(&paths.database)? else {
        return Ok(finding(
            "backups",
            Severity::Medium,
            "no scheduled backups".into(),
            Some(
                "add [backup] to = \"DIR\" to mamori.toml (see README, Backups and restore)".into(),
            ),
        ));
    };
    let to = schedule.to.display().to_string();
    let state = mamori_core::keys::backup_schedule::BackupMonitor::new(schedule).state(now_ms);
    Ok(match state.last_good_ms {
        None => finding(
            "backups",
            Severity::High,
            format!("no backup in {to} yet"),
            Some(format!(
                "mamori backup --to {to}/ (serve takes them on schedule)"
            )),
        ),
        Some(last) if state.overdue => finding(
            "backups",
            Severity::High,
            format!(
                "the newest backup in {to} is {} days old: overdue",
                (now_ms - last) / DAY_MS
            ),
            Some("check that mamori serve runs and can write there (its log says why)".into()),
        ),
        Some(last) => finding(
            "backups",
            Severity::Ok,
            format!(
                "the newest backup in {to} is {} hours old",
                (now_ms - last) / 3_600_000
            ),
            None,
        ),
    })
}

fn key_rotation(config: &Config, paths: &Paths, now_ms: i64) -> anyhow::Result<Finding> {
    let schedule = config.epoch_schedule()?;
    let store = mamori_core::keys::epoch_store::EpochStore::at(
        paths.data.join(mamori_core::keys::epoch_store::FILE),
    );
    let epochs = store.epochs()?;
    let every = i64::try_from(schedule.every.as_millis()).unwrap_or(i64::MAX);
    let horizon = i64::try_from(schedule.horizon.as_millis()).unwrap_or(i64::MAX);
    let current = epochs.iter().find(|e| e.retired_ms.is_none());
    let stale = current.is_some_and(|c| now_ms - c.created_ms > every.saturating_mul(2));
    let kept = (epochs.iter())
        .filter(|e| {
            e.retired_ms
                .is_some_and(|r| now_ms - r > horizon.saturating_add(every))
        })
        .count();
    Ok(if stale || kept > 0 {
        finding(
            "key_rotation",
            Severity::Medium,
            format!(
                "key epochs are not rotating as configured ({} retired past the horizon): erasures reach old copies later",
                kept
            ),
            Some("mamori key rotate (serve rotates on its own while it runs)".into()),
        )
    } else {
        finding(
            "key_rotation",
            Severity::Ok,
            format!("{} key epochs, rotating as configured", epochs.len()),
            None,
        )
    })
}

/// API keys older than a year (low): rotate them.
fn old_keys(keys: Vec<mamori_core::apikeys::ApiKeyInfo>, now_ms: i64) -> Finding {
    let old: Vec<String> = (keys.into_iter())
        .filter(|k| !k.revoked && now_ms - k.created_ms > 365 * DAY_MS)
        .map(|k| k.name)
        .collect();
    if old.is_empty() {
        return finding(
            "api_keys",
            Severity::Ok,
            "no API key is older than a year".into(),
            None,
        );
    }
    finding(
        "api_keys",
        Severity::Low,
        format!("API keys older than a year: {}", old.join(", ")),
        Some(
            "mamori apikey create --role R --name N, move the client, then mamori apikey revoke ID"
                .into(),
        ),
    )
}

async fn vault_checks(ctx: &Context, now_ms: i64) -> anyhow::Result<Vec<Finding>> {
    let operator = context::operator();
    let mut out = vec![];
    let keys = ctx.vault.list_api_keys(&operator).await?;
    let staff = ctx.vault.list_staff(&operator).await?;
    out.extend([staff_controls(ctx, &keys), staff_training(&staff)]);
    out.push(old_keys(keys, now_ms));
    let failing: Vec<String> = (ctx.vault.list_webhooks(&operator).await?.into_iter())
        .filter(|w| w.attempts > 0 || w.last_status.is_some_and(|s| !(200..300).contains(&s)))
        .map(|w| w.id)
        .collect();
    out.push(if failing.is_empty() {
        finding(
            "webhooks",
            Severity::Ok,
            "every webhook subscription delivers".into(),
            None,
        )
    } else {
        finding(
            "webhooks",
            Severity::Medium,
            format!("webhook subscriptions failing: {}", failing.join(", ")),
            Some(
                "mamori webhook list; fix the receiver, then mamori webhook replay ID --from SEQ"
                    .into(),
            ),
        )
    });
    let state = ctx.vault.writer_state();
    out.push(match state.integrity_problem {
        Some(why) => finding(
            "ledger",
            Severity::High,
            why,
            Some("mamori ledger verify (it names the first bad leaf)".into()),
        ),
        None => finding(
            "ledger",
            Severity::Ok,
            "the ledger matches its latest signed head".into(),
            None,
        ),
    });
    let ahead = ctx
        .vault
        .latest_head()
        .map_or(0, |h| h.head.timestamp_ms - now_ms);
    out.push(if ahead > 60_000 {
        finding(
            "clock",
            Severity::High,
            format!(
                "the clock is {} s behind the ledger's latest signed head",
                ahead / 1000
            ),
            Some("synchronise the system clock (timedatectl set-ntp true)".into()),
        )
    } else {
        finding(
            "clock",
            Severity::Ok,
            "the clock agrees with the ledger".into(),
            None,
        )
    });
    Ok(out)
}

/// Roles whose policy asks for MFA or training refuse API keys (unless declared for machines):
/// keys of such roles still live are refused at every use and should be revoked.
fn staff_controls(ctx: &Context, keys: &[mamori_core::apikeys::ApiKeyInfo]) -> Finding {
    let people_only: Vec<&str> = (ctx.vault.policy.roles.iter())
        .filter(|r| r.key_refusal().is_some())
        .map(|r| r.name.as_str())
        .collect();
    let refused: Vec<String> = (keys.iter())
        .filter(|k| !k.revoked && people_only.contains(&k.role.as_str()))
        .map(|k| format!("{} ({})", k.id, k.role))
        .collect();
    if refused.is_empty() {
        let roles = if people_only.is_empty() {
            "none".to_string()
        } else {
            people_only.join(", ")
        };
        return finding(
            "staff_controls",
            Severity::Ok,
            format!("roles whose people need MFA or training take no API keys: {roles}"),
            None,
        );
    }
    finding(
        "staff_controls",
        Severity::Medium,
        format!(
            "API keys of roles that ask for MFA or training are refused at every use: {}",
            refused.join(", ")
        ),
        Some("mamori apikey revoke ID (automation: a role declared machine = true)".into()),
    )
}

/// Enrolled staff of roles that ask for training who do not hold it now: they cannot act.
fn staff_training(staff: &[mamori_core::staff::StaffInfo]) -> Finding {
    use mamori_core::staff::TrainingStatus;
    let untrained: Vec<String> = (staff.iter())
        .filter(|m| m.enrolled && !m.disabled)
        .filter(|m| {
            matches!(
                m.training,
                Some(TrainingStatus::Required | TrainingStatus::Expired)
            )
        })
        .map(|m| format!("{} ({})", m.id, m.role))
        .collect();
    if untrained.is_empty() {
        return finding(
            "staff_training",
            Severity::Ok,
            "every enrolled member of staff holds the training their role asks for".into(),
            None,
        );
    }
    finding(
        "staff_training",
        Severity::Medium,
        format!(
            "staff whose role asks for training they do not hold (they cannot act): {}",
            untrained.join(", ")
        ),
        Some("they take it in the console: /console/training".into()),
    )
}

/// Every check, most severe first.
pub async fn findings(paths: &Paths, config: &Config) -> anyhow::Result<Vec<Finding>> {
    let now_ms = mamori_core::now_ms();
    let mut out = private_files(paths);
    out.push(network_filesystem(paths));
    out.push(public_url(config));
    out.push(backups(config, paths, now_ms)?);
    // Opened before the key check: a fresh installation gets its first key epoch, as at its
    // first start. An installation that does not open (a master key others can read) is a
    // finding, and the checks that need it wait.
    match Context::open(paths).await {
        Ok(ctx) => {
            out.push(key_rotation(config, paths, now_ms)?);
            out.extend(vault_checks(&ctx, now_ms).await?);
            ctx.vault.flush_ledger().await?;
        }
        Err(e) => out.push(finding(
            "installation",
            Severity::High,
            format!("the installation does not open, so its keys, API keys, webhooks and ledger were not checked: {e:#}"),
            Some("fix the findings above, then run mamori doctor again".into()),
        )),
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    Ok(out)
}

/// `mamori doctor [--json]`.
pub async fn run(paths: &Paths, config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let found = findings(paths, config).await?;
    let high = found
        .iter()
        .filter(|f| f.severity == Severity::High)
        .count();
    if json {
        let body = serde_json::json!({"findings": found, "high": high});
        println!("{}", serde_json::to_string_pretty(&body)?);
    } else {
        for f in &found {
            let label = format!("{:?}", f.severity).to_uppercase();
            println!("{label:<6} {:<18} {}", f.check, f.message);
            if let Some(fix) = &f.fix {
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
