//! Signing in to the console: address, password and a second factor (a TOTP code or a recovery
//! code) in one form. The answer is the same whatever was wrong, and an unknown address costs the
//! same Argon2id work as a known one, so the page tells nobody who is on the staff. Five failures
//! lock the account for fifteen minutes; every attempt, and the lock-out, is ledgered.

use std::sync::LazyLock;

use mamori_crypto::passwords;
use mamori_crypto::second_factor::TotpSecret;
use mamori_ledger::{Event, Outcome};
use mamori_store::{Change, FactorUse, JobError, StaffRow, StaffSessionRow};

use super::StaffSession;

use super::enrolment::{FACTOR_LABEL, verify_password};
use super::{StaffInfo, random_token, staff_event};
use crate::error::Result;
use crate::new_id;
use crate::vault::Vault;

/// Failed sign-ins in a row that lock the account.
pub const MAX_FAILURES: i64 = 5;
pub const LOCK_MS: i64 = 15 * 60_000;

/// Why a sign-in was refused: ledgered, never told apart on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInRefused {
    /// Unknown address, wrong password or wrong (or replayed) code.
    Wrong,
    /// Too many failures: locked for a while.
    Locked,
}

/// A signed-in member of staff and the session cookie's token (kept only as its keyed digest).
#[derive(Debug)]
pub struct StaffSignedIn {
    pub token: String,
    pub staff: StaffInfo,
}

/// What an unknown address is checked against, so it takes as long as a known one.
static DECOY_HASH: LazyLock<String> = LazyLock::new(|| {
    passwords::hash_password("a password nobody has ever had").unwrap_or_default()
});

pub(super) fn unknown_attempt(time_ms: i64, reason: &str) -> Event {
    Event {
        time_ms,
        actor: "staff:unknown".into(),
        role: "staff".into(),
        purpose: None,
        action: "staff.sign_in".into(),
        subject: None,
        categories: vec![],
        recipient: None,
        outcome: Outcome::Denied {
            reason: reason.into(),
        },
    }
}

fn denied(reason: &str) -> Outcome {
    Outcome::Denied {
        reason: reason.into(),
    }
}

impl Vault {
    pub(crate) fn staff_session_digest(&self, token: &str) -> [u8; 32] {
        mamori_crypto::KeyedMac::new(self.keyring.subkey("staff-session").as_ref())
            .tag(token.as_bytes())
    }

    /// Which factor `code` proves for `staff`: a TOTP code not taken before, or an unused
    /// recovery code; `Err(reason)` for a code taken before or none at all.
    async fn factor_in(
        &self,
        staff: &StaffRow,
        code: &str,
        now_ms: i64,
    ) -> Result<std::result::Result<FactorUse, &'static str>> {
        let unix_seconds = (now_ms / 1000).max(0) as u64;
        for factor in self.store.staff_factors(&staff.id).await? {
            if factor.kind != "totp" {
                continue;
            }
            let Ok(bytes) = (self.keyring).open_secret(FACTOR_LABEL, &factor.id, &factor.sealed)
            else {
                continue;
            };
            let secret = TotpSecret::from_bytes(&bytes);
            let Some(step) = secret.and_then(|s| s.check(code, unix_seconds, 0)) else {
                continue;
            };
            if step as i64 <= factor.last_used {
                return Ok(Err("code_replayed"));
            }
            return Ok(Ok(FactorUse::Totp {
                factor_id: factor.id,
                step: step as i64,
            }));
        }
        let digest = self.recovery_digest(code);
        let unused = self.store.unused_recovery_codes(&staff.id).await?;
        match unused.into_iter().any(|d| d == digest) {
            true => Ok(Ok(FactorUse::Recovery { digest })),
            false => Ok(Err("wrong_factor")),
        }
    }

    /// Signs a member of staff in, or says (the same way for every cause) that it did not.
    pub async fn sign_in_staff(
        &self,
        email: &str,
        password: &str,
        code: &str,
    ) -> Result<std::result::Result<StaffSignedIn, SignInRefused>> {
        let now = self.now_ms();
        let found = match mamori_policy::value::normalise_email(email) {
            Ok(normalised) => (self.store)
                .staff_by_email(&self.staff_email_index(&normalised))
                .await?
                .filter(|s| s.disabled_ms.is_none()),
            Err(_) => None,
        };
        let Some((staff, phc)) = found.and_then(|s| s.password_hash.clone().map(|h| (s, h))) else {
            verify_password(password, DECOY_HASH.clone()).await;
            let event = unknown_attempt(now, "wrong_credentials");
            self.ledger.submit(vec![], vec![event]).await??;
            return Ok(Err(SignInRefused::Wrong));
        };
        let password_ok = verify_password(password, phc).await;
        if staff.locked_until_ms.is_some_and(|until| until > now) {
            let event = staff_event(&staff, "staff.sign_in", denied("account_locked"), now);
            self.ledger.submit(vec![], vec![event]).await??;
            return Ok(Err(SignInRefused::Locked));
        }
        let factor = match password_ok {
            true => self.factor_in(&staff, code, now).await?,
            false => Err("wrong_password"),
        };
        match factor {
            Ok(factor) => self.open_session(&staff, factor, vec![], now).await,
            Err(reason) => self.sign_in_failed(&staff, reason, now).await,
        }
    }

    /// Opens a session for `staff`, spending `factor` (with `first`, applied before it, in the
    /// same transaction); a factor taken meanwhile is a replay.
    pub(super) async fn open_session(
        &self,
        staff: &StaffRow,
        factor: FactorUse,
        mut first: Vec<Change>,
        now: i64,
    ) -> Result<std::result::Result<StaffSignedIn, SignInRefused>> {
        let token = random_token()?;
        let session = StaffSessionRow {
            digest: self.staff_session_digest(&token),
            id: new_id(),
            staff_id: staff.id,
            created_ms: now,
            seen_ms: now,
            verified_ms: now,
            ended_ms: None,
        };
        let mut events = vec![staff_event(staff, "staff.sign_in", Outcome::Allowed, now)];
        if matches!(factor, FactorUse::Recovery { .. }) {
            let used = staff_event(staff, "staff.recovery_code_used", Outcome::Allowed, now);
            events.push(used);
        }
        first.push(Change::StaffSignedIn { session, factor });
        match self.ledger.submit(first, events).await? {
            Ok(()) => Ok(Ok(StaffSignedIn {
                token,
                staff: self.staff_info(staff)?,
            })),
            // Another sign-in took the same code (or passkey challenge) first: a replay.
            Err(JobError::Stale) => self.sign_in_failed(staff, "code_replayed", now).await,
            Err(e) => Err(e.into()),
        }
    }

    pub(super) async fn sign_in_failed(
        &self,
        staff: &StaffRow,
        reason: &str,
        now: i64,
    ) -> Result<std::result::Result<StaffSignedIn, SignInRefused>> {
        self.factor_failed(staff, "staff.sign_in", reason, now)
            .await
    }

    /// Counts a failed proof (sign-in or re-authentication) towards the lock-out; ledgered.
    pub(super) async fn factor_failed<T>(
        &self,
        staff: &StaffRow,
        action: &str,
        reason: &str,
        now: i64,
    ) -> Result<std::result::Result<T, SignInRefused>> {
        let lock = staff.failures + 1 >= MAX_FAILURES;
        let mut events = vec![staff_event(staff, action, denied(reason), now)];
        if lock {
            events.push(staff_event(
                staff,
                "staff.lock_out",
                denied("too_many_failures"),
                now,
            ));
        }
        let change = Change::StaffSignInFailed {
            staff_id: staff.id,
            lock_until_ms: lock.then_some(now + LOCK_MS),
        };
        self.ledger.submit(vec![change], events).await??;
        Ok(Err(if lock {
            SignInRefused::Locked
        } else {
            SignInRefused::Wrong
        }))
    }

    /// Proves a factor again in a live session (before a sensitive action): ledgered as
    /// `staff.reauthenticate`; a wrong code counts towards the lock-out like a failed sign-in.
    pub async fn reauthenticate_staff(
        &self,
        session: &StaffSession,
        code: &str,
    ) -> Result<std::result::Result<(), SignInRefused>> {
        let now = self.now_ms();
        let staff = match self.unlocked_staff(session, now).await? {
            Ok(staff) => staff,
            Err(refused) => return Ok(Err(refused)),
        };
        match self.factor_in(&staff, code, now).await? {
            Ok(factor) => {
                self.reauthenticated(session, &staff, factor, vec![], now)
                    .await
            }
            Err(reason) => {
                self.factor_failed(&staff, "staff.reauthenticate", reason, now)
                    .await
            }
        }
    }

    /// The member of staff behind a session, unless their account is locked (ledgered).
    pub(super) async fn unlocked_staff(
        &self,
        session: &StaffSession,
        now: i64,
    ) -> Result<std::result::Result<StaffRow, SignInRefused>> {
        let staff = self.store.staff_member(&session.staff_row_id).await?;
        let staff = staff.ok_or(crate::error::CoreError::Integrity)?;
        if staff.locked_until_ms.is_some_and(|until| until > now) {
            let locked = denied("account_locked");
            let event = staff_event(&staff, "staff.reauthenticate", locked, now);
            self.ledger.submit(vec![], vec![event]).await??;
            return Ok(Err(SignInRefused::Locked));
        }
        Ok(Ok(staff))
    }

    /// Notes a factor proved again in `session` (with `first` in the same transaction).
    pub(super) async fn reauthenticated(
        &self,
        session: &StaffSession,
        staff: &StaffRow,
        factor: FactorUse,
        mut first: Vec<Change>,
        now: i64,
    ) -> Result<std::result::Result<(), SignInRefused>> {
        let change = Change::StaffReauthenticated {
            digest: session.digest,
            staff_id: staff.id,
            factor,
            at_ms: now,
        };
        let event = staff_event(staff, "staff.reauthenticate", Outcome::Allowed, now);
        first.push(change);
        match self.ledger.submit(first, vec![event]).await? {
            Ok(()) => Ok(Ok(())),
            Err(JobError::Stale) => {
                self.factor_failed(staff, "staff.reauthenticate", "code_replayed", now)
                    .await
            }
            Err(e) => Err(e.into()),
        }
    }
}
