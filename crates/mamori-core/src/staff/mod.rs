//! Staff: people who sign in, distinct from API keys. An administrator (`admin = ["staff"]`)
//! invites an address with a role; the person gets a one-time enrolment link (a random token, kept
//! only as its keyed digest, valid 7 days) and sets a password (NIST SP 800-63B lengths, Argon2id).
//! The address is kept as a keyed index and sealed, never in plaintext. The person then chooses a
//! password and sets up a second factor (`enrolment`), and signs in with both (`sign_in`) to a
//! server-side session (`sessions`).

mod enrolment;
mod factors;
mod passkeys;
mod reminders;
mod reset;
mod sessions;
mod sign_in;
mod training;

pub use enrolment::{EnrolmentDone, TotpSetup};
pub use factors::FactorInfo;
pub use passkeys::{PASSKEY_CEREMONY_MS, PasskeyCeremony};
pub use reminders::TRAINING_REMIND_BEFORE_MS;
pub use sessions::{StaffSession, StaffSessionInfo};
pub use sign_in::{SignInRefused, StaffSignedIn};
pub use training::{QuizFailed, TrainingStatus};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mamori_ledger::{Event, Outcome};
use mamori_policy::AdminPermission;
use mamori_proto::ErrorCode;
use mamori_store::{Change, JobError, StaffEnrolmentRow, StaffRow};

use crate::access::Permission;
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};
use crate::{format_id, format_time, new_id};

/// How long an enrolment link works.
pub const ENROLMENT_VALID_MS: i64 = 7 * 86_400_000;

const STAFF: Permission = Permission::Admin(AdminPermission::Staff);

/// A member of staff as administrators see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffInfo {
    pub id: String,
    pub email: String,
    pub role: String,
    pub invited_at: String,
    pub enrolled: bool,
    pub disabled: bool,
    /// Where they stand with their role's training (in listings; None elsewhere).
    pub training: Option<TrainingStatus>,
    /// The kinds of their second factors, oldest first (`totp`, `passkey`; in listings).
    pub factors: Vec<String>,
}

/// A new member of staff and the token of their enrolment link (shown once).
#[derive(Debug)]
pub struct StaffInvitation {
    pub staff: StaffInfo,
    pub token: String,
    pub expires_ms: i64,
}

/// The ledger event of a member of staff's own step (enrolment, sign-in, sign-out): they are
/// the actor, in their role.
fn staff_event(staff: &StaffRow, action: &str, outcome: Outcome, time_ms: i64) -> Event {
    Event {
        time_ms,
        actor: staff_actor_id(&staff.id),
        role: staff.role.clone(),
        purpose: None,
        action: action.into(),
        subject: None,
        categories: vec![],
        recipient: None,
        outcome,
    }
}

fn staff_actor_id(id: &mamori_store::Id) -> String {
    format!("staff:{}", format_id(id))
}

fn random_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| CoreError::Internal("no randomness".into()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

impl Vault {
    pub(crate) fn staff_email_index(&self, normalised: &str) -> [u8; 32] {
        mamori_crypto::KeyedMac::new(self.keyring.subkey("staff-email-index").as_ref())
            .tag(normalised.as_bytes())
    }

    pub(crate) fn enrolment_digest(&self, token: &str) -> [u8; 32] {
        mamori_crypto::KeyedMac::new(self.keyring.subkey("staff-enrolment").as_ref())
            .tag(token.as_bytes())
    }

    pub(crate) fn staff_info(&self, row: &StaffRow) -> Result<StaffInfo> {
        let email = (self.keyring)
            .open_secret("staff-email", &row.id, &row.email_sealed)
            .map_err(|_| CoreError::Integrity)?;
        Ok(StaffInfo {
            id: format_id(&row.id),
            email: String::from_utf8(email.to_vec()).map_err(|_| CoreError::Integrity)?,
            role: row.role.clone(),
            invited_at: format_time(row.created_ms),
            enrolled: row.enrolled_ms.is_some(),
            disabled: row.disabled_ms.is_some(),
            training: None,
            factors: vec![],
        })
    }

    /// Invites `email` as staff of `role`: decided (`admin = ["staff"]`) and ledgered.
    pub async fn invite_staff(
        &self,
        actor: &Actor,
        email: &str,
        role: &str,
    ) -> Result<StaffInvitation> {
        let invalid =
            |field: &str, why: &str| CoreError::invalid(ErrorCode::InvalidValue, field, why);
        let email = mamori_policy::value::normalise_email(email)
            .map_err(|_| invalid("email", "give an e-mail address"))?;
        if role == mamori_policy::SELF_ROLE || self.policy.role(role).is_none() {
            return Err(invalid("role", "not a staff role of the policy"));
        }
        let granted = self.grant(actor, STAFF, "staff.invite").await?;
        let id = new_id();
        let token = random_token()?;
        let now = self.now_ms();
        let staff = StaffRow {
            id,
            email_index: self.staff_email_index(&email),
            email_sealed: self
                .keyring
                .seal_secret("staff-email", &id, email.as_bytes()),
            role: role.to_string(),
            password_hash: None,
            created_ms: now,
            enrolled_ms: None,
            disabled_ms: None,
            failures: 0,
            locked_until_ms: None,
        };
        let enrolment = StaffEnrolmentRow {
            digest: self.enrolment_digest(&token),
            staff_id: id,
            expires_ms: now + ENROLMENT_VALID_MS,
            used_ms: None,
        };
        let info = self.staff_info(&staff)?;
        let change = Change::InsertStaff { staff, enrolment };
        match self
            .ledger
            .submit(vec![change], vec![granted.event()])
            .await?
        {
            Ok(()) => Ok(StaffInvitation {
                staff: info,
                token,
                expires_ms: now + ENROLMENT_VALID_MS,
            }),
            Err(JobError::Duplicate | JobError::IndexTaken) => Err(CoreError::Conflict {
                code: ErrorCode::StaffExists,
                message: "this address is already a member of staff".into(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Disables member of staff `id` (decided: `admin = ["staff"]`; ledgered `staff.disable`):
    /// they can no longer sign in, their sessions end, an unused enrolment link stops working.
    /// Nobody disables themselves (the last administrator could lock everyone out).
    pub async fn disable_staff(&self, actor: &Actor, id: &str) -> Result<StaffInfo> {
        let unknown = || CoreError::Missing {
            code: ErrorCode::InvalidId,
            message: "no such member of staff".into(),
        };
        let staff_id = crate::parse_id(id).ok_or_else(unknown)?;
        if actor.id == staff_actor_id(&staff_id) {
            return Err(CoreError::invalid(
                ErrorCode::InvalidValue,
                "staff",
                "you cannot disable yourself: ask another administrator",
            ));
        }
        let granted = self.grant(actor, STAFF, "staff.disable").await?;
        let row = self
            .store
            .staff_member(&staff_id)
            .await?
            .ok_or_else(unknown)?;
        let now = self.now_ms();
        let change = Change::DisableStaff {
            staff_id,
            at_ms: now,
        };
        match self
            .ledger
            .submit(vec![change], vec![granted.event()])
            .await?
        {
            Ok(()) => self.staff_info(&StaffRow {
                disabled_ms: Some(now),
                ..row
            }),
            Err(JobError::Stale) => Err(CoreError::Conflict {
                code: ErrorCode::StaffDisabled,
                message: "this member of staff is disabled already".into(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Everyone on the staff (a ledgered read for `admin = ["staff"]`).
    pub async fn list_staff(&self, actor: &Actor) -> Result<Vec<StaffInfo>> {
        self.grant_and_ledger(actor, STAFF, "staff.list").await?;
        let rows = self.store.staff_members().await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut info = self.staff_info(row)?;
            info.training = Some(self.training_status(&row.id, &row.role).await?);
            let factors = self.store.staff_factors(&row.id).await?;
            info.factors = factors.into_iter().map(|f| f.kind).collect();
            out.push(info);
        }
        Ok(out)
    }
}
