//! Cross-border transfers: for each law with rules on where data may go, the countries it counts
//! as safe (its own area, from `data/breach_countries.toml`, and its adequacy list) and the
//! safeguards it accepts otherwise, from `data/transfers.toml` with its sources.

use std::collections::BTreeMap;

use serde::Deserialize;

const TABLE: &str = include_str!("../data/transfers.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    adequate: Vec<String>,
    mechanisms: Vec<String>,
    /// A mechanism that works like adequacy, for one country (the EU–US Data Privacy Framework).
    #[serde(default)]
    certified: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct RawTable {
    reviewed: String,
    #[serde(flatten)]
    laws: BTreeMap<String, RawRule>,
}

static SHIPPED: std::sync::LazyLock<RawTable> =
    std::sync::LazyLock::new(|| toml::from_str(TABLE).expect("the shipped transfers table parses"));

/// When the table was last checked against its sources.
pub fn reviewed() -> &'static str {
    &SHIPPED.reviewed
}

/// The laws the table has transfer rules for (`gdpr`, `appi`, `lgpd`).
pub fn laws() -> impl Iterator<Item = &'static str> {
    SHIPPED.laws.keys().map(String::as_str)
}

/// Every safeguard any law accepts (for spelling checks).
pub fn all_mechanisms() -> Vec<&'static str> {
    let mut all: Vec<&str> = (SHIPPED.laws.values())
        .flat_map(|r| r.mechanisms.iter().chain(r.certified.keys()))
        .map(String::as_str)
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// The safeguards `law` accepts (certified ones named with their country), for hints.
pub fn mechanisms_of(law: &str) -> Vec<String> {
    let Some(rule) = SHIPPED.laws.get(law) else {
        return vec![];
    };
    let certified = (rule.certified.iter()).map(|(m, country)| format!("{m} ({country} only)"));
    rule.mechanisms.iter().cloned().chain(certified).collect()
}

/// Whether data going to `country` under `law` is covered: the law has no transfer rules here,
/// or the country is in its area or on its adequacy list, or one of `mechanisms` is a safeguard
/// it accepts for that country.
pub fn covered(law: &str, country: &str, mechanisms: &[String]) -> bool {
    let Some(rule) = SHIPPED.laws.get(law) else {
        return true;
    };
    let home = crate::breach_duties::law_of_country(country) == Some(law);
    let adequate = rule.adequate.iter().any(|c| c == country);
    let safeguarded = mechanisms.iter().any(|m| {
        rule.mechanisms.contains(m) || rule.certified.get(m).is_some_and(|c| c == country)
    });
    home || adequate || safeguarded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(m: &[&str]) -> Vec<String> {
        m.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_shipped_table_parses_and_names_its_laws() {
        assert_eq!(laws().collect::<Vec<_>>(), ["appi", "gdpr", "lgpd"]);
        assert_eq!(reviewed(), "2026-12-07");
        assert!(all_mechanisms().contains(&"dpf"));
    }

    #[test]
    fn home_and_adequate_countries_need_no_safeguard_others_do() {
        assert!(covered("gdpr", "FR", &[]), "inside the EEA");
        assert!(covered("gdpr", "JP", &[]), "adequacy");
        assert!(!covered("gdpr", "US", &[]));
        assert!(
            covered("gdpr", "US", &list(&["dpf"])),
            "certified, in the US"
        );
        assert!(
            !covered("gdpr", "IN", &list(&["dpf"])),
            "dpf is for the US only"
        );
        assert!(covered("gdpr", "IN", &list(&["sccs"])));
        assert!(covered("appi", "DE", &[]), "the EEA is designated");
        assert!(
            !covered("appi", "US", &list(&["sccs"])),
            "the APPI has no SCCs"
        );
        assert!(covered("appi", "US", &list(&["appi_equivalent_measures"])));
        assert!(
            !covered("lgpd", "JP", &[]),
            "no adequacy under the LGPD yet"
        );
        assert!(covered("ccpa", "CN", &[]), "no transfer rules");
    }
}
