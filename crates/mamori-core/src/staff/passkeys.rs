//! Passkeys for staff (WebAuthn, through `mamori-passkeys`): enrolled in place of the
//! authenticator app, enough alone to sign in (they verify the person: PIN or biometrics), and
//! proved again before sensitive steps.
//!
//! Each ceremony has two requests. The first keeps its state server-side — sealed, by the keyed
//! digest of a token the page holds, for five minutes — and the second takes it, once, in the
//! same transaction as what it proves: a replayed answer finds nothing. A passkey whose
//! signature counter goes backwards is refused as a possible clone, and ledgered.

use mamori_ledger::Outcome;
use mamori_passkeys::{Ceremony, PasskeyError, RelyingParty};
use mamori_proto::ErrorCode;
use mamori_store::{Change, FactorUse, PasskeyChallengeRow, StaffFactorRow, StaffRow};

use super::enrolment::{FACTOR_LABEL, invalid_link};
use super::sign_in::unknown_attempt;
use super::{EnrolmentDone, SignInRefused, StaffSession, StaffSignedIn, random_token, staff_event};
use crate::error::{CoreError, Result};
use crate::new_id;
use crate::vault::Vault;

/// How long a page may take between asking for a passkey and answering.
pub const PASSKEY_CEREMONY_MS: i64 = 5 * 60_000;
const CEREMONY_LABEL: &str = "staff-passkey-ceremony";
const KIND: &str = "passkey";

/// What the page hands `navigator.credentials` and the token it sends back with the answer.
#[derive(Debug)]
pub struct PasskeyCeremony {
    pub token: String,
    pub options: serde_json::Value,
}

type SignedIn = std::result::Result<StaffSignedIn, SignInRefused>;

pub(super) fn not_a_passkey() -> CoreError {
    CoreError::invalid(
        ErrorCode::InvalidValue,
        "passkey",
        "the passkey did not answer this page's request: try again",
    )
}

impl Vault {
    fn ceremony_digest(&self, token: &str) -> [u8; 32] {
        mamori_crypto::KeyedMac::new(self.keyring.subkey(CEREMONY_LABEL).as_ref())
            .tag(token.as_bytes())
    }

    pub(super) async fn keep_ceremony(
        &self,
        staff_id: Option<mamori_store::Id>,
        kind: &str,
        ceremony: Ceremony,
    ) -> Result<PasskeyCeremony> {
        let token = random_token()?;
        let digest = self.ceremony_digest(&token);
        let now = self.now_ms();
        let challenge = PasskeyChallengeRow {
            digest,
            staff_id,
            kind: kind.into(),
            sealed: (self.keyring).seal_secret(CEREMONY_LABEL, &digest, &ceremony.state),
            expires_ms: now + PASSKEY_CEREMONY_MS,
        };
        let change = Change::IssuePasskeyChallenge {
            challenge,
            now_ms: now,
        };
        self.ledger.submit(vec![change], vec![]).await??;
        Ok(PasskeyCeremony {
            token,
            options: ceremony.options,
        })
    }

    /// The kept state of a ceremony of `kind` (for `staff_id`, if it was someone's) and the
    /// change that takes it; None if unknown, expired, taken or someone else's.
    pub(super) async fn kept_ceremony(
        &self,
        token: &str,
        kind: &str,
        staff_id: Option<&mamori_store::Id>,
        now: i64,
    ) -> Result<Option<(Vec<u8>, Change)>> {
        let digest = self.ceremony_digest(token.trim());
        let Some(row) = self.store.passkey_challenge(&digest, now).await? else {
            return Ok(None);
        };
        if row.kind != kind || row.staff_id.as_ref() != staff_id {
            return Ok(None);
        }
        let state = (self.keyring).open_secret(CEREMONY_LABEL, &digest, &row.sealed);
        let take = Change::TakePasskeyChallenge { digest, at_ms: now };
        Ok(state.ok().map(|s| (s.to_vec(), take)))
    }

    /// The person's passkeys as kept (opened), with their factor ids.
    pub(super) async fn passkeys_of(
        &self,
        staff_id: &mamori_store::Id,
    ) -> Result<Vec<(StaffFactorRow, Vec<u8>)>> {
        let factors = self.store.staff_factors(staff_id).await?;
        Ok((factors.into_iter())
            .filter(|f| f.kind == KIND)
            .filter_map(|f| {
                let opened = (self.keyring).open_secret(FACTOR_LABEL, &f.id, &f.sealed);
                opened.ok().map(|bytes| (f, bytes.to_vec()))
            })
            .collect())
    }

    fn passkey_use(&self, factor_id: mamori_store::Id, used: mamori_passkeys::Used) -> FactorUse {
        FactorUse::Passkey {
            factor_id,
            counter: i64::from(used.counter),
            sealed: (self.keyring).seal_secret(FACTOR_LABEL, &factor_id, &used.stored),
        }
    }

    /// Starts enrolling a passkey from a one-time enrolment link (None if the link no longer
    /// works). The person's id is the passkey's user handle; their address, its name.
    pub async fn start_passkey_enrolment(
        &self,
        rp: &RelyingParty,
        link: &str,
    ) -> Result<Option<PasskeyCeremony>> {
        let Some((_, staff)) = self.open_enrolment(link).await? else {
            return Ok(None);
        };
        let email = self.staff_info(&staff)?.email;
        let ceremony = (rp.start_registration(staff.id, &email, &[]))
            .map_err(|_| CoreError::Internal("passkeys are not configured".into()))?;
        self.keep_ceremony(Some(staff.id), "enrol", ceremony)
            .await
            .map(Some)
    }

    /// Spends the enrolment link with a password and the passkey the browser created.
    pub async fn enrol_staff_with_passkey(
        &self,
        rp: &RelyingParty,
        link: &str,
        password: &str,
        ceremony: &str,
        answer: &str,
    ) -> Result<EnrolmentDone> {
        let (enrolment, staff) = self.open_enrolment(link).await?.ok_or_else(invalid_link)?;
        if let Some(why) = mamori_crypto::passwords::password_problem(password) {
            return Err(CoreError::invalid(ErrorCode::InvalidValue, "password", why));
        }
        let now = self.now_ms();
        let kept = self
            .kept_ceremony(ceremony, "enrol", Some(&staff.id), now)
            .await?;
        let (state, take) = kept.ok_or_else(not_a_passkey)?;
        let registered =
            (rp.finish_registration(answer.as_bytes(), &state)).map_err(|_| not_a_passkey())?;
        let factor_id = new_id();
        let factor = StaffFactorRow {
            id: factor_id,
            staff_id: staff.id,
            kind: KIND.into(),
            sealed: (self.keyring).seal_secret(FACTOR_LABEL, &factor_id, &registered.stored),
            last_used: 0,
            created_ms: now,
        };
        self.complete_enrolment(enrolment, staff, password, factor, vec![take])
            .await
    }

    /// Starts a sign-in with a passkey: the browser offers the person's passkeys for this site.
    pub async fn start_passkey_sign_in(&self, rp: &RelyingParty) -> Result<PasskeyCeremony> {
        let ceremony = (rp.start_sign_in())
            .map_err(|_| CoreError::Internal("passkeys are not configured".into()))?;
        self.keep_ceremony(None, "sign_in", ceremony).await
    }

    /// The passkey a sign-in answer claims, if it is one of an enrolled member of staff.
    async fn claimed_passkey(
        &self,
        rp: &RelyingParty,
        answer: &str,
    ) -> Result<Option<(StaffRow, StaffFactorRow, Vec<u8>)>> {
        let Ok((user, credential)) = rp.claimed_by(answer.as_bytes()) else {
            return Ok(None);
        };
        let staff = self.store.staff_member(&user).await?;
        let Some(staff) = staff.filter(|s| s.disabled_ms.is_none() && s.enrolled_ms.is_some())
        else {
            return Ok(None);
        };
        let mine = self
            .passkeys_of(&staff.id)
            .await?
            .into_iter()
            .find(|(_, stored)| {
                mamori_passkeys::credential_id(stored).is_ok_and(|id| id == credential)
            });
        Ok(mine.map(|(factor, stored)| (staff, factor, stored)))
    }

    /// Signs a member of staff in with a passkey alone (it verified them), or says it did not.
    pub async fn sign_in_staff_with_passkey(
        &self,
        rp: &RelyingParty,
        ceremony: &str,
        answer: &str,
    ) -> Result<SignedIn> {
        let now = self.now_ms();
        let kept = self.kept_ceremony(ceremony, "sign_in", None, now).await?;
        let claimed = self.claimed_passkey(rp, answer).await?;
        let (kept, (staff, factor, stored)) = match (kept, claimed) {
            (kept, Some(claimed)) => (kept, claimed),
            (_, None) => {
                let event = unknown_attempt(now, "wrong_credentials");
                self.ledger.submit(vec![], vec![event]).await??;
                return Ok(Err(SignInRefused::Wrong));
            }
        };
        if staff.locked_until_ms.is_some_and(|until| until > now) {
            let locked = Outcome::Denied {
                reason: "account_locked".into(),
            };
            let event = staff_event(&staff, "staff.sign_in", locked, now);
            self.ledger.submit(vec![], vec![event]).await??;
            return Ok(Err(SignInRefused::Locked));
        }
        // An answer to a ceremony taken already (or expired): a replay, on their account.
        let Some((state, take)) = kept else {
            return self.sign_in_failed(&staff, "passkey_replayed", now).await;
        };
        match rp.finish_sign_in(answer.as_bytes(), &state, &stored) {
            Ok(used) => {
                let factor = self.passkey_use(factor.id, used);
                self.open_session(&staff, factor, vec![take], now).await
            }
            Err(e) => self.sign_in_failed(&staff, passkey_refusal(&e), now).await,
        }
    }

    /// Starts proving one of the person's passkeys again (None if they have none).
    pub async fn start_passkey_reauthentication(
        &self,
        rp: &RelyingParty,
        session: &StaffSession,
    ) -> Result<Option<PasskeyCeremony>> {
        let stored: Vec<Vec<u8>> = (self.passkeys_of(&session.staff_row_id).await?)
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        if stored.is_empty() {
            return Ok(None);
        }
        let ceremony = (rp.start_reauthentication(&stored))
            .map_err(|_| CoreError::Internal("passkeys are not configured".into()))?;
        let id = Some(session.staff_row_id);
        self.keep_ceremony(id, "reauthenticate", ceremony)
            .await
            .map(Some)
    }

    /// Proves a passkey again in a live session; like a wrong code, a failed proof counts
    /// towards the lock-out.
    pub async fn reauthenticate_staff_with_passkey(
        &self,
        rp: &RelyingParty,
        session: &StaffSession,
        ceremony: &str,
        answer: &str,
    ) -> Result<std::result::Result<(), SignInRefused>> {
        let now = self.now_ms();
        let staff = match self.unlocked_staff(session, now).await? {
            Ok(staff) => staff,
            Err(refused) => return Ok(Err(refused)),
        };
        let action = "staff.reauthenticate";
        let kept = self
            .kept_ceremony(ceremony, "reauthenticate", Some(&staff.id), now)
            .await?;
        let Some((state, take)) = kept else {
            return self
                .factor_failed(&staff, action, "wrong_factor", now)
                .await;
        };
        let passkeys = self.passkeys_of(&staff.id).await?;
        let stored: Vec<Vec<u8>> = passkeys.iter().map(|(_, s)| s.clone()).collect();
        match rp.finish_reauthentication(answer.as_bytes(), &state, &stored) {
            Ok(used) => {
                let factor = (passkeys.iter())
                    .find(|(_, s)| {
                        mamori_passkeys::credential_id(s).is_ok_and(|id| id == used.credential_id)
                    })
                    .map(|(f, _)| f.id)
                    .ok_or(CoreError::Integrity)?;
                let factor = self.passkey_use(factor, used);
                self.reauthenticated(session, &staff, factor, vec![take], now)
                    .await
            }
            Err(e) => {
                self.factor_failed(&staff, action, passkey_refusal(&e), now)
                    .await
            }
        }
    }
}

/// The ledger's reason for a passkey that did not prove itself.
fn passkey_refusal(e: &PasskeyError) -> &'static str {
    match e {
        PasskeyError::Cloned => "passkey_cloned",
        _ => "wrong_factor",
    }
}
