//! The key store: the epoch keys, each sealed under the master key's `epoch-store` subkey, in one
//! small file beside the master key (`key-epochs`, mode 0600), outside the database and so
//! outside its backups. Replaced whole on every change (written aside, synced, renamed, the
//! directory synced), so a crash leaves the old file or the new one, never a mix; changes from
//! several processes take turns under a lock file.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mamori_crypto::{EpochRing, EpochSecret, Keyring, MasterKey, RootKey};
use serde::{Deserialize, Serialize};

/// The key store's file name in the data directory.
pub const FILE: &str = "key-epochs";
const FORMAT: u32 = 1;

/// One epoch as the store keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochEntry {
    pub id: u32,
    pub created_ms: i64,
    /// When a newer epoch took over (none: this one wraps new keys).
    pub retired_ms: Option<i64>,
    /// The epoch key sealed under the master key (base64).
    sealed: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct StoreFile {
    format: u32,
    /// The root key sealed under the master key (base64); absent until the first master key
    /// rotation (the root is then the master key itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    root: Option<String>,
    epochs: Vec<EpochEntry>,
    /// The ledger's signing keys since the first rotation (see `keys::ledger_keys`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) ledger_keys: Vec<super::ledger_keys::LedgerKeyEntry>,
}

/// What went wrong with the key store. Never names key bytes.
#[derive(Debug, thiserror::Error)]
pub enum EpochStoreError {
    #[error("the key store {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the key store {0} does not open under this master key (another installation's, damaged, or re-sealed by a master key rotation since this process started: restart it)"
    )]
    Foreign(String),
    #[error("the key store {0} is not in a format this version reads")]
    Format(String),
    #[error("the operating system's random generator failed")]
    Random,
}

type Result<T> = std::result::Result<T, EpochStoreError>;

#[derive(Debug)]
pub struct EpochStore {
    path: PathBuf,
}

impl EpochStore {
    pub fn at(path: impl Into<PathBuf>) -> EpochStore {
        EpochStore { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn io(&self, source: std::io::Error) -> EpochStoreError {
        EpochStoreError::Io {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// The epochs, oldest first (none if the file does not exist yet).
    pub fn epochs(&self) -> Result<Vec<EpochEntry>> {
        Ok(self.read()?.epochs)
    }

    pub(super) fn read(&self) -> Result<StoreFile> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(StoreFile::default()),
            Err(e) => return Err(self.io(e)),
        };
        let file: StoreFile = serde_json::from_str(&text)
            .map_err(|_| EpochStoreError::Format(self.path.display().to_string()))?;
        if file.format != FORMAT {
            return Err(EpochStoreError::Format(self.path.display().to_string()));
        }
        Ok(file)
    }

    fn write(&self, file: &StoreFile) -> Result<()> {
        let aside = self.path.with_extension("new");
        let text = serde_json::to_vec_pretty(file).expect("the key store serialises");
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&aside)
            .map_err(|e| self.io(e))?;
        out.write_all(&text).map_err(|e| self.io(e))?;
        out.sync_all().map_err(|e| self.io(e))?;
        std::fs::rename(&aside, &self.path).map_err(|e| self.io(e))?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| self.io(e))?;
        }
        Ok(())
    }

    /// Holds the store's lock file while `change` reads and rewrites the store.
    /// Every change is made by a keyring that opens what the store holds: a process still
    /// holding the master key from before a rotation must not add entries sealed under it.
    pub(super) fn changing<T>(
        &self,
        keyring: &Keyring,
        change: impl FnOnce(&mut StoreFile) -> Result<T>,
    ) -> Result<T> {
        let lock = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(self.path.with_extension("lock"))
            .map_err(|e| self.io(e))?;
        lock.lock().map_err(|e| self.io(e))?;
        let mut file = self.read()?;
        if let Some(entry) = file.epochs.first() {
            let sealed = STANDARD.decode(&entry.sealed).unwrap_or_default();
            if keyring.open_epoch_secret(entry.id, &sealed).is_err() {
                return Err(EpochStoreError::Foreign(self.path.display().to_string()));
            }
        }
        file.format = FORMAT;
        let result = change(&mut file)?;
        self.write(&file)?;
        Ok(result)
    }

    /// The keyring of `master`: the root from the store (or the master itself, before any
    /// rotation). [`EpochStoreError::Foreign`] if the store is sealed under another master key.
    pub fn keyring_for(&self, master: &MasterKey) -> Result<Keyring> {
        let file = self.read()?;
        let root = match &file.root {
            None => RootKey::legacy(master),
            Some(sealed) => {
                let sealed = STANDARD
                    .decode(sealed)
                    .map_err(|_| EpochStoreError::Format(self.path.display().to_string()))?;
                RootKey::open(master, &sealed)
                    .map_err(|_| EpochStoreError::Foreign(self.path.display().to_string()))?
            }
        };
        let keyring = Keyring::with_root(&root, master);
        self.install_ledger_keys(&keyring, &file)?;
        Ok(keyring)
    }

    /// Re-seals the root and every epoch key under `new` (a master key rotation), in one
    /// replacement of the file; returns the keyring under `new`.
    pub fn reseal_under(&self, keyring: &Keyring, new: &MasterKey) -> Result<Keyring> {
        let rotated = keyring.under_master(new);
        self.changing(keyring, |file| {
            for entry in &mut file.epochs {
                let sealed = STANDARD
                    .decode(&entry.sealed)
                    .map_err(|_| EpochStoreError::Format(self.path.display().to_string()))?;
                let secret = keyring
                    .open_epoch_secret(entry.id, &sealed)
                    .map_err(|_| EpochStoreError::Foreign(self.path.display().to_string()))?;
                entry.sealed = STANDARD.encode(rotated.seal_epoch_secret(entry.id, &secret));
            }
            file.root = Some(STANDARD.encode(keyring.seal_root_under(new)));
            Ok(())
        })?;
        Ok(rotated)
    }

    /// Opens every epoch under `keyring`'s master key and installs them; creates the first
    /// epoch if the store is empty. Returns the current epoch.
    pub fn load(&self, keyring: &Keyring, now_ms: i64) -> Result<u32> {
        if self.read()?.epochs.is_empty() {
            self.changing(keyring, |file| {
                if file.epochs.is_empty() {
                    push_epoch(file, keyring, 1, now_ms)?;
                }
                Ok(())
            })?;
        }
        self.install(keyring)
    }

    /// Reads the store again and installs what it holds (another process rotated or destroyed).
    pub fn install(&self, keyring: &Keyring) -> Result<u32> {
        let file = self.read()?;
        let mut secrets = Vec::with_capacity(file.epochs.len());
        for entry in &file.epochs {
            let sealed = STANDARD
                .decode(&entry.sealed)
                .map_err(|_| EpochStoreError::Format(self.path.display().to_string()))?;
            let secret = keyring
                .open_epoch_secret(entry.id, &sealed)
                .map_err(|_| EpochStoreError::Foreign(self.path.display().to_string()))?;
            secrets.push((entry.id, secret));
        }
        let ring = EpochRing::new(secrets);
        let current = ring
            .current()
            .ok_or_else(|| EpochStoreError::Format(self.path.display().to_string()))?;
        keyring.install_epochs(ring);
        self.install_ledger_keys(keyring, &file)?;
        Ok(current)
    }

    /// Starts a new epoch if the current one is at least `every` old (or `force`); the
    /// current one is retired. Installs the result. Returns the new epoch, if one was made.
    pub fn rotate(
        &self,
        keyring: &Keyring,
        now_ms: i64,
        every_ms: i64,
        force: bool,
    ) -> Result<Option<u32>> {
        let made = self.changing(keyring, |file| {
            let current = file.epochs.iter_mut().find(|e| e.retired_ms.is_none());
            let due = current
                .as_ref()
                .is_none_or(|c| force || now_ms - c.created_ms >= every_ms);
            if !due {
                return Ok(None);
            }
            if let Some(current) = current {
                current.retired_ms = Some(now_ms);
            }
            let next = file.epochs.iter().map(|e| e.id).max().unwrap_or(0) + 1;
            push_epoch(file, keyring, next, now_ms)?;
            Ok(Some(next))
        })?;
        self.install(keyring)?;
        Ok(made)
    }

    /// Destroys the retired epochs `destroy` picks (it sees each entry), and installs what is
    /// left. Returns the epochs destroyed.
    pub fn destroy(
        &self,
        keyring: &Keyring,
        mut destroy: impl FnMut(&EpochEntry) -> bool,
    ) -> Result<Vec<u32>> {
        let gone = self.changing(keyring, |file| {
            let mut gone = Vec::new();
            file.epochs.retain(|e| {
                let goes = e.retired_ms.is_some() && destroy(e);
                if goes {
                    gone.push(e.id);
                }
                !goes
            });
            Ok(gone)
        })?;
        self.install(keyring)?;
        Ok(gone)
    }
}

fn push_epoch(file: &mut StoreFile, keyring: &Keyring, id: u32, now_ms: i64) -> Result<()> {
    let secret = EpochSecret::generate().map_err(|_| EpochStoreError::Random)?;
    file.epochs.push(EpochEntry {
        id,
        created_ms: now_ms,
        retired_ms: None,
        sealed: STANDARD.encode(keyring.seal_epoch_secret(id, &secret)),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_crypto::MasterKey;

    fn store() -> (tempfile::TempDir, EpochStore, Keyring) {
        let dir = tempfile::tempdir().unwrap();
        let store = EpochStore::at(dir.path().join(FILE));
        (dir, store, Keyring::new(&MasterKey::generate().unwrap()))
    }

    #[test]
    fn the_first_load_makes_an_epoch_and_later_loads_keep_it() {
        let (_dir, store, keyring) = store();
        assert_eq!(store.load(&keyring, 1_000).unwrap(), 1);
        let (_, wrapped) = keyring.new_subject_key(&[1; 16]).unwrap();
        let again = Keyring::new(&MasterKey::generate().unwrap());
        assert!(matches!(
            store.load(&again, 2_000),
            Err(EpochStoreError::Foreign(_))
        ));
        assert_eq!(store.load(&keyring, 2_000).unwrap(), 1);
        assert!(keyring.unwrap_subject_key(&[1; 16], &wrapped).is_ok());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(store.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn rotation_is_due_after_its_interval_and_destruction_takes_only_retired_epochs() {
        let (_dir, store, keyring) = store();
        store.load(&keyring, 0).unwrap();
        assert_eq!(store.rotate(&keyring, 500, 1_000, false).unwrap(), None);
        assert_eq!(
            store.rotate(&keyring, 1_000, 1_000, false).unwrap(),
            Some(2)
        );
        assert_eq!(keyring.current_epoch(), Some(2));
        let gone = store.destroy(&keyring, |_| true).unwrap();
        assert_eq!(gone, vec![1]);
        assert!(!keyring.holds_epoch(1));
        let ids: Vec<u32> = store.epochs().unwrap().iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![2]);
    }
}
