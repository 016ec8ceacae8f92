//! The policy page's words, and each policy change said in English, Japanese or French with that
//! language's quotation marks and list separators. Names are the policy's own identifiers.

use mamori_policy::diff::{ChangeKind, PolicyChange};
use mamori_policy::notice::basis_text;
use mamori_policy::{Language, RetentionStart};

pub(crate) struct PolicyWords {
    pub(crate) heading: &'static str,
    pub(crate) records_link: &'static str,
    pub(crate) in_force: &'static str,
    pub(crate) in_force_is: &'static str,
    pub(crate) in_force_unpublished: &'static str,
    pub(crate) nothing_published: &'static str,
    pub(crate) compare: &'static str,
    pub(crate) from: &'static str,
    pub(crate) to: &'static str,
    pub(crate) show: &'static str,
    pub(crate) changes: &'static str,
    pub(crate) no_changes: &'static str,
    pub(crate) widens: &'static str,
    pub(crate) narrows: &'static str,
    pub(crate) widens_note: &'static str,
    pub(crate) publish_heading: &'static str,
    pub(crate) publish_intro: &'static str,
    pub(crate) publish_button: &'static str,
    pub(crate) published: &'static str,
    pub(crate) no_such_version: &'static str,
    pub(crate) compare_and_publish: &'static str,
}

pub(crate) fn policy_words(lang: Language) -> PolicyWords {
    match lang {
        Language::En => PolicyWords {
            heading: "Policy",
            records_link: "Records of processing (GDPR Art. 30), generated from this policy",
            in_force: "Policy in force",
            in_force_is: "The policy in force is the latest published version",
            in_force_unpublished: "The policy in force has not been published: the notices people see are still the latest published version's.",
            nothing_published: "Nothing has been published yet.",
            compare: "Compare",
            from: "From",
            to: "To",
            show: "Show the changes",
            changes: "Changes",
            no_changes: "No change that affects people's data.",
            widens: "widens",
            narrows: "narrows",
            widens_note: "Some changes widen processing: people's earlier consent does not cover them, and those who agreed will be asked again.",
            publish_heading: "Publish the policy in force",
            publish_intro: "Publishing makes the notices say what the policy in force does, tells everyone the notice changed, and asks people whose consent a widening no longer covers to agree again.",
            publish_button: "Publish",
            published: "Published.",
            no_such_version: "No published version has this number.",
            compare_and_publish: "Compare versions and publish",
        },
        Language::Ja => PolicyWords {
            heading: "ポリシー",
            records_link: "このポリシーから作成した処理活動の記録（GDPR第30条）",
            in_force: "現在のポリシー",
            in_force_is: "現在のポリシーは最新の公開版です",
            in_force_unpublished: "現在のポリシーはまだ公開されていません。お客様が見る通知は最新の公開版のままです。",
            nothing_published: "まだ何も公開されていません。",
            compare: "比較",
            from: "比較元",
            to: "比較先",
            show: "変更を表示",
            changes: "変更点",
            no_changes: "個人データに関わる変更はありません。",
            widens: "拡大",
            narrows: "縮小",
            widens_note: "処理を拡大する変更があります。以前の同意はその変更を含まないため、同意した方には改めて同意をお願いします。",
            publish_heading: "現在のポリシーを公開",
            publish_intro: "公開すると、通知が現在のポリシーの内容になり、通知の変更を全員にお知らせし、拡大によって同意の範囲外となった方に改めて同意をお願いします。",
            publish_button: "公開する",
            published: "公開しました。",
            no_such_version: "この番号の公開版はありません。",
            compare_and_publish: "版の比較と公開",
        },
        Language::Fr => PolicyWords {
            heading: "Politique",
            records_link: "Registre des activités de traitement (RGPD art.\u{a0}30), généré depuis cette politique",
            in_force: "Politique en vigueur",
            in_force_is: "La politique en vigueur est la dernière version publiée",
            in_force_unpublished: "La politique en vigueur n’a pas été publiée\u{a0}: les avis que voient les personnes restent ceux de la dernière version publiée.",
            nothing_published: "Rien n’a encore été publié.",
            compare: "Comparer",
            from: "De",
            to: "À",
            show: "Afficher les changements",
            changes: "Changements",
            no_changes: "Aucun changement touchant les données des personnes.",
            widens: "élargit",
            narrows: "restreint",
            widens_note: "Certains changements élargissent le traitement\u{a0}: le consentement donné auparavant ne les couvre pas, et les personnes qui l’avaient donné seront de nouveau sollicitées.",
            publish_heading: "Publier la politique en vigueur",
            publish_intro: "Publier aligne les avis sur la politique en vigueur, informe chacun que l’avis a changé et redemande leur accord aux personnes dont le consentement ne couvre plus un traitement élargi.",
            publish_button: "Publier",
            published: "Publiée.",
            no_such_version: "Aucune version publiée ne porte ce numéro.",
            compare_and_publish: "Comparer les versions et publier",
        },
    }
}

/// A name quoted, and names listed, the way each language does it.
fn quote(lang: Language, name: &str) -> String {
    match lang {
        Language::En => format!("“{name}”"),
        Language::Ja => format!("「{name}」"),
        Language::Fr => format!("«\u{a0}{name}\u{a0}»"),
    }
}

fn list(lang: Language, names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| quote(lang, n)).collect();
    quoted.join(if lang == Language::Ja { "、" } else { ", " })
}

/// One change in the page's language.
pub(crate) fn change_text(lang: Language, change: &PolicyChange) -> String {
    use ChangeKind::*;
    let q = |name: &str| quote(lang, name);
    match (&change.kind, lang) {
        (PurposeAdded { purpose, basis }, Language::En) => {
            format!(
                "Purpose {} added, resting on {}.",
                q(purpose),
                basis_text(*basis, lang)
            )
        }
        (PurposeAdded { purpose, basis }, Language::Ja) => {
            format!(
                "目的{}を追加（根拠：{}）。",
                q(purpose),
                basis_text(*basis, lang)
            )
        }
        (PurposeAdded { purpose, basis }, Language::Fr) => format!(
            "Finalité {} ajoutée, fondée sur {}.",
            q(purpose),
            basis_text(*basis, lang)
        ),
        (PurposeRemoved { purpose }, Language::En) => format!("Purpose {} removed.", q(purpose)),
        (PurposeRemoved { purpose }, Language::Ja) => format!("目的{}を削除。", q(purpose)),
        (PurposeRemoved { purpose }, Language::Fr) => {
            format!("Finalité {} supprimée.", q(purpose))
        }
        (CategoryAdded { category }, Language::En) => format!("Category {} added.", q(category)),
        (CategoryAdded { category }, Language::Ja) => format!("区分{}を追加。", q(category)),
        (CategoryAdded { category }, Language::Fr) => {
            format!("Catégorie {} ajoutée.", q(category))
        }
        (CategoryRemoved { category }, Language::En) => {
            format!("Category {} removed.", q(category))
        }
        (CategoryRemoved { category }, Language::Ja) => format!("区分{}を削除。", q(category)),
        (CategoryRemoved { category }, Language::Fr) => {
            format!("Catégorie {} supprimée.", q(category))
        }
        (kind, _) => more_change_text(lang, kind),
    }
}

/// The rest of [`change_text`]: what a purpose uses.
fn more_change_text(lang: Language, kind: &ChangeKind) -> String {
    use ChangeKind::*;
    let q = |name: &str| quote(lang, name);
    let l = |names: &[String]| list(lang, names);
    match (kind, lang) {
        (
            UsesMore {
                purpose,
                categories,
            },
            Language::En,
        ) => {
            format!("Purpose {} now also uses {}.", q(purpose), l(categories))
        }
        (
            UsesMore {
                purpose,
                categories,
            },
            Language::Ja,
        ) => {
            format!(
                "目的{}が{}も使うようになります。",
                q(purpose),
                l(categories)
            )
        }
        (
            UsesMore {
                purpose,
                categories,
            },
            Language::Fr,
        ) => {
            format!(
                "La finalité {} utilise aussi {}.",
                q(purpose),
                l(categories)
            )
        }
        (
            UsesLess {
                purpose,
                categories,
            },
            Language::En,
        ) => {
            format!("Purpose {} no longer uses {}.", q(purpose), l(categories))
        }
        (
            UsesLess {
                purpose,
                categories,
            },
            Language::Ja,
        ) => {
            format!("目的{}は{}を使わなくなります。", q(purpose), l(categories))
        }
        (
            UsesLess {
                purpose,
                categories,
            },
            Language::Fr,
        ) => {
            format!(
                "La finalité {} n’utilise plus {}.",
                q(purpose),
                l(categories)
            )
        }
        (kind, _) => basis_change_text(lang, kind),
    }
}

/// On what a purpose rests, and whether it sells or shares.
fn basis_change_text(lang: Language, kind: &ChangeKind) -> String {
    use ChangeKind::*;
    let q = |name: &str| quote(lang, name);
    let b = |basis| basis_text(basis, lang);
    match (kind, lang) {
        (BasisChanged { purpose, was, now }, Language::En) => format!(
            "Purpose {} now rests on {} instead of {}.",
            q(purpose),
            b(*now),
            b(*was)
        ),
        (BasisChanged { purpose, was, now }, Language::Ja) => format!(
            "目的{}の根拠が{}から{}に変わります。",
            q(purpose),
            b(*was),
            b(*now)
        ),
        (BasisChanged { purpose, was, now }, Language::Fr) => format!(
            "La finalité {} repose désormais sur {} au lieu de {}.",
            q(purpose),
            b(*now),
            b(*was)
        ),
        (NowSellsOrShares { purpose }, Language::En) => {
            format!(
                "Purpose {} now sells or shares data with third parties.",
                q(purpose)
            )
        }
        (NowSellsOrShares { purpose }, Language::Ja) => {
            format!(
                "目的{}でデータを第三者に販売・共有するようになります。",
                q(purpose)
            )
        }
        (NowSellsOrShares { purpose }, Language::Fr) => format!(
            "La finalité {} vend ou partage désormais des données avec des tiers.",
            q(purpose)
        ),
        (NoLongerSellsOrShares { purpose }, Language::En) => {
            format!("Purpose {} no longer sells or shares data.", q(purpose))
        }
        (NoLongerSellsOrShares { purpose }, Language::Ja) => {
            format!("目的{}でデータを販売・共有しなくなります。", q(purpose))
        }
        (NoLongerSellsOrShares { purpose }, Language::Fr) => format!(
            "La finalité {} ne vend ni ne partage plus de données.",
            q(purpose)
        ),
        (kind, _) => channel_change_text(lang, kind),
    }
}

/// Channels, fields, and an unreadable earlier version.
fn channel_change_text(lang: Language, kind: &ChangeKind) -> String {
    use ChangeKind::*;
    let q = |name: &str| quote(lang, name);
    let l = |names: &[String]| list(lang, names);
    match (kind, lang) {
        (NewChannels { purpose, channels }, Language::En) => {
            format!(
                "Purpose {} may now contact people by {}.",
                q(purpose),
                l(channels)
            )
        }
        (NewChannels { purpose, channels }, Language::Ja) => {
            format!(
                "目的{}で{}による連絡ができるようになります。",
                q(purpose),
                l(channels)
            )
        }
        (NewChannels { purpose, channels }, Language::Fr) => format!(
            "La finalité {} peut désormais contacter les personnes par {}.",
            q(purpose),
            l(channels)
        ),
        (FieldsAdded { category, fields }, Language::En) => {
            format!("Category {} gains the fields {}.", q(category), l(fields))
        }
        (FieldsAdded { category, fields }, Language::Ja) => {
            format!("区分{}に項目{}を追加。", q(category), l(fields))
        }
        (FieldsAdded { category, fields }, Language::Fr) => {
            format!(
                "La catégorie {} gagne les champs {}.",
                q(category),
                l(fields)
            )
        }
        (Incomparable, Language::En) => "The earlier version can no longer be compared.".into(),
        (Incomparable, Language::Ja) => "以前の版とはもう比較できません。".into(),
        (Incomparable, Language::Fr) => "La version antérieure ne peut plus être comparée.".into(),
        // Every other kind was said by change_text or more_change_text.
        (kind, _) => retention_change_text(lang, kind),
    }
}

/// How long a category is kept, and from when.
fn retention_change_text(lang: Language, kind: &ChangeKind) -> String {
    use ChangeKind::*;
    let q = |name: &str| quote(lang, name);
    let from = |start: &RetentionStart| match (start, lang) {
        (RetentionStart::ConsentWithdrawn, Language::En) => "the withdrawal of consent",
        (RetentionStart::ConsentWithdrawn, Language::Ja) => "同意の撤回",
        (RetentionStart::ConsentWithdrawn, Language::Fr) => "le retrait du consentement",
        (RetentionStart::LastActivity, Language::En) => "the last activity",
        (RetentionStart::LastActivity, Language::Ja) => "最後の利用",
        (RetentionStart::LastActivity, Language::Fr) => "la dernière activité",
    };
    match (kind, lang) {
        (KeptLonger { category, now, was }, Language::En) => {
            format!(
                "Category {} kept longer: {now} instead of {was}.",
                q(category)
            )
        }
        (KeptLonger { category, now, was }, Language::Ja) => {
            format!("区分{}の保存期間を{was}から{now}に延長。", q(category))
        }
        (KeptLonger { category, now, was }, Language::Fr) => format!(
            "Catégorie {} conservée plus longtemps\u{a0}: {now} au lieu de {was}.",
            q(category)
        ),
        (KeptShorter { category, now, was }, Language::En) => {
            format!(
                "Category {} kept shorter: {now} instead of {was}.",
                q(category)
            )
        }
        (KeptShorter { category, now, was }, Language::Ja) => {
            format!("区分{}の保存期間を{was}から{now}に短縮。", q(category))
        }
        (KeptShorter { category, now, was }, Language::Fr) => format!(
            "Catégorie {} conservée moins longtemps\u{a0}: {now} au lieu de {was}.",
            q(category)
        ),
        (RetentionCountsFrom { category, from: f }, Language::En) => {
            format!(
                "Category {}: retention now counts from {}.",
                q(category),
                from(f)
            )
        }
        (RetentionCountsFrom { category, from: f }, Language::Ja) => {
            format!("区分{}の保存期間は{}から数えます。", q(category), from(f))
        }
        (RetentionCountsFrom { category, from: f }, Language::Fr) => format!(
            "Catégorie {}\u{a0}: la conservation court désormais à partir de {}.",
            q(category),
            from(f)
        ),
        (kind, _) => vendor_change_text(lang, kind),
    }
}

/// The vendor register's changes.
fn vendor_change_text(lang: Language, kind: &ChangeKind) -> String {
    use ChangeKind::*;
    let q = |name: &str| quote(lang, name);
    let l = |names: &[String]| list(lang, names);
    match (kind, lang) {
        (VendorAdded { vendor }, Language::En) => {
            format!("Vendor {} added to the register.", q(vendor))
        }
        (VendorAdded { vendor }, Language::Ja) => format!("委託先・提供先{}を追加。", q(vendor)),
        (VendorAdded { vendor }, Language::Fr) => {
            format!("Prestataire {} ajouté au registre.", q(vendor))
        }
        (VendorRemoved { vendor }, Language::En) => {
            format!("Vendor {} removed from the register.", q(vendor))
        }
        (VendorRemoved { vendor }, Language::Ja) => format!("委託先・提供先{}を削除。", q(vendor)),
        (VendorRemoved { vendor }, Language::Fr) => {
            format!("Prestataire {} retiré du registre.", q(vendor))
        }
        (VendorReceivesMore { vendor, categories }, Language::En) => format!(
            "Vendor {} may now also receive {}.",
            q(vendor),
            l(categories)
        ),
        (VendorReceivesMore { vendor, categories }, Language::Ja) => format!(
            "委託先・提供先{}に{}も提供可能に。",
            q(vendor),
            l(categories)
        ),
        (VendorReceivesMore { vendor, categories }, Language::Fr) => format!(
            "Le prestataire {} peut désormais aussi recevoir {}.",
            q(vendor),
            l(categories)
        ),
        (VendorNewCountries { vendor, countries }, Language::En) => format!(
            "Vendor {} now also processes data in {}.",
            q(vendor),
            countries.join(", ")
        ),
        (VendorNewCountries { vendor, countries }, Language::Ja) => format!(
            "委託先・提供先{}が{}でも処理。",
            q(vendor),
            countries.join("、")
        ),
        (VendorNewCountries { vendor, countries }, Language::Fr) => format!(
            "Le prestataire {} traite désormais aussi des données en\u{a0}: {}.",
            q(vendor),
            countries.join(", ")
        ),
        (kind, _) => PolicyChange {
            widens: false,
            kind: kind.clone(),
        }
        .text(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_policy::LegalBasis;

    fn every_kind() -> Vec<ChangeKind> {
        use ChangeKind::*;
        let (p, c) = (|| "marketing".to_string(), || "orders".to_string());
        let names = || vec!["a".to_string(), "b".to_string()];
        let (now, was) = (|| "10y".to_string(), || "7y".to_string());
        vec![
            PurposeAdded {
                purpose: p(),
                basis: LegalBasis::Consent,
            },
            PurposeRemoved { purpose: p() },
            CategoryAdded { category: c() },
            CategoryRemoved { category: c() },
            UsesMore {
                purpose: p(),
                categories: names(),
            },
            UsesLess {
                purpose: p(),
                categories: names(),
            },
            BasisChanged {
                purpose: p(),
                was: LegalBasis::Consent,
                now: LegalBasis::Contract,
            },
            NowSellsOrShares { purpose: p() },
            NoLongerSellsOrShares { purpose: p() },
            NewChannels {
                purpose: p(),
                channels: names(),
            },
            KeptLonger {
                category: c(),
                now: now(),
                was: was(),
            },
            KeptShorter {
                category: c(),
                now: now(),
                was: was(),
            },
            RetentionCountsFrom {
                category: c(),
                from: RetentionStart::ConsentWithdrawn,
            },
            FieldsAdded {
                category: c(),
                fields: names(),
            },
            VendorAdded { vendor: p() },
            VendorRemoved { vendor: p() },
            VendorReceivesMore {
                vendor: p(),
                categories: names(),
            },
            VendorNewCountries {
                vendor: p(),
                countries: vec!["US".into(), "BR".into()],
            },
            Incomparable,
        ]
    }

    /// Every change is said in each language (never the English fallback), names quoted.
    #[test]
    fn every_change_is_said_in_each_language() {
        for kind in every_kind() {
            let change = PolicyChange { widens: true, kind };
            let english = change_text(Language::En, &change);
            for lang in [Language::Ja, Language::Fr] {
                let said = change_text(lang, &change);
                assert_ne!(said, english, "{lang:?}");
                assert_ne!(said, change.text(), "{lang:?} fell back to English");
                assert!(!said.contains('`'), "{said}");
            }
            let ja = change_text(Language::Ja, &change);
            assert!(!ja.contains("purpose") && !ja.contains("category"), "{ja}");
            if ja.contains("orders") {
                assert!(ja.contains("「orders」"), "{ja}");
            }
        }
    }
}
