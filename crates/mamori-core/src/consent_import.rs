//! Importing existing consents (`mamori import consents`): each row keeps its original time and
//! provenance. The history gets every row; the current state only moves forward in time, so an
//! old record imported late never overrides a newer decision.

use mamori_crypto::LookupKind;
use mamori_ledger::Outcome;
use mamori_policy::IdSet;
use mamori_proto::ErrorCode;
use mamori_store::{Change, ConsentRow};

use crate::consent::ConsentChange;
use crate::error::{CoreError, Result};
use crate::import::Rejection;
use crate::ledger::Item;
use crate::vault::{Actor, Vault, index_kind};
use crate::{new_id, parse_id};

/// One consent record to import. The subject is named by Mamori id or by external id.
#[derive(Debug, Clone)]
pub struct ConsentImportRow {
    pub line: u64,
    pub subject: String,
    pub change: ConsentChange,
    /// When the person decided (milliseconds since the epoch).
    pub at_ms: i64,
}

#[derive(Debug, Default)]
pub struct ConsentImportReport {
    pub imported: u64,
    pub rejected: Vec<Rejection>,
}

fn reject(line: u64, e: &CoreError) -> Rejection {
    Rejection {
        line,
        code: e.code(),
        field: match e {
            CoreError::Invalid { field, .. } => field.clone(),
            _ => None,
        },
        message: e.to_string(),
    }
}

impl Vault {
    async fn subject_for_import(&self, text: &str) -> Result<[u8; 16]> {
        if let Some(id) = parse_id(text) {
            return Ok(id);
        }
        let external = mamori_policy::value::normalise_external_id(text)
            .map_err(|e| CoreError::invalid(ErrorCode::InvalidValue, "subject", e.expected))?;
        let digest = self.keyring.blind_index(LookupKind::ExternalId, &external);
        self.store
            .find_by_index(index_kind(LookupKind::ExternalId), &digest)
            .await?
            .ok_or(CoreError::NotFound)
    }

    /// One imported decision checked as a live change would be: a time in the past, a person
    /// who exists, a consent-based purpose the role may use on a declared channel, a notice
    /// version that described it.
    async fn check_import_row(
        &self,
        actor: &Actor,
        row: &ConsentImportRow,
        now: i64,
    ) -> Result<([u8; 16], &mamori_policy::Purpose, String)> {
        if row.at_ms <= 0 || row.at_ms > now + 60_000 {
            return Err(CoreError::invalid(
                ErrorCode::InvalidValue,
                "timestamp",
                "a consent time must be in the past (RFC 3339)",
            ));
        }
        let subject = self.subject_for_import(&row.subject).await?;
        let (purpose, channel) = self
            .validate_consent_change(actor, &subject, &row.change)
            .await?;
        if row.change.granted
            && let Some(version) = &row.change.notice_version
        {
            self.check_notice_describes(purpose, version).await?;
        }
        Ok((subject, purpose, channel))
    }

    /// When the current decision for the record's purpose and channel was made (the earliest
    /// time there is, if none was).
    async fn latest_decision_ms(&self, subject: &[u8; 16], record: &ConsentRow) -> Result<i64> {
        Ok(self
            .consent_state(subject)
            .await?
            .iter()
            .filter(|c| c.purpose == record.purpose && c.channel == record.channel)
            .map(|c| c.created_ms)
            .max()
            .unwrap_or(i64::MIN))
    }

    /// A withdrawal that is the person's latest decision: vendors that received data for the
    /// purpose are asked to stop, in the same commit, as for a live withdrawal.
    async fn withdrawal_tasks(
        &self,
        item: &mut Item,
        subject: &[u8; 16],
        purpose: &str,
    ) -> Result<()> {
        let kind = mamori_proto::disclosures::VendorTaskKind::Optout;
        let all = self.policy.all_categories();
        let asked = self.vendor_tasks_for(subject, kind, all, Some(purpose));
        let (changes, events) = asked.await?;
        item.changes.extend(changes);
        item.events.extend(events);
        Ok(())
    }

    /// Imports one batch of consent records in one transaction, each checked as a live change
    /// would be (purpose consent-based, channel declared, role may use the purpose).
    pub async fn import_consents(
        &self,
        actor: &Actor,
        rows: Vec<ConsentImportRow>,
    ) -> Result<ConsentImportReport> {
        let mut report = ConsentImportReport::default();
        let mut items = Vec::new();
        let mut lines = Vec::new();
        let mut latest_known = std::collections::HashMap::new();
        // Vendors are asked once per person and purpose a batch withdraws.
        let mut withdrawn = std::collections::HashSet::new();
        let now = self.now_ms();
        for row in rows {
            let (subject, purpose, channel) = match self.check_import_row(actor, &row, now).await {
                Ok(checked) => checked,
                Err(e) => {
                    report.rejected.push(reject(row.line, &e));
                    continue;
                }
            };
            let mut record = ConsentRow {
                id: new_id(),
                subject_id: subject,
                purpose: purpose.name.clone(),
                channel,
                granted: row.change.granted,
                source: row.change.source.clone().unwrap_or_else(|| "import".into()),
                notice_version: row.change.notice_version.clone(),
                actor: actor.id.clone(),
                created_ms: row.at_ms,
                state_mac: None,
            };
            self.seal_state(&mut record);
            let action = if record.granted {
                "consent.grant"
            } else {
                "consent.withdraw"
            };
            let event = self.event(
                actor,
                &purpose.name,
                action,
                Some(&subject),
                IdSet::EMPTY,
                Outcome::Allowed,
            );
            // An older decision joins the history but does not change the current state, so
            // it is not announced: downstream systems would take it for the latest.
            let key = (subject, record.purpose.clone(), record.channel.clone());
            let latest = match latest_known.get(&key) {
                Some(ms) => *ms,
                None => self.latest_decision_ms(&subject, &record).await?,
            };
            let mut item = Item {
                changes: vec![],
                events: vec![event],
            };
            if record.created_ms >= latest {
                item.changes
                    .push(crate::consent::consent_changed(&record, now));
                if !record.granted && withdrawn.insert((subject, purpose.id)) {
                    self.withdrawal_tasks(&mut item, &subject, &purpose.name)
                        .await?;
                }
            }
            latest_known.insert(key, latest.max(record.created_ms));
            item.changes.insert(0, Change::RecordConsent(record));
            items.push(item);
            lines.push(row.line);
        }
        let outcomes = self.ledger.submit_all(items).await?;
        for (line, outcome) in lines.into_iter().zip(outcomes) {
            match outcome {
                Ok(()) => report.imported += 1,
                Err(e) => report.rejected.push(reject(line, &CoreError::from(e))),
            }
        }
        report.rejected.sort_by_key(|r| r.line);
        Ok(report)
    }
}
