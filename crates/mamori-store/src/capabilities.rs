//! What the store can do, one trait per capability (lldap's pattern): each backend implements
//! every one of them, and [`Store`] is all of them together. A caller that needs only surveys
//! can take `&dyn SurveyStore`; core holds one `Arc<dyn Store>`, whose methods are those of
//! every capability (a trait object's supertraits need no import).

use async_trait::async_trait;
use mamori_ledger::SignedTreeHead;

use crate::*;

/// Where the data lives and the one way to change it: [`Storage::commit_batch`].
#[async_trait]
pub trait Storage: Send + Sync {
    fn backend(&self) -> &'static str;

    /// The directory holding the database files, when they are local (SQLite): readiness
    /// watches its free space.
    fn data_dir(&self) -> Option<std::path::PathBuf> {
        None
    }

    /// Why the database this store opened is no longer where it was, if it is not (a local
    /// file deleted or replaced while in use); checked before each commit and by readiness.
    fn lost(&self) -> Option<String> {
        None
    }

    /// Applies each job under a savepoint, then writes what `finish` returns, then commits once.
    /// `tree_size` is how many leaves the caller's tree holds: stored leaves from that index on
    /// were written by another process and are handed to `finish`. Writers take turns (SQLite's
    /// write lock, a PostgreSQL advisory lock), so none can be appended meanwhile.
    async fn commit_batch(
        &self,
        jobs: &[Vec<Change>],
        tree_size: u64,
        finish: &mut Finish<'_>,
    ) -> Result<Vec<JobOutcome>>;

    /// Tunes the connection for a bulk import in this process (SQLite: a large writer cache).
    async fn prepare_bulk_load(&self) -> Result<()>;

    /// Writes a consistent copy of the database to the new file `to`, while writers go on;
    /// `false` if this backend's copies are made by other tools (PostgreSQL: `pg_dump`).
    async fn snapshot_into(&self, to: &std::path::Path) -> Result<bool>;
}

/// People: their sealed rows, blind indexes, records, holds and imports.
#[async_trait]
pub trait SubjectStore: Send + Sync {
    async fn subject(&self, id: &Id) -> Result<Option<SubjectRow>>;

    /// The rows of those of `ids` that exist (erased ones too), in no particular order.
    async fn subjects_among(&self, ids: &[Id]) -> Result<Vec<SubjectRow>>;

    /// Those of `ids` that exist (erased ones too), ids only.
    async fn existing_among(&self, ids: &[Id]) -> Result<Vec<Id>>;

    async fn find_by_index(&self, kind: IndexKind, digest: &IndexDigest) -> Result<Option<Id>>;

    async fn records(&self, subject: &Id, limit: i64) -> Result<Vec<RecordRow>>;

    /// Of `ids`, the records that are `subject`'s (at most 100 ids; any order).
    async fn records_among(&self, subject: &Id, ids: &[Id]) -> Result<Vec<RecordRow>>;

    /// Of `categories`, those the subject has records in (one index probe each; the records
    /// are not read).
    async fn record_categories(&self, subject: &Id, categories: &[String]) -> Result<Vec<String>>;

    async fn count_subjects(&self) -> Result<i64>;

    async fn import_progress(&self, id: &[u8; 32]) -> Result<Option<ImportProgress>>;

    /// The newest `limit` records of `subject`, newest first.
    async fn records_newest(&self, subject: &Id, limit: i64) -> Result<Vec<RecordRow>>;

    /// A subject's records of one category, newest first, older than `before` (a record's
    /// time and id) if given.
    async fn records_of_kind(
        &self,
        subject: &Id,
        category: &str,
        before: Option<(i64, Id)>,
        limit: i64,
    ) -> Result<Vec<RecordRow>>;

    /// How many records `subject` has of each category.
    async fn record_counts(&self, subject: &Id) -> Result<Vec<(String, i64)>>;

    /// Held subjects whose kept part waits to be re-sealed under a fresh key, oldest first.
    async fn holds_to_rekey(&self, limit: i64) -> Result<Vec<SubjectRow>>;

    /// Held subjects (see [`Change::HoldSubject`]) whose next hold ends before `before_ms`.
    async fn holds_ending(&self, before_ms: i64, limit: i64) -> Result<Vec<SubjectRow>>;

    /// Deletes up to `limit` record rows of erased subjects (not held ones); returns how many went.
    async fn purge_erased(&self, limit: i64) -> Result<u64>;

    /// Erased subjects (held ones too) with the time of their erasure, by id after `after`.
    async fn erased_subjects(&self, after: Option<Id>, limit: i64) -> Result<Vec<(Id, i64)>>;
}

/// The ledger: leaves, signed heads, and the index of leaves by subject.
#[async_trait]
pub trait LedgerStore: Send + Sync {
    async fn leaves(&self, from: u64, limit: i64) -> Result<Vec<LeafRow>>;

    async fn leaf_hashes(&self, from: u64, limit: i64) -> Result<Vec<[u8; 32]>>;

    /// Every leaf from `from` on, in order, in pages (for full verification). The pages come
    /// from one consistent snapshot; `subject_id` is not filled in.
    fn stream_leaves(&self, from: u64) -> tokio::sync::mpsc::Receiver<Result<Vec<LeafRow>>>;

    async fn heads(&self) -> Result<Vec<SignedTreeHead>>;

    /// The ledger leaves about `subject` with an index below `before`, newest first, at most
    /// `limit`: from the subject index's visible segments plus the leaves not indexed yet.
    async fn subject_leaves(&self, subject: &Id, before: u64, limit: i64) -> Result<Vec<LeafRow>>;

    /// Every segment of the subject index, in id order (all levels).
    async fn leaf_segments(&self) -> Result<Vec<LeafSegment>>;

    /// The keys of the leaves at `idxs` that concern a subject (to sample a merge's entries).
    async fn leaf_keys(&self, idxs: &[i64]) -> Result<Vec<LeafKey>>;

    async fn latest_head(&self) -> Result<Option<SignedTreeHead>>;
}

/// Who may come in: API keys, sign-in challenges, privacy-center sessions.
#[async_trait]
pub trait AccessStore: Send + Sync {
    async fn api_key_by_digest(&self, digest: &[u8; 32]) -> Result<Option<ApiKeyRow>>;

    async fn api_keys(&self) -> Result<Vec<ApiKeyRow>>;

    async fn challenge(&self, id: &Id) -> Result<Option<ChallengeRow>>;

    /// How many sign-in challenges were made for `subject` (by any of their addresses) since then.
    async fn challenges_since(&self, subject: &Id, since_ms: i64) -> Result<i64>;

    async fn session(&self, digest: &[u8; 32]) -> Result<Option<SessionRow>>;
}

/// The published versions of the governance policy.
#[async_trait]
pub trait PolicyStore: Send + Sync {
    /// Published policy versions, oldest first.
    async fn policy_versions(&self) -> Result<Vec<PolicyVersion>>;

    /// The latest published version and its hash, without the text (read on every consent change).
    async fn latest_policy_version(&self) -> Result<Option<(i64, [u8; 32])>>;
}

/// Consent: the current state per purpose and channel, and its history.
#[async_trait]
pub trait ConsentStore: Send + Sync {
    /// The current consent state of a subject, one row per (purpose, channel) ever decided.
    async fn consents(&self, subject: &Id) -> Result<Vec<ConsentRow>>;

    /// Every consent decision ever recorded for `subject` (the history), oldest first.
    async fn consent_history(&self, subject: &Id) -> Result<Vec<ConsentRow>>;

    /// The id of the latest recorded decision for one subject, purpose and channel (the one
    /// the current state comes from), if any.
    async fn latest_consent_event(
        &self,
        subject: &Id,
        purpose: &str,
        channel: &str,
    ) -> Result<Option<Id>>;

    /// Of `subjects`, those whose current state row (live subjects) grants `purpose` on
    /// `channel` and passes `check` (the caller's MAC check, run on each row as it is read,
    /// without copying it); a row that fails it is returned instead, for the caller to report.
    async fn consented_among(
        &self,
        subjects: &[Id],
        purpose: &str,
        channel: &str,
        check: StateCheck,
    ) -> Result<std::result::Result<Vec<Id>, ConsentRow>>;

    /// Every current consent row that has no MAC yet, if the database still has rows from before
    /// MACs (the migration's marker is there); None once they are sealed.
    async fn unsealed_consent_state(&self) -> Result<Option<Vec<ConsentRow>>>;
}

/// Rights requests and the Data Rights Protocol agents that file them.
#[async_trait]
pub trait RequestStore: Send + Sync {
    async fn request(&self, id: &Id) -> Result<Option<RequestRow>>;

    /// Open requests due before `before_ms` whose current deadline has had no reminder yet,
    /// soonest first.
    async fn requests_to_remind(&self, before_ms: i64, limit: i64) -> Result<Vec<RequestRow>>;

    async fn requests(&self, filter: &RequestFilter) -> Result<Vec<RequestRow>>;

    /// Requests not closed: (all, due before `now_ms`, due from `now_ms` to before `soon_ms`),
    /// each counted up to `cap`.
    async fn open_request_counts(
        &self,
        now_ms: i64,
        soon_ms: i64,
        cap: i64,
    ) -> Result<(i64, i64, i64)>;

    /// The open queue counted by kind, exactly, in one aggregate (the privacy report): each
    /// kind's open requests, those due before `now_ms`, those waiting, and the soonest due date.
    async fn open_requests_by_kind(&self, now_ms: i64) -> Result<Vec<OpenKindCount>>;

    /// Open requests that wait for something (an erasure a legal hold keeps), oldest first.
    async fn waiting_requests(&self, limit: i64) -> Result<Vec<RequestRow>>;

    async fn drp_agent(&self, id: &str) -> Result<Option<DrpAgentRow>>;

    /// Every agent ever registered, by id.
    async fn drp_agents(&self) -> Result<Vec<DrpAgentRow>>;

    /// The agent a token belongs to and when the token was issued (live agents only).
    async fn drp_token_agent(&self, digest: &[u8; 32]) -> Result<Option<(String, i64)>>;

    async fn drp_request(&self, request_id: &Id) -> Result<Option<DrpRequestRow>>;
}

/// Surveys, their unlinkable responses, invitations and private releases.
#[async_trait]
pub trait SurveyStore: Send + Sync {
    async fn survey(&self, slug: &str) -> Result<Option<SurveyRow>>;

    async fn surveys(&self) -> Result<Vec<SurveyRow>>;

    /// Every response's answers (JSON), in the order of their random ids.
    async fn survey_answers(&self, survey_id: &Id) -> Result<Vec<String>>;

    /// Every response's coded answers, in no particular order.
    async fn survey_codes(&self, survey_id: &Id) -> Result<Vec<Vec<u8>>>;

    /// Up to `limit` responses' free-text answers (JSON), in the order of their random ids.
    async fn survey_texts(&self, survey_id: &Id, limit: i64) -> Result<Vec<String>>;

    /// Up to `limit` responses' free-text answers (JSON) after the response id `after`, in id
    /// order (the ids are random, so this is no arrival order): one page of a listing.
    async fn survey_texts_page(
        &self,
        survey_id: &Id,
        after: Option<Id>,
        limit: i64,
    ) -> Result<Vec<(Id, String)>>;

    /// An invited survey's issuer: (public key DER, sealed secret key).
    async fn survey_issuer(&self, survey_id: &Id) -> Result<Option<(Vec<u8>, Vec<u8>)>>;

    /// Whether `subject` is invited to the survey, and if so whether its token was issued.
    async fn survey_invitation(&self, survey_id: &Id, subject_id: &Id) -> Result<Option<bool>>;

    /// The invitation with this code: whether its token was issued.
    async fn survey_invitation_by_code(
        &self,
        survey_id: &Id,
        code_digest: &[u8; 32],
    ) -> Result<Option<bool>>;

    /// Invitations sent and tokens issued.
    async fn survey_invitation_counts(&self, survey_id: &Id) -> Result<(i64, i64)>;

    /// A survey's differentially private releases, oldest first.
    async fn survey_releases(&self, survey_id: &Id) -> Result<Vec<SurveyReleaseRow>>;
}

/// The outbox and the webhook subscriptions that consume it.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Subscriptions not removed, oldest first.
    async fn webhooks(&self) -> Result<Vec<WebhookRow>>;

    async fn webhook(&self, id: &Id) -> Result<Option<WebhookRow>>;

    /// The highest outbox seq (0 if empty).
    async fn last_event_seq(&self) -> Result<i64>;

    /// Dead letters of a subscription: (seq, attempts, last status).
    async fn dead_letters(&self, webhook: &Id) -> Result<Vec<(i64, i64, Option<i64>)>>;

    /// Outbox events with `seq > after`, oldest first.
    async fn events_after(&self, after: i64, limit: i64) -> Result<Vec<OutboxRow>>;
}

/// The wrapped data keys of subjects, by the key epoch they are wrapped under. A wrapped key
/// starts with its epoch in big-endian order, so "wrapped under an earlier epoch" is a range of
/// the bytes (see `mamori_crypto::epoch_floor`); both columns count (`previous_wrapped_dek` is
/// the key a re-key under way is replacing).
#[async_trait]
pub trait KeyWrapStore: Send + Sync {
    /// Subjects with a key (current or previous) that sorts below `floor`, by id after `after`.
    async fn keys_wrapped_below(
        &self,
        floor: &[u8],
        after: Option<Id>,
        limit: i64,
    ) -> Result<Vec<WrappedKeys>>;

    /// How many keys (of both columns) sort in `[from, to)`; `to = None` means no upper bound.
    async fn count_keys_wrapped_within(&self, from: &[u8], to: Option<&[u8]>) -> Result<i64>;
}

/// What the retention sweep reads: live subjects inactive since a time, and records past a
/// category's retention.
#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Live subjects (not erased) last active before `before_ms` (never active: created before
    /// it), by id after `after`.
    async fn inactive_subjects(
        &self,
        before_ms: i64,
        after: Option<Id>,
        limit: i64,
    ) -> Result<Vec<InactiveSubject>>;

    /// Live subjects whose every consent to any of `purposes` is withdrawn, the last change
    /// before `before_ms`, by id after `after` (consent rows unverified: the caller checks).
    async fn consent_withdrawn_subjects(
        &self,
        purposes: &[String],
        before_ms: i64,
        after: Option<Id>,
        limit: i64,
    ) -> Result<Vec<InactiveSubject>>;

    /// The newest record's time per category of one subject.
    async fn newest_records(&self, subject: &Id) -> Result<Vec<(String, i64)>>;

    /// Live subjects with records of `category` created before `before_ms`, with how many.
    async fn expired_records(
        &self,
        category: &str,
        before_ms: i64,
        after: Option<Id>,
        limit: i64,
    ) -> Result<Vec<(Id, i64)>>;
}

/// Legal holds.
#[async_trait]
pub trait LegalHoldStore: Send + Sync {
    /// Holds in force at `now_ms` (not lifted, not past their end), oldest first.
    async fn legal_holds(&self, now_ms: i64) -> Result<Vec<LegalHoldRow>>;

    async fn legal_hold(&self, id: &Id) -> Result<Option<LegalHoldRow>>;
}

/// The incident register and its timelines.
#[async_trait]
pub trait IncidentStore: Send + Sync {
    /// Every incident, newest first.
    async fn incidents(&self) -> Result<Vec<IncidentRow>>;

    async fn incident(&self, id: &Id) -> Result<Option<IncidentRow>>;

    /// An incident's timeline, oldest first.
    async fn incident_entries(&self, id: &Id) -> Result<Vec<IncidentEntryRow>>;

    /// The duties (`jurisdiction:recipient`) whose reminder went out for an incident.
    async fn incident_reminded(&self, id: &Id) -> Result<Vec<String>>;

    /// The milestones an incident reached outside its timeline, and when first.
    async fn incident_milestones(&self, id: &Id) -> Result<Vec<(String, i64)>>;
}

/// Notices of incidents to the people they affected.
#[async_trait]
pub trait NoticeStore: Send + Sync {
    /// Who prepared an incident's notices, if anyone did.
    async fn notice_run(&self, incident: &Id) -> Result<Option<NoticeRunRow>>;

    /// Every notice of an incident.
    async fn incident_notices(&self, incident: &Id) -> Result<Vec<NoticeRow>>;

    /// Notices to act on, oldest first: pending ones, and ones left `sending` since before
    /// `stale_ms` (their server stopped while handing them over).
    async fn notices_due(&self, stale_ms: i64, limit: i64) -> Result<Vec<NoticeRow>>;

    /// The notices of incidents that concerned one person.
    async fn subject_notices(&self, subject: &Id) -> Result<Vec<NoticeRow>>;
}

/// What was disclosed to vendors.
#[async_trait]
pub trait DisclosureStore: Send + Sync {
    /// One person's disclosures, oldest first.
    async fn subject_disclosures(&self, subject: &Id) -> Result<Vec<DisclosureRow>>;

    /// Disclosures made in `[from_ms, to_ms)`, oldest first, at most `limit`.
    async fn disclosures_between(
        &self,
        from_ms: i64,
        to_ms: i64,
        limit: i64,
    ) -> Result<Vec<DisclosureRow>>;

    /// For these purposes, since `since_ms`: each distinct (vendor, purpose, categories).
    async fn disclosure_summary(
        &self,
        purposes: &[String],
        since_ms: i64,
    ) -> Result<Vec<(String, String, String)>>;
}

/// What vendors were asked to do after a person's erasure, correction or opt-out.
#[async_trait]
pub trait VendorTaskStore: Send + Sync {
    async fn vendor_task(&self, id: &Id) -> Result<Option<VendorTaskRow>>;

    /// One person's vendor tasks, oldest first.
    async fn subject_vendor_tasks(&self, subject: &Id) -> Result<Vec<VendorTaskRow>>;

    /// Tasks newest first, only those not confirmed if `open_only`, at most `limit`.
    async fn vendor_tasks(&self, open_only: bool, limit: i64) -> Result<Vec<VendorTaskRow>>;

    /// The vendors with a task not confirmed yet, by name.
    async fn vendors_with_open_tasks(&self) -> Result<Vec<String>>;

    /// Unconfirmed tasks whose next reminder is due by `now_ms`, most overdue first.
    async fn vendor_tasks_to_remind(&self, now_ms: i64, limit: i64) -> Result<Vec<VendorTaskRow>>;

    /// The reminders about vendors that went out: (vendor, occasion).
    async fn vendor_reminders_sent(&self) -> Result<Vec<(String, String)>>;
}

/// Staff: people who sign in, and their enrolment links.
#[async_trait]
pub trait StaffStore: Send + Sync {
    async fn staff_member(&self, id: &Id) -> Result<Option<StaffRow>>;

    async fn staff_by_email(&self, index: &[u8; 32]) -> Result<Option<StaffRow>>;

    /// Everyone, oldest first.
    async fn staff_members(&self) -> Result<Vec<StaffRow>>;

    async fn staff_enrolment(&self, digest: &[u8; 32]) -> Result<Option<StaffEnrolmentRow>>;
}

/// Staff sign-in: second factors, recovery codes and sessions.
#[async_trait]
pub trait StaffSignInStore: Send + Sync {
    async fn staff_factors(&self, staff_id: &Id) -> Result<Vec<StaffFactorRow>>;

    /// The digests of the person's recovery codes not used yet.
    async fn unused_recovery_codes(&self, staff_id: &Id) -> Result<Vec<[u8; 32]>>;

    async fn staff_session(&self, digest: &[u8; 32]) -> Result<Option<StaffSessionRow>>;

    /// The person's sessions not ended, newest first.
    async fn open_staff_sessions(&self, staff_id: &Id) -> Result<Vec<StaffSessionRow>>;

    /// A passkey ceremony in flight, if it has not expired at `now_ms`.
    async fn passkey_challenge(
        &self,
        digest: &[u8; 32],
        now_ms: i64,
    ) -> Result<Option<PasskeyChallengeRow>>;

    /// The person's current training record for `role`, if any.
    async fn staff_training(&self, staff_id: &Id, role: &str) -> Result<Option<StaffTrainingRow>>;

    /// Training records expiring before `before_ms` whose reminder was not sent, soonest first.
    async fn staff_training_to_remind(
        &self,
        before_ms: i64,
        limit: i64,
    ) -> Result<Vec<StaffTrainingRow>>;
}

/// Leases that let one server at a time run each background job, written straight (not through
/// the ledger: they are coordination, not data or actions).
#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Takes `job`'s lease for `holder` until `until_ms` if it is free, lapsed (expired before
    /// `now_ms`) or already `holder`'s: its fencing token (raised whenever the lease changes
    /// hands), or None while another holds it.
    async fn take_lease(
        &self,
        job: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Option<i64>>;

    /// Gives up every lease `holder` has, so other servers take over at once.
    async fn release_leases(&self, holder: &str) -> Result<()>;
}

/// Every capability: what a backend is.
pub trait Store:
    Storage
    + SubjectStore
    + KeyWrapStore
    + RetentionStore
    + LegalHoldStore
    + IncidentStore
    + NoticeStore
    + DisclosureStore
    + VendorTaskStore
    + StaffStore
    + StaffSignInStore
    + LedgerStore
    + AccessStore
    + PolicyStore
    + ConsentStore
    + RequestStore
    + SurveyStore
    + EventStore
    + LeaseStore
    + 'static
{
}

impl<T> Store for T where
    T: Storage
        + SubjectStore
        + KeyWrapStore
        + RetentionStore
        + LegalHoldStore
        + IncidentStore
        + NoticeStore
        + DisclosureStore
        + VendorTaskStore
        + StaffStore
        + StaffSignInStore
        + LedgerStore
        + AccessStore
        + PolicyStore
        + ConsentStore
        + RequestStore
        + SurveyStore
        + EventStore
        + LeaseStore
        + 'static
{
}
