//! Who must be told of an incident, by when: the shipped table of duties per law
//! (`mamori_policy::breach_duties`, sources cited in its data file), each clock running from the
//! incident's `detected_at`. By default the laws the policy names; a caller may name others
//! (`hipaa`, `pci`). Ledgered as `incident.deadlines`.

use mamori_policy::Jurisdiction;
use mamori_policy::breach_duties::{self, Within};
use mamori_proto::ErrorCode;
use mamori_proto::incidents::{Deadline, IncidentDeadlines};

use super::{INCIDENTS, not_found};
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};
use crate::{format_id, format_time};

const HOUR_MS: i64 = 3_600_000;

fn within_text(w: Within) -> String {
    match w {
        Within::Hours(n) => format!("{n}h"),
        Within::Days(n) => format!("{n}d"),
        Within::BusinessDays(n) => format!("{n}bd"),
        Within::AsSoonAsPossible => "asap".into(),
    }
}

impl Vault {
    /// The incident's notification duties and their clocks, for `jurisdictions` (None: the
    /// policy's).
    pub async fn incident_deadlines(
        &self,
        actor: &Actor,
        id: &[u8; 16],
        jurisdictions: Option<Vec<String>>,
    ) -> Result<IncidentDeadlines> {
        let table = breach_duties::shipped();
        let laws = match jurisdictions {
            Some(named) => named,
            None => (self.policy.organisation.jurisdictions.iter())
                .filter_map(|j| Jurisdiction::ALL.iter().find(|(_, x)| x == j))
                .map(|(name, _)| name.to_string())
                .collect(),
        };
        let covered = |law: &String| table.duties.iter().any(|d| &d.jurisdiction == law);
        if laws.is_empty() || !laws.iter().all(covered) {
            return Err(CoreError::invalid(
                ErrorCode::InvalidValue,
                "jurisdictions",
                "name laws the table covers: gdpr, lgpd, appi, ccpa, hipaa, pci",
            ));
        }
        self.grant_and_ledger(actor, INCIDENTS, "incident.deadlines")
            .await?;
        let row = self.store.incident(id).await?.ok_or_else(not_found)?;
        let now = self.now_ms();
        let mut deadlines: Vec<(Option<i64>, Deadline)> = (table.duties.iter())
            .filter(|d| laws.contains(&d.jurisdiction))
            .map(|d| {
                let due = d.within.due_ms(row.detected_ms);
                let deadline = Deadline {
                    jurisdiction: d.jurisdiction.clone(),
                    recipient: d.recipient.clone(),
                    within: within_text(d.within),
                    due_at: due.map(format_time),
                    hours_left: due.map(|t| (t - now).div_euclid(HOUR_MS)),
                    overdue: due.is_some_and(|t| t < now),
                    when: d.when.clone(),
                    source: d.source.clone(),
                };
                (due, deadline)
            })
            .collect();
        // Without a number first (they are due now), then the soonest.
        deadlines.sort_by_key(|(due, _)| due.unwrap_or(i64::MIN));
        Ok(IncidentDeadlines {
            incident: format_id(id),
            detected_at: format_time(row.detected_ms),
            table_reviewed: table.reviewed,
            deadlines: deadlines.into_iter().map(|(_, d)| d).collect(),
        })
    }
}
