//! The full notice's vendor lines: who receives the data, in what role, for which purposes,
//! where, and under which safeguard (GDPR Art. 13(1)(e)–(f); the APPI's entrustment and joint
//! use), in each language's words and typography.

use crate::model::{Language, Policy};
use crate::vendors::{Vendor, VendorRole};

fn pick(lang: Language, said: [&'static str; 3]) -> &'static str {
    match lang {
        Language::En => said[0],
        Language::Ja => said[1],
        Language::Fr => said[2],
    }
}

fn role_text(role: VendorRole, lang: Language) -> &'static str {
    pick(
        lang,
        match role {
            VendorRole::Processor => ["processes it on our behalf", "委託先", "sous-traitant"],
            VendorRole::SubProcessor => [
                "processes it for one of our processors",
                "再委託先",
                "sous-traitant ultérieur",
            ],
            VendorRole::IndependentController => [
                "receives it as a separate controller",
                "第三者提供先",
                "responsable de traitement distinct",
            ],
            VendorRole::JointController => [
                "uses it jointly with us",
                "共同利用者",
                "responsable conjoint",
            ],
        },
    )
}

/// A safeguard's name for people; an unknown code (a newer table) reads as itself.
pub(crate) fn safeguard_text(code: &str, lang: Language) -> String {
    let said = match code {
        "sccs" => [
            "standard contractual clauses",
            "標準契約条項",
            "clauses contractuelles types",
        ],
        "bcr" => [
            "binding corporate rules",
            "拘束的企業準則",
            "règles d’entreprise contraignantes",
        ],
        "dpf" => [
            "the EU–US Data Privacy Framework",
            "EU–米国データ・プライバシー・フレームワーク",
            "le cadre de protection des données UE–États-Unis",
        ],
        "appi_consent" => [
            "your consent (APPI)",
            "本人の同意（個人情報保護法）",
            "votre consentement (APPI)",
        ],
        "appi_equivalent_measures" => [
            "equivalent measures (APPI)",
            "相当措置（個人情報保護法第28条）",
            "des mesures équivalentes (APPI)",
        ],
        "lgpd_consent" => [
            "your specific consent (LGPD)",
            "本人の同意（LGPD）",
            "votre consentement spécifique (LGPD)",
        ],
        other => return other.to_string(),
    };
    pick(lang, said).to_string()
}

fn line(policy: &Policy, v: &Vendor, lang: Language) -> String {
    let purposes: Vec<&str> = (v.purposes.iter())
        .map(|p| policy.purposes[p].label.get(lang))
        .collect();
    let safeguards: Vec<String> = v
        .transfers
        .iter()
        .map(|t| safeguard_text(t, lang))
        .collect();
    let countries = v.countries.join(", ");
    match lang {
        Language::En => {
            let mut s = format!(
                "{} ({}) — for: {}; in {countries}",
                v.name,
                role_text(v.role, lang),
                purposes.join(", ")
            );
            if !safeguards.is_empty() {
                s.push_str(&format!(", under {}", safeguards.join(" and ")));
            }
            s
        }
        Language::Ja => {
            let mut s = format!(
                "{}（{}）— 目的：{}；所在国：{countries}",
                v.name,
                role_text(v.role, lang),
                purposes.join("、")
            );
            if !safeguards.is_empty() {
                s.push_str(&format!("；保護措置：{}", safeguards.join("、")));
            }
            s
        }
        Language::Fr => {
            let mut s = format!(
                "{} ({}) — pour\u{a0}: {}\u{a0}; pays\u{a0}: {countries}",
                v.name,
                role_text(v.role, lang),
                purposes.join(", ")
            );
            if !safeguards.is_empty() {
                s.push_str(&format!(", avec {}", safeguards.join(" et ")));
            }
            s
        }
    }
}

/// One line per vendor, in the policy's order.
pub(crate) fn vendor_items(policy: &Policy, lang: Language) -> Vec<String> {
    policy
        .vendors
        .iter()
        .map(|v| line(policy, v, lang))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_vendor_is_told_with_its_role_purposes_country_and_safeguard() {
        let example = include_str!("../../../examples/policy.toml");
        let policy = Policy::parse("examples/policy.toml", example).unwrap();
        let en = vendor_items(&policy, Language::En);
        assert_eq!(en.len(), 2);
        assert!(
            en.iter().any(|l| l
                .starts_with("Postbird Mail Inc. (processes it on our behalf) — for: ")
                && l.ends_with(
                    "; in US, under standard contractual clauses and equivalent measures (APPI)"
                )),
            "{en:?}"
        );
        assert!(
            en.iter()
                .any(|l| l.starts_with("Kuroneko Logistics K.K.") && l.ends_with("; in JP")),
            "{en:?}"
        );
        let ja = vendor_items(&policy, Language::Ja);
        assert!(ja.iter().any(|l| l.contains("（委託先）— 目的：") && l.contains("；保護措置：標準契約条項")), "{ja:?}");
        let fr = vendor_items(&policy, Language::Fr);
        assert!(
            fr.iter()
                .any(|l| l.contains("(sous-traitant) — pour\u{a0}: ")
                    && l.contains("avec clauses contractuelles types")),
            "{fr:?}"
        );
    }
}
