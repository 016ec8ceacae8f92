//! Tabletop drill scenarios shipped with Mamori (`data/drill_scenarios.toml`): what happened,
//! its kind and severity as codes, and its title in English, Japanese and French.

use serde::Deserialize;

const TABLE: &str = include_str!("../data/drill_scenarios.toml");

/// One scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub id: String,
    /// An incident kind's wire code (`lost_device`, …).
    pub kind: String,
    /// An incident severity's wire code.
    pub severity: String,
    pub title: crate::Text,
}

#[derive(Deserialize)]
struct Raw {
    scenario: Vec<RawScenario>,
}

#[derive(Deserialize)]
struct RawScenario {
    id: String,
    kind: String,
    severity: String,
    title: RawTitle,
}

#[derive(Deserialize)]
struct RawTitle {
    en: String,
    ja: String,
    fr: String,
}

static SHIPPED: std::sync::LazyLock<Vec<Scenario>> = std::sync::LazyLock::new(|| {
    let raw: Raw = toml::from_str(TABLE).expect("the shipped drill scenarios parse");
    (raw.scenario.into_iter())
        .map(|s| Scenario {
            id: s.id,
            kind: s.kind,
            severity: s.severity,
            title: crate::Text {
                en: s.title.en,
                ja: s.title.ja,
                fr: s.title.fr,
            },
        })
        .collect()
});

/// Every scenario, in the file's order.
pub fn scenarios() -> &'static [Scenario] {
    &SHIPPED
}

/// The scenario named `id`.
pub fn scenario(id: &str) -> Option<&'static Scenario> {
    scenarios().iter().find(|s| s.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_scenarios_parse_in_three_languages() {
        let all = scenarios();
        assert_eq!(all.len(), 4);
        for s in all {
            assert!(!s.title.ja.is_empty() && s.title.ja != s.title.en && s.title.fr != s.title.en);
            assert!(!s.title.fr.contains(" :"), "French spacing: {}", s.id);
        }
        assert!(scenario("lost_laptop").is_some() && scenario("flood").is_none());
    }
}
