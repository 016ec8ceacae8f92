//! Consent receipts: a signed JWS per decision, and checking one brought back.

use super::*;
use mamori_proto::ErrorCode;

/// What a presented consent receipt proves now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptCheck {
    pub receipt_id: String,
    pub subject: String,
    pub purpose: String,
    pub channel: String,
    pub granted: bool,
    /// Whether this decision is still the latest for its subject, purpose and channel. A
    /// genuine receipt for a decision since replaced (a grant later withdrawn, replayed as if it
    /// were current) proves only that the decision was made, when it was.
    pub current: bool,
}

fn invalid_receipt() -> CoreError {
    CoreError::invalid(
        ErrorCode::InvalidReceipt,
        "receipt",
        "this is not a consent receipt signed by this Mamori (bad signature or shape)",
    )
}

impl Vault {
    /// Checks a receipt's signature (the ledger key) and whether its decision is still current.
    /// Reading a person's consent this way is ledgered like a check.
    pub async fn verify_receipt(&self, actor: &Actor, receipt: &str) -> Result<ReceiptCheck> {
        // A receipt stays valid after the key that signed it retires.
        let payload = (self.ledger.key_history().keys().iter())
            .find_map(|k| jws::verify_compact(&k.public, receipt.trim()))
            .ok_or_else(invalid_receipt)?;
        let v: serde_json::Value =
            serde_json::from_slice(&payload).map_err(|_| invalid_receipt())?;
        let text = |x: &serde_json::Value| x.as_str().map(str::to_string);
        let (
            Some(receipt_id),
            Some(subject_text),
            Some(purpose_name),
            Some(channel),
            Some(granted),
        ) = (
            text(&v["consentReceiptID"]).and_then(|t| crate::parse_id(&t)),
            text(&v["piiPrincipalId"]),
            text(&v["services"][0]["service"]),
            text(&v["channel"]),
            v["granted"].as_bool(),
        )
        else {
            return Err(invalid_receipt());
        };
        let subject = crate::parse_id(&subject_text).ok_or_else(invalid_receipt)?;
        // The purpose may have left the policy since; the receipt still names what was agreed.
        let current = match self.policy.purpose(&purpose_name) {
            Some(purpose) => {
                self.consent_access(actor, purpose, "consent.receipt", Some(&subject))
                    .await?;
                let latest = self
                    .store
                    .latest_consent_event(&subject, &purpose_name, &channel)
                    .await?;
                let event = self.event(
                    actor,
                    &purpose.name,
                    "consent.receipt",
                    Some(&subject),
                    IdSet::EMPTY,
                    Outcome::Allowed,
                );
                self.ledger.submit(vec![], vec![event]).await??;
                // Erasure removes the state but keeps the history: an erased person's last
                // decision is not current.
                let live = self
                    .consent_state(&subject)
                    .await?
                    .iter()
                    .any(|c| c.purpose == purpose_name && c.channel == channel);
                live && latest == Some(receipt_id)
            }
            None => false,
        };
        Ok(ReceiptCheck {
            receipt_id: crate::format_id(&receipt_id),
            subject: subject_text,
            purpose: purpose_name,
            channel,
            granted,
            current,
        })
    }
}
