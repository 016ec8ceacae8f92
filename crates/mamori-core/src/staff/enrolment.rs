//! Enrolment: the person opens their one-time link, chooses a password and sets up TOTP in the
//! same form; one transaction spends the link, sets the password, keeps the factor (sealed) and
//! the recovery codes (as keyed digests), which are shown once.
//!
//! The TOTP secret proposed on the page travels in the form sealed under the server's key and
//! bound to the member of staff, so re-showing the form after a typo keeps the secret the
//! person's app already holds, and nobody can hand the server a secret of their choosing.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mamori_crypto::passwords;
use mamori_crypto::second_factor::{TotpSecret, recovery_codes};
use mamori_ledger::Outcome;
use mamori_proto::ErrorCode;
use mamori_store::{Change, StaffEnrolmentRow, StaffFactorRow, StaffRow};

use super::{StaffInfo, staff_event};
use crate::error::{CoreError, Result};
use crate::new_id;
use crate::vault::Vault;

/// What the page shows to set up an authenticator app.
#[derive(Debug, Clone)]
pub struct TotpSetup {
    /// The secret in base32, to type in.
    pub secret: String,
    /// `otpauth://totp/…`, drawn as a QR code.
    pub uri: String,
    /// The sealed secret the form carries back.
    pub pending: String,
}

/// An enrolled member of staff and their recovery codes (shown once, kept only as digests).
#[derive(Debug)]
pub struct EnrolmentDone {
    pub staff: StaffInfo,
    pub recovery_codes: Vec<String>,
}

const PENDING_LABEL: &str = "staff-totp-pending";
pub(super) const FACTOR_LABEL: &str = "staff-factor";

pub(super) fn invalid_link() -> CoreError {
    CoreError::Missing {
        code: ErrorCode::EnrolmentLinkInvalid,
        message: "this enrolment link is unknown, used or expired: ask for a new one".into(),
    }
}

impl Vault {
    pub(crate) fn recovery_digest(&self, typed: &str) -> [u8; 32] {
        let normalised = mamori_crypto::second_factor::normalise_recovery_code(typed);
        mamori_crypto::KeyedMac::new(self.keyring.subkey("staff-recovery").as_ref())
            .tag(normalised.as_bytes())
    }

    /// The link's enrolment and member of staff, if the link still works.
    pub(super) async fn open_enrolment(
        &self,
        token: &str,
    ) -> Result<Option<(StaffEnrolmentRow, StaffRow)>> {
        let digest = self.enrolment_digest(token.trim());
        let now = self.now_ms();
        let Some(enrolment) = (self.store.staff_enrolment(&digest).await?)
            .filter(|e| e.used_ms.is_none() && e.expires_ms > now)
        else {
            return Ok(None);
        };
        let staff = self.store.staff_member(&enrolment.staff_id).await?;
        Ok(staff.map(|s| (enrolment, s)))
    }

    fn totp_setup(&self, staff: &StaffRow, secret: &TotpSecret) -> Result<TotpSetup> {
        let email = self.staff_info(staff)?.email;
        let issuer = format!("{} (Mamori)", self.policy.organisation.name);
        let sealed = (self.keyring).seal_secret(PENDING_LABEL, &staff.id, secret.as_bytes());
        Ok(TotpSetup {
            secret: secret.base32(),
            uri: (secret.otpauth_uri(&issuer, &email))
                .ok_or_else(|| CoreError::Internal("no otpauth URI".into()))?,
            pending: URL_SAFE_NO_PAD.encode(sealed),
        })
    }

    fn pending_secret(&self, staff: &StaffRow, pending: &str) -> Option<TotpSecret> {
        let sealed = URL_SAFE_NO_PAD.decode(pending.trim()).ok()?;
        let bytes = (self.keyring)
            .open_secret(PENDING_LABEL, &staff.id, &sealed)
            .ok()?;
        TotpSecret::from_bytes(&bytes)
    }

    /// The TOTP set-up for an enrolment link that still works (None otherwise): the one the form
    /// carried back, if it is genuine, else a new secret. Changes nothing.
    pub async fn enrolment_setup(
        &self,
        token: &str,
        pending: Option<&str>,
    ) -> Result<Option<TotpSetup>> {
        let Some((_, staff)) = self.open_enrolment(token).await? else {
            return Ok(None);
        };
        let secret = match pending.and_then(|p| self.pending_secret(&staff, p)) {
            Some(secret) => secret,
            None => {
                TotpSecret::generate().map_err(|_| CoreError::Internal("no randomness".into()))?
            }
        };
        self.totp_setup(&staff, &secret).map(Some)
    }

    /// Spends the enrolment link: sets the password and keeps the TOTP factor once `code` shows
    /// the person's app holds the secret. Ledgered as `staff.enrol` by the person.
    pub async fn enrol_staff(
        &self,
        token: &str,
        password: &str,
        pending: &str,
        code: &str,
    ) -> Result<EnrolmentDone> {
        let (enrolment, staff) = self.open_enrolment(token).await?.ok_or_else(invalid_link)?;
        if let Some(why) = passwords::password_problem(password) {
            return Err(CoreError::invalid(ErrorCode::InvalidValue, "password", why));
        }
        let secret = self.pending_secret(&staff, pending).ok_or_else(|| {
            CoreError::invalid(
                ErrorCode::InvalidValue,
                "pending",
                "the set-up was not ours",
            )
        })?;
        let now = self.now_ms();
        let step = (secret.check(code, (now / 1000).max(0) as u64, 0)).ok_or_else(|| {
            CoreError::invalid(ErrorCode::InvalidValue, "code", "the code does not match")
        })?;
        let factor_id = new_id();
        let factor = StaffFactorRow {
            id: factor_id,
            staff_id: staff.id,
            kind: "totp".into(),
            sealed: (self.keyring).seal_secret(FACTOR_LABEL, &factor_id, secret.as_bytes()),
            last_used: step as i64,
            created_ms: now,
        };
        self.complete_enrolment(enrolment, staff, password, factor, vec![])
            .await
    }

    /// Spends the link, sets the password and keeps `factor` and new recovery codes, with
    /// `first` in the same transaction. Ledgered as `staff.enrol` by the person.
    pub(super) async fn complete_enrolment(
        &self,
        enrolment: StaffEnrolmentRow,
        staff: StaffRow,
        password: &str,
        factor: StaffFactorRow,
        mut first: Vec<Change>,
    ) -> Result<EnrolmentDone> {
        let now = factor.created_ms;
        let password_hash = hash_password(password).await?;
        let codes = recovery_codes().map_err(|_| CoreError::Internal("no randomness".into()))?;
        let change = Change::CompleteEnrolment {
            digest: enrolment.digest,
            staff_id: staff.id,
            password_hash,
            at_ms: now,
            factor,
            recovery_codes: codes.iter().map(|c| self.recovery_digest(c)).collect(),
        };
        let event = staff_event(&staff, "staff.enrol", Outcome::Allowed, now);
        first.push(change);
        match self.ledger.submit(first, vec![event]).await? {
            Ok(()) => Ok(EnrolmentDone {
                staff: self.staff_info(&StaffRow {
                    enrolled_ms: Some(now),
                    ..staff
                })?,
                recovery_codes: codes,
            }),
            Err(_) => Err(invalid_link()),
        }
    }

    /// Whether `token` is an enrolment link that still works (shows the form; changes nothing).
    pub async fn enrolment_is_open(&self, token: &str) -> Result<bool> {
        Ok(self.open_enrolment(token).await?.is_some())
    }
}

/// Argon2id is deliberately slow: it runs off the async workers.
pub(super) async fn hash_password(password: &str) -> Result<String> {
    let password = zeroize::Zeroizing::new(password.to_string());
    tokio::task::spawn_blocking(move || passwords::hash_password(&password))
        .await
        .map_err(|_| CoreError::Internal("hashing the password failed".into()))?
        .map_err(|_| CoreError::Internal("hashing the password failed".into()))
}

/// Checks a password against its hash off the async workers.
pub(super) async fn verify_password(password: &str, phc: String) -> bool {
    let password = zeroize::Zeroizing::new(password.to_string());
    tokio::task::spawn_blocking(move || passwords::verify_password(&password, &phc))
        .await
        .unwrap_or(false)
}
