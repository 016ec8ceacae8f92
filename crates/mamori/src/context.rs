//! Opening a Mamori installation: data directory, master key, policy, store, ledger.

use mamori_core::erasure_journal::ErasureJournal;
use mamori_core::keys::epoch_store::{self, EpochStore};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use mamori_core::{Actor, Vault};
use mamori_crypto::{Keyring, MasterKey};
use mamori_policy::Policy;

pub const EXAMPLE_POLICY: &str = include_str!("../../../examples/policy.toml");

pub struct Paths {
    pub data: PathBuf,
    pub database: String,
    pub policy: PathBuf,
    pub key_file: PathBuf,
    /// A command that prints the master key (`key_command` in mamori.toml), instead of the file.
    pub key_command: Option<String>,
}

impl Paths {
    pub fn new(data: &Path, database: Option<String>, policy: Option<PathBuf>) -> Paths {
        Paths {
            data: data.to_path_buf(),
            database: database
                .unwrap_or_else(|| format!("sqlite://{}", data.join("mamori.db").display())),
            policy: policy.unwrap_or_else(|| data.join("policy.toml")),
            key_file: data.join("master.key"),
            key_command: None,
        }
    }
}

/// The operator at the console. CLI actions are ledgered like any other.
pub fn operator() -> Actor {
    Actor {
        id: "cli".into(),
        role: "privacy_officer".into(),
    }
}

/// Refuses to start over a data directory the server cannot write (mounted read-only, wrong
/// owner), naming it, instead of failing later on the first write with a database error.
pub fn check_writable(paths: &Paths) -> anyhow::Result<()> {
    let mut dirs = vec![paths.data.clone()];
    if let Some(file) = paths.database.strip_prefix("sqlite://")
        && let Some(dir) = Path::new(file.split('?').next().unwrap_or(file)).parent()
        && !dir.as_os_str().is_empty()
    {
        dirs.push(dir.to_path_buf());
    }
    for dir in dirs {
        let probe = dir.join(format!(".mamori-write-check-{}", std::process::id()));
        std::fs::write(&probe, b"")
            .and_then(|()| std::fs::remove_file(&probe))
            .with_context(|| format!("the data directory {} is not writable", dir.display()))?;
    }
    Ok(())
}

/// Creates what is missing: the directory, a master key file readable only by its owner, the
/// example policy, and the migrated database. Never overwrites an existing key or policy.
pub async fn init(paths: &Paths) -> anyhow::Result<()> {
    if !paths.data.exists() {
        // A directory of its own is the owner's only: nobody else lists the key files.
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&paths.data)
            .with_context(|| format!("creating {}", paths.data.display()))?;
    }
    let key_elsewhere =
        std::env::var_os("MAMORI_MASTER_KEY").is_some() || paths.key_command.is_some();
    if !key_elsewhere && !paths.key_file.exists() {
        let key = MasterKey::generate()?;
        write_private(&paths.key_file, key.to_hex().as_bytes())?;
    }
    // The policy lives in the data directory, where every later command looks for it: one
    // given with --policy is checked and copied there (never over a different one).
    let in_data = paths.data.join("policy.toml");
    if paths.policy != in_data && paths.policy.exists() {
        load_policy(&paths.policy)?;
        let given = std::fs::read(&paths.policy)
            .with_context(|| format!("reading {}", paths.policy.display()))?;
        match std::fs::read(&in_data) {
            Ok(existing) if existing != given => bail!(
                "{} exists and differs from {}; edit it, or move it away first",
                in_data.display(),
                paths.policy.display()
            ),
            Ok(_) => {}
            Err(_) => std::fs::write(&in_data, given)
                .with_context(|| format!("writing {}", in_data.display()))?,
        }
    } else if !paths.policy.exists() {
        std::fs::write(&paths.policy, EXAMPLE_POLICY)
            .with_context(|| format!("writing {}", paths.policy.display()))?;
    }
    mamori_core::machinery::prepare_database(&paths.database)
        .await
        .context("opening the database")?;
    Ok(())
}

pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

fn master_key(paths: &Paths) -> anyhow::Result<MasterKey> {
    if let Ok(hex) = std::env::var("MAMORI_MASTER_KEY") {
        return MasterKey::from_hex(&hex).context("MAMORI_MASTER_KEY");
    }
    if let Some(command) = &paths.key_command {
        return master_key_from(command);
    }
    read_key_file(&paths.key_file)
}

/// A master key file: 64 hex characters, readable by its owner only.
fn read_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            bail!(
                "{} is readable by others; run `chmod 600 {}`",
                path.display(),
                path.display()
            );
        }
    }
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "reading the master key {} (run `mamori init` first)",
            path.display()
        )
    })?;
    MasterKey::from_hex(&text).with_context(|| format!("in {}", path.display()))
}

/// Runs `key_command` (through `sh -c`) and reads the key from what it prints. Its output is
/// never repeated in an error: it is the key, or something near it.
fn master_key_from(command: &str) -> anyhow::Result<MasterKey> {
    let out = std::process::Command::new("sh")
        .args(["-c", command])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("running key_command")?;
    if !out.status.success() {
        bail!("key_command failed ({}); no master key", out.status);
    }
    let text = zeroize::Zeroizing::new(String::from_utf8(out.stdout).unwrap_or_default());
    MasterKey::from_hex(&text).map_err(|_| {
        anyhow::anyhow!("key_command did not print a master key (64 hexadecimal characters)")
    })
}

pub fn load_policy(path: &Path) -> anyhow::Result<Policy> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "reading the policy {} (run `mamori init` first)",
            path.display()
        )
    })?;
    Policy::parse(&path.display().to_string(), &text)
        .map_err(|e| anyhow::anyhow!("the policy has problems:\n{e}"))
}

pub struct Context {
    pub vault: Vault,
}

/// Where a master key rotation writes the new key before the key store is re-sealed under it.
pub fn next_key_file(paths: &Paths) -> PathBuf {
    paths.key_file.with_extension("key.next")
}

/// Whether the master key is the data directory's file (the one a rotation can replace).
pub fn master_key_is_a_file(paths: &Paths) -> bool {
    std::env::var_os("MAMORI_MASTER_KEY").is_none() && paths.key_command.is_none()
}

/// The keyring: the master key (the operator's file, `MAMORI_MASTER_KEY` or `key_command`)
/// opens the key store, whose root every subkey derives from. Finishes a master key rotation
/// that was interrupted (`master.key.next` left behind).
pub fn keyring(paths: &Paths) -> anyhow::Result<Keyring> {
    let store = EpochStore::at(paths.data.join(epoch_store::FILE));
    let master = master_key(paths)?;
    let next = next_key_file(paths);
    if master_key_is_a_file(paths) && next.exists() {
        match store.keyring_for(&master) {
            // The store was not re-sealed yet: the rotation did not happen.
            Ok(keyring) => {
                std::fs::remove_file(&next)?;
                return Ok(keyring);
            }
            Err(epoch_store::EpochStoreError::Foreign(_)) => {
                let keyring = store.keyring_for(&read_key_file(&next)?)?;
                std::fs::rename(&next, &paths.key_file)?;
                sync_dir(&paths.data)?;
                tracing::warn!("an interrupted master key rotation was completed");
                return Ok(keyring);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(store.keyring_for(&master)?)
}

pub fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))
}

impl Context {
    pub async fn open(paths: &Paths) -> anyhow::Result<Context> {
        let policy = Arc::new(load_policy(&paths.policy)?);
        let keyring = Arc::new(keyring(paths)?);
        let epochs = Arc::new(EpochStore::at(paths.data.join(epoch_store::FILE)));
        epochs.load(&keyring, now_ms())?;
        let mut vault = Vault::open(policy, keyring, &paths.database)
            .await
            .context("opening the database")?;
        let journal = paths.data.join(mamori_core::erasure_journal::FILE);
        vault.erasure_journal = Some(Arc::new(ErasureJournal::at(journal)));
        vault.key_epochs = Some(epochs);
        vault.seal_unsealed_consent_state().await?;
        Ok(Context { vault })
    }
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}
