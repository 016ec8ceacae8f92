//! Who must be told of a personal-data breach, and by when, per law: the table in
//! `data/breach_duties.toml` (its sources cited there), and the clocks it sets from the moment
//! the business became aware. Pure: no I/O, no clock of its own.

use serde::Deserialize;

const TABLE: &str = include_str!("../data/breach_duties.toml");

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// How long a duty allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Within {
    Hours(i64),
    Days(i64),
    BusinessDays(i64),
    /// No number in the law: without undue delay, promptly, the most expedient time.
    AsSoonAsPossible,
}

impl Within {
    /// `72h`, `3bd` (business days), `30d` or `asap`.
    pub fn parse(text: &str) -> Option<Within> {
        if text == "asap" {
            return Some(Within::AsSoonAsPossible);
        }
        let split = text.find(|c: char| !c.is_ascii_digit())?;
        let (n, unit) = text.split_at(split);
        let n: i64 = n.parse().ok().filter(|n| *n > 0)?;
        match unit {
            "h" => Some(Within::Hours(n)),
            "d" => Some(Within::Days(n)),
            "bd" => Some(Within::BusinessDays(n)),
            _ => None,
        }
    }

    /// As written in the table: `72h`, `3bd`, `30d`, `asap`.
    pub fn text(self) -> String {
        match self {
            Within::Hours(n) => format!("{n}h"),
            Within::Days(n) => format!("{n}d"),
            Within::BusinessDays(n) => format!("{n}bd"),
            Within::AsSoonAsPossible => "asap".into(),
        }
    }

    /// Whether this period gives more time than `law` (compared from a Monday midnight, UTC):
    /// a number where the law names none ("without undue delay") counts as more.
    pub fn is_longer_than(self, law: Within) -> bool {
        const MONDAY: i64 = 4 * DAY_MS; // 1970-01-05
        match (self.due_ms(MONDAY), law.due_ms(MONDAY)) {
            (Some(a), Some(b)) => a > b,
            (Some(_), None) => true,
            _ => false,
        }
    }

    /// When a duty that starts at `from_ms` (Unix ms, UTC) is due; None without a number.
    /// Business days skip Saturdays and Sundays (public holidays are not known here).
    pub fn due_ms(self, from_ms: i64) -> Option<i64> {
        match self {
            Within::Hours(h) => Some(from_ms + h * HOUR_MS),
            Within::Days(d) => Some(from_ms + d * DAY_MS),
            Within::BusinessDays(n) => {
                let mut due = from_ms;
                let mut left = n;
                while left > 0 {
                    due += DAY_MS;
                    if !is_weekend(due) {
                        left -= 1;
                    }
                }
                Some(due)
            }
            Within::AsSoonAsPossible => None,
        }
    }
}

/// 1970-01-01 was a Thursday.
fn is_weekend(ms: i64) -> bool {
    let weekday = (ms.div_euclid(DAY_MS) + 3).rem_euclid(7); // 0 = Monday
    weekday >= 5
}

/// One duty to tell someone.
#[derive(Debug, Clone)]
pub struct Duty {
    /// `gdpr`, `lgpd`, `appi`, `ccpa`, `hipaa`, `pci`.
    pub jurisdiction: String,
    /// `authority`, `authority_preliminary`, `authority_final`, `people`, `attorney_general`,
    /// `media`, `card_brands`.
    pub recipient: String,
    pub within: Within,
    /// When the duty applies, in English, Japanese and French.
    pub when: crate::Text,
    pub source: String,
}

#[derive(Deserialize)]
struct RawTable {
    reviewed: String,
    duty: Vec<RawDuty>,
}

#[derive(Deserialize)]
struct RawDuty {
    jurisdiction: String,
    recipient: String,
    within: String,
    when: String,
    when_ja: String,
    when_fr: String,
    source: String,
}

/// The table: when it was last reviewed, and every duty in it.
#[derive(Debug, Clone)]
pub struct Duties {
    pub reviewed: String,
    pub duties: Vec<Duty>,
}

static SHIPPED: std::sync::LazyLock<Duties> =
    std::sync::LazyLock::new(|| parse(TABLE).expect("the shipped breach-duties table parses"));

const COUNTRIES: &str = include_str!("../data/breach_countries.toml");

#[derive(Deserialize)]
struct RawCountries {
    countries: std::collections::BTreeMap<String, Vec<String>>,
}

static BY_COUNTRY: std::sync::LazyLock<Vec<(String, String)>> = std::sync::LazyLock::new(|| {
    let raw: RawCountries =
        toml::from_str(COUNTRIES).expect("the shipped breach-countries table parses");
    (raw.countries.into_iter())
        .flat_map(|(law, codes)| codes.into_iter().map(move |c| (c, law.clone())))
        .collect()
});

/// The law whose breach duties cover a person living in `country` (ISO 3166-1 alpha-2), from
/// `data/breach_countries.toml`; None where the table maps none.
pub fn law_of_country(country: &str) -> Option<&'static str> {
    (BY_COUNTRY.iter())
        .find(|(c, _)| c.eq_ignore_ascii_case(country))
        .map(|(_, law)| law.as_str())
}

/// The table shipped with Mamori (checked by the tests: it always parses).
pub fn shipped() -> &'static Duties {
    &SHIPPED
}

impl Duties {
    /// A law's duty to a recipient.
    pub fn duty(&self, jurisdiction: &str, recipient: &str) -> Option<&Duty> {
        (self.duties.iter()).find(|d| d.jurisdiction == jurisdiction && d.recipient == recipient)
    }
}

/// Parses a table; an unreadable one or an unknown `within` is an error naming the duty.
pub fn parse(text: &str) -> Result<Duties, String> {
    let raw: RawTable = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut duties = Vec::with_capacity(raw.duty.len());
    for (i, d) in raw.duty.into_iter().enumerate() {
        let within = Within::parse(&d.within).ok_or_else(|| {
            format!(
                "duty {}: within = {:?} is not 72h, 3bd, 30d or asap",
                i + 1,
                d.within
            )
        })?;
        duties.push(Duty {
            jurisdiction: d.jurisdiction,
            recipient: d.recipient,
            within,
            when: crate::Text {
                en: d.when,
                ja: d.when_ja,
                fr: d.when_fr,
            },
            source: d.source,
        });
    }
    Ok(Duties {
        reviewed: raw.reviewed,
        duties,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-04 was a Friday; 09:00 UTC.
    const FRIDAY_9: i64 = 1_796_374_800_000;

    #[test]
    fn the_shipped_table_parses_and_names_every_law_it_covers() {
        let t = shipped();
        assert_eq!(t.reviewed, "2026-12-07");
        for law in ["gdpr", "lgpd", "appi", "ccpa", "hipaa", "pci"] {
            assert!(t.duties.iter().any(|d| d.jurisdiction == law), "{law}");
        }
        let gdpr = t
            .duties
            .iter()
            .find(|d| d.jurisdiction == "gdpr" && d.recipient == "authority");
        assert_eq!(gdpr.unwrap().within, Within::Hours(72));
    }

    #[test]
    fn countries_map_to_the_laws_of_the_table() {
        assert_eq!(law_of_country("FR"), Some("gdpr"));
        assert_eq!(law_of_country("no"), Some("gdpr"), "EEA, any case");
        assert_eq!(
            (law_of_country("BR"), law_of_country("JP")),
            (Some("lgpd"), Some("appi"))
        );
        assert_eq!((law_of_country("US"), law_of_country("GB")), (None, None));
        // Every law it names is one the duties table covers.
        for (_, law) in BY_COUNTRY.iter() {
            assert!(
                shipped().duties.iter().any(|d| &d.jurisdiction == law),
                "{law}"
            );
        }
        assert_eq!(BY_COUNTRY.iter().filter(|(_, l)| l == "gdpr").count(), 30);
    }

    #[test]
    fn a_period_is_longer_than_the_laws_only_when_it_ends_later() {
        let p = |t| Within::parse(t).unwrap();
        assert!(p("96h").is_longer_than(p("72h")));
        assert!(!p("48h").is_longer_than(p("72h")) && !p("72h").is_longer_than(p("3d")));
        // Three business days from a Monday end on Thursday: 4 calendar days is longer.
        assert!(p("4d").is_longer_than(p("3bd")) && !p("3d").is_longer_than(p("3bd")));
        assert!(p("1d").is_longer_than(p("asap")) && !p("asap").is_longer_than(p("72h")));
        assert_eq!(p("3bd").text(), "3bd");
    }

    #[test]
    fn clocks_count_hours_days_and_business_days() {
        assert!(!is_weekend(FRIDAY_9) && is_weekend(FRIDAY_9 + DAY_MS));
        assert_eq!(
            Within::Hours(72).due_ms(FRIDAY_9),
            Some(FRIDAY_9 + 3 * DAY_MS)
        );
        assert_eq!(
            Within::Days(30).due_ms(FRIDAY_9),
            Some(FRIDAY_9 + 30 * DAY_MS)
        );
        // Friday + 3 business days: Monday, Tuesday, Wednesday.
        assert_eq!(
            Within::BusinessDays(3).due_ms(FRIDAY_9),
            Some(FRIDAY_9 + 5 * DAY_MS)
        );
        // From a Saturday: Monday is the first.
        assert_eq!(
            Within::BusinessDays(1).due_ms(FRIDAY_9 + DAY_MS),
            Some(FRIDAY_9 + 3 * DAY_MS)
        );
        assert_eq!(Within::AsSoonAsPossible.due_ms(FRIDAY_9), None);
    }

    #[test]
    fn a_table_with_an_unknown_period_is_refused_by_duty() {
        let bad = "reviewed = \"x\"\n[[duty]]\njurisdiction = \"gdpr\"\nrecipient = \"people\"\nwithin = \"soon\"\nwhen = \"w\"\nwhen_ja = \"w\"\nwhen_fr = \"w\"\nsource = \"s\"\n";
        assert!(parse(bad).unwrap_err().contains("duty 1"));
        for ok in ["72h", "3bd", "30d", "asap"] {
            assert!(Within::parse(ok).is_some(), "{ok}");
        }
        for no in ["0h", "h", "3w", "-1d", ""] {
            assert!(Within::parse(no).is_none(), "{no}");
        }
    }
}
