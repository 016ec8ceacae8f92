//! `mamori key rotate|status`, `mamori backup` and `mamori restore`: the key epochs that make an
//! erasure reach every copy, and the backups sealed under them.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use mamori_core::keys::backup::{self, BackupManifest};
use mamori_core::keys::epoch_store::{self, EpochStore};

use super::*;

pub(super) async fn key(cli: &Cli, paths: &Paths, command: KeyCommand) -> anyhow::Result<()> {
    let schedule = load_config(cli)?.epoch_schedule()?;
    match command {
        KeyCommand::Rotate { now } => {
            let ctx = Context::open(paths).await?;
            let bar = bar(0, "re-wrapping data keys");
            let report = ctx
                .vault
                .rotate_key_epochs(&context::operator(), &schedule, now, &mut |done| {
                    bar.set_position(done);
                    // A line per page when not on a terminal, so a supervisor (or a test)
                    // can follow it.
                    if bar.is_hidden() {
                        eprintln!("re-wrapped {done}");
                    }
                })
                .await?;
            bar.finish_and_clear();
            match report.started {
                Some(epoch) => println!("started key epoch {epoch}"),
                None => println!("key epoch {} is current (not due)", report.current),
            }
            println!("re-wrapped {} data keys", report.rewrapped);
            for epoch in &report.destroyed {
                println!("destroyed key epoch {epoch}");
            }
            ctx.vault.flush_ledger().await?;
        }
        KeyCommand::RotateMaster => rotate_master(paths).await?,
        KeyCommand::Status => {
            let ctx = Context::open(paths).await?;
            ctx.vault.record_key_status(&context::operator()).await?;
            ctx.vault.flush_ledger().await?;
            let store = EpochStore::at(paths.data.join(epoch_store::FILE));
            let horizon = humantime::format_duration(schedule.horizon);
            println!(
                "key store {} (rotate every {}, destroy {horizon} after retirement)",
                store.path().display(),
                humantime::format_duration(schedule.every)
            );
            for e in store.epochs()? {
                let when = |ms: i64| humantime::format_rfc3339_seconds(at(ms)).to_string();
                match e.retired_ms {
                    None => println!("epoch {}: current since {}", e.id, when(e.created_ms)),
                    Some(r) => println!(
                        "epoch {}: retired {}, destroyed after {}",
                        e.id,
                        when(r),
                        when(r.saturating_add(millis(schedule.horizon)))
                    ),
                }
            }
        }
    }
    Ok(())
}

/// The new key is written beside the old one first, then the store re-sealed under it, then
/// the new key put in the old one's place: `kill -9` at any point leaves a state the next
/// command finishes (`context::keyring`).
async fn rotate_master(paths: &Paths) -> anyhow::Result<()> {
    anyhow::ensure!(
        context::master_key_is_a_file(paths),
        "the master key comes from MAMORI_MASTER_KEY or key_command: `mamori key rotate-master` replaces {} only",
        paths.key_file.display()
    );
    let ctx = Context::open(paths).await?;
    ctx.vault
        .record_master_rotation(&context::operator())
        .await?;
    ctx.vault.flush_ledger().await?;
    let keyring = context::keyring(paths)?;
    let store = EpochStore::at(paths.data.join(epoch_store::FILE));
    let new = mamori_crypto::MasterKey::generate()?;
    let next = context::next_key_file(paths);
    context::write_private(&next, new.to_hex().as_bytes())?;
    context::sync_dir(&paths.data)?;
    let started = std::time::Instant::now();
    store.reseal_under(&keyring, &new)?;
    std::fs::rename(&next, &paths.key_file)?;
    context::sync_dir(&paths.data)?;
    let epochs = store.epochs()?.len();
    println!(
        "rotated the master key: the root key and {epochs} key epochs re-sealed in {:.1} ms; {} holds the new key and the old one is gone",
        started.elapsed().as_secs_f64() * 1000.0,
        paths.key_file.display()
    );
    Ok(())
}

fn at(ms: i64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A progress bar on a terminal; hidden otherwise (logs and tests stay clean).
fn bar(len: u64, what: &'static str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template("{msg} {wide_bar} {bytes}/{total_bytes} {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(what);
    bar
}

pub(super) async fn backup_command(paths: &Paths, to: &Path) -> anyhow::Result<()> {
    let ctx = Context::open(paths).await?;
    let bar = bar(0, "sealing the backup");
    let (target, manifest) = ctx
        .vault
        .back_up(&context::operator(), to, &paths.database, |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await?;
    bar.finish_and_clear();
    ctx.vault.flush_ledger().await?;
    print_manifest(&target, &manifest);
    Ok(())
}

fn print_manifest(path: &Path, m: &BackupManifest) {
    println!("backup {}", path.display());
    println!("  id {}", m.id);
    println!(
        "  taken {} from {}",
        humantime::format_rfc3339_seconds(at(m.created_ms)),
        m.backend
    );
    println!("  sealed under key epoch {}", m.epoch);
    println!(
        "  ledger at {} leaves, root {}",
        m.ledger_size, m.ledger_root
    );
    println!("  {} bytes, sha256 {}", m.bytes, m.sha256);
}

pub(super) async fn restore_command(paths: &Paths, from: &Path) -> anyhow::Result<ExitCode> {
    let keyring = Arc::new(context::keyring(paths)?);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    EpochStore::at(paths.data.join(epoch_store::FILE)).load(&keyring, millis(now))?;
    let opened = paths
        .data
        .join(format!(".restore-{}.snapshot", std::process::id()));
    let _ = std::fs::remove_file(&opened);
    let len = std::fs::metadata(from)
        .with_context(|| format!("reading {}", from.display()))?
        .len();
    let bar = bar(len, "opening the backup");
    let manifest = backup::open_backup(&keyring, from, &opened, |done| bar.set_position(done));
    bar.finish_and_clear();
    let manifest = match manifest {
        Ok(m) => m,
        Err(refusal) => {
            eprintln!("error: {refusal}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let put = put_in_place(paths, &manifest, &opened, &keyring).await;
    let _ = std::fs::remove_file(&opened);
    put?;
    set_heads_aside(paths)?;
    // The restored database, opened as the server would: everyone erased since the backup is
    // erased again before anything can read them.
    let ctx = Context::open(paths).await?;
    let root = ctx.vault.ledger_root(manifest.ledger_size).await?;
    let root = root.map(|r| r.iter().map(|b| format!("{b:02x}")).collect::<String>());
    if manifest.ledger_size > 0 && root.as_deref() != Some(manifest.ledger_root.as_str()) {
        eprintln!(
            "error: the restored ledger does not hold the {} leaves the backup's manifest names; \
             do not serve it; find out with `mamori ledger verify`",
            manifest.ledger_size
        );
        return Ok(ExitCode::FAILURE);
    }
    let missing = ctx.vault.keys_under_missing_epochs().await?;
    let replayed = ctx.vault.replay_erasure_journal().await?;
    ctx.vault.record_restore(&context::operator()).await?;
    ctx.vault.flush_ledger().await?;
    print_manifest(from, &manifest);
    println!("restored; {replayed} people erased since the backup were erased again");
    if missing > 0 {
        eprintln!(
            "error: {missing} data keys in the restored database are under destroyed key epochs; \
             `mamori serve` will refuse it"
        );
        return Ok(ExitCode::from(serving::EXIT_DESTROYED_EPOCHS));
    }
    Ok(ExitCode::SUCCESS)
}

/// Verifies the opened snapshot and puts it in place of the database.
async fn put_in_place(
    paths: &Paths,
    manifest: &BackupManifest,
    opened: &Path,
    keyring: &mamori_crypto::Keyring,
) -> anyhow::Result<()> {
    match (
        manifest.backend.as_str(),
        paths.database.strip_prefix("sqlite://"),
    ) {
        ("sqlite", Some(db)) => {
            let db = PathBuf::from(db.split('?').next().unwrap_or(db));
            let url = format!("sqlite://{}", opened.display());
            match mamori_core::ledger_verify::verify_database(&url, keyring, vec![]).await? {
                mamori_core::ledger_verify::Verdict::Ok { .. } => {}
                mamori_core::ledger_verify::Verdict::Failed(why) => {
                    anyhow::bail!("the backup's ledger does not verify ({why}); it is refused")
                }
            }
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
            std::fs::rename(opened, &db)
                .with_context(|| format!("putting the backup in place of {}", db.display()))?;
        }
        ("postgres", None) => {
            let restore = backup::pg_tool("pg_restore")?;
            let out = std::process::Command::new(&restore)
                .args([
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                ])
                .arg(format!("--dbname={}", paths.database))
                .arg(opened)
                .output()
                .with_context(|| format!("running {}", restore.display()))?;
            anyhow::ensure!(
                out.status.success(),
                "pg_restore failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        (backend, _) => anyhow::bail!(
            "this is a backup of a {backend} database; the installation uses {}",
            if paths.database.starts_with("sqlite://") {
                "SQLite"
            } else {
                "PostgreSQL"
            }
        ),
    }
    Ok(())
}

/// The anchored heads describe the ledger before the restore, which rolls it back: they are
/// kept aside (for the record), and the server anchors afresh from the restored ledger.
fn set_heads_aside(paths: &Paths) -> anyhow::Result<()> {
    let heads = paths.data.join(super::serving::HEADS_FILE);
    if heads.exists() {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let aside = paths.data.join(format!(
            "{}.before-restore-{stamp}",
            super::serving::HEADS_FILE
        ));
        std::fs::rename(&heads, &aside)?;
        println!(
            "the ledger heads anchored before the restore are kept in {}",
            aside.display()
        );
    }
    Ok(())
}
