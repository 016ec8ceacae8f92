//! Invited surveys: one response per invited customer, without knowing whose response it is.
//!
//! 1. Staff invite subjects. Each invitation is a random code (kept only as a keyed digest) for
//!    the link the business sends; a ledger event records the invitation against the subject.
//! 2. The person's browser makes a random token, blinds it with the survey's public key and
//!    presents it with the code. The code is marked used and the blinded token signed
//!    (RFC 9474). Nothing of the blinded token or its signature is kept, and no ledger event is
//!    written: there is nothing personal to read, and an event's time would date the step.
//! 3. The browser unblinds the signature and sends the token with its answers. A valid, unused
//!    token is recorded as spent (a digest, no time) in the job that stores the response.
//!
//! The server holds, for issuance, "this subject's token was issued" and, for redemption, "this
//! digest was spent" — and without the browser's blinding secret the two are unrelated.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mamori_blind::{Issuer, IssuerPublic, Token};
use mamori_proto::ErrorCode;
use mamori_store::{Change, Id, JobError};

use crate::surveys::{Access, StoredSurvey};
use crate::{Actor, CoreError, Result, Vault};

/// Keyring label of the subkey that seals survey signing keys.
const ISSUER_LABEL: &str = "survey-issuer";
/// Keyring label of the subkey for invitation code digests.
const INVITATION_LABEL: &str = "survey-invitation";
/// Subjects per invitation call.
pub const MAX_INVITATIONS: usize = 1_000;

pub(crate) fn token_used() -> CoreError {
    CoreError::Conflict {
        code: ErrorCode::TokenUsed,
        message: "this invitation's token was used already: each invited person answers once"
            .into(),
    }
}

fn invalid_token() -> CoreError {
    CoreError::invalid(
        ErrorCode::InvalidToken,
        "token",
        "the token is not one this survey issued (forged, altered, or from another survey)",
    )
}

/// The outcome of inviting one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invitation {
    /// The code for the link `/survey/{slug}#invitation={code}`; shown once.
    Sent { subject: Id, code: String },
    /// Not invited, with a stable reason: `subject_not_found`, `subject_erased` or
    /// `token_issued` (the person has had their token already).
    Refused { subject: Id, reason: &'static str },
}

impl Vault {
    /// A fresh signing key for a new invited survey, sealed, as the change that stores it.
    pub(crate) async fn new_survey_issuer(&self, survey_id: &Id) -> Result<Change> {
        let issuer = tokio::task::spawn_blocking(Issuer::generate)
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))?
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        let secret = zeroize::Zeroizing::new(
            issuer
                .secret_der()
                .map_err(|e| CoreError::Internal(e.to_string()))?,
        );
        Ok(Change::InsertSurveyIssuer {
            survey_id: *survey_id,
            public_key: issuer
                .public()
                .to_der()
                .map_err(|e| CoreError::Internal(e.to_string()))?,
            sealed_secret: self.keyring.seal_secret(ISSUER_LABEL, survey_id, &secret),
        })
    }

    async fn invited_survey(&self, slug: &str) -> Result<StoredSurvey> {
        let stored = self.survey(slug).await?;
        if stored.survey.definition.access != Access::Invited {
            return Err(CoreError::invalid(
                ErrorCode::NotInvitedSurvey,
                "slug",
                "this survey is open to everyone and takes no invitations or tokens",
            ));
        }
        Ok(stored)
    }

    async fn issuer_row(&self, stored: &StoredSurvey) -> Result<(Vec<u8>, Vec<u8>)> {
        self.store
            .survey_issuer(&stored.id)
            .await?
            .ok_or_else(|| CoreError::Internal("an invited survey has no signing key".into()))
    }

    /// The public key browsers blind their tokens with.
    pub async fn survey_issuer_public(&self, slug: &str) -> Result<IssuerPublic> {
        let stored = self.invited_survey(slug).await?;
        let (public, _) = self.issuer_row(&stored).await?;
        IssuerPublic::from_der(&public).map_err(|_| CoreError::Integrity)
    }

    /// Invites subjects to an invited survey; one ledger event per subject invited.
    pub async fn invite_to_survey(
        &self,
        actor: &Actor,
        slug: &str,
        subjects: &[Id],
    ) -> Result<Vec<Invitation>> {
        let granted = self.grant_survey_admin(actor, "survey.invite").await?;
        let stored = self.invited_survey(slug).await?;
        if subjects.is_empty() || subjects.len() > MAX_INVITATIONS {
            return Err(CoreError::invalid(
                ErrorCode::InvalidInvitations,
                "subjects",
                format!("invite 1 to {MAX_INVITATIONS} subjects at a time"),
            ));
        }
        let day = self.today();
        let mut out = Vec::with_capacity(subjects.len());
        let (mut changes, mut events) = (Vec::new(), Vec::new());
        for subject in subjects {
            let refused = |reason| Invitation::Refused {
                subject: *subject,
                reason,
            };
            match self.store.subject(subject).await? {
                None => {
                    out.push(refused("subject_not_found"));
                    continue;
                }
                Some(row) if row.erased_ms.is_some() => {
                    out.push(refused("subject_erased"));
                    continue;
                }
                Some(_) => {}
            }
            if self.store.survey_invitation(&stored.id, subject).await? == Some(true) {
                out.push(refused("token_issued"));
                continue;
            }
            if out
                .iter()
                .any(|i| matches!(i, Invitation::Sent { subject: s, .. } if s == subject))
            {
                continue;
            }
            let code = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
            changes.push(Change::InviteToSurvey {
                survey_id: stored.id,
                subject_id: *subject,
                code_digest: self.invitation_digest(&code),
                day,
            });
            let event = granted.event_about(subject);
            events.push(event);
            out.push(Invitation::Sent {
                subject: *subject,
                code,
            });
        }
        if !changes.is_empty() {
            // A subject erased or given its token meanwhile fails the whole call: nothing is
            // half-sent, and calling again reports who is left.
            self.ledger
                .submit(changes, events)
                .await?
                .map_err(|e| match e {
                    JobError::Gone => CoreError::Conflict {
                        code: ErrorCode::InvitationsChanged,
                        message: "a subject was erased or given its token meanwhile; invite again"
                            .into(),
                    },
                    other => other.into(),
                })?;
        }
        Ok(out)
    }

    fn invitation_digest(&self, code: &str) -> [u8; 32] {
        mamori_crypto::hmac_sha256(
            self.keyring.subkey(INVITATION_LABEL).as_ref(),
            code.as_bytes(),
        )
    }

    /// Signs a blinded token for the invitation with `code`, once. Keeps nothing of the
    /// blinded token or the signature, and writes no ledger event.
    pub async fn issue_survey_token(
        &self,
        slug: &str,
        code: &str,
        blinded: &[u8],
    ) -> Result<Vec<u8>> {
        let stored = self.invited_survey(slug).await?;
        if !stored.is_open(self.today()) {
            return Err(CoreError::Conflict {
                code: ErrorCode::SurveyClosed,
                message: "this survey is not taking responses".into(),
            });
        }
        let unknown = || {
            CoreError::invalid(
                ErrorCode::InvalidInvitation,
                "invitation",
                "this invitation is not one of this survey's; use the link from your invitation",
            )
        };
        if code.is_empty() || code.len() > 100 {
            return Err(unknown());
        }
        let digest = self.invitation_digest(code);
        match self
            .store
            .survey_invitation_by_code(&stored.id, &digest)
            .await?
        {
            None => return Err(unknown()),
            Some(true) => return Err(token_issued()),
            Some(false) => {}
        }
        let (_, sealed) = self.issuer_row(&stored).await?;
        let secret = self
            .keyring
            .open_secret(ISSUER_LABEL, &stored.id, &sealed)
            .map_err(|_| CoreError::Integrity)?;
        let blinded = blinded.to_vec();
        let signature = tokio::task::spawn_blocking(move || {
            Issuer::from_secret_der(&secret).map(|issuer| issuer.blind_sign(&blinded))
        })
        .await
        .map_err(|e| CoreError::Internal(e.to_string()))?
        .map_err(|_| CoreError::Integrity)?
        .map_err(|_| {
            CoreError::invalid(
                ErrorCode::InvalidBlindedToken,
                "blinded_token",
                "the blinded token is not 256 bytes below the survey key's modulus",
            )
        })?;
        // The signature leaves only once the invitation is durably marked used.
        let claim = Change::ClaimSurveyInvitation {
            survey_id: stored.id,
            code_digest: digest,
        };
        match self.ledger.submit(vec![claim], vec![]).await? {
            Ok(()) => Ok(signature),
            Err(JobError::Gone) => Err(token_issued()),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks a token for `stored` and returns the change that records it spent.
    pub(crate) async fn spend_survey_token(
        &self,
        stored: &StoredSurvey,
        token: Option<&[u8]>,
    ) -> Result<Change> {
        let token = token.ok_or_else(|| {
            CoreError::invalid(
                ErrorCode::TokenRequired,
                "token",
                "this survey is by invitation: answer through the link in your invitation",
            )
        })?;
        let token = Token::from_bytes(token).map_err(|_| invalid_token())?;
        let (public, _) = self.issuer_row(stored).await?;
        let public = IssuerPublic::from_der(&public).map_err(|_| CoreError::Integrity)?;
        public.verify(&token).map_err(|_| invalid_token())?;
        Ok(Change::SpendSurveyToken {
            survey_id: stored.id,
            digest: token.spent_digest(),
        })
    }

    /// Invitations sent and tokens issued, for the survey's summary.
    pub async fn survey_invitation_counts(&self, stored: &StoredSurvey) -> Result<(i64, i64)> {
        Ok(self.store.survey_invitation_counts(&stored.id).await?)
    }
}

fn token_issued() -> CoreError {
    CoreError::Conflict {
        code: ErrorCode::TokenIssued,
        message: "this invitation's token was issued already; it can be used once, from the browser that asked for it"
            .into(),
    }
}
