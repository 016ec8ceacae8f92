//! Verifying who is asking before a request is answered. Requests through the privacy center
//! arrive verified by the person's sign-in, an agent's by the agent (Data Rights Protocol);
//! staff record their own check — an identity document, a call back on the number the account
//! holds, account details only the holder knows — for a request that came another way (by
//! e-mail, by post). Recorded once, decided and ledgered (`request.verify`), announced like any
//! step; the console answers a request only once it is verified.

use mamori_proto::{ErrorCode, RequestSource, VerifiedBy};
use mamori_store::RequestRow;

use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};

/// How a request is verified as it arrives: by the sign-in or the agent, else not yet.
pub(crate) fn verified_on_arrival(source: RequestSource, at_ms: i64) -> Option<(VerifiedBy, i64)> {
    match source {
        RequestSource::PrivacyCenter => Some((VerifiedBy::PrivacyCenterSignIn, at_ms)),
        RequestSource::Agent => Some((VerifiedBy::Agent, at_ms)),
        RequestSource::Staff => None,
    }
}

/// The checks staff make themselves (the others come with the request).
pub const STAFF_CHECKS: [VerifiedBy; 3] = [
    VerifiedBy::IdDocument,
    VerifiedBy::CallBack,
    VerifiedBy::AccountDetails,
];

impl Vault {
    /// Records that staff verified the requester by `how` (one of [`STAFF_CHECKS`]).
    pub async fn verify_request(
        &self,
        actor: &Actor,
        id: &[u8; 16],
        how: &str,
    ) -> Result<RequestRow> {
        let how = VerifiedBy::parse(how)
            .filter(|h| STAFF_CHECKS.contains(h))
            .ok_or_else(|| {
                CoreError::invalid(
                    ErrorCode::InvalidValue,
                    "how",
                    "how must be one of: id_document, call_back, account_details",
                )
            })?;
        let now = self.now_ms();
        self.change_request(actor, id, "request.verify", |row| {
            if row.verified.is_some() {
                return Err(CoreError::Conflict {
                    code: ErrorCode::AlreadyVerified,
                    message: "this request's requester is verified already".into(),
                });
            }
            row.verified = Some((how, now));
            Ok(())
        })
        .await
    }
}
