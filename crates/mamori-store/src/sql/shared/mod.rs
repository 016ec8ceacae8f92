//! The queries both SQL backends share. This folder is compiled twice, as `sqlite::shared` and
//! `postgres::shared`; `Db`, `Backend` and `DIALECT` are the parent's. One file per capability,
//! each with its reads (the capability's trait) and its writes (its `Change`s, which `apply`
//! hands it inside the batch transaction); `batch.rs` and `bulk.rs` run the batch itself.

mod access;
mod batch;
mod bulk;
mod consent;
mod disclosures;
mod events;
mod incident_notices;
mod incidents;
mod key_wraps;
mod leases;
mod ledger;
mod legal_holds;
mod requests;
mod retention;
mod staff;
mod staff_passkeys;
mod staff_sign_in;
mod subjects;
mod surveys;

use async_trait::async_trait;
use sqlx::{Acquire, QueryBuilder};

use super::super::rows::{self, convert, convert_one};
use super::super::{
    ApplyError, BULK_MIN_JOBS, BULK_ROWS, FORGOTTEN_AT_ERASURE, index_key, is_bulk_insertable,
    statement_sized_chunks,
};
use super::{Backend, DIALECT, Db};
use crate::*;

type Conn = <Db as sqlx::Database>::Connection;
type Tx = sqlx::Transaction<'static, Db>;
type Applied = std::result::Result<(), ApplyError>;
type QueryResult = <Db as sqlx::Database>::QueryResult;

/// Applies one change inside the batch transaction, in the file of its capability.
async fn apply(conn: &mut Conn, change: &Change) -> Applied {
    use Change::*;
    match change {
        InsertSubject { .. }
        | UpdateFields { .. }
        | EraseSubject { .. }
        | HoldSubject { .. }
        | PutIndex { .. }
        | DropIndex { .. }
        | InsertRecord(_)
        | SaveImportProgress(_) => subjects::apply(conn, change).await,
        DropExpiredRecords { .. } => retention::apply(conn, change).await,
        RekeyStart { .. } | RekeyRecords { .. } | RekeyFinish { .. } => {
            subjects::apply_rekey(conn, change).await
        }
        RewrapKeys { .. } | RewrapKeysBatch(_) => key_wraps::apply(conn, change).await,
        InsertLegalHold(_) | LiftLegalHold { .. } => legal_holds::apply(conn, change).await,
        InsertIncident { .. }
        | AppendIncidentEntry(_)
        | MarkIncidentReminded { .. }
        | MarkIncidentMilestone { .. }
        | RecordSignal { .. } => incidents::apply(conn, change).await,
        PrepareNotices { .. } | MoveNotice { .. } => incident_notices::apply(conn, change).await,
        InsertStaff { .. }
        | CompleteEnrolment { .. }
        | StaffSignedIn { .. }
        | StaffSignInFailed { .. }
        | TouchStaffSession { .. }
        | RecordTraining(_)
        | MarkTrainingReminded { .. }
        | StaffReauthenticated { .. }
        | EndStaffSessions { .. } => staff::apply(conn, change).await,
        IssuePasskeyChallenge { .. }
        | TakePasskeyChallenge { .. }
        | AddStaffFactor(_)
        | DisableStaff { .. }
        | ResetStaff { .. }
        | RemoveStaffFactor { .. } => staff_passkeys::apply(conn, change).await,
        RecordConsent(_) | SealConsentState(_) | PublishPolicy(_) => {
            consent::apply(conn, change).await
        }
        InsertApiKey(_)
        | RevokeApiKey { .. }
        | InsertChallenge(_)
        | ChallengeAttempt { .. }
        | UseChallenge { .. }
        | InsertSession(_)
        | RevokeSession { .. } => access::apply(conn, change).await,
        Announce(_)
        | AnnounceToSubjects { .. }
        | InsertWebhook(_)
        | RemoveWebhook { .. }
        | WebhookProgress { .. }
        | DeadLetter { .. } => events::apply(conn, change).await,
        PauseWebhook { .. } | RotateWebhookSecret { .. } => {
            events::apply_webhook_controls(conn, change).await
        }
        IndexSubjectLeaves { .. }
        | BeginSegmentMerge { .. }
        | MergeSegmentChunk { .. }
        | FinishSegmentMerge { .. }
        | DropSegmentEntries { .. }
        | ForgetSegment { .. } => ledger::apply(conn, change).await,
        _ => apply_requests_and_surveys(conn, change).await,
    }
}

/// The rest of [`apply`]: rights requests, DRP agents and surveys.
async fn apply_requests_and_surveys(conn: &mut Conn, change: &Change) -> Applied {
    use Change::*;
    match change {
        InsertRequest(_) | UpdateRequest { .. } | MarkRequestReminded { .. } => {
            requests::apply(conn, change).await
        }
        PauseDrpAgent { .. } => requests::pause_drp_agent(conn, change).await,
        RecordDisclosure(_) | RecordDisclosures(_) => disclosures::apply(conn, change).await,
        InsertVendorTask(_)
        | ConfirmVendorTask { .. }
        | MarkVendorTaskReminded { .. }
        | MarkVendorReminded { .. } => disclosures::apply_task(conn, change).await,
        HoldsLease { .. } => leases::apply(conn, change).await,
        InsertDrpAgent(_)
        | RemoveDrpAgent { .. }
        | SpendDrpMessage { .. }
        | InsertDrpToken { .. }
        | InsertDrpRequest(_) => requests::apply_drp(conn, change).await,
        InsertSurvey(_)
        | CloseSurvey { .. }
        | InsertSurveyResponse { .. }
        | InsertSurveyIssuer { .. }
        | InsertSurveyRelease { .. } => surveys::apply(conn, change).await,
        InviteToSurvey { .. }
        | ClaimSurveyInvitation { .. }
        | MarkSurveyParticipant { .. }
        | SpendSurveyToken { .. } => surveys::apply_invitation(conn, change).await,
        _ => Err(misrouted()),
    }
}

/// A change handed to a capability's writer that is not one of its own (a bug in `apply`).
fn misrouted() -> ApplyError {
    ApplyError::Db(sqlx::Error::Protocol(
        "a change reached another capability's writer".into(),
    ))
}

/// The job fails with `otherwise` unless the statement changed a row (the row it expected is
/// gone, or changed since the job read it).
fn changed_a_row(done: QueryResult, otherwise: JobError) -> Applied {
    if done.rows_affected() == 0 {
        Err(ApplyError::Job(otherwise))
    } else {
        Ok(())
    }
}

/// An insert that clashes with an existing row fails the job as a duplicate.
fn duplicate(e: sqlx::Error) -> ApplyError {
    ApplyError::from(e, JobError::Duplicate)
}

/// The job fails as `Gone` unless `subject` exists and is not erased.
async fn require_live(conn: &mut Conn, subject: &Id) -> Applied {
    let live = sqlx::query("SELECT 1 FROM subjects WHERE id = $1 AND erased_ms IS NULL")
        .bind(&subject[..])
        .fetch_optional(&mut *conn)
        .await?;
    match live {
        Some(_) => Ok(()),
        None => Err(ApplyError::Job(JobError::Gone)),
    }
}

/// A statement with the dialect's phrases in it (see [`super::super::Dialect`]).
fn dialect_sql(sql: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql)
}

#[async_trait]
impl Storage for Backend {
    fn backend(&self) -> &'static str {
        DIALECT.name
    }

    fn data_dir(&self) -> Option<std::path::PathBuf> {
        self.local_dir()
    }

    fn lost(&self) -> Option<String> {
        self.lost_file()
    }

    async fn commit_batch(
        &self,
        jobs: &[Vec<Change>],
        tree_size: u64,
        finish: &mut Finish<'_>,
    ) -> Result<Vec<JobOutcome>> {
        use std::sync::atomic::Ordering;
        // Acknowledged means durable: nothing is committed to a file nobody will open.
        if let Some(why) = self.lost_file() {
            return Err(StoreError::Lost(why));
        }
        if self.write_failed.swap(false, Ordering::AcqRel)
            && let Ok(conn) = self.write.acquire().await
        {
            let _ = conn.close().await;
        }
        let committed = self.commit_batch_once(jobs, tree_size, finish).await;
        if committed.is_err() {
            self.write_failed.store(true, Ordering::Release);
        }
        committed
    }

    async fn prepare_bulk_load(&self) -> Result<()> {
        Self::bulk_tuning(&self.write).await
    }

    async fn snapshot_into(&self, to: &std::path::Path) -> Result<bool> {
        self.snapshot_file(to).await
    }
}
