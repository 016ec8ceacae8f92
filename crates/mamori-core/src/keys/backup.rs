//! Backup files: a database snapshot sealed under a fresh key wrapped under the key epoch of the
//! day, after a manifest that says what it is. A backup outlives its epoch by nothing: once that
//! epoch is destroyed (the backup horizon), the file is noise to everyone.
//!
//! Layout: the line `MAMORI-BACKUP 1`, the manifest as one JSON line, then the sealed stream
//! (`mamori_crypto::BackupKey`), every chunk of which is bound to the manifest's exact bytes.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mamori_crypto::{BackupError, CryptoError, Keyring, wrapped_epoch};
use mamori_policy::AdminPermission;
use serde::{Deserialize, Serialize};

use crate::access::Permission;
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};

const MAGIC: &str = "MAMORI-BACKUP 1";

/// What a backup file says about itself (readable without any key; it names no person).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupManifest {
    pub id: String,
    pub created_ms: i64,
    /// `sqlite` (a `VACUUM INTO` copy) or `postgres` (a `pg_dump --format=custom` archive).
    pub backend: String,
    /// The key epoch the backup's key is wrapped under.
    pub epoch: u32,
    /// How many ledger leaves the database held, and their Merkle root (hex).
    pub ledger_size: u64,
    pub ledger_root: String,
    /// The snapshot's length and SHA-256 (hex), checked again after it is opened.
    pub bytes: u64,
    pub sha256: String,
    /// The backup's key, wrapped under `epoch` (base64).
    wrapped_key: String,
}

/// Why a backup cannot be restored. Says what to do; names no key bytes.
#[derive(Debug, thiserror::Error)]
pub enum RestoreRefusal {
    #[error("{0} is not a Mamori backup (or its first lines were damaged)")]
    NotABackup(String),
    #[error(
        "the backup was sealed under key epoch {epoch}, which has been destroyed: it is older than \
         the backup horizon and nobody can open it any more. Restore a more recent backup."
    )]
    EpochDestroyed { epoch: u32 },
    #[error(
        "the backup does not open with this installation's keys: it is another installation's, \
         or it was changed"
    )]
    Foreign,
    #[error("the backup was changed or cut short after it was made; it is refused")]
    Tampered,
    #[error("the backup opened but its contents do not match its checksum; it is refused")]
    Checksum,
    #[error("reading or writing: {0}")]
    Io(#[from] std::io::Error),
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads the manifest at the head of `from`; the reader is left at the sealed stream.
pub fn read_manifest(
    from: &mut impl BufRead,
    name: &str,
) -> std::result::Result<(BackupManifest, Vec<u8>), RestoreRefusal> {
    let not_a_backup = || RestoreRefusal::NotABackup(name.to_string());
    let mut magic = String::new();
    from.by_ref().take(64).read_line(&mut magic)?;
    if magic.trim_end() != MAGIC {
        return Err(not_a_backup());
    }
    let mut line = Vec::new();
    from.by_ref().take(64 * 1024).read_until(b'\n', &mut line)?;
    let manifest: BackupManifest = serde_json::from_slice(&line).map_err(|_| not_a_backup())?;
    Ok((manifest, line))
}

/// Opens the backup `from` into the new file `to` (the snapshot as it was), checking that its
/// epoch still exists, that it opens under this installation's keys, and its checksum. On any
/// refusal `to` is removed. `progress` hears the bytes done.
pub fn open_backup(
    keyring: &Keyring,
    from: &Path,
    to: &Path,
    progress: impl FnMut(u64),
) -> std::result::Result<BackupManifest, RestoreRefusal> {
    let name = from.display().to_string();
    let mut reader = BufReader::new(std::fs::File::open(from)?);
    let (manifest, header) = read_manifest(&mut reader, &name)?;
    let wrapped = STANDARD
        .decode(&manifest.wrapped_key)
        .map_err(|_| RestoreRefusal::NotABackup(name.clone()))?;
    if wrapped_epoch(&wrapped) != Some(manifest.epoch) {
        return Err(RestoreRefusal::Foreign);
    }
    let id = crate::parse_id(&manifest.id).ok_or(RestoreRefusal::NotABackup(name))?;
    let key = match keyring.open_backup_key(&id, &wrapped) {
        Ok(key) => key,
        Err(CryptoError::UnknownEpoch(epoch)) => {
            return Err(RestoreRefusal::EpochDestroyed { epoch });
        }
        Err(_) => return Err(RestoreRefusal::Foreign),
    };
    let opened = (|| {
        let out = private_file(to)?;
        let mut out = std::io::BufWriter::new(out);
        let summary = key
            .open_stream(&header, &mut reader, &mut out, progress)
            .map_err(|e| match e {
                BackupError::Io(e) => RestoreRefusal::Io(e),
                BackupError::Tampered => RestoreRefusal::Tampered,
            })?;
        out.into_inner()
            .map_err(|e| RestoreRefusal::Io(e.into_error()))?
            .sync_all()?;
        if summary.bytes != manifest.bytes || hex(&summary.sha256) != manifest.sha256 {
            return Err(RestoreRefusal::Checksum);
        }
        Ok(())
    })();
    if let Err(e) = opened {
        let _ = std::fs::remove_file(to);
        return Err(e);
    }
    Ok(manifest)
}

/// A new file only its owner can read.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

impl Vault {
    /// Writes a consistent copy of the database to the new file `to` while the server runs;
    /// `false` if this backend's copies are made by its own tools (PostgreSQL: `pg_dump`).
    pub async fn snapshot_database(&self, to: &Path) -> Result<bool> {
        Ok(self.store.snapshot_into(to).await?)
    }

    /// `mamori restore`, once the backup is in place: decided by the policy and ledgered in the
    /// restored ledger (which a restore rolls back to the backup's time).
    pub async fn record_restore(&self, actor: &Actor) -> Result<()> {
        let keys = Permission::Admin(AdminPermission::Keys);
        let granted = self.grant(actor, keys, "backup.restore").await?;
        self.ledger.submit(vec![], vec![granted.event()]).await??;
        Ok(())
    }

    /// `mamori backup`, before the snapshot: decided by the policy (`admin = ["keys"]`) and
    /// ledgered; the signed head then is what the snapshot will hold at least.
    async fn start_backup(&self, actor: &Actor) -> Result<BackupStart> {
        let keys = Permission::Admin(AdminPermission::Keys);
        let granted = self.grant(actor, keys, "backup.create").await?;
        self.ledger.submit(vec![], vec![granted.event()]).await??;
        Ok(self.backup_start().await)
    }

    /// The ledger's signed head now (once what was submitted is committed).
    pub(super) async fn backup_start(&self) -> BackupStart {
        if let Err(e) = self.ledger.flush().await {
            tracing::warn!(error = %e, "the ledger could not be flushed before a backup");
        }
        let (ledger_size, ledger_root) = match self.ledger.latest_head() {
            Some(signed) => (signed.head.size, hex(&signed.head.root)),
            None => (0, String::new()),
        };
        BackupStart {
            ledger_size,
            ledger_root,
        }
    }

    /// A whole backup while the server runs: `actor` decided and ledgered, a consistent
    /// snapshot (SQLite `VACUUM INTO`; PostgreSQL `pg_dump`, which must be installed), sealed
    /// into `to` — a new file, or in the directory `to` one named `mamori-<time>.backup`. The
    /// plain snapshot lives beside the target only while it is sealed. `progress` hears the
    /// bytes sealed and the snapshot's size.
    pub async fn back_up(
        &self,
        actor: &Actor,
        to: &Path,
        database_url: &str,
        progress: impl FnMut(u64, u64),
    ) -> Result<(PathBuf, BackupManifest)> {
        // Refused before the decision is ledgered: a refused backup changes nothing.
        refuse_existing(&backup_path(to, self.now_ms()))?;
        let start = self.start_backup(actor).await?;
        self.back_up_after(start, to, database_url, progress).await
    }

    pub(super) async fn back_up_after(
        &self,
        start: BackupStart,
        to: &Path,
        database_url: &str,
        progress: impl FnMut(u64, u64),
    ) -> Result<(PathBuf, BackupManifest)> {
        let target = backup_path(to, self.now_ms());
        refuse_existing(&target)?;
        let dir = target.parent().unwrap_or(Path::new("."));
        let snapshot = dir.join(format!(
            ".mamori-snapshot-{}",
            crate::format_id(&crate::new_id())
        ));
        let sealed = match self.take_snapshot(database_url, &snapshot).await {
            Ok(backend) => {
                self.seal_backup(start, backend, &snapshot, &target, progress)
                    .await
            }
            Err(e) => Err(e),
        };
        // The plain snapshot (sealed fields, but blind indexes and the ledger in the clear)
        // never stays behind.
        let _ = std::fs::remove_file(&snapshot);
        Ok((target, sealed?))
    }

    /// A consistent copy of the database in the new file `to`; which backend it came from.
    async fn take_snapshot(&self, database_url: &str, to: &Path) -> Result<&'static str> {
        if self.snapshot_database(to).await? {
            return Ok("sqlite");
        }
        let dump = pg_tool("pg_dump")?;
        let out = tokio::process::Command::new(&dump)
            .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
            .arg(to)
            .arg(format!("--dbname={database_url}"))
            .output()
            .await
            .map_err(|e| CoreError::Internal(format!("running {}: {e}", dump.display())))?;
        if !out.status.success() {
            // pg_dump's own words name the database and the failure, never a row's values.
            let said = String::from_utf8_lossy(&out.stderr);
            return Err(CoreError::Internal(format!(
                "pg_dump failed: {}",
                said.trim()
            )));
        }
        Ok("postgres")
    }

    /// The snapshot file `snapshot` (of `backend`) sealed into the new file `to`.
    async fn seal_backup(
        &self,
        start: BackupStart,
        backend: &str,
        snapshot: &Path,
        to: &Path,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<BackupManifest> {
        let io = |e: std::io::Error| CoreError::Internal(format!("writing the backup: {e}"));
        let (bytes, sha256) = digest_file(snapshot).map_err(io)?;
        let id = crate::new_id();
        let (key, wrapped) = match self.keyring.new_backup_key(&id) {
            Err(CryptoError::NoEpoch) => {
                return Err(CoreError::Internal("backups need the key store".into()));
            }
            other => other.map_err(|e| CoreError::Internal(e.to_string()))?,
        };
        let BackupStart {
            ledger_size,
            ledger_root,
        } = start;
        let manifest = BackupManifest {
            id: crate::format_id(&id),
            created_ms: self.now_ms(),
            backend: backend.into(),
            epoch: wrapped_epoch(&wrapped).unwrap_or(0),
            ledger_size,
            ledger_root,
            bytes,
            sha256: hex(&sha256),
            wrapped_key: STANDARD.encode(&wrapped),
        };
        let mut header = serde_json::to_vec(&manifest).expect("the manifest serialises");
        header.push(b'\n');
        let written = (|| -> std::io::Result<()> {
            let mut out = std::io::BufWriter::new(private_file(to)?);
            out.write_all(MAGIC.as_bytes())?;
            out.write_all(b"\n")?;
            out.write_all(&header)?;
            let from = std::fs::File::open(snapshot)?;
            key.seal_stream(&header, from, &mut out, |done| progress(done, bytes))
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(to);
            return Err(io(e));
        }
        Ok(manifest)
    }
}

fn refuse_existing(target: &Path) -> Result<()> {
    if target.exists() {
        return Err(CoreError::Internal(format!(
            "{} exists; a backup never replaces a file",
            target.display()
        )));
    }
    Ok(())
}

/// Where a backup goes: `to` itself, or in the directory `to` a file named by the time.
fn backup_path(to: &Path, now_ms: i64) -> PathBuf {
    if !to.is_dir() {
        return to.to_path_buf();
    }
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(now_ms.max(0) as u64);
    let stamp = humantime::format_rfc3339_millis(at)
        .to_string()
        .replace([':', '-'], "");
    to.join(format!("{BACKUP_PREFIX}{stamp}{BACKUP_SUFFIX}"))
}

/// Backup files Mamori names (and may prune): `mamori-<time>.backup`.
pub const BACKUP_PREFIX: &str = "mamori-";
pub const BACKUP_SUFFIX: &str = ".backup";

/// A PostgreSQL program, from PATH or Debian's versioned directories (newest first).
pub fn pg_tool(name: &str) -> Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect())
        .unwrap_or_default();
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        versions.sort();
        candidates.extend(versions.into_iter().rev().map(|v| v.join("bin").join(name)));
    }
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        CoreError::Internal(format!(
            "{name} is needed for PostgreSQL backups and restores; install the PostgreSQL client programs"
        ))
    })
}

/// A file's length and SHA-256.
fn digest_file(path: &Path) -> std::io::Result<(u64, [u8; 32])> {
    use sha2::{Digest, Sha256};
    let mut file = std::fs::File::open(path)?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok((bytes, hash.finalize().into()));
        }
        hash.update(&buf[..n]);
        bytes += n as u64;
    }
}

/// The ledger as the backup began: the snapshot holds at least this much of it.
#[derive(Debug)]
#[must_use]
pub struct BackupStart {
    ledger_size: u64,
    ledger_root: String,
}
