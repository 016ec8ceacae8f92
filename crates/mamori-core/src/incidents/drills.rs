//! Tabletop drills: an incident opened from a shipped scenario and marked as a drill everywhere
//! (the register, the timeline, reminders), and a report of how the response went — when each
//! milestone was reached after awareness, which deadlines would have been missed, which steps
//! were skipped — computed from the timeline. Nothing a drill does sends anything real.

use mamori_policy::Language;
use mamori_policy::breach_duties;
use mamori_proto::ErrorCode;
use mamori_proto::incidents::{
    DrillReport, EntryKind, Incident, IncidentKind, IncidentSeverity, IncidentStatus, Milestone,
    MissedDeadline, OpenIncident,
};
use mamori_store::{Change, IncidentEntryRow};

use super::{INCIDENTS, not_found, status_of};
use crate::error::{CoreError, Result};
use crate::vault::{Actor, Vault};
use crate::{format_id, format_time};

const HOUR_MS: f64 = 3_600_000.0;

/// When the response first reached `milestone`: from the timeline, or the steps kept apart
/// (`marked`: the impact computed, the first regulator draft).
fn reached(entries: &[IncidentEntryRow], marked: &[(String, i64)], milestone: &str) -> Option<i64> {
    let first =
        |f: &dyn Fn(&IncidentEntryRow) -> bool| entries.iter().find(|e| f(e)).map(|e| e.at_ms);
    match milestone {
        "opened" => first(&|e| e.kind == EntryKind::Opened.as_str()),
        "first_containment" => first(&|e| e.kind == EntryKind::Containment.as_str()),
        "notices_prepared" => first(&|e| e.kind == EntryKind::Notices.as_str()),
        IMPACT | DRAFT => (marked.iter())
            .find(|(m, _)| m == milestone)
            .map(|(_, at)| *at),
        status => first(&|e| {
            (e.status.as_deref()).is_some_and(|s| status_of(s) >= status_of(status))
                && e.kind == EntryKind::Status.as_str()
        }),
    }
}

/// Kept apart from the timeline (a computation is not an entry).
pub(super) const IMPACT: &str = "impact_computed";
pub(super) const DRAFT: &str = "regulator_draft";

/// The response's steps in the order a plan expects them: detection, the impact computed,
/// containment, notices drafted, the regulator's draft.
const MILESTONES: [&str; 9] = [
    "opened",
    "assessing",
    "first_containment",
    IMPACT,
    "contained",
    "notices_prepared",
    "notifying",
    DRAFT,
    "closed",
];

impl Vault {
    /// Notes that the incident reached `milestone` now, unless it did before.
    pub(super) async fn mark_milestone(&self, id: &[u8; 16], milestone: &str) -> Result<()> {
        let change = Change::MarkIncidentMilestone {
            incident_id: *id,
            milestone: milestone.into(),
            at_ms: self.now_ms(),
        };
        self.ledger.submit(vec![change], vec![]).await??;
        Ok(())
    }

    /// Opens a drill incident from a shipped scenario, titled in `lang`.
    pub async fn start_drill(
        &self,
        actor: &Actor,
        scenario: &str,
        lang: Language,
    ) -> Result<Incident> {
        let s = mamori_policy::drills::scenario(scenario).ok_or_else(|| {
            CoreError::invalid(
                ErrorCode::InvalidValue,
                "scenario",
                "lost_laptop, leaked_service_key, vendor_breach or misdirected_export",
            )
        })?;
        let open = OpenIncident {
            title: s.title.get(lang).to_string(),
            kind: IncidentKind::parse(&s.kind).unwrap_or(IncidentKind::Other),
            severity: IncidentSeverity::parse(&s.severity).unwrap_or(IncidentSeverity::High),
            detected_at: None,
        };
        self.open_incident(actor, &open, None, true).await
    }

    /// How the response to an incident (a drill, or a real one) went. Ledgered.
    pub async fn drill_report(&self, actor: &Actor, id: &[u8; 16]) -> Result<DrillReport> {
        self.grant_and_ledger(actor, INCIDENTS, "incident.drill_report")
            .await?;
        let row = self.store.incident(id).await?.ok_or_else(not_found)?;
        let entries = self.store.incident_entries(id).await?;
        let marked = self.store.incident_milestones(id).await?;
        let mut milestones = vec![];
        let mut skipped = vec![];
        for m in MILESTONES {
            match reached(&entries, &marked, m) {
                Some(at) => milestones.push(Milestone {
                    milestone: m.into(),
                    at: Some(format_time(at)),
                    hours_after_detection: Some(
                        ((at - row.detected_ms) as f64 / HOUR_MS * 10.0).round() / 10.0,
                    ),
                }),
                None => skipped.push(m.to_string()),
            }
        }
        // A duty is missed if its clock ran out before notifying was reached (or by now).
        let told = reached(&entries, &marked, "notifying")
            .filter(|_| status_of(&row.status) >= IncidentStatus::Notifying)
            .unwrap_or_else(|| self.now_ms());
        let laws = self.policy_laws();
        let missed = (breach_duties::shipped().duties.iter())
            .filter(|d| laws.contains(&d.jurisdiction))
            .filter_map(|d| {
                let due = self.due_now(d, row.detected_ms, &entries).due_ms?;
                (due < told).then(|| MissedDeadline {
                    jurisdiction: d.jurisdiction.clone(),
                    recipient: d.recipient.clone(),
                    due_at: format_time(due),
                })
            })
            .collect();
        Ok(DrillReport {
            incident: format_id(id),
            drill: row.drill,
            milestones,
            skipped,
            missed,
        })
    }
}
