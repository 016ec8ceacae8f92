//! Storage for Mamori. One trait per capability (`capabilities.rs`; [`Store`] is all of them,
//! Atuin's and lldap's patterns) with a SQLite and a PostgreSQL implementation, each with its
//! own migrations; [`open`] picks one from the database URL.
//!
//! The store sees only opaque bytes: sealed field maps, wrapped keys, blind-index digests and
//! ledger leaves. It never holds a key and cannot produce plaintext.
//!
//! Writes go through [`Storage::commit_batch`]: the one writer task hands it a batch of jobs, each
//! job's changes run under its own savepoint (so one conflict does not sink the batch), then the
//! caller turns the outcomes into ledger leaves and a signed tree head that are written in the
//! *same* transaction. One commit, one fsync, for the whole batch.
//!
//! Batches made only of inserts (bulk import, bursts of creates) first try multi-row INSERTs
//! under one savepoint; only if that hits a uniqueness conflict do they fall back to the
//! per-job savepoints, which find out which job conflicted.

mod capabilities;
mod change;
mod events_only;
mod inline;
mod sql;
mod vendor_tasks;

pub use capabilities::*;
pub use change::Change;
pub use sql::{FORGOTTEN_AT_ERASURE, KEPT_AFTER_ERASURE, PostgresStore, SqliteStore};
pub use vendor_tasks::VendorTaskRow;

pub type Id = [u8; 16];
/// A blind-index digest (truncated HMAC; the store never sees the value behind it).
pub type IndexDigest = [u8; 16];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (use sqlite://PATH or postgres://…)")]
    BadUrl,
    #[error("stored data is corrupt: {0}")]
    Corrupt(&'static str),
    #[error("the disk holding the database is full")]
    Full,
    /// The database the server opened is gone from where it was (a SQLite file deleted or
    /// replaced while in use): writing on would write to a file nobody will open again.
    #[error("{0}")]
    Lost(String),
    #[error("{path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, StoreError>;

pub use mamori_proto::{
    DenialReason, ExtensionReason, RequestKind, RequestSource, RequestState, VerifiedBy, WaitReason,
};

impl StoreError {
    /// Whether the write failed for want of disk space (SQLite's SQLITE_FULL, PostgreSQL's
    /// disk_full, or ENOSPC): the caller is told 507, and writes work again once space returns.
    pub fn is_full(&self) -> bool {
        match self {
            StoreError::Full => true,
            StoreError::Database(e) => sqlx_is_full(e),
            StoreError::File { source, .. } => source.raw_os_error() == Some(28),
            _ => false,
        }
    }

    /// Whether the database cannot be reached or is gone (as opposed to refusing one query):
    /// nothing was changed, and the same request may succeed once it is back.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Lost(_) => true,
            StoreError::Database(e) => match e {
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                // PostgreSQL: the database does not exist (any more), the server is shutting
                // down or was stopped by an administrator, the connection failed.
                sqlx::Error::Database(db) => matches!(
                    db.code().as_deref(),
                    Some("3D000" | "57P01" | "57P02" | "57P03" | "08000" | "08003" | "08006")
                ),
                _ => false,
            },
            _ => false,
        }
    }
}

fn sqlx_is_full(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            matches!(db.code().as_deref(), Some("13") | Some("53100"))
                || db.message().contains("database or disk is full")
        }
        sqlx::Error::Io(io) => io.raw_os_error() == Some(28),
        _ => false,
    }
}

/// A batch meant to append at a leaf index that is already stored. Writers take turns and take
/// in each other's leaves first (see [`Finish`]), so this is damage or a bug, never a race: the
/// batch changes nothing.
pub(crate) const LEAF_INDEX_TAKEN: StoreError =
    StoreError::Corrupt("a ledger leaf index is already taken; run `mamori ledger verify`");

/// Which blind index a digest belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i64)]
pub enum IndexKind {
    Email = 1,
    Phone = 2,
    ExternalId = 3,
}

/// A live subject the retention sweep looks at: its sealed field map (category names are
/// readable without the key) and when it was last active.
#[derive(Debug, Clone)]
pub struct InactiveSubject {
    pub id: Id,
    pub version: i64,
    pub active_ms: i64,
    pub fields: Option<Vec<u8>>,
}

/// A subject's wrapped data keys, as a re-wrap reads them.
#[derive(Debug, Clone)]
pub struct WrappedKeys {
    pub id: Id,
    pub wrapped_dek: Vec<u8>,
    pub previous_wrapped_dek: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct SubjectRow {
    pub id: Id,
    pub created_ms: i64,
    pub version: i64,
    /// `None` once erased.
    pub wrapped_dek: Option<Vec<u8>>,
    pub fields: Option<Vec<u8>>,
    pub erased_ms: Option<i64>,
    /// Set when an erasure kept categories under a legal obligation: when the next one expires.
    pub held_until_ms: Option<i64>,
    /// Set while a held subject's kept part still waits to be re-sealed under a fresh key.
    pub rekey_requested_ms: Option<i64>,
    /// The old key while a re-key is under way: records not yet re-sealed open with it.
    pub previous_wrapped_dek: Option<Vec<u8>>,
}

impl SubjectRow {
    /// Erased, but still holding what a legal obligation requires.
    pub fn is_held(&self) -> bool {
        self.erased_ms.is_some() && self.wrapped_dek.is_some()
    }
}

#[derive(Debug, Clone)]
pub struct RecordRow {
    pub id: Id,
    pub subject_id: Id,
    pub category: String,
    pub created_ms: i64,
    pub sealed: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct LeafRow {
    pub index: u64,
    pub data: Vec<u8>,
    pub hash: [u8; 32],
    pub subject_id: Option<Id>,
}

/// A member of staff: a person who signs in (not an API key). The address is kept only as a keyed
/// index (to find them at sign-in) and sealed (to write to them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRow {
    pub id: Id,
    pub email_index: [u8; 32],
    pub email_sealed: Vec<u8>,
    pub role: String,
    /// Argon2id PHC string, once enrolled.
    pub password_hash: Option<String>,
    pub created_ms: i64,
    pub enrolled_ms: Option<i64>,
    pub disabled_ms: Option<i64>,
    /// Failed sign-ins since the last success or lock-out.
    pub failures: i64,
    pub locked_until_ms: Option<i64>,
}

/// A second factor: the TOTP secret or the passkey, sealed. `last_used` is the last TOTP step
/// taken or the passkey's signature counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffFactorRow {
    pub id: Id,
    pub staff_id: Id,
    /// `totp` or `passkey`.
    pub kind: String,
    pub sealed: Vec<u8>,
    pub last_used: i64,
    pub created_ms: i64,
}

/// A staff session, by the keyed digest of its cookie; `id` names it on the sessions page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSessionRow {
    pub digest: [u8; 32],
    pub id: Id,
    pub staff_id: Id,
    pub created_ms: i64,
    pub seen_ms: i64,
    /// The last time the person proved a factor (sign-in or re-authentication).
    pub verified_ms: i64,
    pub ended_ms: Option<i64>,
}

/// A member of staff's current training for a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffTrainingRow {
    pub staff_id: Id,
    pub role: String,
    /// The role's grants when they passed, one per line (`view:contact`, `purpose:analytics`).
    pub scope: String,
    pub policy_version: i64,
    pub passed_ms: i64,
    pub expires_ms: i64,
    /// When the reminder that it expires soon was sent.
    pub reminded_ms: Option<i64>,
}

/// The factor a sign-in spent: a TOTP step (taken once), a recovery code (used once) or a
/// passkey's counter (only forwards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactorUse {
    Totp {
        factor_id: Id,
        step: i64,
    },
    Recovery {
        digest: [u8; 32],
    },
    /// A passkey: its counter (only forwards, unless it keeps none: 0) and the passkey as kept
    /// from now on (sealed).
    Passkey {
        factor_id: Id,
        counter: i64,
        sealed: Vec<u8>,
    },
}

/// A passkey ceremony in flight: the webauthn state (sealed) by the keyed digest of the token
/// the page holds; `staff_id` is whose it is (none for a sign-in, which finds out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyChallengeRow {
    pub digest: [u8; 32],
    pub staff_id: Option<Id>,
    /// `enrol`, `add`, `sign_in` or `reauthenticate`.
    pub kind: String,
    pub sealed: Vec<u8>,
    pub expires_ms: i64,
}

/// A one-time enrolment link, by the keyed digest of its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffEnrolmentRow {
    pub digest: [u8; 32],
    pub staff_id: Id,
    pub expires_ms: i64,
    pub used_ms: Option<i64>,
}

/// An incident as stored: codes, times, who opened it; the title sealed (free text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRow {
    pub id: Id,
    pub kind: String,
    pub severity: String,
    pub status: String,
    pub title_sealed: Vec<u8>,
    pub detected_ms: i64,
    pub reported_by: String,
    pub drill: bool,
    /// The number of timeline entries so far.
    pub version: i64,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// One entry of an incident's append-only timeline; `seq` is the incident's version it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentEntryRow {
    pub incident_id: Id,
    pub seq: i64,
    pub at_ms: i64,
    pub actor: String,
    pub kind: String,
    pub status: Option<String>,
    pub severity: Option<String>,
    pub link_kind: Option<String>,
    pub link_id: Option<String>,
    pub note_sealed: Option<Vec<u8>>,
    /// An extension's new due time (Unix ms).
    pub until_ms: Option<i64>,
}

/// Who prepared an incident's notices to people, and how they go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRunRow {
    pub incident_id: Id,
    /// The preparer (actor id and role): each address is read through the access decision as
    /// them, for `purpose`, when the notice goes out.
    pub actor: String,
    pub role: String,
    pub purpose: String,
    /// For a person whose own language is not known.
    pub language: String,
    /// What people can do, per language (JSON), sealed: free text.
    pub advice_sealed: Option<Vec<u8>>,
    pub prepared_ms: i64,
}

/// One person's notice of an incident: ids, the categories that concern them (names,
/// comma-separated), when, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRow {
    pub incident_id: Id,
    pub subject_id: Id,
    pub state: String,
    pub categories: String,
    pub first_ms: i64,
    pub last_ms: i64,
    pub attempts: i64,
    pub changed_ms: i64,
    pub sent_ms: Option<i64>,
    /// The law covering the person, by their address's country, once read.
    pub jurisdiction: Option<String>,
}

/// A legal hold as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalHoldRow {
    pub id: Id,
    pub subject_id: Option<Id>,
    pub category: Option<String>,
    pub reason: String,
    pub until_ms: Option<i64>,
    pub created_ms: i64,
    pub lifted_ms: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct ApiKeyRow {
    pub id: Id,
    pub name: String,
    pub role: String,
    pub digest: [u8; 32],
    pub created_ms: i64,
    pub revoked_ms: Option<i64>,
}

/// A subject-index entry's sort key: the subject, then the leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LeafKey {
    pub subject: Id,
    pub idx: i64,
}

/// The entries from `from` (inclusive) to `to` (exclusive); `None` is open-ended. The unit in
/// which segments are merged, so no single transaction holds the writer for long. Bounds are
/// keys sampled from the entries themselves: subject ids are UUIDv7, so a split by the ids'
/// bytes would put every subject created this decade in one chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyRange {
    pub from: Option<LeafKey>,
    pub to: Option<LeafKey>,
}

impl KeyRange {
    /// Every entry.
    pub const ALL: KeyRange = KeyRange {
        from: None,
        to: None,
    };

    /// Consecutive ranges covering every key, split at each of `bounds` (sorted or not;
    /// repeats ignored).
    pub fn split_at(bounds: &[LeafKey]) -> Vec<KeyRange> {
        let mut bounds = bounds.to_vec();
        bounds.sort_unstable();
        bounds.dedup();
        let starts = std::iter::once(None).chain(bounds.iter().copied().map(Some));
        let ends = bounds
            .iter()
            .copied()
            .map(Some)
            .chain(std::iter::once(None));
        starts
            .zip(ends)
            .map(|(from, to)| KeyRange { from, to })
            .collect()
    }

    pub fn contains(&self, key: &LeafKey) -> bool {
        self.from.is_none_or(|from| from <= *key) && self.to.is_none_or(|to| *key < to)
    }
}

/// A current consent row as read, borrowed from the database's buffers (see
/// [`ConsentStore::consented_among`]).
#[derive(Debug, Clone, Copy)]
pub struct ConsentStateRef<'a> {
    pub subject_id: &'a [u8; 16],
    pub purpose: &'a str,
    pub channel: &'a str,
    pub granted: bool,
    pub source: &'a str,
    pub notice_version: Option<&'a str>,
    pub created_ms: i64,
    pub state_mac: Option<&'a [u8]>,
}

impl ConsentStateRef<'_> {
    pub fn to_row(&self) -> ConsentRow {
        ConsentRow {
            id: [0; 16],
            subject_id: *self.subject_id,
            purpose: self.purpose.to_string(),
            channel: self.channel.to_string(),
            granted: self.granted,
            source: self.source.to_string(),
            notice_version: self.notice_version.map(str::to_string),
            actor: String::new(),
            created_ms: self.created_ms,
            state_mac: self.state_mac.and_then(|m| <[u8; 32]>::try_from(m).ok()),
        }
    }
}

impl ConsentRow {
    pub fn as_state_ref(&self) -> ConsentStateRef<'_> {
        ConsentStateRef {
            subject_id: &self.subject_id,
            purpose: &self.purpose,
            channel: &self.channel,
            granted: self.granted,
            source: &self.source,
            notice_version: self.notice_version.as_deref(),
            created_ms: self.created_ms,
            state_mac: self.state_mac.as_ref().map(|m| &m[..]),
        }
    }
}

/// A check of each consent state row as it is read: true if it says what it was written to say.
pub type StateCheck = std::sync::Arc<dyn Fn(&ConsentStateRef<'_>) -> bool + Send + Sync>;

/// A data-subject request. States and denial reasons use the Data Rights Protocol's names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRow {
    pub id: Id,
    pub kind: RequestKind,
    /// None while the person is not identified (a request by e-mail to the privacy officer).
    pub subject_id: Option<Id>,
    pub jurisdiction: String,
    /// How it arrived.
    pub source: RequestSource,
    pub state: RequestState,
    pub received_ms: i64,
    pub due_ms: i64,
    /// Why the deadline was extended, once it was.
    pub extension: Option<ExtensionReason>,
    pub closed_ms: Option<i64>,
    /// Why it was denied (a DRP reason).
    pub reason: Option<DenialReason>,
    pub updated_ms: i64,
    /// The short reference people are given (40 bits; shown as `R-XXXX-XXXX`), unique.
    pub reference: i64,
    /// What an open request waits for (an erasure held by a legal hold).
    pub waiting_for: Option<WaitReason>,
    /// How and when the requester's identity was verified (None: not yet).
    pub verified: Option<(VerifiedBy, i64)>,
}

/// Data disclosed to a vendor: ids, names and times (the data itself is not kept again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisclosureRow {
    pub id: Id,
    pub subject_id: Id,
    /// The vendor's name in the policy.
    pub vendor: String,
    pub purpose: String,
    /// Category names, comma-separated.
    pub categories: String,
    /// The ids (as the API writes them) of the person's records disclosed too, comma-separated;
    /// empty if none.
    pub records: String,
    /// Who disclosed it (`key:…`, `staff:…`).
    pub actor: String,
    pub at_ms: i64,
}

/// An authorised agent of the Data Rights Protocol, registered from the service directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrpAgentRow {
    pub id: String,
    pub name: String,
    /// Ed25519 public key (32 bytes).
    pub verify_key: Vec<u8>,
    pub created_ms: i64,
    pub removed_ms: Option<i64>,
    /// Paused from an incident (or by an administrator): its tokens are refused until resumed.
    pub paused_ms: Option<i64>,
}

impl DrpAgentRow {
    /// Neither removed nor paused: its signed messages and tokens are accepted.
    pub fn usable(&self) -> bool {
        self.removed_ms.is_none() && self.paused_ms.is_none()
    }
}

/// A survey: its definition as JSON (questions, translations, window, mode, k).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyRow {
    pub id: Id,
    pub slug: String,
    pub definition: String,
    pub created_ms: i64,
    pub closed_ms: Option<i64>,
}

/// A differentially private release of a survey's results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyReleaseRow {
    pub id: Id,
    pub survey_id: Id,
    pub created_ms: i64,
    pub actor: String,
    /// ε spent, in millionths.
    pub epsilon_micro: i64,
    /// The noisy results (JSON).
    pub result: String,
}

/// The agent's side of a request it filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrpRequestRow {
    pub request_id: Id,
    pub agent_id: String,
    pub agent_request_id: Option<String>,
    pub status_callback: Option<String>,
}

/// Which requests to list: ordered by due date, then id.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    /// None: every request not closed (open and in progress).
    pub state: Option<String>,
    pub due_before: Option<i64>,
    /// The (due_ms, id) of the last request of the previous page.
    pub after: Option<(i64, Id)>,
    pub subject: Option<Id>,
    /// One request by its short reference (then any state, unless `state` is given).
    pub reference: Option<i64>,
    pub limit: i64,
}

/// One kind of request in the open queue (see [`RequestStore::open_requests_by_kind`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenKindCount {
    pub kind: String,
    pub open: i64,
    pub overdue: i64,
    pub waiting: i64,
    pub soonest_due_ms: Option<i64>,
}

/// One segment of the subject index (see migrations/sqlite/0010_subject_leaves.sql).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafSegment {
    pub segment: i64,
    /// 0–2 by size; -1 while a merge builds it; -2 once merged away.
    pub level: i64,
    pub entries: i64,
    pub first_idx: i64,
    pub last_idx: i64,
}

/// A published policy version. `version` is assigned by the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    pub version: i64,
    pub hash: [u8; 32],
    pub published_ms: i64,
    pub actor: String,
    pub policy: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRow {
    pub id: Id,
    pub url: String,
    /// Comma-separated event types, or `*`.
    pub event_types: String,
    pub created_ms: i64,
    pub removed_ms: Option<i64>,
    pub cursor: i64,
    pub attempts: i64,
    pub next_attempt_ms: i64,
    pub last_status: Option<i64>,
    /// Paused: nothing is sent, the cursor stays, resuming sends what was held.
    pub paused_ms: Option<i64>,
    /// Which of the subscription's derived signing secrets is current (0 until rotated).
    pub secret_version: i64,
    /// The previous secret also signs until then (a rotation's grace period).
    pub previous_secret_until_ms: Option<i64>,
}

/// One event in the transactional outbox. `seq` is assigned by the database on insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub seq: i64,
    pub id: Id,
    /// `consent.changed`, `subject.erased`, …
    pub kind: String,
    pub subject_id: Option<Id>,
    /// JSON: ids and states only.
    pub payload: String,
    pub created_ms: i64,
}

/// A sign-in code sent (or, for an unknown address, pretended to be sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeRow {
    pub id: Id,
    /// None when the address is unknown: the challenge exists so the answer looks the same.
    pub subject_id: Option<Id>,
    pub code_digest: [u8; 32],
    pub created_ms: i64,
    pub expires_ms: i64,
    pub attempts: i64,
    pub used_ms: Option<i64>,
}

/// A privacy-center session, by the keyed digest of its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub digest: [u8; 32],
    pub subject_id: Id,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub revoked_ms: Option<i64>,
}

/// One consent decision by a person: for a purpose (and channel, `""` if the purpose has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    pub id: Id,
    pub subject_id: Id,
    pub purpose: String,
    pub channel: String,
    pub granted: bool,
    /// How it was collected: portal, api, import, gpc, agent.
    pub source: String,
    pub notice_version: Option<String>,
    pub actor: String,
    pub created_ms: i64,
    /// For the current state: the keyed MAC binding the row to what it says (written with it,
    /// checked by the core on every read; None only for rows from before MACs).
    pub state_mac: Option<[u8; 32]>,
}

/// A bulk import's checkpoint. `id` names the file and purpose (a SHA-256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportProgress {
    pub id: [u8; 32],
    pub rows_done: i64,
    pub updated_ms: i64,
}

/// Why one job of a batch was not applied. The rest of the batch is unaffected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobError {
    /// A blind index already points at another subject (e.g. the e-mail is taken).
    IndexTaken,
    /// The subject changed since it was read; re-read and retry.
    Stale,
    /// The subject does not exist or was erased.
    Gone,
    /// The row already exists (duplicate id).
    Duplicate,
}

pub type JobOutcome = std::result::Result<(), JobError>;

/// Produces, inside the batch transaction, the ledger leaves and the signed head for the outcomes.
/// Its second argument holds the hashes of the leaves another process (the CLI beside a running
/// server) appended since the caller's tree size, in index order: the caller's tree takes them
/// in first, so its own leaves follow theirs instead of clashing with them.
pub type Finish<'a> = dyn FnMut(&[JobOutcome], &[[u8; 32]]) -> (Vec<LeafRow>, mamori_ledger::SignedTreeHead)
    + Send
    + 'a;

/// Opens (creating and migrating) the store a URL names: `sqlite://PATH` or `postgres://…`.
pub async fn open(url: &str) -> Result<Box<dyn Store>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        private_files(path.split('?').next().unwrap_or(path))?;
        Ok(Box::new(SqliteStore::open(path).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Box::new(PostgresStore::open(url).await?))
    } else {
        Err(StoreError::BadUrl)
    }
}

/// The database file, its WAL and shared-memory files readable by their owner alone, like the
/// master key: they hold sealed values, blind indexes and the ledger. The file is created
/// 0600 before SQLite opens it (SQLite gives the WAL and shared-memory files the database
/// file's permissions), and an existing one is narrowed to 0600.
fn private_files(path: &str) -> Result<()> {
    let file_error = |path: &str, source| StoreError::File {
        path: path.to_string(),
        source,
    };
    if path.is_empty() || path.starts_with(':') {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                for p in [
                    path.to_string(),
                    format!("{path}-wal"),
                    format!("{path}-shm"),
                ] {
                    match std::fs::metadata(&p) {
                        Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))
                                .map_err(|e| file_error(&p, e))?;
                        }
                        _ => {}
                    }
                }
            }
            Err(e) => return Err(file_error(path, e)),
        }
    }
    Ok(())
}

pub fn id_from_slice(bytes: &[u8]) -> Result<Id> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("id is not 16 bytes"))
}

pub fn hash_from_slice(bytes: &[u8]) -> Result<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("hash is not 32 bytes"))
}
