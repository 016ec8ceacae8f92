//! Starting a member of staff over: for someone who lost every device and recovery code, or who
//! comes back after being disabled. Their password, second factors, recovery codes and lock-out
//! go, their sessions end, earlier links stop working, and a new enrolment link (7 days) is
//! issued — all in one transaction. Decided (`admin = ["staff"]`) and ledgered `staff.reset`;
//! nobody resets themselves (that is adding a passkey, or asking another administrator).

use mamori_proto::ErrorCode;
use mamori_store::{Change, JobError, StaffEnrolmentRow, StaffRow};

use super::{ENROLMENT_VALID_MS, STAFF, StaffInvitation, random_token, staff_actor_id};
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};

impl Vault {
    pub async fn reset_staff(&self, actor: &Actor, id: &str) -> Result<StaffInvitation> {
        let unknown = || CoreError::Missing {
            code: ErrorCode::InvalidId,
            message: "no such member of staff".into(),
        };
        let staff_id = crate::parse_id(id).ok_or_else(unknown)?;
        if actor.id == staff_actor_id(&staff_id) {
            return Err(CoreError::invalid(
                ErrorCode::InvalidValue,
                "staff",
                "you cannot reset yourself: add a passkey, or ask another administrator",
            ));
        }
        let granted = self.grant(actor, STAFF, "staff.reset").await?;
        let row = (self.store.staff_member(&staff_id).await?).ok_or_else(unknown)?;
        let token = random_token()?;
        let now = self.now_ms();
        let enrolment = StaffEnrolmentRow {
            digest: self.enrolment_digest(&token),
            staff_id,
            expires_ms: now + ENROLMENT_VALID_MS,
            used_ms: None,
        };
        let change = Change::ResetStaff {
            enrolment,
            at_ms: now,
        };
        match (self.ledger)
            .submit(vec![change], vec![granted.event()])
            .await?
        {
            Ok(()) => Ok(StaffInvitation {
                staff: self.staff_info(&StaffRow {
                    enrolled_ms: None,
                    disabled_ms: None,
                    ..row
                })?,
                token,
                expires_ms: now + ENROLMENT_VALID_MS,
            }),
            Err(JobError::Stale) => Err(unknown()),
            Err(e) => Err(e.into()),
        }
    }
}
