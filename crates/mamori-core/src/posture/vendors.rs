//! The vendor register's posture: contracts that ended or end within a month (no data may go
//! to a vendor without one), and security reviews missing, older than a year, or failed.

use mamori_policy::vendors::{ReviewResult, Vendor};
use time::Date;

use super::{Fact, Finding, Severity};

/// A contract ending this soon is told (medium), so it is renewed before data stops flowing.
pub(crate) const ENDING_WITHIN_DAYS: i64 = 30;
/// Reviews are expected at least yearly.
pub(crate) const REVIEW_EVERY_DAYS: i64 = 365;

/// The two vendor checks for `today`; none without vendors.
pub(super) fn vendor_findings(vendors: &[Vendor], today: Date) -> Vec<Finding> {
    if vendors.is_empty() {
        return vec![];
    }
    vec![contracts(vendors, today), reviews(vendors, today)]
}

fn contracts(vendors: &[Vendor], today: Date) -> Finding {
    let not_current: Vec<String> = (vendors.iter())
        .filter(|v| !v.contract_current(today))
        .map(|v| v.id.clone())
        .collect();
    if !not_current.is_empty() {
        let fact = Fact::VendorContractsNotCurrent {
            vendors: not_current,
        };
        return Finding::new(Severity::High, fact);
    }
    let ending: Vec<String> = (vendors.iter())
        .filter_map(|v| Some((v, v.contract.end?)))
        .filter(|(_, end)| (*end - today).whole_days() < ENDING_WITHIN_DAYS)
        .map(|(v, end)| format!("{} ({end})", v.id))
        .collect();
    if !ending.is_empty() {
        return Finding::new(
            Severity::Medium,
            Fact::VendorContractsEnding { vendors: ending },
        );
    }
    Finding::new(
        Severity::Ok,
        Fact::VendorContractsCurrent {
            count: vendors.len(),
        },
    )
}

fn reviews(vendors: &[Vendor], today: Date) -> Finding {
    let failed: Vec<String> = (vendors.iter())
        .filter(|v| {
            v.review
                .as_ref()
                .is_some_and(|r| r.result == ReviewResult::Failed)
        })
        .map(|v| v.id.clone())
        .collect();
    if !failed.is_empty() {
        return Finding::new(
            Severity::High,
            Fact::VendorReviewsFailed { vendors: failed },
        );
    }
    let due: Vec<String> = (vendors.iter())
        .filter(|v| {
            (v.review.as_ref()).is_none_or(|r| (today - r.on).whole_days() > REVIEW_EVERY_DAYS)
        })
        .map(|v| v.id.clone())
        .collect();
    if !due.is_empty() {
        return Finding::new(Severity::Medium, Fact::VendorReviewsDue { vendors: due });
    }
    Finding::new(
        Severity::Ok,
        Fact::VendorReviewsCurrent {
            count: vendors.len(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_policy::Policy;

    const EXAMPLE: &str = include_str!("../../../../examples/policy.toml");

    fn day(y: i32, m: u8, d: u8) -> Date {
        Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap()
    }

    fn checked(policy: &str, today: Date) -> Vec<(Severity, Fact)> {
        let p = Policy::parse("policy.toml", policy).unwrap_or_else(|e| panic!("{e}"));
        (vendor_findings(&p.vendors, today).into_iter())
            .map(|f| (f.severity, f.fact))
            .collect()
    }

    #[test]
    fn current_contracts_and_recent_reviews_are_ok() {
        let found = checked(EXAMPLE, day(2026, 12, 7));
        assert_eq!(
            found[0],
            (Severity::Ok, Fact::VendorContractsCurrent { count: 2 })
        );
        assert_eq!(
            found[1],
            (Severity::Ok, Fact::VendorReviewsCurrent { count: 2 })
        );
    }

    #[test]
    fn ending_ended_and_unreviewed_vendors_are_told() {
        let ending = EXAMPLE.replace(
            "start = 2026-01-01 }",
            "start = 2026-01-01, end = 2026-12-31 }",
        );
        let found = checked(&ending, day(2026, 12, 7));
        let vendors = vec!["postbird (2026-12-31)".to_string()];
        assert_eq!(
            found[0],
            (Severity::Medium, Fact::VendorContractsEnding { vendors })
        );
        let found = checked(&ending, day(2027, 1, 1));
        let vendors = vec!["postbird".to_string()];
        assert_eq!(
            found[0],
            (Severity::High, Fact::VendorContractsNotCurrent { vendors })
        );
        // A year and a day after Kuroneko's review of 2026-03-15.
        let found = checked(EXAMPLE, day(2027, 3, 16));
        let vendors = vec!["kuroneko_logistics".to_string()];
        assert_eq!(
            found[1],
            (Severity::Medium, Fact::VendorReviewsDue { vendors })
        );
        let failed = EXAMPLE.replace("result = \"passed_with_actions\"", "result = \"failed\"");
        let vendors = vec!["kuroneko_logistics".to_string()];
        let found = checked(&failed, day(2026, 12, 7));
        assert_eq!(
            found[1],
            (Severity::High, Fact::VendorReviewsFailed { vendors })
        );
        let unreviewed = EXAMPLE.replace("review = { on = 2026-06-01, result = \"passed\" }\n", "");
        let vendors = vec!["postbird".to_string()];
        let found = checked(&unreviewed, day(2026, 12, 7));
        assert_eq!(
            found[1],
            (Severity::Medium, Fact::VendorReviewsDue { vendors })
        );
    }
}
