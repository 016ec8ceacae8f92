//! Privacy notices generated from the policy — the same file that enforces access, so what the
//! notice says is what the software does. A short notice (one screen) and a full notice, in every
//! language the policy declares, as a structure that renders to JSON, Markdown or HTML.

use serde::Serialize;

use crate::{Category, Channel, Language, LegalBasis, Policy, RetentionStart, Sensitivity};

/// The person-facing phrase for a legal basis.
pub fn basis_text(b: LegalBasis, lang: Language) -> &'static str {
    use LegalBasis::*;
    match (b, lang) {
        (Consent, Language::En) => "your consent",
        (Consent, Language::Ja) => "ご本人の同意",
        (Consent, Language::Fr) => "votre consentement",
        (Contract, Language::En) => "our contract with you",
        (Contract, Language::Ja) => "お客様との契約",
        (Contract, Language::Fr) => "notre contrat avec vous",
        (LegalObligation, Language::En) => "a legal obligation",
        (LegalObligation, Language::Ja) => "法令上の義務",
        (LegalObligation, Language::Fr) => "une obligation légale",
        (LegitimateInterest, Language::En) => "our legitimate interest",
        (LegitimateInterest, Language::Ja) => "正当な利益",
        (LegitimateInterest, Language::Fr) => "notre intérêt légitime",
        (VitalInterest, Language::En) => "protecting someone's life",
        (VitalInterest, Language::Ja) => "生命の保護",
        (VitalInterest, Language::Fr) => "la sauvegarde des intérêts vitaux",
        (PublicTask, Language::En) => "a task in the public interest",
        (PublicTask, Language::Ja) => "公共の利益のための業務",
        (PublicTask, Language::Fr) => "une mission d'intérêt public",
    }
}

struct Words {
    title: &'static str,
    collect: &'static str,
    why: &'static str,
    basis: &'static str,
    kept: &'static str,
    share: &'static str,
    no_sharing: &'static str,
    choices: &'static str,
    choice_rights: &'static str,
    choice_consent: &'static str,
    choice_gpc: &'static str,
    contact: &'static str,
    sensitive: &'static str,
    channels: &'static str,
    /// After an erasure, what a legal obligation keeps: "{purpose}: {duration} after …".
    held_after_erasure: &'static str,
    /// Each language's typography: "：" in Japanese, a narrow no-break space before ":" in French.
    colon: &'static str,
    separator: &'static str,
    open: &'static str,
    close: &'static str,
}

fn words(lang: Language) -> Words {
    match lang {
        Language::En => Words {
            title: "Privacy notice",
            collect: "What we collect",
            why: "Why we use it",
            basis: "legal basis",
            kept: "How long we keep it",
            share: "Who we share it with",
            no_sharing: "We do not sell or share your data with third parties.",
            choices: "Your choices",
            choice_rights: "See, download, correct or erase your data in our privacy center.",
            choice_consent: "Where we rely on your consent, you can withdraw it at any time, as easily as you gave it.",
            choice_gpc: "We honour the Global Privacy Control signal of your browser as an opt-out of sale and sharing.",
            contact: "Contact",
            sensitive: "sensitive",
            channels: "by",
            held_after_erasure: "after you ask us to erase your data, only for this obligation",
            colon: ": ",
            separator: ", ",
            open: " (",
            close: ")",
        },
        Language::Ja => Words {
            title: "プライバシー通知",
            collect: "収集するデータ",
            why: "利用目的",
            basis: "法的根拠",
            kept: "保存期間",
            share: "第三者への提供",
            no_sharing: "お客様のデータを第三者に販売・提供することはありません。",
            choices: "お客様の選択",
            choice_rights: "プライバシーセンターで、ご自身のデータの確認・ダウンロード・訂正・削除ができます。",
            choice_consent: "同意に基づく利用については、同意したときと同じように簡単に、いつでも同意を撤回できます。",
            choice_gpc: "ブラウザのグローバル・プライバシー・コントロール（GPC）信号を、販売・共有の拒否として尊重します。",
            contact: "お問い合わせ",
            sensitive: "要配慮",
            channels: "連絡手段",
            held_after_erasure: "削除のご依頼後も、この義務のためにのみ保存",
            colon: "：",
            separator: "、",
            open: "（",
            close: "）",
        },
        Language::Fr => Words {
            title: "Avis de confidentialité",
            collect: "Ce que nous collectons",
            why: "Pourquoi nous l'utilisons",
            basis: "base légale",
            kept: "Combien de temps nous le conservons",
            share: "Avec qui nous le partageons",
            no_sharing: "Nous ne vendons ni ne partageons vos données avec des tiers.",
            choices: "Vos choix",
            choice_rights: "Consultez, téléchargez, corrigez ou effacez vos données dans notre centre de confidentialité.",
            choice_consent: "Lorsque nous nous fondons sur votre consentement, vous pouvez le retirer à tout moment, aussi facilement que vous l'avez donné.",
            choice_gpc: "Nous respectons le signal Global Privacy Control de votre navigateur comme un refus de la vente et du partage.",
            contact: "Contact",
            sensitive: "sensible",
            channels: "par",
            held_after_erasure: "après votre demande d'effacement, uniquement pour cette obligation",
            colon: "\u{202f}: ",
            separator: ", ",
            open: " (",
            close: ")",
        },
    }
}

fn channel_text(c: Channel, lang: Language) -> &'static str {
    match (c, lang) {
        (Channel::Email, Language::Ja) => "メール",
        (Channel::Sms, Language::Ja) => "SMS",
        (Channel::Push, Language::Ja) => "プッシュ通知",
        (Channel::Phone, Language::Ja) => "電話",
        (Channel::Post, Language::Ja) => "郵便",
        (Channel::Email, Language::Fr) => "e-mail",
        (Channel::Sms, Language::Fr) => "SMS",
        (Channel::Push, Language::Fr) => "notification",
        (Channel::Phone, Language::Fr) => "téléphone",
        (Channel::Post, Language::Fr) => "courrier",
        (Channel::Email, _) => "e-mail",
        (Channel::Sms, _) => "SMS",
        (Channel::Push, _) => "push notification",
        (Channel::Phone, _) => "phone",
        (Channel::Post, _) => "post",
    }
}

/// How long a category is kept, in plain words: its period, or "until you withdraw your
/// consent, then" its period.
pub fn retention_text(c: &Category, lang: Language) -> String {
    let period = duration_text(c.retention.days, lang);
    match (c.retention_from, lang) {
        (RetentionStart::LastActivity, _) => period,
        (RetentionStart::ConsentWithdrawn, Language::En) => {
            format!("until you withdraw your consent, then {period}")
        }
        (RetentionStart::ConsentWithdrawn, Language::Ja) => {
            format!("同意を撤回されるまで、その後{period}")
        }
        (RetentionStart::ConsentWithdrawn, Language::Fr) => {
            format!("jusqu'au retrait de votre consentement, puis {period}")
        }
    }
}

/// A retention period in plain words: whole years, else whole months, else days.
pub fn duration_text(days: u32, lang: Language) -> String {
    let (n, unit) = if days >= 365 && days.is_multiple_of(365) {
        (days / 365, 0)
    } else if days >= 30 && days.is_multiple_of(30) {
        (days / 30, 1)
    } else {
        (days, 2)
    };
    let plural = n != 1;
    match (lang, unit) {
        (Language::Ja, 0) => format!("{n}年"),
        (Language::Ja, 1) => format!("{n}か月"),
        (Language::Ja, _) => format!("{n}日"),
        (Language::Fr, 0) => format!("{n} {}", if plural { "ans" } else { "an" }),
        (Language::Fr, 1) => format!("{n} mois"),
        (Language::Fr, _) => format!("{n} {}", if plural { "jours" } else { "jour" }),
        (_, 0) => format!("{n} {}", if plural { "years" } else { "year" }),
        (_, 1) => format!("{n} {}", if plural { "months" } else { "month" }),
        (_, _) => format!("{n} {}", if plural { "days" } else { "day" }),
    }
}

/// One titled section: a list of plain sentences.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Section {
    pub id: &'static str,
    pub title: String,
    pub items: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Notice {
    pub language: &'static str,
    /// "short" or "full".
    pub kind: &'static str,
    pub title: String,
    pub organisation: String,
    /// Which published version this is ("Version v2, published 2026-11-23"), or that the
    /// policy in force is not published yet; set with [`Notice::with_version`].
    pub version: String,
    pub sections: Vec<Section>,
}

/// The short notice: one screen, the essentials of every section.
pub fn short_notice(policy: &Policy, lang: Language) -> Notice {
    build(policy, lang, false)
}

/// The full notice: every category with its fields, every purpose with its description.
pub fn full_notice(policy: &Policy, lang: Language) -> Notice {
    build(policy, lang, true)
}

/// What is collected: each category (sensitive ones marked), with its fields in the full
/// notice.
fn collect_items(policy: &Policy, lang: Language, w: &Words, full: bool) -> Vec<String> {
    policy
        .categories
        .iter()
        .map(|c| {
            let mut line = c.label.get(lang).to_string();
            if c.sensitivity != Sensitivity::Personal {
                line.push_str(&format!("{}{}{}", w.open, w.sensitive, w.close));
            }
            if full {
                let fields: Vec<&str> = c.fields.iter().map(|f| f.label.get(lang)).collect();
                line.push_str(&format!("{}{}", w.colon, fields.join(w.separator)));
            }
            line
        })
        .collect()
}

/// Why: each purpose with its legal basis and channels (and its description in the full
/// notice).
fn why_items(policy: &Policy, lang: Language, w: &Words, full: bool) -> Vec<String> {
    policy
        .purposes
        .iter()
        .map(|p| {
            let mut line = format!(
                "{} — {}{}{}",
                p.label.get(lang),
                w.basis,
                w.colon,
                basis_text(p.legal_basis, lang)
            );
            if !p.channels.is_empty() {
                let channels: Vec<&str> =
                    p.channels.iter().map(|c| channel_text(*c, lang)).collect();
                line.push_str(&format!(
                    "{}{} {}{}",
                    w.open,
                    w.channels,
                    channels.join(w.separator),
                    w.close
                ));
            }
            if full {
                line.push_str(&format!(". {}", p.description.get(lang)));
            }
            line
        })
        .collect()
}

/// How long: each category's retention, then what a legal obligation keeps after an
/// erasure.
fn kept_items(policy: &Policy, lang: Language, w: &Words) -> Vec<String> {
    let held = policy.holding_purposes().filter_map(|p| {
        let categories: Vec<&str> = p
            .categories
            .iter()
            .map(|c| policy.categories[c].label.get(lang))
            .collect();
        Some(format!(
            "{}{}{}{}{}{}{}{}",
            p.label.get(lang),
            w.open,
            categories.join(w.separator),
            w.close,
            w.colon,
            duration_text(p.retention?.days, lang),
            w.separator,
            w.held_after_erasure,
        ))
    });
    policy
        .categories
        .iter()
        .map(|c| {
            format!(
                "{}{}{}",
                c.label.get(lang),
                w.colon,
                retention_text(c, lang)
            )
        })
        .chain(held)
        .collect()
}

/// Sharing: each purpose that sells or shares data, or that nothing is.
fn share_items(policy: &Policy, lang: Language, w: &Words) -> Vec<String> {
    let sharing: Vec<String> = policy
        .purposes
        .iter()
        .filter(|p| p.sale_or_share)
        .map(|p| {
            format!(
                "{} — {}",
                p.label.get(lang),
                basis_text(p.legal_basis, lang)
            )
        })
        .collect();
    if sharing.is_empty() {
        vec![w.no_sharing.to_string()]
    } else {
        sharing
    }
}

/// Your choices: the rights, consent where a purpose rests on it, Global Privacy Control where
/// data is sold or shared.
fn choice_items(policy: &Policy, w: &Words) -> Vec<String> {
    let mut choices = vec![w.choice_rights.to_string()];
    if policy
        .purposes
        .iter()
        .any(|p| p.legal_basis == LegalBasis::Consent)
    {
        choices.push(w.choice_consent.to_string());
    }
    if policy.purposes.iter().any(|p| p.sale_or_share) {
        choices.push(w.choice_gpc.to_string());
    }
    choices
}

fn build(policy: &Policy, lang: Language, full: bool) -> Notice {
    let w = words(lang);
    let collect = collect_items(policy, lang, &w, full);
    let why = why_items(policy, lang, &w, full);
    let kept = kept_items(policy, lang, &w);
    let mut share = share_items(policy, lang, &w);
    if full {
        share.extend(crate::notice_vendors::vendor_items(policy, lang));
    }
    let choices = choice_items(policy, &w);
    let section = |id, title: &str, items| Section {
        id,
        title: title.to_string(),
        items,
    };
    Notice {
        language: lang.code(),
        kind: if full { "full" } else { "short" },
        title: w.title.to_string(),
        organisation: policy.organisation.name.clone(),
        version: version_text(lang, None),
        sections: vec![
            section("collect", w.collect, collect),
            section("why", w.why, why),
            section("kept", w.kept, kept),
            section("share", w.share, share),
            section("choices", w.choices, choices),
            section(
                "contact",
                w.contact,
                vec![policy.organisation.contact.clone()],
            ),
        ],
    }
}

/// The version line of a notice: `published` is the version label and its date (YYYY-MM-DD).
pub fn version_text(lang: Language, published: Option<(&str, &str)>) -> String {
    match (lang, published) {
        (Language::En, Some((v, date))) => format!("Version {v}, published {date}"),
        (Language::Ja, Some((v, date))) => format!("バージョン {v}（{date} 公開）"),
        (Language::Fr, Some((v, date))) => format!("Version {v}, publiée le {date}"),
        (Language::En, None) => "Draft: this version is not published yet".into(),
        (Language::Ja, None) => "下書き:この版はまだ公開されていません".into(),
        (Language::Fr, None) => "Brouillon : cette version n'est pas encore publiée".into(),
    }
}

impl Notice {
    /// Names the published version the notice is (None: the policy in force is unpublished).
    pub fn with_version(mut self, published: Option<(&str, &str)>) -> Notice {
        let lang = Language::parse(self.language).unwrap_or(Language::En);
        self.version = version_text(lang, published);
        self
    }

    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "# {} — {}\n\n_{}_\n",
            self.title, self.organisation, self.version
        );
        for s in &self.sections {
            out.push_str(&format!("\n## {}\n\n", s.title));
            for item in &s.items {
                out.push_str(&format!("- {item}\n"));
            }
        }
        out
    }

    /// Words (or, for Japanese, characters / 2) — a reading-time proxy for the short notice.
    pub fn reading_units(&self) -> usize {
        let text = self.to_markdown();
        if self.language == "ja" {
            text.chars().filter(|c| !c.is_whitespace()).count() / 2
        } else {
            text.split_whitespace().count()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::parse("policy.toml", include_str!("../../../examples/policy.toml")).unwrap()
    }

    #[test]
    fn every_language_has_every_section_and_every_purpose() {
        let p = policy();
        for lang in [Language::En, Language::Ja, Language::Fr] {
            for notice in [short_notice(&p, lang), full_notice(&p, lang)] {
                let ids: Vec<&str> = notice.sections.iter().map(|s| s.id).collect();
                assert_eq!(
                    ids,
                    ["collect", "why", "kept", "share", "choices", "contact"]
                );
                let why = &notice.sections[1].items;
                assert_eq!(why.len(), p.purposes.len());
                for purpose in &p.purposes {
                    assert!(why.iter().any(|l| l.starts_with(purpose.label.get(lang))));
                }
                assert!(notice.sections.iter().all(|s| !s.items.is_empty()));
            }
        }
    }

    #[test]
    fn short_notice_reads_in_under_two_minutes() {
        // ~200 words a minute (about 400 Japanese characters a minute).
        let p = policy();
        for lang in [Language::En, Language::Ja, Language::Fr] {
            let units = short_notice(&p, lang).reading_units();
            assert!(units <= 400, "{lang:?}: {units}");
            assert!(full_notice(&p, lang).reading_units() > units);
        }
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration_text(365 * 3, Language::En), "3 years");
        assert_eq!(duration_text(365, Language::Fr), "1 an");
        assert_eq!(duration_text(180, Language::Ja), "6か月");
        assert_eq!(duration_text(45, Language::En), "45 days");
        let n = short_notice(&policy(), Language::En);
        assert!(
            n.sections[2]
                .items
                .iter()
                .all(|l| l.contains("year") || l.contains("month") || l.contains("day"))
        );
    }

    #[test]
    fn sharing_and_gpc_follow_the_policy() {
        let p = policy();
        let n = short_notice(&p, Language::En);
        let share = &n.sections[3].items;
        assert!(
            share.iter().any(|l| l.contains("your consent")),
            "{share:?}"
        );
        assert!(
            n.sections[4]
                .items
                .iter()
                .any(|l| l.contains("Global Privacy Control"))
        );
        let text = include_str!("../../../examples/policy.toml")
            .replace("sale_or_share = true", "sale_or_share = false");
        let text = text.replace("opt_out = true\n", "");
        let quiet = Policy::parse("p.toml", &text).unwrap();
        let n = short_notice(&quiet, Language::En);
        assert_eq!(
            n.sections[3].items,
            vec!["We do not sell or share your data with third parties."]
        );
        assert!(
            !n.sections[4]
                .items
                .iter()
                .any(|l| l.contains("Global Privacy Control"))
        );
    }
}
