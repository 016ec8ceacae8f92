//! Signing in to the privacy center with a one-time code sent to an address the vault knows.
//!
//! Enumeration-safe: every request creates a challenge and gets the same answer whether or not the
//! address belongs to a customer; a code is only sent when it does. Only keyed digests of codes
//! and session tokens are stored. A code is good for one use, for ten minutes and five tries.
//! Each step is ledgered (actor `privacy-center`, role `self`, purpose `data_subject_rights`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mamori_crypto::LookupKind;
use mamori_ledger::Outcome;
use mamori_policy::value::{normalise_email, normalise_phone};
use mamori_policy::{IdSet, RIGHTS_PURPOSE, SELF_ROLE};
use mamori_proto::ErrorCode;
use mamori_store::{ChallengeRow, Change, JobError, SessionRow};

use crate::error::{CoreError, Result};
use crate::mail::Recipient;
use crate::new_id;
use crate::vault::{Actor, Vault, index_kind};

pub const CODE_TTL_MS: i64 = 10 * 60_000;
pub const MAX_CODE_ATTEMPTS: i64 = 5;
pub const SESSION_TTL_MS: i64 = 30 * 60_000;
/// Codes one person may be sent per [`CODE_TTL_MS`], by all their addresses together: with five
/// tries each, at most 25 guesses at a one-in-a-million code per ten minutes, however many
/// addresses, spellings or clients ask.
pub const CODES_PER_PERSON: i64 = 5;

fn recipient(kind: LookupKind, normalised: String) -> Recipient {
    match kind {
        LookupKind::Phone => Recipient::Phone(normalised),
        _ => Recipient::Email(normalised),
    }
}

/// What a sign-in request produced: the challenge the page carries, and — only for a known
/// address — the code to send there.
pub struct SignInStarted {
    pub challenge: [u8; 16],
    pub code: Option<String>,
    /// Where the code goes: the address, normalised.
    pub to: Recipient,
}

/// Why a code was not accepted. The page says which, so the person knows what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefused {
    Wrong,
    Expired,
    TooManyAttempts,
    AlreadyUsed,
}

impl CodeRefused {
    pub fn code(self) -> &'static str {
        match self {
            CodeRefused::Wrong => "wrong_code",
            CodeRefused::Expired => "code_expired",
            CodeRefused::TooManyAttempts => "too_many_attempts",
            CodeRefused::AlreadyUsed => "code_used",
        }
    }
}

fn center() -> Actor {
    Actor {
        id: "privacy-center".into(),
        role: SELF_ROLE.into(),
    }
}

/// Why a challenge can take no more codes, if it cannot.
fn refusal(row: &ChallengeRow, now: i64) -> Option<CodeRefused> {
    if row.used_ms.is_some() {
        Some(CodeRefused::AlreadyUsed)
    } else if row.attempts >= MAX_CODE_ATTEMPTS {
        Some(CodeRefused::TooManyAttempts)
    } else if now > row.expires_ms {
        Some(CodeRefused::Expired)
    } else {
        None
    }
}

impl Vault {
    /// Whether `code` is the one sent for `challenge` (constant-time comparison of digests).
    fn code_matches(&self, challenge: &[u8; 16], code: &str, row: &ChallengeRow) -> bool {
        code.len() == 6
            && code.bytes().all(|b| b.is_ascii_digit())
            && mamori_crypto::hmac_sha256_verify_prefix(
                self.keyring.subkey("signin-code").as_ref(),
                &[&challenge[..], code.as_bytes()].concat(),
                &row.code_digest,
            )
    }

    /// A fresh six-digit code and the challenge row that will accept it once.
    pub(crate) fn new_challenge(&self, subject: Option<[u8; 16]>) -> (ChallengeRow, String) {
        let challenge = new_id();
        let code = format!("{:06}", rand::random_range(0..1_000_000u32));
        let now = self.now_ms();
        let row = ChallengeRow {
            id: challenge,
            subject_id: subject,
            code_digest: self.code_digest(&challenge, &code),
            created_ms: now,
            expires_ms: now + CODE_TTL_MS,
            attempts: 0,
            used_ms: None,
        };
        (row, code)
    }

    fn code_digest(&self, challenge: &[u8; 16], code: &str) -> [u8; 32] {
        let key = self.keyring.subkey("signin-code");
        let mut message = challenge.to_vec();
        message.extend_from_slice(code.as_bytes());
        mamori_crypto::hmac_sha256(key.as_ref(), &message)
    }

    fn session_digest(&self, token: &str) -> [u8; 32] {
        let key = self.keyring.subkey("session");
        mamori_crypto::hmac_sha256(key.as_ref(), token.as_bytes())
    }

    fn signin_event(
        &self,
        action: &str,
        subject: Option<&[u8; 16]>,
        outcome: Outcome,
    ) -> mamori_ledger::Event {
        self.event(
            &center(),
            RIGHTS_PURPOSE,
            action,
            subject,
            IdSet::EMPTY,
            outcome,
        )
    }

    /// Step one: a challenge for `email`, and a code to send if the address is known. An address
    /// that is not an e-mail address at all is the only error (the person mistyped it).
    ///
    /// The blind-index lookup is not an access decision: nobody is signed in yet, nothing is
    /// decrypted and the answer reveals nothing; it is ledgered (`signin.request`). Everything the
    /// session then reads goes through the decision as the person.
    pub async fn start_sign_in(&self, address: &str) -> Result<SignInStarted> {
        // A phone number has no `@`; anything with one is read as an e-mail address.
        let (kind, normalised) = if address.contains('@') {
            (LookupKind::Email, normalise_email(address))
        } else {
            (LookupKind::Phone, normalise_phone(address))
        };
        let normalised = normalised.map_err(|_| {
            CoreError::invalid(
                ErrorCode::InvalidValue,
                "address",
                "give an e-mail address, or a phone number in international form (+33 6 …)",
            )
        })?;
        let digest = self.keyring.blind_index(kind, &normalised);
        let subject = self.store.find_by_index(index_kind(kind), &digest).await?;
        if let Some(person) = subject {
            let since = self.now_ms() - CODE_TTL_MS;
            if self.store.challenges_since(&person, since).await? >= CODES_PER_PERSON {
                // Answered exactly as for an unknown address (nothing tells the asker the
                // address is known); no code is sent, and the person's log shows the refusal.
                let outcome = Outcome::Denied {
                    reason: "too_many_codes".into(),
                };
                let event = self.signin_event("signin.request", Some(&person), outcome);
                let (row, _) = self.new_challenge(None);
                let challenge = row.id;
                self.ledger
                    .submit(vec![Change::InsertChallenge(row)], vec![event])
                    .await??;
                return Ok(SignInStarted {
                    challenge,
                    code: None,
                    to: recipient(kind, normalised),
                });
            }
        }
        let (row, code) = self.new_challenge(subject);
        let challenge = row.id;
        let event = self.signin_event("signin.request", subject.as_ref(), Outcome::Allowed);
        self.ledger
            .submit(vec![Change::InsertChallenge(row)], vec![event])
            .await??;
        Ok(SignInStarted {
            challenge,
            code: subject.map(|_| code),
            to: recipient(kind, normalised),
        })
    }

    /// Step two: the code for `challenge`. Returns a session token (for a cookie) and the
    /// subject, or why the code was refused (each refusal is ledgered).
    pub async fn finish_sign_in(
        &self,
        challenge: &[u8; 16],
        code: &str,
    ) -> Result<std::result::Result<(String, [u8; 16]), CodeRefused>> {
        let Some(row) = self.store.challenge(challenge).await? else {
            return Ok(Err(CodeRefused::Wrong));
        };
        // An unknown address's challenge never accepts a code: there is nobody to sign in as.
        let Some(subject) = row.subject_id else {
            let event = |outcome| self.signin_event("signin.code", None, outcome);
            return match self.spend_code(&row, None, vec![], event).await? {
                Ok(()) => Ok(Err(CodeRefused::Wrong)),
                Err(why) => Ok(Err(why)),
            };
        };
        let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let now = self.now_ms();
        let session = Change::InsertSession(SessionRow {
            digest: self.session_digest(&token),
            subject_id: subject,
            created_ms: now,
            expires_ms: now + SESSION_TTL_MS,
            revoked_ms: None,
        });
        let event = |outcome| self.signin_event("signin.code", Some(&subject), outcome);
        Ok(self
            .spend_code(&row, Some(code), vec![session], event)
            .await?
            .map(|()| (token, subject)))
    }

    /// One try of `code` (None: a try that cannot succeed) against a challenge. A right code
    /// uses the challenge up and commits `on_success` with it; every try is counted in the same
    /// transaction as its effect, and only while fewer than the maximum were made, so parallel
    /// guesses cannot exceed it. Each try and each refusal is ledgered through `event`.
    pub(crate) async fn spend_code(
        &self,
        row: &ChallengeRow,
        code: Option<&str>,
        on_success: Vec<Change>,
        event: impl Fn(Outcome) -> mamori_ledger::Event,
    ) -> Result<std::result::Result<(), CodeRefused>> {
        let denied = |why: CodeRefused| Outcome::Denied {
            reason: why.code().into(),
        };
        let now = self.now_ms();
        if let Some(why) = refusal(row, now) {
            self.ledger
                .submit(vec![], vec![event(denied(why))])
                .await??;
            return Ok(Err(why));
        }
        let right = code.is_some_and(|code| self.code_matches(&row.id, code, row));
        let mut changes = vec![Change::ChallengeAttempt {
            id: row.id,
            max: MAX_CODE_ATTEMPTS,
        }];
        let outcome = if right {
            changes.push(Change::UseChallenge {
                id: row.id,
                used_ms: now,
            });
            changes.extend(on_success);
            Outcome::Allowed
        } else {
            denied(CodeRefused::Wrong)
        };
        match self.ledger.submit(changes, vec![event(outcome)]).await? {
            Ok(()) if right => Ok(Ok(())),
            Ok(()) if row.attempts + 1 >= MAX_CODE_ATTEMPTS => {
                Ok(Err(CodeRefused::TooManyAttempts))
            }
            Ok(()) => Ok(Err(CodeRefused::Wrong)),
            // Another try got there first: the maximum was reached or the code was used.
            Err(JobError::Gone) => Ok(Err(CodeRefused::TooManyAttempts)),
            Err(e) => Err(e.into()),
        }
    }

    /// The person a session token belongs to, while it is valid; the actor to act as.
    pub async fn session_actor(&self, token: &str) -> Result<Option<([u8; 16], Actor)>> {
        if token.is_empty() || token.len() > 100 {
            return Ok(None);
        }
        let Some(row) = self.store.session(&self.session_digest(token)).await? else {
            return Ok(None);
        };
        if row.revoked_ms.is_some() || self.now_ms() > row.expires_ms {
            return Ok(None);
        }
        let actor = Actor {
            id: crate::access::self_actor_id(&row.subject_id),
            role: SELF_ROLE.into(),
        };
        Ok(Some((row.subject_id, actor)))
    }

    /// Ends a session (signing out); unknown tokens are ignored.
    pub async fn sign_out(&self, token: &str) -> Result<()> {
        let Some((subject, _)) = self.session_actor(token).await? else {
            return Ok(());
        };
        let change = Change::RevokeSession {
            digest: self.session_digest(token),
            revoked_ms: self.now_ms(),
        };
        let event = self.signin_event("signin.end", Some(&subject), Outcome::Allowed);
        self.ledger.submit(vec![change], vec![event]).await??;
        Ok(())
    }
}
