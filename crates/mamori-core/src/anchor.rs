//! Anchoring the ledger outside its database. Someone who can write the database can delete the
//! newest leaves together with their signed heads, and what is left is a smaller ledger that is
//! consistent with itself. So the signed heads also go to an append-only file beside the data
//! (or wherever the operator points it, ideally another disk or machine), one JSON line each;
//! at start the server checks that the stored ledger still extends the last anchored head and
//! refuses to run over one that does not; `mamori ledger verify --witness FILE` checks a ledger
//! against any copy of those heads (the file, or what a witness polled from
//! `GET /v1/ledger/head`).

use std::io::{BufRead, Write};
use std::path::Path;
use std::time::Duration;

use mamori_ledger::{SignedTreeHead, verify_consistency};

use crate::error::{CoreError, Result};
use crate::ledger::Ledger;

/// How often the latest head is appended (when it changed). A truncation of less than this
/// much of the newest history is not seen by the file; each anchored head covers all before it.
pub const ANCHOR_EVERY: Duration = Duration::from_secs(1);

/// How often the latest signed head is offered to witnesses on the outbox (`ledger.head_signed`,
/// by webhook or the feed), when it grew: a witness keeps them and can later prove, with
/// `mamori ledger verify --witness`, that the ledger was not cut short or rewritten.
pub const ANNOUNCE_EVERY: Duration = Duration::from_secs(60);

/// Every valid head in a heads file, in file order. Lines that do not parse are skipped (a line
/// cut short by a crash); the signature is checked by the caller, who has the key.
pub fn read_heads(path: &Path) -> std::io::Result<Vec<SignedTreeHead>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    let mut heads = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        if let Ok(head) = serde_json::from_str::<SignedTreeHead>(&line?) {
            heads.push(head);
        }
    }
    Ok(heads)
}

fn append(path: &Path, head: &SignedTreeHead) -> std::io::Result<()> {
    let mut line = serde_json::to_string(head).map_err(std::io::Error::other)?;
    line.push('\n');
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(line.as_bytes())?;
    file.sync_data()
}

/// Whether the stored ledger extends `anchored`: it is signed by this ledger's key, the stored
/// tree is at least that large, and a consistency proof from its root to the current one holds.
/// `Err` says what is wrong, in words for the operator.
pub async fn check_extends(
    ledger: &Ledger,
    anchored: &SignedTreeHead,
) -> Result<std::result::Result<(), String>> {
    let size = anchored.head.size;
    if ledger.key_history().verify(anchored).is_err() {
        return Ok(Err(format!(
            "the anchored head at size {size} is not signed by this ledger's key"
        )));
    }
    let stored = ledger.committed_size();
    if stored < size {
        return Ok(Err(format!(
            "leaves {stored}..{size} are missing: the head anchored at size {size} signed them"
        )));
    }
    let (Some(current), Some(proof)) = (
        ledger.root(stored).await?,
        ledger.consistency_proof(size, stored).await?,
    ) else {
        return Err(CoreError::Internal("ledger root unavailable".into()));
    };
    if size > 0 && verify_consistency(size, stored, &anchored.head.root, &current, &proof).is_err()
    {
        return Ok(Err(format!(
            "the stored leaves before {size} differ from those the head anchored at size {size} signed"
        )));
    }
    Ok(Ok(()))
}

/// Appends the latest head if it is beyond `anchored`; returns the size now anchored.
async fn anchor_now(ledger: &Ledger, path: &Path, anchored: u64) -> std::io::Result<u64> {
    let Some(head) = ledger.latest_head().filter(|h| h.head.size > anchored) else {
        return Ok(anchored);
    };
    let path = path.to_path_buf();
    let size = head.head.size;
    tokio::task::spawn_blocking(move || append(&path, &head))
        .await
        .map_err(std::io::Error::other)??;
    Ok(size)
}

impl crate::vault::Vault {
    /// Why the stored ledger cannot be trusted, if it cannot: an integrity problem found when
    /// the ledger started, or it does not extend the last head in `heads` (the file a witness
    /// or [`Self::anchor_latest_head`] keeps outside the database).
    pub async fn ledger_trust_problem(&self, heads: &Path) -> Result<Option<String>> {
        if let Some(problem) = self.ledger.integrity_problem() {
            return Ok(Some(problem));
        }
        let anchored = read_heads(heads).map_err(|e| {
            CoreError::Internal(format!(
                "reading the ledger heads file {}: {e}",
                heads.display()
            ))
        })?;
        match anchored.last() {
            Some(last) => Ok(check_extends(&self.ledger, last).await?.err()),
            None => Ok(None),
        }
    }

    /// Appends the latest signed head to `path` if it is beyond `anchored` (a tree size; None:
    /// read from the file); returns the size now anchored. The job runner calls it every
    /// [`ANCHOR_EVERY`], and `mamori serve` once more at shutdown for the final head.
    pub async fn anchor_latest_head(&self, path: &Path, anchored: Option<u64>) -> Result<u64> {
        let anchored = match anchored {
            Some(size) => size,
            None => read_heads(path)
                .ok()
                .and_then(|h| h.last().map(|h| h.head.size))
                .unwrap_or(0),
        };
        anchor_now(&self.ledger, path, anchored).await.map_err(|e| {
            crate::CoreError::Internal(format!(
                "anchoring the ledger head in {}: {e}",
                path.display()
            ))
        })
    }

    /// Announces the latest signed head on the outbox if it is beyond `announced` (a tree size);
    /// returns the size now announced. The announcement adds no leaf, so it signs no new head.
    pub async fn announce_head(&self, announced: u64) -> Result<u64> {
        let Some(head) = self
            .ledger
            .latest_head()
            .filter(|h| h.head.size > announced)
        else {
            return Ok(announced);
        };
        let data = self.head_body(&head);
        let kind = crate::outbox::EventType::LedgerHeadSigned;
        let announce = self.announce(kind, None, &data);
        self.ledger.submit(vec![announce], vec![]).await??;
        Ok(head.head.size)
    }
}
