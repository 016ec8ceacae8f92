//! A duty's deadline as it stands for one incident: the law's period — or the business's own
//! target from `mamori.toml` (`[breach_deadlines]`), which may be stricter, and is warned about
//! at start when it gives more time than the law — moved later only by an extension on the
//! timeline, whose reason is the entry's note.

use std::collections::BTreeMap;

use mamori_policy::breach_duties::{self, Duty, Within};
use mamori_proto::ErrorCode;
use mamori_proto::incidents::{EntryKind, Extension};
use mamori_store::{IncidentEntryRow, IncidentRow};

use crate::error::{CoreError, Result};
use crate::vault::Vault;

/// The business's own periods per duty (law, recipient), from `mamori.toml`.
#[derive(Debug, Default, Clone)]
pub struct BreachTargets {
    targets: BTreeMap<(String, String), Within>,
}

impl BreachTargets {
    /// Sets the period for a law's duty to a recipient. An unknown duty or period is an error;
    /// a period longer than the law's is accepted with the warning returned (the law's clock
    /// still binds the business).
    pub fn set(
        &mut self,
        law: &str,
        recipient: &str,
        within: &str,
    ) -> std::result::Result<Option<String>, String> {
        let duty = breach_duties::shipped()
            .duty(law, recipient)
            .ok_or_else(|| {
                let known: Vec<String> = (breach_duties::shipped().duties.iter())
                    .filter(|d| d.jurisdiction == law)
                    .map(|d| d.recipient.clone())
                    .collect();
                match known.is_empty() {
                    true => {
                        "not a law of the table (gdpr, lgpd, appi, ccpa, hipaa, pci)".to_string()
                    }
                    false => format!("{law} names these recipients: {}", known.join(", ")),
                }
            })?;
        let period = Within::parse(within)
            .ok_or_else(|| format!("{within:?} is not a period like 48h, 2bd, 30d or asap"))?;
        self.targets
            .insert((law.to_string(), recipient.to_string()), period);
        Ok(period.is_longer_than(duty.within).then(|| {
            format!(
                "breach_deadlines.{law}.{recipient} = {within:?} gives more time than the law ({}, {}): the law's deadline still applies",
                duty.within.text(),
                duty.source
            )
        }))
    }

    /// The period that applies to a duty, and whether it is the business's own.
    pub(crate) fn within(&self, d: &Duty) -> (Within, bool) {
        match self
            .targets
            .get(&(d.jurisdiction.clone(), d.recipient.clone()))
        {
            Some(w) => (*w, true),
            None => (d.within, false),
        }
    }
}

/// `gdpr:authority`: how a duty is named on the timeline and in reminders.
pub(super) fn duty_key(d: &Duty) -> String {
    format!("{}:{}", d.jurisdiction, d.recipient)
}

/// A duty's clock for one incident.
pub(super) struct DueNow {
    pub(super) within: Within,
    pub(super) configured: bool,
    pub(super) due_ms: Option<i64>,
    /// The due time before the latest extension, if there is one.
    pub(super) extended_from: Option<i64>,
}

impl Vault {
    pub(super) fn due_now(
        &self,
        d: &Duty,
        detected_ms: i64,
        entries: &[IncidentEntryRow],
    ) -> DueNow {
        let (within, configured) = self.breach_targets.within(d);
        let base = within.due_ms(detected_ms);
        let key = duty_key(d);
        let extended = (entries.iter())
            .filter(|e| {
                e.kind == EntryKind::Extension.as_str() && e.link_id.as_deref() == Some(&key)
            })
            .filter_map(|e| e.until_ms)
            .next_back();
        DueNow {
            within,
            configured,
            due_ms: extended.or(base),
            extended_from: extended.and(base),
        }
    }

    /// Checks an extension against the incident as it stands: a duty of the table with a
    /// number, moved later. Returns the new due time.
    pub(super) async fn check_extension(&self, row: &IncidentRow, x: &Extension) -> Result<i64> {
        let invalid =
            |field: &str, why: &str| CoreError::invalid(ErrorCode::InvalidValue, field, why);
        let duty = breach_duties::shipped()
            .duty(&x.jurisdiction, &x.recipient)
            .ok_or_else(|| {
                invalid(
                    "extend",
                    "a duty of the table: see GET /v1/incidents/{id}/deadlines",
                )
            })?;
        let until =
            time::OffsetDateTime::parse(&x.until, &time::format_description::well_known::Rfc3339)
                .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
                .map_err(|_| {
                    CoreError::invalid(ErrorCode::InvalidTime, "extend.until", "an RFC 3339 time")
                })?;
        let entries = self.store.incident_entries(&row.id).await?;
        let Some(due) = self.due_now(duty, row.detected_ms, &entries).due_ms else {
            return Err(invalid(
                "extend",
                "a duty the law asks without delay has no deadline to extend",
            ));
        };
        if until <= due {
            return Err(CoreError::invalid(
                ErrorCode::InvalidTime,
                "extend.until",
                "an extension only moves a deadline later",
            ));
        }
        Ok(until)
    }
}
