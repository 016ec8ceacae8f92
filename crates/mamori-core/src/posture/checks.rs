//! The checks the vault can make of itself: API keys, staff, webhooks, the ledger, the clock.

use mamori_store::{ApiKeyRow, StaffRow};

use super::{Fact, Finding, Severity};
use crate::error::Result;
use crate::format_id;
use crate::staff::TrainingStatus;
use crate::vault::Vault;

const DAY_MS: i64 = 86_400_000;

/// Six months: how often a drill is expected.
const DRILL_EVERY_DAYS: i64 = 183;

/// A clock more than this behind the ledger's latest signed head is wrong.
const CLOCK_TOLERANCE_MS: i64 = 60_000;

impl Vault {
    pub(super) async fn vault_findings(&self, now_ms: i64) -> Result<Vec<Finding>> {
        let keys = self.store.api_keys().await?;
        let staff = self.store.staff_members().await?;
        let acting: Vec<&StaffRow> = (staff.iter())
            .filter(|m| m.enrolled_ms.is_some() && m.disabled_ms.is_none())
            .collect();
        let mut out = vec![self.key_refusals(&keys)];
        out.push(self.staff_factors(&acting).await?);
        out.push(self.staff_training(&acting).await?);
        out.push(old_keys(&keys, now_ms));
        out.push(self.failing_webhooks().await?);
        out.push(self.ledger_finding());
        out.push(self.clock_finding(now_ms));
        out.push(self.drill_finding(now_ms).await?);
        let today = self.today_date();
        out.extend(super::vendors::vendor_findings(&self.policy.vendors, today));
        Ok(out)
    }

    /// Privacy guides ask for incident-response rehearsals: a tabletop drill at least every six
    /// months (low: a plan not rehearsed fails when it is needed).
    async fn drill_finding(&self, now_ms: i64) -> Result<Finding> {
        let last = (self.store.incidents().await?.iter())
            .filter(|i| i.drill)
            .map(|i| i.created_ms)
            .max();
        let days = last.map(|t| (now_ms - t).div_euclid(DAY_MS));
        Ok(match days {
            Some(days) if days <= DRILL_EVERY_DAYS => {
                Finding::new(Severity::Ok, Fact::DrillRecently { days })
            }
            days => Finding::new(Severity::Low, Fact::NoRecentDrill { days }),
        })
    }

    /// Roles whose policy asks for MFA or training refuse API keys (unless declared for
    /// machines): keys of such roles still live are refused at every use and should go.
    fn key_refusals(&self, keys: &[ApiKeyRow]) -> Finding {
        let people_only: Vec<String> = (self.policy.roles.iter())
            .filter(|r| r.key_refusal().is_some())
            .map(|r| r.name.clone())
            .collect();
        let refused: Vec<String> = (keys.iter())
            .filter(|k| k.revoked_ms.is_none() && people_only.contains(&k.role))
            .map(|k| format!("{} ({})", format_id(&k.id), k.role))
            .collect();
        if refused.is_empty() {
            let fact = Fact::PeopleRolesTakeNoKeys { roles: people_only };
            return Finding::new(Severity::Ok, fact);
        }
        Finding::new(Severity::Medium, Fact::RefusedKeys { keys: refused })
    }

    /// Enrolled staff of roles that ask for MFA with no second factor left: they cannot act.
    async fn staff_factors(&self, acting: &[&StaffRow]) -> Result<Finding> {
        let mut without = vec![];
        for m in acting {
            let needs = self.policy.role(&m.role).is_some_and(|r| r.require_mfa);
            if needs && self.store.staff_factors(&m.id).await?.is_empty() {
                without.push(format!("{} ({})", format_id(&m.id), m.role));
            }
        }
        Ok(if without.is_empty() {
            Finding::new(Severity::Ok, Fact::EveryoneHasFactor)
        } else {
            Finding::new(
                Severity::Medium,
                Fact::StaffWithoutFactor { staff: without },
            )
        })
    }

    /// Enrolled staff of roles that ask for training who do not hold it now: they cannot act.
    async fn staff_training(&self, acting: &[&StaffRow]) -> Result<Finding> {
        let mut untrained = vec![];
        for m in acting {
            let status = self.training_status(&m.id, &m.role).await?;
            if matches!(status, TrainingStatus::Required | TrainingStatus::Expired) {
                untrained.push(format!("{} ({})", format_id(&m.id), m.role));
            }
        }
        Ok(if untrained.is_empty() {
            Finding::new(Severity::Ok, Fact::EveryoneTrained)
        } else {
            Finding::new(Severity::Medium, Fact::Untrained { staff: untrained })
        })
    }

    async fn failing_webhooks(&self) -> Result<Finding> {
        let failing: Vec<String> = (self.store.webhooks().await?.iter())
            .filter(|w| w.attempts > 0 || w.last_status.is_some_and(|s| !(200..300).contains(&s)))
            .map(|w| format_id(&w.id))
            .collect();
        Ok(if failing.is_empty() {
            Finding::new(Severity::Ok, Fact::WebhooksDeliver)
        } else {
            Finding::new(Severity::Medium, Fact::WebhooksFailing { ids: failing })
        })
    }

    fn ledger_finding(&self) -> Finding {
        match self.writer_state().integrity_problem {
            Some(why) => Finding::new(Severity::High, Fact::LedgerBroken { why }),
            None => Finding::new(Severity::Ok, Fact::LedgerMatches),
        }
    }

    /// A clock behind the ledger's latest signed head would date events before ones already
    /// signed.
    fn clock_finding(&self, now_ms: i64) -> Finding {
        let ahead = self
            .latest_head()
            .map_or(0, |h| h.head.timestamp_ms - now_ms);
        if ahead > CLOCK_TOLERANCE_MS {
            let seconds = ahead / 1000;
            return Finding::new(Severity::High, Fact::ClockBehind { seconds });
        }
        Finding::new(Severity::Ok, Fact::ClockAgrees)
    }
}

/// API keys older than a year (low): rotate them.
fn old_keys(keys: &[ApiKeyRow], now_ms: i64) -> Finding {
    let old: Vec<String> = (keys.iter())
        .filter(|k| k.revoked_ms.is_none() && now_ms - k.created_ms > 365 * DAY_MS)
        .map(|k| k.name.clone())
        .collect();
    if old.is_empty() {
        return Finding::new(Severity::Ok, Fact::NoOldApiKeys);
    }
    Finding::new(Severity::Low, Fact::OldApiKeys { names: old })
}
