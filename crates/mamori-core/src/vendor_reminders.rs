//! Vendor reviews as reminders: a contract ending within a month or ended, a security review
//! missing, over a year old or failed each sends `vendor.review_due` once (per vendor, reason and
//! date — a renewed contract or a new review is a new occasion), so the privacy team's tools hear
//! of it; the console and `mamori doctor` say the same from the posture check.

use mamori_policy::vendors::{ReviewResult, Vendor};
use mamori_proto::outbox::{EventType, VendorAttention, VendorReviewDue};
use mamori_store::{Change, JobError};
use time::Date;

use crate::admin::Granted;
use crate::error::Result;
use crate::posture::vendors::{ENDING_WITHIN_DAYS, REVIEW_EVERY_DAYS};
use crate::vault::{Actor, Vault};

/// One reason to remind about one vendor, on `today`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occasion {
    pub vendor: String,
    pub reason: VendorAttention,
    pub date: Option<Date>,
}

impl Occasion {
    /// The key it is sent once under: `reason@date`.
    pub fn key(&self) -> String {
        match self.date {
            Some(date) => format!("{}@{date}", self.reason.as_str()),
            None => self.reason.as_str().to_string(),
        }
    }
}

/// What needs attention about `vendors` on `today`, vendor by vendor.
pub fn occasions(vendors: &[Vendor], today: Date) -> Vec<Occasion> {
    let mut found = Vec::new();
    for v in vendors {
        let mut tell = |reason, date| {
            found.push(Occasion {
                vendor: v.id.clone(),
                reason,
                date,
            })
        };
        let c = &v.contract;
        match c.end {
            _ if today < c.start => tell(VendorAttention::ContractNotStarted, Some(c.start)),
            Some(end) if end < today => tell(VendorAttention::ContractEnded, Some(end)),
            Some(end) if (end - today).whole_days() < ENDING_WITHIN_DAYS => {
                tell(VendorAttention::ContractEnding, Some(end))
            }
            _ => {}
        }
        match &v.review {
            None => tell(VendorAttention::ReviewMissing, None),
            Some(r) if r.result == ReviewResult::Failed => {
                tell(VendorAttention::ReviewFailed, Some(r.on))
            }
            Some(r) if (today - r.on).whole_days() > REVIEW_EVERY_DAYS => {
                tell(VendorAttention::ReviewOverdue, Some(r.on))
            }
            Some(_) => {}
        }
    }
    found
}

impl Vault {
    /// Announces each occasion not announced yet (`vendor.review_due`), ledgered as
    /// `vendor.remind` naming the vendor. Returns how many went out.
    pub async fn send_vendor_reminders(&self) -> Result<usize> {
        let due = occasions(&self.policy.vendors, self.today_date());
        if due.is_empty() {
            return Ok(0);
        }
        let sent_before = self.store.vendor_reminders_sent().await?;
        let scheduler = Actor {
            id: "scheduler".into(),
            role: "system".into(),
        };
        let mut sent = 0;
        for occasion in due {
            let key = occasion.key();
            if (sent_before.iter()).any(|(v, k)| *v == occasion.vendor && *k == key) {
                continue;
            }
            let now = self.now_ms();
            let payload = VendorReviewDue {
                vendor: occasion.vendor.clone(),
                reason: occasion.reason,
                date: occasion.date.map(|d| d.to_string()),
            };
            let changes = vec![
                Change::MarkVendorReminded {
                    vendor: occasion.vendor.clone(),
                    occasion: key,
                    sent_ms: now,
                },
                self.announce(EventType::VendorReviewDue, None, &payload),
            ];
            let mut event = Granted::scheduled(&scheduler, "vendor.remind", now).event();
            event.recipient = Some(occasion.vendor);
            match self.ledger.submit(changes, vec![event]).await? {
                Ok(()) => sent += 1,
                // Another server sent it meanwhile.
                Err(JobError::Duplicate) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_policy::Policy;

    const EXAMPLE: &str = include_str!("../../../examples/policy.toml");

    fn day(y: i32, m: u8, d: u8) -> Date {
        Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap()
    }

    fn keys(policy: &str, today: Date) -> Vec<(String, String)> {
        let p = Policy::parse("policy.toml", policy).unwrap_or_else(|e| panic!("{e}"));
        (occasions(&p.vendors, today).into_iter())
            .map(|o| (o.vendor.clone(), o.key()))
            .collect()
    }

    #[test]
    fn current_contracts_and_recent_reviews_need_nothing() {
        assert_eq!(keys(EXAMPLE, day(2026, 12, 7)), []);
    }

    #[test]
    fn ending_ended_unstarted_and_unreviewed_vendors_each_have_their_occasion() {
        // A year and a day after Kuroneko's review of 2026-03-15.
        let late = keys(EXAMPLE, day(2027, 3, 17));
        assert!(late.contains(&(
            "kuroneko_logistics".into(),
            "review_overdue@2026-03-15".into()
        )));
        let ending = EXAMPLE.replace(
            "contract = { reference = \"SVC-2025-031\", start = 2025-04-01 }",
            "contract = { reference = \"SVC-2025-031\", start = 2025-04-01, end = 2027-01-05 }",
        );
        assert_ne!(ending, EXAMPLE);
        let soon = (
            "kuroneko_logistics".to_string(),
            "contract_ending@2027-01-05".to_string(),
        );
        assert!(keys(&ending, day(2026, 12, 7)).contains(&soon));
        assert!(
            !keys(&ending, day(2026, 12, 5)).contains(&soon),
            "31 days before"
        );
        let ended = (
            "kuroneko_logistics".into(),
            "contract_ended@2027-01-05".into(),
        );
        assert!(keys(&ending, day(2027, 1, 6)).contains(&ended));
        let early = (
            "kuroneko_logistics".into(),
            "contract_not_started@2025-04-01".into(),
        );
        assert!(keys(EXAMPLE, day(2025, 3, 31)).contains(&early));
        let failed = EXAMPLE.replace("result = \"passed_with_actions\"", "result = \"failed\"");
        let failed_key = (
            "kuroneko_logistics".into(),
            "review_failed@2026-03-15".into(),
        );
        assert!(keys(&failed, day(2026, 12, 7)).contains(&failed_key));
    }
}
