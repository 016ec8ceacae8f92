//! Rows as the database returns them (`sqlx::FromRow`, by column name), and their conversion
//! into the store's types: ids and hashes checked for length, integers into flags.

use mamori_ledger::{SignedTreeHead, TreeHead};

use crate::*;

/// Converts rows read as `R` into `T`.
pub(super) fn convert<R, T>(rows: Vec<R>) -> Result<Vec<T>>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

/// Converts a row read as `R`, if there was one, into `T`.
pub(super) fn convert_one<R, T>(row: Option<R>) -> Result<Option<T>>
where
    T: TryFrom<R, Error = StoreError>,
{
    row.map(T::try_from).transpose()
}

/// A stored wire value (a request's kind, state, …) read back; anything else is corruption.
fn wire<T>(text: &str, parse: fn(&str) -> Option<T>, what: &'static str) -> Result<T> {
    parse(text).ok_or(StoreError::Corrupt(what))
}

fn optional_id(bytes: Option<Vec<u8>>) -> Result<Option<Id>> {
    bytes.map(|b| id_from_slice(&b)).transpose()
}

pub(super) const SUBJECT_COLUMNS: &str = "id, created_ms, version, wrapped_dek, fields, erased_ms, held_until_ms, rekey_requested_ms, previous_wrapped_dek";

#[derive(sqlx::FromRow)]
pub(super) struct Subject {
    id: Vec<u8>,
    created_ms: i64,
    version: i64,
    wrapped_dek: Option<Vec<u8>>,
    fields: Option<Vec<u8>>,
    erased_ms: Option<i64>,
    held_until_ms: Option<i64>,
    rekey_requested_ms: Option<i64>,
    previous_wrapped_dek: Option<Vec<u8>>,
}

impl TryFrom<Subject> for SubjectRow {
    type Error = StoreError;
    fn try_from(r: Subject) -> Result<SubjectRow> {
        Ok(SubjectRow {
            id: id_from_slice(&r.id)?,
            created_ms: r.created_ms,
            version: r.version,
            wrapped_dek: r.wrapped_dek,
            fields: r.fields,
            erased_ms: r.erased_ms,
            held_until_ms: r.held_until_ms,
            rekey_requested_ms: r.rekey_requested_ms,
            previous_wrapped_dek: r.previous_wrapped_dek,
        })
    }
}

pub(super) const RECORD_COLUMNS: &str = "id, subject_id, category, created_ms, sealed";

#[derive(sqlx::FromRow)]
pub(super) struct Record {
    id: Vec<u8>,
    subject_id: Vec<u8>,
    category: String,
    created_ms: i64,
    sealed: Vec<u8>,
}

impl TryFrom<Record> for RecordRow {
    type Error = StoreError;
    fn try_from(r: Record) -> Result<RecordRow> {
        Ok(RecordRow {
            id: id_from_slice(&r.id)?,
            subject_id: id_from_slice(&r.subject_id)?,
            category: r.category,
            created_ms: r.created_ms,
            sealed: r.sealed,
        })
    }
}

pub(super) const REQUEST_COLUMNS: &str = "id, kind, subject_id, jurisdiction, source, state, received_ms, due_ms, extension, closed_ms, reason, updated_ms, reference, waiting_for, verified_by, verified_ms";

#[derive(sqlx::FromRow)]
pub(super) struct Request {
    id: Vec<u8>,
    kind: String,
    subject_id: Option<Vec<u8>>,
    jurisdiction: String,
    source: String,
    state: String,
    received_ms: i64,
    due_ms: i64,
    extension: Option<String>,
    closed_ms: Option<i64>,
    reason: Option<String>,
    updated_ms: i64,
    reference: i64,
    waiting_for: Option<String>,
    verified_by: Option<String>,
    verified_ms: Option<i64>,
}

impl TryFrom<Request> for RequestRow {
    type Error = StoreError;
    fn try_from(r: Request) -> Result<RequestRow> {
        Ok(RequestRow {
            id: id_from_slice(&r.id)?,
            kind: wire(&r.kind, RequestKind::parse, "request kind")?,
            subject_id: optional_id(r.subject_id)?,
            jurisdiction: r.jurisdiction,
            source: wire(&r.source, RequestSource::parse, "request source")?,
            state: wire(&r.state, RequestState::parse, "request state")?,
            received_ms: r.received_ms,
            due_ms: r.due_ms,
            extension: (r.extension.as_deref())
                .map(|e| wire(e, ExtensionReason::parse, "extension reason"))
                .transpose()?,
            closed_ms: r.closed_ms,
            reason: (r.reason.as_deref())
                .map(|e| wire(e, DenialReason::parse, "denial reason"))
                .transpose()?,
            updated_ms: r.updated_ms,
            reference: r.reference,
            waiting_for: (r.waiting_for.as_deref())
                .map(|w| wire(w, WaitReason::parse, "wait reason"))
                .transpose()?,
            verified: match (r.verified_by.as_deref(), r.verified_ms) {
                (Some(by), Some(at)) => Some((wire(by, VerifiedBy::parse, "verification")?, at)),
                _ => None,
            },
        })
    }
}

pub(super) const CONSENT_STATE_COLUMNS: &str =
    "subject_id, purpose, channel, granted, source, notice_version, updated_ms, mac";

/// A `consent_state` row (the current decision); `mac` is NULL only on rows from before MACs.
#[derive(sqlx::FromRow)]
pub(super) struct ConsentState {
    subject_id: Vec<u8>,
    purpose: String,
    channel: String,
    granted: i64,
    source: String,
    notice_version: Option<String>,
    updated_ms: i64,
    mac: Option<Vec<u8>>,
}

impl TryFrom<ConsentState> for ConsentRow {
    type Error = StoreError;
    fn try_from(r: ConsentState) -> Result<ConsentRow> {
        Ok(ConsentRow {
            id: [0; 16],
            subject_id: id_from_slice(&r.subject_id)?,
            purpose: r.purpose,
            channel: r.channel,
            granted: r.granted != 0,
            source: r.source,
            notice_version: r.notice_version,
            actor: String::new(),
            created_ms: r.updated_ms,
            state_mac: super::mac_from(r.mac),
        })
    }
}

pub(super) const CONSENT_EVENT_COLUMNS: &str =
    "id, subject_id, purpose, channel, granted, source, notice_version, actor, created_ms";

/// A `consent_events` row (one decision of the history).
#[derive(sqlx::FromRow)]
pub(super) struct ConsentEvent {
    id: Vec<u8>,
    subject_id: Vec<u8>,
    purpose: String,
    channel: String,
    granted: i64,
    source: String,
    notice_version: Option<String>,
    actor: String,
    created_ms: i64,
}

impl TryFrom<ConsentEvent> for ConsentRow {
    type Error = StoreError;
    fn try_from(r: ConsentEvent) -> Result<ConsentRow> {
        Ok(ConsentRow {
            id: id_from_slice(&r.id)?,
            subject_id: id_from_slice(&r.subject_id)?,
            purpose: r.purpose,
            channel: r.channel,
            granted: r.granted != 0,
            source: r.source,
            notice_version: r.notice_version,
            actor: r.actor,
            created_ms: r.created_ms,
            state_mac: None,
        })
    }
}

pub(super) const SURVEY_COLUMNS: &str = "id, slug, definition, created_ms, closed_ms";

#[derive(sqlx::FromRow)]
pub(super) struct Survey {
    id: Vec<u8>,
    slug: String,
    definition: String,
    created_ms: i64,
    closed_ms: Option<i64>,
}

impl TryFrom<Survey> for SurveyRow {
    type Error = StoreError;
    fn try_from(r: Survey) -> Result<SurveyRow> {
        Ok(SurveyRow {
            id: id_from_slice(&r.id)?,
            slug: r.slug,
            definition: r.definition,
            created_ms: r.created_ms,
            closed_ms: r.closed_ms,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct SurveyRelease {
    id: Vec<u8>,
    survey_id: Vec<u8>,
    created_ms: i64,
    actor: String,
    epsilon_micro: i64,
    result: String,
}

impl TryFrom<SurveyRelease> for SurveyReleaseRow {
    type Error = StoreError;
    fn try_from(r: SurveyRelease) -> Result<SurveyReleaseRow> {
        Ok(SurveyReleaseRow {
            id: id_from_slice(&r.id)?,
            survey_id: id_from_slice(&r.survey_id)?,
            created_ms: r.created_ms,
            actor: r.actor,
            epsilon_micro: r.epsilon_micro,
            result: r.result,
        })
    }
}

pub(super) const DRP_AGENT_COLUMNS: &str =
    "id, name, verify_key, created_ms, removed_ms, paused_ms";

/// Agents' ids are their directory names (text), so the row maps as it is.
#[derive(sqlx::FromRow)]
pub(super) struct DrpAgent {
    id: String,
    name: String,
    verify_key: Vec<u8>,
    created_ms: i64,
    removed_ms: Option<i64>,
    paused_ms: Option<i64>,
}

impl TryFrom<DrpAgent> for DrpAgentRow {
    type Error = StoreError;
    fn try_from(r: DrpAgent) -> Result<DrpAgentRow> {
        Ok(DrpAgentRow {
            id: r.id,
            name: r.name,
            verify_key: r.verify_key,
            created_ms: r.created_ms,
            removed_ms: r.removed_ms,
            paused_ms: r.paused_ms,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct DrpRequest {
    request_id: Vec<u8>,
    agent_id: String,
    agent_request_id: Option<String>,
    status_callback: Option<String>,
}

impl TryFrom<DrpRequest> for DrpRequestRow {
    type Error = StoreError;
    fn try_from(r: DrpRequest) -> Result<DrpRequestRow> {
        Ok(DrpRequestRow {
            request_id: id_from_slice(&r.request_id)?,
            agent_id: r.agent_id,
            agent_request_id: r.agent_request_id,
            status_callback: r.status_callback,
        })
    }
}

pub(super) const WEBHOOK_COLUMNS: &str = "id, url, event_types, created_ms, removed_ms, cursor, attempts, next_attempt_ms, last_status, paused_ms, secret_version, previous_secret_until_ms";

#[derive(sqlx::FromRow)]
pub(super) struct Webhook {
    id: Vec<u8>,
    url: String,
    event_types: String,
    created_ms: i64,
    removed_ms: Option<i64>,
    cursor: i64,
    attempts: i64,
    next_attempt_ms: i64,
    last_status: Option<i64>,
    paused_ms: Option<i64>,
    secret_version: i64,
    previous_secret_until_ms: Option<i64>,
}

impl TryFrom<Webhook> for WebhookRow {
    type Error = StoreError;
    fn try_from(r: Webhook) -> Result<WebhookRow> {
        Ok(WebhookRow {
            id: id_from_slice(&r.id)?,
            url: r.url,
            event_types: r.event_types,
            created_ms: r.created_ms,
            removed_ms: r.removed_ms,
            cursor: r.cursor,
            attempts: r.attempts,
            next_attempt_ms: r.next_attempt_ms,
            last_status: r.last_status,
            paused_ms: r.paused_ms,
            secret_version: r.secret_version,
            previous_secret_until_ms: r.previous_secret_until_ms,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct Outbox {
    seq: i64,
    id: Vec<u8>,
    kind: String,
    subject_id: Option<Vec<u8>>,
    payload: String,
    created_ms: i64,
}

impl TryFrom<Outbox> for OutboxRow {
    type Error = StoreError;
    fn try_from(r: Outbox) -> Result<OutboxRow> {
        Ok(OutboxRow {
            seq: r.seq,
            id: id_from_slice(&r.id)?,
            kind: r.kind,
            subject_id: optional_id(r.subject_id)?,
            payload: r.payload,
            created_ms: r.created_ms,
        })
    }
}

pub(super) const API_KEY_COLUMNS: &str = "id, name, role, digest, created_ms, revoked_ms";

#[derive(sqlx::FromRow)]
pub(super) struct ApiKey {
    id: Vec<u8>,
    name: String,
    role: String,
    digest: Vec<u8>,
    created_ms: i64,
    revoked_ms: Option<i64>,
}

impl TryFrom<ApiKey> for ApiKeyRow {
    type Error = StoreError;
    fn try_from(r: ApiKey) -> Result<ApiKeyRow> {
        Ok(ApiKeyRow {
            id: id_from_slice(&r.id)?,
            name: r.name,
            role: r.role,
            digest: hash_from_slice(&r.digest)?,
            created_ms: r.created_ms,
            revoked_ms: r.revoked_ms,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct Challenge {
    id: Vec<u8>,
    subject_id: Option<Vec<u8>>,
    code_digest: Vec<u8>,
    created_ms: i64,
    expires_ms: i64,
    attempts: i64,
    used_ms: Option<i64>,
}

impl TryFrom<Challenge> for ChallengeRow {
    type Error = StoreError;
    fn try_from(r: Challenge) -> Result<ChallengeRow> {
        Ok(ChallengeRow {
            id: id_from_slice(&r.id)?,
            subject_id: optional_id(r.subject_id)?,
            code_digest: hash_from_slice(&r.code_digest)?,
            created_ms: r.created_ms,
            expires_ms: r.expires_ms,
            attempts: r.attempts,
            used_ms: r.used_ms,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct Session {
    digest: Vec<u8>,
    subject_id: Vec<u8>,
    created_ms: i64,
    expires_ms: i64,
    revoked_ms: Option<i64>,
}

impl TryFrom<Session> for SessionRow {
    type Error = StoreError;
    fn try_from(r: Session) -> Result<SessionRow> {
        Ok(SessionRow {
            digest: hash_from_slice(&r.digest)?,
            subject_id: id_from_slice(&r.subject_id)?,
            created_ms: r.created_ms,
            expires_ms: r.expires_ms,
            revoked_ms: r.revoked_ms,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct Policy {
    version: i64,
    hash: Vec<u8>,
    published_ms: i64,
    actor: String,
    policy: String,
}

impl TryFrom<Policy> for PolicyVersion {
    type Error = StoreError;
    fn try_from(r: Policy) -> Result<PolicyVersion> {
        Ok(PolicyVersion {
            version: r.version,
            hash: hash_from_slice(&r.hash)?,
            published_ms: r.published_ms,
            actor: r.actor,
            policy: r.policy,
        })
    }
}

/// A `ledger_leaves` row; `subject_id` is read only where the caller needs it.
#[derive(sqlx::FromRow)]
pub(super) struct Leaf {
    idx: i64,
    data: Vec<u8>,
    leaf_hash: Vec<u8>,
    #[sqlx(default)]
    subject_id: Option<Vec<u8>>,
}

impl TryFrom<Leaf> for LeafRow {
    type Error = StoreError;
    fn try_from(r: Leaf) -> Result<LeafRow> {
        Ok(LeafRow {
            index: r.idx as u64,
            data: r.data,
            hash: hash_from_slice(&r.leaf_hash)?,
            subject_id: optional_id(r.subject_id)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct Segment {
    segment: i64,
    level: i64,
    entries: i64,
    first_idx: i64,
    last_idx: i64,
}

impl TryFrom<Segment> for LeafSegment {
    type Error = StoreError;
    fn try_from(r: Segment) -> Result<LeafSegment> {
        Ok(LeafSegment {
            segment: r.segment,
            level: r.level,
            entries: r.entries,
            first_idx: r.first_idx,
            last_idx: r.last_idx,
        })
    }
}

pub(super) const HEAD_COLUMNS: &str = "size, timestamp_ms, root, signature, key_id";

#[derive(sqlx::FromRow)]
pub(super) struct Head {
    size: i64,
    timestamp_ms: i64,
    root: Vec<u8>,
    signature: Vec<u8>,
    key_id: Option<String>,
}

impl TryFrom<Head> for SignedTreeHead {
    type Error = StoreError;
    fn try_from(r: Head) -> Result<SignedTreeHead> {
        let signature: [u8; 64] = r
            .signature
            .try_into()
            .map_err(|_| StoreError::Corrupt("signature is not 64 bytes"))?;
        Ok(SignedTreeHead {
            head: TreeHead {
                size: r.size as u64,
                timestamp_ms: r.timestamp_ms,
                root: hash_from_slice(&r.root)?,
            },
            signature,
            key_id: r.key_id,
        })
    }
}

/// A column of ids (or other 16-byte keys) read alone.
#[derive(sqlx::FromRow)]
pub(super) struct IdOnly {
    id: Vec<u8>,
}

impl TryFrom<IdOnly> for Id {
    type Error = StoreError;
    fn try_from(r: IdOnly) -> Result<Id> {
        id_from_slice(&r.id)
    }
}
