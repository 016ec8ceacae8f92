//! Who must be told of an incident, by when: the shipped table of duties per law
//! (`mamori_policy::breach_duties`, sources cited in its data file), each clock running from the
//! incident's `detected_at`. By default the laws the policy names; a caller may name others
//! (`hipaa`, `pci`). Ledgered as `incident.deadlines`.

use mamori_policy::Jurisdiction;
use mamori_policy::breach_duties;
use mamori_proto::ErrorCode;
use mamori_proto::incidents::{Deadline, IncidentDeadlines, IncidentStatus};
use mamori_proto::outbox::{EventType, IncidentDeadlineSoon};
use mamori_store::{Change, JobError};

use crate::admin::Granted;

use super::{INCIDENTS, not_found};
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};
use crate::{format_id, format_time};

const HOUR_MS: i64 = 3_600_000;

/// Reminders go out this long before a duty falls due (and once for a duty already overdue).
pub const REMIND_BEFORE_MS: i64 = 24 * HOUR_MS;

impl Vault {
    /// The laws the policy names, as the table spells them.
    pub(super) fn policy_laws(&self) -> Vec<String> {
        (self.policy.organisation.jurisdictions.iter())
            .filter_map(|j| Jurisdiction::ALL.iter().find(|(_, x)| x == j))
            .map(|(name, _)| name.to_string())
            .collect()
    }

    /// Announces `incident.deadline_soon` once for each duty of an open incident (the policy's
    /// laws) due within [`REMIND_BEFORE_MS`], so the response team's tools hear of it in time.
    /// Ledgered as `incident.remind` by the scheduler. Returns how many went out.
    pub async fn send_incident_reminders(&self) -> Result<usize> {
        let table = breach_duties::shipped();
        let laws = self.policy_laws();
        let scheduler = Actor {
            id: "scheduler".into(),
            role: "system".into(),
        };
        let mut sent = 0;
        for row in self.store.incidents().await? {
            if super::status_of(&row.status) == IncidentStatus::Closed {
                continue;
            }
            let reminded = self.store.incident_reminded(&row.id).await?;
            let entries = self.store.incident_entries(&row.id).await?;
            let now = self.now_ms();
            for d in table
                .duties
                .iter()
                .filter(|d| laws.contains(&d.jurisdiction))
            {
                let Some(due_ms) = self.due_now(d, row.detected_ms, &entries).due_ms else {
                    continue;
                };
                // Once per due time: an extended deadline is reminded again.
                let duty = format!("{}@{due_ms}", super::extensions::duty_key(d));
                if due_ms - now > REMIND_BEFORE_MS || reminded.contains(&duty) {
                    continue;
                }
                let soon = IncidentDeadlineSoon {
                    incident: format_id(&row.id),
                    jurisdiction: d.jurisdiction.clone(),
                    recipient: d.recipient.clone(),
                    due_at: format_time(due_ms),
                    drill: row.drill,
                };
                let changes = vec![
                    Change::MarkIncidentReminded {
                        incident_id: row.id,
                        duty,
                        due_ms,
                    },
                    self.announce(EventType::IncidentDeadlineSoon, None, &soon),
                ];
                let event = Granted::scheduled(&scheduler, "incident.remind", now).event();
                match self.ledger.submit(changes, vec![event]).await? {
                    Ok(()) => sent += 1,
                    // Another server sent it meanwhile.
                    Err(JobError::Duplicate) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(sent)
    }

    /// The incident's notification duties and their clocks, for `jurisdictions` (None: the
    /// policy's).
    pub async fn incident_deadlines(
        &self,
        actor: &Actor,
        id: &[u8; 16],
        jurisdictions: Option<Vec<String>>,
    ) -> Result<IncidentDeadlines> {
        let table = breach_duties::shipped();
        let laws = jurisdictions.unwrap_or_else(|| self.policy_laws());
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
        let entries = self.store.incident_entries(id).await?;
        let now = self.now_ms();
        let mut deadlines: Vec<(Option<i64>, Deadline)> = (table.duties.iter())
            .filter(|d| laws.contains(&d.jurisdiction))
            .map(|d| {
                let clock = self.due_now(d, row.detected_ms, &entries);
                let due = clock.due_ms;
                let deadline = Deadline {
                    jurisdiction: d.jurisdiction.clone(),
                    recipient: d.recipient.clone(),
                    within: clock.within.text(),
                    due_at: due.map(format_time),
                    hours_left: due.map(|t| (t - now).div_euclid(HOUR_MS)),
                    overdue: due.is_some_and(|t| t < now),
                    when: d.when.en.clone(),
                    source: d.source.clone(),
                    configured: clock.configured,
                    extended_from: clock.extended_from.map(format_time),
                };
                (due, deadline)
            })
            .collect();
        // Without a number first (they are due now), then the soonest.
        deadlines.sort_by_key(|(due, _)| due.unwrap_or(i64::MIN));
        Ok(IncidentDeadlines {
            incident: format_id(id),
            detected_at: format_time(row.detected_ms),
            table_reviewed: table.reviewed.clone(),
            deadlines: deadlines.into_iter().map(|(_, d)| d).collect(),
        })
    }
}
