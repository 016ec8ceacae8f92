//! What a job asks the writer to do: one `Change` per row inserted, updated or deleted, applied
//! with the job's ledger events in one transaction (see `sql/shared/`).

use crate::*;

/// One change inside a job. A job's changes commit together or not at all.
#[derive(Debug, Clone)]
pub enum Change {
    InsertSubject {
        id: Id,
        created_ms: i64,
        wrapped_dek: Vec<u8>,
        fields: Vec<u8>,
    },
    /// Optimistic concurrency: applies only if the stored version is still `expected_version`.
    UpdateFields {
        id: Id,
        expected_version: i64,
        fields: Vec<u8>,
        /// The time of a change the person or the business made (retention counts from the
        /// last one); None for a change that is not activity (the retention sweep's own).
        active_ms: Option<i64>,
    },
    /// Destroys the data key, the sealed fields and every blind index of the subject, and ends
    /// its sessions. Also ends a hold (see [`Change::HoldSubject`]); Gone if fully erased already.
    EraseSubject {
        id: Id,
        erased_ms: i64,
    },
    /// Erases a subject except the categories a legal obligation keeps, or drops the categories
    /// whose hold ended. Applies only at `expected_version` (else Stale). Blind indexes, consent
    /// state and sessions end.
    HoldSubject {
        id: Id,
        expected_version: i64,
        /// Kept if the subject is already held.
        erased_ms: i64,
        held_until_ms: i64,
        wrapped_dek: Vec<u8>,
        fields: Vec<u8>,
        /// Records of these categories are deleted.
        drop_record_categories: Vec<String>,
        /// Some: a re-key is still to come (since then); None: done.
        rekey_requested_ms: Option<i64>,
    },
    /// Starts re-keying a held subject (at `expected_version`, and not already under way, else
    /// Stale): `wrapped_dek` becomes the new key, the old one is kept as `previous_wrapped_dek`
    /// until every record is re-sealed, and `fields` are the kept fields under the new key.
    RekeyStart {
        id: Id,
        expected_version: i64,
        wrapped_dek: Vec<u8>,
        previous_wrapped_dek: Vec<u8>,
        fields: Vec<u8>,
    },
    /// New ciphertext for some of the subject's records, sealed under `wrapped_dek` (Stale if
    /// that is no longer the key being re-keyed to).
    RekeyRecords {
        id: Id,
        wrapped_dek: Vec<u8>,
        records: Vec<(Id, Vec<u8>)>,
    },
    /// Every record is re-sealed under `wrapped_dek`: the old key is destroyed (Stale if
    /// `wrapped_dek` is no longer current or no re-key is under way).
    RekeyFinish {
        id: Id,
        wrapped_dek: Vec<u8>,
    },
    /// The same data keys wrapped under another key epoch: applies only if the stored keys are
    /// still `from` (else nothing happens, and the next pass tries again). Neither the key
    /// inside nor the subject's version changes, so concurrent writers are not disturbed.
    RewrapKeys {
        id: Id,
        from: Vec<u8>,
        to: Vec<u8>,
        previous: Option<(Vec<u8>, Vec<u8>)>,
    },
    /// [`Change::RewrapKeys`] for many subjects with no re-key under way, in few statements:
    /// (id, from, to).
    RewrapKeysBatch(Vec<(Id, Vec<u8>, Vec<u8>)>),
    PutIndex {
        kind: IndexKind,
        digest: IndexDigest,
        subject_id: Id,
    },
    DropIndex {
        kind: IndexKind,
        subject_id: Id,
    },
    /// Also marks the subject active at the record's time.
    InsertRecord(RecordRow),
    /// Deletes a subject's records of `category` created before `before_ms` (retention).
    DropExpiredRecords {
        subject_id: Id,
        category: String,
        before_ms: i64,
    },
    /// A new member of staff and their enrolment link (Duplicate if the address is known).
    InsertStaff {
        staff: StaffRow,
        enrolment: StaffEnrolmentRow,
    },
    /// Spends an enrolment link (Stale if used or expired at `at_ms`), sets the password and
    /// keeps the first second factor and the recovery codes' digests.
    CompleteEnrolment {
        digest: [u8; 32],
        staff_id: Id,
        password_hash: String,
        at_ms: i64,
        factor: StaffFactorRow,
        recovery_codes: Vec<[u8; 32]>,
    },
    /// A passkey ceremony starts: keeps its state until the answer (and drops the expired).
    IssuePasskeyChallenge {
        challenge: PasskeyChallengeRow,
        now_ms: i64,
    },
    /// Takes a passkey ceremony's state, once (Stale if taken already or expired at `at_ms`).
    TakePasskeyChallenge {
        digest: [u8; 32],
        at_ms: i64,
    },
    /// Another second factor for an enrolled member of staff (a passkey added while signed in).
    AddStaffFactor(StaffFactorRow),
    /// Disables a member of staff (Stale if unknown or disabled already): their sessions end
    /// and an enrolment link not used yet stops working.
    DisableStaff {
        staff_id: Id,
        at_ms: i64,
    },
    /// Starts a member of staff over (Stale if unknown): password, second factors, recovery
    /// codes and lock-out gone, sessions ended, earlier links void, enabled again, and a new
    /// enrolment link — for someone who lost every factor, or who comes back.
    ResetStaff {
        enrolment: StaffEnrolmentRow,
        at_ms: i64,
    },
    /// Removes one of a person's second factors, never their last (Stale if it is, or gone).
    RemoveStaffFactor {
        staff_id: Id,
        factor_id: Id,
    },
    /// A successful sign-in: spends the factor (Stale if the TOTP step or recovery code was
    /// taken meanwhile, or the passkey counter did not move forwards), clears the failures and
    /// opens the session.
    StaffSignedIn {
        session: StaffSessionRow,
        factor: FactorUse,
    },
    /// A failed sign-in: counts it, or locks the account until `lock_until_ms` (and starts the
    /// count again).
    StaffSignInFailed {
        staff_id: Id,
        lock_until_ms: Option<i64>,
    },
    /// The session was used (and, with `verified_ms`, a factor proved again).
    TouchStaffSession {
        digest: [u8; 32],
        seen_ms: i64,
        verified_ms: Option<i64>,
    },
    /// A factor proved again in a session (before a sensitive action): spends it like a
    /// sign-in (Stale if taken meanwhile) and notes when.
    StaffReauthenticated {
        digest: [u8; 32],
        staff_id: Id,
        factor: FactorUse,
        at_ms: i64,
    },
    /// The reminder that a training expires soon was sent.
    MarkTrainingReminded {
        staff_id: Id,
        role: String,
        at_ms: i64,
    },
    /// A passed training: replaces the person's record for the role.
    RecordTraining(StaffTrainingRow),
    /// Ends one of a person's sessions, or all of them (`session_id` None).
    EndStaffSessions {
        staff_id: Id,
        session_id: Option<Id>,
        at_ms: i64,
    },
    /// A new incident and its first timeline entry (`opened`, seq 1).
    InsertIncident {
        incident: IncidentRow,
        opened: IncidentEntryRow,
    },
    /// One more timeline entry, made only if the incident is still at `entry.seq - 1` (Stale
    /// otherwise): it sets the status or severity the entry names and the version to its seq.
    AppendIncidentEntry(IncidentEntryRow),
    /// Records that an automatic signal opened an incident (Duplicate if it did already).
    RecordSignal {
        signal: String,
        incident_id: Id,
        at_ms: i64,
    },
    /// Notes when an incident first reached a milestone (kept as it is if it already did).
    MarkIncidentMilestone {
        incident_id: Id,
        milestone: String,
        at_ms: i64,
    },
    /// Notes that an incident duty's reminder went out (Duplicate if it already did).
    MarkIncidentReminded {
        incident_id: Id,
        duty: String,
        due_ms: i64,
    },
    /// Records who prepares an incident's notices (replacing an earlier run's words) and adds
    /// the people not noticed yet (those already are keep their notice as it stands).
    PrepareNotices {
        run: NoticeRunRow,
        notices: Vec<NoticeRow>,
    },
    /// Moves one notice from the state it was read in (Duplicate if it moved meanwhile: another
    /// server took it). `sent` sets the time it went out.
    MoveNotice {
        incident_id: Id,
        subject_id: Id,
        from: String,
        to: String,
        at_ms: i64,
        attempts: i64,
        sent: bool,
        /// The person's law, when their address was read (kept otherwise).
        jurisdiction: Option<String>,
    },
    InsertLegalHold(LegalHoldRow),
    /// Lifts a hold not lifted yet (Gone otherwise).
    LiftLegalHold {
        id: Id,
        lifted_ms: i64,
    },
    InsertApiKey(ApiKeyRow),
    RevokeApiKey {
        id: Id,
        revoked_ms: i64,
    },
    /// Records how far a bulk import got (upsert).
    SaveImportProgress(ImportProgress),
    /// Appends a consent event and sets the current state it implies (subject must be live).
    RecordConsent(ConsentRow),
    /// Announces a change to other systems; committed with the change itself.
    Announce(OutboxRow),
    /// Announces `kind` with `payload` once per live subject (each event's `subject_id` is the
    /// subject; the payload names none): every live subject, or those whose current consent
    /// grants `granted_purpose` on some channel.
    AnnounceToSubjects {
        kind: String,
        payload: String,
        created_ms: i64,
        granted_purpose: Option<String>,
    },
    InsertWebhook(WebhookRow),
    RemoveWebhook {
        id: Id,
        removed_ms: i64,
    },
    /// Pauses (Some: since when) or resumes (None) an active subscription; Gone if it is not
    /// active. Pausing a paused one keeps its first pause time.
    PauseWebhook {
        id: Id,
        paused_ms: Option<i64>,
    },
    /// Makes `secret_version` current if the current one is the one before it (Stale if not;
    /// Gone if the subscription is not active).
    RotateWebhookSecret {
        id: Id,
        secret_version: i64,
        previous_secret_until_ms: Option<i64>,
    },
    /// Where a subscription's delivery stands (after a delivery, a failure or skipped events).
    WebhookProgress {
        id: Id,
        /// Applies only if the stored cursor is still this one (None: always). The delivery
        /// task passes the cursor it started its page from, so a replay made meanwhile wins.
        expected_cursor: Option<i64>,
        cursor: i64,
        attempts: i64,
        next_attempt_ms: i64,
        last_status: Option<i64>,
    },
    /// Records a published version of the policy.
    PublishPolicy(PolicyVersion),
    InsertChallenge(ChallengeRow),
    /// Counts one try at a code: Gone if the challenge is used or already has `max` tries.
    ChallengeAttempt {
        id: Id,
        max: i64,
    },
    /// The right code: the challenge is spent (Gone if it already was).
    UseChallenge {
        id: Id,
        used_ms: i64,
    },
    InsertSession(SessionRow),
    RevokeSession {
        digest: [u8; 32],
        revoked_ms: i64,
    },
    /// Indexes the committed leaves `first_idx..=last_idx` by subject as a new level-0 segment.
    /// Stale unless `first_idx` directly follows the last indexed leaf (another indexer won).
    IndexSubjectLeaves {
        first_idx: i64,
        last_idx: i64,
    },
    /// Reserves segment `target` for a merge (level -1: invisible until finished). Duplicate
    /// if the id is taken.
    BeginSegmentMerge {
        target: i64,
    },
    /// Copies into `target` the entries of `sources` whose (subject id, leaf index) falls in
    /// `keys`, sorted, so each chunk appends after the previous one.
    MergeSegmentChunk {
        sources: Vec<i64>,
        target: i64,
        keys: KeyRange,
    },
    /// Makes `target` visible at `level` and retires `sources` (level -2), in one step, so a
    /// reader sees each entry exactly once. Gone if the merge was abandoned.
    FinishSegmentMerge {
        sources: Vec<i64>,
        target: i64,
        level: i64,
    },
    /// Deletes the first `limit` entries of a retired or abandoned segment (a chunk of them);
    /// Gone once there are none left.
    DropSegmentEntries {
        segment: i64,
        limit: i64,
    },
    /// Forgets a retired or abandoned segment once its entries are gone.
    ForgetSegment {
        segment: i64,
    },
    InsertRequest(RequestRow),
    /// Moves a request on (state, deadline, extension, closing). Stale if its state is no
    /// longer `expected_state` (someone acted on it meanwhile).
    UpdateRequest {
        expected_state: RequestState,
        row: RequestRow,
    },
    /// Notes that the reminder for a request's current deadline went out. Stale if the request
    /// was closed, its deadline moved, or the reminder was already noted.
    MarkRequestReminded {
        id: Id,
        due_ms: i64,
    },
    /// Registers a Data Rights Protocol agent (Duplicate if the id is taken, even if removed).
    InsertDrpAgent(DrpAgentRow),
    /// Records data disclosed to a vendor (with the allowed event of the same decision).
    RecordDisclosure(crate::DisclosureRow),
    /// Records many disclosures at once (a batch's part), as multi-row inserts.
    RecordDisclosures(Vec<crate::DisclosureRow>),
    /// Opens a vendor's task (with the erasure, correction or opt-out that calls for it).
    InsertVendorTask(crate::VendorTaskRow),
    /// The vendor confirmed the task. Stale if it was confirmed already.
    ConfirmVendorTask {
        id: Id,
        confirmed_ms: i64,
    },
    /// A reminder went out; the next is due at `next_ms`. Stale if the task was confirmed or
    /// another server reminded it first (`expected_reminders` no longer matches).
    MarkVendorTaskReminded {
        id: Id,
        expected_reminders: i64,
        next_ms: i64,
    },
    /// The job committing still holds its lease with this fencing token: Stale if the lease
    /// lapsed and another server took it (what it read may be out of date; nothing is written).
    HoldsLease {
        job: String,
        holder: String,
        fence: i64,
    },
    /// A reminder about a vendor of the register went out for `occasion` (e.g.
    /// `contract_end@2027-03-31`). Duplicate if it went out already (another server).
    MarkVendorReminded {
        vendor: String,
        occasion: String,
        sent_ms: i64,
    },
    /// Pauses (Some) or resumes (None) an agent that is not removed; Gone if it is.
    PauseDrpAgent {
        id: String,
        paused_ms: Option<i64>,
    },
    RemoveDrpAgent {
        id: String,
        removed_ms: i64,
    },
    /// A signed DRP message acted on (Duplicate if it was already): kept until `expires_ms`;
    /// spent messages past their expiry are dropped in the same job.
    SpendDrpMessage {
        digest: [u8; 32],
        expires_ms: i64,
        now_ms: i64,
    },
    /// A pair-wise bearer token for an agent, by keyed digest; the agent's earlier tokens are
    /// revoked in the same job (pairing again replaces the token).
    InsertDrpToken {
        digest: [u8; 32],
        agent_id: String,
        created_ms: i64,
    },
    /// Gives the current consent rows from before MACs theirs, and removes the marker that says
    /// some were missing (from then on a row without a MAC is a failed check).
    SealConsentState(Vec<ConsentRow>),
    /// Which agent filed a request (the request is inserted in the same job).
    InsertDrpRequest(DrpRequestRow),
    /// A new survey (its slug must be free).
    InsertSurvey(SurveyRow),
    /// Stops a survey taking responses. Gone if it was closed already.
    CloseSurvey {
        id: Id,
        closed_ms: i64,
    },
    /// One anonymous response: a random id, the day it came (days since 1970-01-01 UTC) and the
    /// answers as JSON. Nothing else about who or when.
    InsertSurveyResponse {
        id: Id,
        survey_id: Id,
        day: i64,
        answers: String,
        /// The answers as one code per question, what results are counted from.
        coded: Vec<u8>,
        /// The free-text answers alone (JSON), if any.
        texts: Option<String>,
    },
    /// The blind-signature key of an invited survey (inserted with the survey).
    InsertSurveyIssuer {
        survey_id: Id,
        /// SubjectPublicKeyInfo DER.
        public_key: Vec<u8>,
        /// The PKCS#1 secret key, sealed under the keyring.
        sealed_secret: Vec<u8>,
    },
    /// Invites a live subject (Gone if erased or its token was issued already); a repeated
    /// invitation replaces the code of the one before.
    InviteToSurvey {
        survey_id: Id,
        subject_id: Id,
        code_digest: [u8; 32],
        day: i64,
    },
    /// Marks the invitation with this code as having had its token (Gone if it had, or there
    /// is none).
    ClaimSurveyInvitation {
        survey_id: Id,
        code_digest: [u8; 32],
    },
    /// Records that a person answered an identified survey (Duplicate if they had).
    MarkSurveyParticipant {
        survey_id: Id,
        subject_id: Id,
    },
    /// Records a token as used (Duplicate if it was), in the job that stores its response.
    SpendSurveyToken {
        survey_id: Id,
        digest: [u8; 32],
    },
    /// A differentially private release, inserted only if the survey's spent ε plus this
    /// one's stays within `budget_micro` (Gone otherwise).
    InsertSurveyRelease {
        release: SurveyReleaseRow,
        budget_micro: i64,
    },
    /// Gives up on one event for one subscription (kept for replay).
    DeadLetter {
        webhook_id: Id,
        seq: i64,
        attempts: i64,
        last_status: Option<i64>,
        failed_ms: i64,
    },
}

impl Change {
    /// Whether applying this destroys a subject's key or replaces sealed data: the old bytes
    /// must then be scrubbed from freed pages and from the write-ahead log, not merely unlinked.
    pub fn destroys_key_material(&self) -> bool {
        matches!(
            self,
            Change::EraseSubject { .. }
                | Change::HoldSubject { .. }
                | Change::RekeyStart { .. }
                | Change::RekeyRecords { .. }
                | Change::RekeyFinish { .. }
        )
    }
}
