//! A person's consent history (every decision, with its receipt) and current overview.

use super::*;

/// One decision of a person's consent history, with its signed receipt.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub row: ConsentRow,
    /// The receipt (JWS) the decision was given with: the same signed statement, made again.
    pub receipt: Option<String>,
}

impl Vault {
    /// Every consent decision ever recorded for `subject`, oldest first, each with its receipt
    /// (for exports: the person's own, or a role that may use the rights purpose); ledgered.
    pub async fn consent_history(
        &self,
        actor: &Actor,
        subject: &[u8; 16],
    ) -> Result<Vec<HistoryEntry>> {
        let rights = self
            .policy
            .purpose(mamori_policy::RIGHTS_PURPOSE)
            .ok_or(CoreError::Denied(crate::access::Denial::UnknownPurpose))?;
        self.consent_access(actor, rights, "consent.history", Some(subject))
            .await?;
        let rows = self.store.consent_history(subject).await?;
        let event = self.event(
            actor,
            rights.name.as_str(),
            "consent.history",
            Some(subject),
            IdSet::EMPTY,
            Outcome::Allowed,
        );
        self.ledger.submit(vec![], vec![event]).await??;
        Ok(rows
            .into_iter()
            .map(|row| {
                // A purpose since removed from the policy: the decision stays, unsigned anew.
                let receipt = self
                    .policy
                    .purpose(&row.purpose)
                    .map(|p| self.consent_receipt(&row, p));
                HistoryEntry { row, receipt }
            })
            .collect())
    }

    /// Every current consent decision of `subject`, for the person's own "My choices" page
    /// (or a role that may use the rights purpose); one ledger event for the read.
    pub async fn consent_overview(
        &self,
        actor: &Actor,
        subject: &[u8; 16],
    ) -> Result<Vec<ConsentRow>> {
        let rights = self
            .policy
            .purpose(mamori_policy::RIGHTS_PURPOSE)
            .ok_or(CoreError::Denied(crate::access::Denial::UnknownPurpose))?;
        self.consent_access(actor, rights, "consent.read", Some(subject))
            .await?;
        let rows = self.consent_state(subject).await?;
        let event = self.event(
            actor,
            rights.name.as_str(),
            "consent.read",
            Some(subject),
            IdSet::EMPTY,
            Outcome::Allowed,
        );
        self.ledger.submit(vec![], vec![event]).await??;
        Ok(rows)
    }
}
