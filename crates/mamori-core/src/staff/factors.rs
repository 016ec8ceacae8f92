//! A member of staff's own second factors: listed on their account page, a passkey added, one
//! removed (never the last). Changing them is a sensitive step of one's own: it needs a factor
//! proved in the last five minutes, and each change is ledgered (`staff.factor_added`,
//! `staff.factor_removed`, denied with `reauthentication_required` when it was not).

use mamori_ledger::Outcome;
use mamori_passkeys::RelyingParty;
use mamori_proto::ErrorCode;
use mamori_store::{Change, JobError, StaffFactorRow, StaffRow};

use super::enrolment::FACTOR_LABEL;
use super::{PasskeyCeremony, StaffSession, staff_event};
use crate::access::Denial;
use crate::error::{CoreError, Result};
use crate::vault::Vault;
use crate::{format_id, format_time, new_id, parse_id};

/// One of a person's second factors as their account page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactorInfo {
    pub id: String,
    /// `totp` (an authenticator app) or `passkey`.
    pub kind: String,
    pub added_at: String,
}

impl Vault {
    /// The person's own second factors, oldest first.
    pub async fn own_staff_factors(&self, session: &StaffSession) -> Result<Vec<FactorInfo>> {
        let rows = self.store.staff_factors(&session.staff_row_id).await?;
        Ok((rows.iter())
            .map(|f| FactorInfo {
                id: format_id(&f.id),
                kind: f.kind.clone(),
                added_at: format_time(f.created_ms),
            })
            .collect())
    }

    /// The member of staff behind `session` if they proved a factor lately; otherwise the
    /// refusal, ledgered under `action`.
    async fn verified_lately(&self, session: &StaffSession, action: &str) -> Result<StaffRow> {
        let now = self.now_ms();
        let staff = self.store.staff_member(&session.staff_row_id).await?;
        let staff = staff.ok_or(CoreError::Integrity)?;
        if !session.verified_recently(now) {
            let denial = Denial::ReauthenticationRequired;
            let outcome = Outcome::Denied {
                reason: denial.code().as_str().into(),
            };
            let event = staff_event(&staff, action, outcome, now);
            self.ledger.submit(vec![], vec![event]).await??;
            return Err(CoreError::Denied(denial));
        }
        Ok(staff)
    }

    /// Starts adding a passkey to the signed-in person's account (their others excluded).
    pub async fn start_adding_passkey(
        &self,
        rp: &RelyingParty,
        session: &StaffSession,
    ) -> Result<PasskeyCeremony> {
        let staff = self.verified_lately(session, "staff.factor_added").await?;
        let existing: Vec<Vec<u8>> = (self.passkeys_of(&staff.id).await?)
            .into_iter()
            .map(|(_, stored)| stored)
            .collect();
        let email = self.staff_info(&staff)?.email;
        let ceremony = (rp.start_registration(staff.id, &email, &existing))
            .map_err(|_| CoreError::Internal("passkeys are not configured".into()))?;
        self.keep_ceremony(Some(staff.id), "add", ceremony).await
    }

    /// Keeps the passkey the browser created for the signed-in person.
    pub async fn add_passkey(
        &self,
        rp: &RelyingParty,
        session: &StaffSession,
        ceremony: &str,
        answer: &str,
    ) -> Result<()> {
        let staff = self.verified_lately(session, "staff.factor_added").await?;
        let now = self.now_ms();
        let kept = self
            .kept_ceremony(ceremony, "add", Some(&staff.id), now)
            .await?;
        let (state, take) = kept.ok_or_else(super::passkeys::not_a_passkey)?;
        let registered = (rp.finish_registration(answer.as_bytes(), &state))
            .map_err(|_| super::passkeys::not_a_passkey())?;
        let factor_id = new_id();
        let factor = StaffFactorRow {
            id: factor_id,
            staff_id: staff.id,
            kind: "passkey".into(),
            sealed: (self.keyring).seal_secret(FACTOR_LABEL, &factor_id, &registered.stored),
            last_used: 0,
            created_ms: now,
        };
        let event = staff_event(&staff, "staff.factor_added", Outcome::Allowed, now);
        let changes = vec![take, Change::AddStaffFactor(factor)];
        match self.ledger.submit(changes, vec![event]).await? {
            Ok(()) => Ok(()),
            Err(JobError::Stale) => Err(super::passkeys::not_a_passkey()),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes one of the signed-in person's factors; their last one stays.
    pub async fn remove_own_staff_factor(&self, session: &StaffSession, id: &str) -> Result<()> {
        let staff = self
            .verified_lately(session, "staff.factor_removed")
            .await?;
        let unknown = || CoreError::Missing {
            code: ErrorCode::InvalidId,
            message: "no such sign-in method".into(),
        };
        let factor_id = parse_id(id).ok_or_else(unknown)?;
        let now = self.now_ms();
        let change = Change::RemoveStaffFactor {
            staff_id: staff.id,
            factor_id,
        };
        let event = staff_event(&staff, "staff.factor_removed", Outcome::Allowed, now);
        match self.ledger.submit(vec![change], vec![event]).await? {
            Ok(()) => Ok(()),
            // Unknown, someone else's, or the last one: nothing was removed.
            Err(JobError::Stale) => Err(CoreError::Conflict {
                code: ErrorCode::LastFactor,
                message: "this is your only sign-in method (or it is gone): add another first"
                    .into(),
            }),
            Err(e) => Err(e.into()),
        }
    }
}
