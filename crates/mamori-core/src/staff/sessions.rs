//! Staff sessions, kept server-side by the keyed digest of their cookie: they end after 15
//! minutes without use or 8 hours after sign-in, whichever comes first, or when the person signs
//! out or ends them from another session. The session's actor is the member of staff in their
//! role; every access they make goes through the one decision like any other.

use mamori_ledger::Outcome;
use mamori_store::{Change, StaffSessionRow};

use super::{StaffInfo, TrainingStatus, staff_actor_id, staff_event};
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};
use crate::{format_id, format_time, parse_id};

/// A session unused this long has ended.
pub const STAFF_IDLE_MS: i64 = 15 * 60_000;
/// A session this old has ended, however busy.
pub const STAFF_LIFETIME_MS: i64 = 8 * 3_600_000;
/// A sensitive action needs a factor proved this recently (at sign-in or again).
pub const REAUTH_WINDOW_MS: i64 = 5 * 60_000;
/// Use is written down at most this often (the idle clock is this coarse).
const TOUCH_EVERY_MS: i64 = 30_000;

/// A live staff session: who acts, in which role.
#[derive(Debug, Clone)]
pub struct StaffSession {
    /// Who acts: handed out only by [`Vault::staff_actor`], which holds the role to its training.
    pub(crate) actor: Actor,
    pub staff: StaffInfo,
    pub training: TrainingStatus,
    pub session_id: String,
    /// When the person last proved a factor (sign-in or re-authentication).
    pub verified_ms: i64,
    pub(crate) staff_row_id: mamori_store::Id,
    pub(crate) digest: [u8; 32],
}

impl StaffSession {
    /// The role the person acts in.
    pub fn role(&self) -> &str {
        &self.actor.role
    }

    /// Whether the person proved a factor within [`REAUTH_WINDOW_MS`] of `now_ms`.
    pub fn verified_recently(&self, now_ms: i64) -> bool {
        now_ms - self.verified_ms <= REAUTH_WINDOW_MS
    }
}

/// One of a person's sessions, as their sessions page lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSessionInfo {
    pub id: String,
    pub started_at: String,
    pub last_seen_at: String,
    pub current: bool,
}

fn live(row: &StaffSessionRow, now: i64) -> bool {
    row.ended_ms.is_none()
        && now - row.seen_ms <= STAFF_IDLE_MS
        && now - row.created_ms <= STAFF_LIFETIME_MS
}

impl Vault {
    /// The session a cookie names, if it is live (and notes its use).
    pub async fn staff_session(&self, token: &str) -> Result<Option<StaffSession>> {
        if token.len() != 43 {
            return Ok(None);
        }
        let digest = self.staff_session_digest(token);
        let now = self.now_ms();
        let Some(row) = (self.store.staff_session(&digest).await?).filter(|r| live(r, now)) else {
            return Ok(None);
        };
        let Some(staff) = (self.store.staff_member(&row.staff_id).await?)
            .filter(|s| s.disabled_ms.is_none() && s.enrolled_ms.is_some())
        else {
            return Ok(None);
        };
        if now - row.seen_ms >= TOUCH_EVERY_MS {
            let touch = Change::TouchStaffSession {
                digest,
                seen_ms: now,
                verified_ms: None,
            };
            self.ledger.submit(vec![touch], vec![]).await??;
        }
        let training = self.training_status(&staff.id, &staff.role).await?;
        Ok(Some(StaffSession {
            training,
            actor: Actor {
                id: staff_actor_id(&staff.id),
                role: staff.role.clone(),
            },
            staff: self.staff_info(&staff)?,
            session_id: format_id(&row.id),
            verified_ms: row.verified_ms,
            staff_row_id: staff.id,
            digest,
        }))
    }

    /// The person's live sessions, newest first.
    pub async fn staff_sessions(&self, session: &StaffSession) -> Result<Vec<StaffSessionInfo>> {
        let now = self.now_ms();
        let rows = self
            .store
            .open_staff_sessions(&session.staff_row_id)
            .await?;
        Ok((rows.iter().filter(|r| live(r, now)))
            .map(|r| StaffSessionInfo {
                id: format_id(&r.id),
                started_at: format_time(r.created_ms),
                last_seen_at: format_time(r.seen_ms),
                current: format_id(&r.id) == session.session_id,
            })
            .collect())
    }

    /// Ends one of the person's sessions (`Some(id)`), or this one (`None`: signing out).
    /// Ledgered as `staff.sign_out` or `staff.session_end`.
    pub async fn end_staff_session(&self, session: &StaffSession, id: Option<&str>) -> Result<()> {
        let target = match id {
            Some(id) => parse_id(id).ok_or_else(|| CoreError::Missing {
                code: mamori_proto::ErrorCode::InvalidId,
                message: "no such session".into(),
            })?,
            None => parse_id(&session.session_id).ok_or(CoreError::Integrity)?,
        };
        let now = self.now_ms();
        let action = if id.is_some() {
            "staff.session_end"
        } else {
            "staff.sign_out"
        };
        let row = self.store.staff_member(&session.staff_row_id).await?;
        let row = row.ok_or(CoreError::Integrity)?;
        let change = Change::EndStaffSessions {
            staff_id: session.staff_row_id,
            session_id: Some(target),
            at_ms: now,
        };
        let event = staff_event(&row, action, Outcome::Allowed, now);
        self.ledger.submit(vec![change], vec![event]).await??;
        Ok(())
    }
}
