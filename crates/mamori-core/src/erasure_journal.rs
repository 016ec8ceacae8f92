//! The erasure journal: one line per erasure (`<subject id> <erased at, ms>`), appended and
//! synced to a file beside the master key, outside the database and so outside its backups.
//! A database restored from a backup taken before an erasure would give the person back; the
//! server replays the journal before it serves, erasing again everyone the backup still holds.
//! It names random subject ids and times only: no personal data.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::vault::{Actor, Vault};
use crate::{format_id, parse_id};

/// The journal file's name in the data directory.
pub const FILE: &str = "erasure-journal";

/// Erased subjects read per page when the journal is checked against the database.
const JOURNAL_PAGE: i64 = 10_000;

#[derive(Debug)]
pub struct ErasureJournal {
    path: PathBuf,
    /// Appends from concurrent erasures go one at a time (each line whole).
    append: std::sync::Mutex<()>,
}

impl ErasureJournal {
    pub fn at(path: impl Into<PathBuf>) -> ErasureJournal {
        ErasureJournal {
            path: path.into(),
            append: std::sync::Mutex::new(()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one erasure and syncs it to disk.
    pub fn append(&self, id: &[u8; 16], erased_ms: i64) -> std::io::Result<()> {
        self.append_all(&[(*id, erased_ms)])
    }

    /// Appends erasures and syncs them to disk once (a sweep's page).
    pub fn append_all(&self, erased: &[([u8; 16], i64)]) -> std::io::Result<()> {
        if erased.is_empty() {
            return Ok(());
        }
        let _one_at_a_time = self.append.lock().unwrap_or_else(|e| e.into_inner());
        use std::io::{Read, Seek, SeekFrom};
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)?;
        // After a crash mid-append the file ends inside a line: start on a fresh one, so the
        // torn piece cannot swallow this entry.
        let mut last = [b'\n'];
        if file.seek(SeekFrom::End(0))? > 0 {
            file.seek(SeekFrom::End(-1))?;
            file.read_exact(&mut last)?;
        }
        let mut lines = String::from(if last[0] == b'\n' { "" } else { "\n" });
        for (id, erased_ms) in erased {
            lines.push_str(&format!("{} {erased_ms}\n", format_id(id)));
        }
        file.write_all(lines.as_bytes())?;
        file.sync_data()
    }

    /// Every erasure recorded, oldest first. A line that is not whole (a crash mid-append) is
    /// skipped; a missing file is an empty journal.
    pub fn entries(&self) -> std::io::Result<Vec<([u8; 16], i64)>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(text
            .lines()
            .filter_map(|line| {
                let (id, ms) = line.split_once(' ')?;
                Some((parse_id(id)?, ms.parse().ok()?))
            })
            .collect())
    }
}

/// The actor of replayed erasures in the ledger.
fn replayer() -> Actor {
    Actor {
        id: "erasure-journal".into(),
        role: "system".into(),
    }
}

impl Vault {
    /// Notes a committed erasure in the journal, if the vault keeps one. A failure is logged:
    /// the erasure itself stands.
    pub(crate) fn journal_erasure(&self, id: &[u8; 16], erased_ms: i64) {
        self.journal_erasures(&[(*id, erased_ms)]);
    }

    /// [`Vault::journal_erasure`] of several, synced once.
    pub(crate) fn journal_erasures(&self, erased: &[([u8; 16], i64)]) {
        if let Some(journal) = &self.erasure_journal
            && let Err(e) = journal.append_all(erased)
        {
            tracing::error!(error = %e, "erasures could not be written to the erasure journal");
        }
    }

    /// Erases again everyone the journal says was erased and the database still holds (it was
    /// restored from an older backup), each ledgered as an erasure by `erasure-journal`; then
    /// notes in the journal every erasure the database has and the journal lacks (one whose
    /// journal line a crash prevented). Returns how many were erased again.
    pub async fn replay_erasure_journal(&self) -> Result<usize> {
        let Some(journal) = &self.erasure_journal else {
            return Ok(0);
        };
        let unreadable = |e: std::io::Error| {
            crate::CoreError::Internal(format!(
                "the erasure journal {}: {e}",
                journal.path().display()
            ))
        };
        let entries = journal.entries().map_err(unreadable)?;
        let mut replayed = 0;
        for (id, _) in &entries {
            let held = self.store.subject(id).await?;
            if held.is_some_and(|row| row.erased_ms.is_none()) {
                self.erase_authorised(&replayer(), mamori_policy::RIGHTS_PURPOSE, id, None)
                    .await?;
                replayed += 1;
                if replayed % 100 == 0 {
                    tracing::info!(replayed, "erasure journal replay: erased again so far");
                }
            }
        }
        let known: std::collections::HashSet<[u8; 16]> =
            entries.iter().map(|(id, _)| *id).collect();
        let mut after = None;
        loop {
            let page = self.store.erased_subjects(after, JOURNAL_PAGE).await?;
            for (id, erased_ms) in &page {
                if !known.contains(id) {
                    journal.append(id, *erased_ms).map_err(unreadable)?;
                }
            }
            match page.last() {
                Some((id, _)) if page.len() as i64 == JOURNAL_PAGE => after = Some(*id),
                _ => return Ok(replayed),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_back_in_order_and_a_torn_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let journal = ErasureJournal::at(dir.path().join(FILE));
        assert!(
            journal.entries().unwrap().is_empty(),
            "no file: nothing erased"
        );
        let (a, b) = ([1u8; 16], [2u8; 16]);
        journal.append(&a, 10).unwrap();
        journal.append(&b, 20).unwrap();
        // A crash mid-append leaves half a line: it is not an entry.
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(journal.path())
            .unwrap();
        file.write_all(b"0123").unwrap();
        assert_eq!(journal.entries().unwrap(), vec![(a, 10), (b, 20)]);
        let c = [3u8; 16];
        journal.append(&c, 30).unwrap();
        assert_eq!(journal.entries().unwrap(), vec![(a, 10), (b, 20), (c, 30)]);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(journal.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
