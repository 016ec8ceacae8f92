//! Opting out of sale and sharing: "Do not sell or share" and Global Privacy Control.

use super::*;
use mamori_proto::RequestKind;

impl Vault {
    /// Honours a Global Privacy Control signal: withdraws consent for every consent-based purpose
    /// flagged `sale_or_share`, on each of its channels, with source `gpc` — unless the latest
    /// decision there is already a withdrawal. Each withdrawal is ledgered and gets a receipt.
    /// Returns how many were recorded. A subject that does not exist records nothing.
    ///
    /// A grant the person gave for themselves in the privacy center *after* the signal had opted
    /// them out there stands (the CCPA regulations let a business ask a GPC user to opt in;
    /// Fides treats a saved preference the same way): otherwise a browser that always sends the
    /// signal could never say yes.
    /// In the privacy center, an opt-out it recorded is entered in the register of requests.
    pub async fn apply_gpc(&self, actor: &Actor, subject: &[u8; 16]) -> Result<usize> {
        match self
            .opt_out_of_sale_keeping(actor, subject, "gpc", true)
            .await
        {
            Ok(0) => Ok(0),
            Ok(changed) => {
                self.register_self_service(actor, subject, RequestKind::OptOutOfSale)
                    .await;
                Ok(changed)
            }
            // Nobody to opt out: the signal is still honoured for whoever exists.
            Err(CoreError::NotFound) => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// "Do not sell or share my personal information": withdraws every purpose flagged
    /// `sale_or_share` on each of its channels (source as given); returns how many changed.
    /// Asked by the person in the privacy center, it is entered in the register of requests.
    pub async fn opt_out_of_sale(
        &self,
        actor: &Actor,
        subject: &[u8; 16],
        source: &str,
    ) -> Result<usize> {
        let changed = self
            .opt_out_of_sale_keeping(actor, subject, source, false)
            .await?;
        self.register_self_service(actor, subject, RequestKind::OptOutOfSale)
            .await;
        Ok(changed)
    }

    async fn opt_out_of_sale_keeping(
        &self,
        actor: &Actor,
        subject: &[u8; 16],
        source: &str,
        keep_later_portal_grants: bool,
    ) -> Result<usize> {
        let current = self.consent_state(subject).await?;
        // (purpose, channel) → when the signal last opted the person out there.
        let mut signalled: HashMap<(String, String), i64> = HashMap::new();
        if keep_later_portal_grants {
            for row in self.store.consent_history(subject).await? {
                if row.source == "gpc" && !row.granted {
                    let at = signalled.entry((row.purpose, row.channel)).or_default();
                    *at = (*at).max(row.created_ms);
                }
            }
        }
        let mut changed = 0;
        for purpose in self
            .policy
            .purposes
            .iter()
            .filter(|p| p.sale_or_share && p.legal_basis == LegalBasis::Consent)
        {
            let channels: Vec<Option<String>> = if purpose.channels.is_empty() {
                vec![None]
            } else {
                purpose
                    .channels
                    .iter()
                    .map(|c| Some(channel_name(*c).to_string()))
                    .collect()
            };
            for channel in channels {
                let key = channel.clone().unwrap_or_default();
                let now = current
                    .iter()
                    .find(|r| r.purpose == purpose.name && r.channel == key);
                let chosen_after_signal = |r: &ConsentRow| {
                    r.source == "portal"
                        && signalled
                            .get(&(purpose.name.clone(), key.clone()))
                            .is_some_and(|at| *at <= r.created_ms)
                };
                if now.is_some_and(|r| !r.granted || chosen_after_signal(r)) {
                    continue;
                }
                let change = ConsentChange {
                    purpose: purpose.name.clone(),
                    channel,
                    granted: false,
                    source: Some(source.to_string()),
                    notice_version: None,
                };
                self.withdraw_unchecked(actor, subject, &change).await?;
                changed += 1;
            }
        }
        Ok(changed)
    }
}
