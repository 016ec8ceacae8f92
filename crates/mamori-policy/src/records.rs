//! Records of processing activities (GDPR Art. 30) generated from the policy and its vendor
//! register — the same file that enforces access, so the record says what the software does.
//! Art. 30(1): one activity per purpose (its basis, the people and data concerned, recipients,
//! transfers, retention) and the security measures; Art. 30(2): what each processor in the
//! register does for the organisation. In every language, as a structure that renders to JSON,
//! Markdown, HTML and CSV; versioned with the policy.

// The wire type's own name is `ProcessingRecords`: `Records` is a subject's records on the wire.
pub use mamori_proto::records::{
    Activity, Headings, ProcessingRecords as Records, ProcessorRecord,
};

use crate::notice::{duration_text, retention_text};
use crate::vendors::{ReviewResult, Vendor, VendorRole};
use crate::{Language, LegalBasis, Policy, Sensitivity};

fn pick<T>(lang: Language, [en, ja, fr]: [T; 3]) -> T {
    match lang {
        Language::En => en,
        Language::Ja => ja,
        Language::Fr => fr,
    }
}

/// The headings in one language.
struct Words {
    activities: &'static str,
    processors: &'static str,
    security: &'static str,
    purpose: &'static str,
    legal_basis: &'static str,
    data_subjects: &'static str,
    data_categories: &'static str,
    recipients: &'static str,
    transfers: &'static str,
    retention: &'static str,
    role: &'static str,
    contact: &'static str,
    processing: &'static str,
    contract: &'static str,
    review: &'static str,
    none: &'static str,
}

const EN: Words = Words {
    activities: "Processing activities (GDPR Art. 30(1))",
    processors: "Processors acting for us (GDPR Art. 30(2))",
    security: "Security measures (GDPR Art. 32)",
    purpose: "Purpose",
    legal_basis: "Legal basis",
    data_subjects: "People concerned",
    data_categories: "Data",
    recipients: "Recipients",
    transfers: "Countries of processing and safeguards",
    retention: "Retention",
    role: "Role",
    contact: "Contact",
    processing: "Processing for us",
    contract: "Contract",
    review: "Last security review",
    none: "None",
};

const JA: Words = Words {
    activities: "処理活動（GDPR第30条第1項）",
    processors: "委託先による処理（GDPR第30条第2項）",
    security: "安全管理措置（GDPR第32条）",
    purpose: "利用目的",
    legal_basis: "法的根拠",
    data_subjects: "対象となる本人",
    data_categories: "個人データの項目",
    recipients: "提供先・委託先",
    transfers: "処理する国と保護措置",
    retention: "保存期間",
    role: "立場",
    contact: "連絡先",
    processing: "委託する処理",
    contract: "契約",
    review: "直近の安全管理審査",
    none: "なし",
};

const FR: Words = Words {
    activities: "Activités de traitement (RGPD art. 30(1))",
    processors: "Sous-traitants agissant pour nous (RGPD art. 30(2))",
    security: "Mesures de sécurité (RGPD art. 32)",
    purpose: "Finalité",
    legal_basis: "Base légale",
    data_subjects: "Personnes concernées",
    data_categories: "Données",
    recipients: "Destinataires",
    transfers: "Pays de traitement et garanties",
    retention: "Durée de conservation",
    role: "Rôle",
    contact: "Contact",
    processing: "Traitements pour notre compte",
    contract: "Contrat",
    review: "Dernier audit de sécurité",
    none: "Aucun",
};

impl Words {
    fn headings(&self) -> Headings {
        Headings {
            activities: self.activities.to_string(),
            processors: self.processors.to_string(),
            security: self.security.to_string(),
            purpose: self.purpose.to_string(),
            legal_basis: self.legal_basis.to_string(),
            data_subjects: self.data_subjects.to_string(),
            data_categories: self.data_categories.to_string(),
            recipients: self.recipients.to_string(),
            transfers: self.transfers.to_string(),
            retention: self.retention.to_string(),
            role: self.role.to_string(),
            contact: self.contact.to_string(),
            processing: self.processing.to_string(),
            contract: self.contract.to_string(),
            review: self.review.to_string(),
            none: self.none.to_string(),
        }
    }
}

/// The basis as a record states it, with its article.
fn basis(b: LegalBasis, lang: Language) -> &'static str {
    use LegalBasis::*;
    pick(
        lang,
        match b {
            Consent => [
                "Consent (Art. 6(1)(a))",
                "本人の同意（第6条第1項(a)）",
                "Consentement (art. 6(1)(a))",
            ],
            Contract => [
                "Contract (Art. 6(1)(b))",
                "契約の履行（第6条第1項(b)）",
                "Contrat (art. 6(1)(b))",
            ],
            LegalObligation => [
                "Legal obligation (Art. 6(1)(c))",
                "法的義務（第6条第1項(c)）",
                "Obligation légale (art. 6(1)(c))",
            ],
            VitalInterest => [
                "Vital interests (Art. 6(1)(d))",
                "生命に関わる利益（第6条第1項(d)）",
                "Intérêts vitaux (art. 6(1)(d))",
            ],
            PublicTask => [
                "Public task (Art. 6(1)(e))",
                "公共の利益（第6条第1項(e)）",
                "Mission d’intérêt public (art. 6(1)(e))",
            ],
            LegitimateInterest => [
                "Legitimate interests (Art. 6(1)(f))",
                "正当な利益（第6条第1項(f)）",
                "Intérêts légitimes (art. 6(1)(f))",
            ],
        },
    )
}

fn role(r: VendorRole, lang: Language) -> &'static str {
    pick(
        lang,
        match r {
            VendorRole::Processor => ["Processor", "委託先", "Sous-traitant"],
            VendorRole::SubProcessor => ["Sub-processor", "再委託先", "Sous-traitant ultérieur"],
            VendorRole::IndependentController => [
                "Separate controller",
                "第三者提供先",
                "Responsable distinct",
            ],
            VendorRole::JointController => {
                ["Joint controller", "共同利用者", "Responsable conjoint"]
            }
        },
    )
}

/// A category's name, marked when it is sensitive or special.
fn category_label(policy: &Policy, id: usize, lang: Language) -> String {
    let c = &policy.categories[id];
    let mark = pick(lang, [" (sensitive)", "（要配慮）", " (sensible)"]);
    match c.sensitivity {
        Sensitivity::Personal => c.label.get(lang).to_string(),
        _ => format!("{}{mark}", c.label.get(lang)),
    }
}

/// "Name: JP, US — safeguards" for each of the vendor's countries of processing.
fn transfer_line(v: &Vendor, lang: Language) -> String {
    let safeguards: Vec<String> = (v.transfers.iter())
        .map(|t| crate::notice_vendors::safeguard_text(t, lang))
        .collect();
    let countries = v.countries.join(", ");
    match safeguards.is_empty() {
        true => format!("{}: {countries}", v.name),
        false => format!("{}: {countries} — {}", v.name, safeguards.join(", ")),
    }
}

fn activity(policy: &Policy, p: &crate::Purpose, lang: Language) -> Activity {
    let serving: Vec<&Vendor> = (policy.vendors.iter())
        .filter(|v| v.purposes.contains(p.id))
        .collect();
    let retention = (p.categories.iter())
        .map(|c| {
            let category = &policy.categories[c];
            let kept = match p.retention {
                Some(r) => duration_text(r.days, lang),
                None => retention_text(category, lang),
            };
            format!("{}: {kept}", category.label.get(lang))
        })
        .collect();
    Activity {
        purpose: p.name.clone(),
        name: p.label.get(lang).to_string(),
        description: p.description.get(lang).to_string(),
        legal_basis: basis(p.legal_basis, lang).to_string(),
        data_subjects: pick(lang, ["Customers", "お客様", "Clients"]).to_string(),
        data_categories: (p.categories.iter())
            .map(|c| category_label(policy, c, lang))
            .collect(),
        recipients: (serving.iter())
            .map(|v| format!("{} ({})", v.name, role(v.role, lang)))
            .collect(),
        transfers: serving.iter().map(|v| transfer_line(v, lang)).collect(),
        retention,
    }
}

fn processor(policy: &Policy, v: &Vendor, lang: Language) -> ProcessorRecord {
    let open = pick(lang, ["open-ended", "期限なし", "sans échéance"]);
    let contract = match v.contract.end {
        Some(end) => format!("{} ({} – {end})", v.contract.reference, v.contract.start),
        None => format!("{} ({} – {open})", v.contract.reference, v.contract.start),
    };
    let review = match &v.review {
        None => pick(lang, ["none recorded", "記録なし", "aucun enregistré"]).to_string(),
        Some(r) => {
            let result = pick(
                lang,
                match r.result {
                    ReviewResult::Passed => ["passed", "合格", "réussi"],
                    ReviewResult::PassedWithActions => {
                        ["passed with actions", "条件付き合格", "réussi avec actions"]
                    }
                    ReviewResult::Failed => ["failed", "不合格", "échoué"],
                },
            );
            format!("{} ({result})", r.on)
        }
    };
    ProcessorRecord {
        vendor: v.id.clone(),
        name: v.name.clone(),
        role: role(v.role, lang).to_string(),
        contact: v.contact.clone(),
        processing: (v.purposes.iter())
            .map(|p| policy.purposes[p].label.get(lang).to_string())
            .collect(),
        data_categories: (v.categories.iter())
            .map(|c| category_label(policy, c, lang))
            .collect(),
        transfers: vec![transfer_line(v, lang)],
        contract,
        review,
    }
}

/// The measures Mamori itself takes, and those the policy turns on (second factors, training).
fn security(policy: &Policy, lang: Language) -> Vec<String> {
    let mut out: Vec<String> = [
        ["Every personal value is encrypted at rest under its person's own key (AES-256-GCM-SIV); erasing the person destroys the key.", "個人データの値はすべて本人ごとの鍵で暗号化して保存します（AES-256-GCM-SIV）。削除時には鍵を破棄します。", "Chaque donnée personnelle est chiffrée au repos sous la clé propre à la personne (AES-256-GCM-SIV)\u{a0}; l’effacement détruit la clé."],
        ["Each access is decided by role and purpose from this policy, and recorded, allowed or refused, in a tamper-evident ledger (signed Merkle tree).", "アクセスはこのポリシーの役割と利用目的で判定し、許可・拒否とも改ざん検知可能な台帳（署名付きマークル木）に記録します。", "Chaque accès est décidé par rôle et finalité selon cette politique, et consigné, autorisé ou refusé, dans un registre inviolable (arbre de Merkle signé)."],
        ["Retention periods are enforced automatically; backups are encrypted and an erasure reaches them.", "保存期間は自動的に適用します。バックアップは暗号化し、削除はバックアップにも及びます。", "Les durées de conservation sont appliquées automatiquement\u{a0}; les sauvegardes sont chiffrées et l’effacement les atteint."],
    ]
    .into_iter()
    .map(|said| pick(lang, said).to_string())
    .collect();
    let named = |pred: fn(&crate::Role) -> bool| -> Vec<String> {
        (policy.roles.iter())
            .filter(|r| pred(r))
            .map(|r| r.name.clone())
            .collect()
    };
    let mfa = named(|r| r.require_mfa);
    if !mfa.is_empty() {
        let roles = mfa.join(", ");
        out.push(pick(
            lang,
            [
                format!("Staff of these roles sign in with a second factor: {roles}."),
                format!("次の役割のスタッフは二要素でサインインします：{roles}。"),
                format!(
                    "Le personnel de ces rôles se connecte avec un second facteur\u{a0}: {roles}."
                ),
            ],
        ));
    }
    let trained = named(|r| r.require_training);
    if !trained.is_empty() {
        let roles = trained.join(", ");
        let days = policy.organisation.training_valid_days;
        out.push(pick(lang, [
            format!("Staff of these roles act only with privacy training passed within {days} days: {roles}."),
            format!("次の役割のスタッフは{days}日以内に研修に合格した場合のみ操作できます：{roles}。"),
            format!("Le personnel de ces rôles n’agit qu’avec une formation réussie depuis moins de {days}\u{a0}jours\u{a0}: {roles}."),
        ]));
    }
    out
}

/// The records in `lang`; `version` is the policy's published version line.
pub fn records(policy: &Policy, lang: Language, version: String) -> Records {
    Records {
        language: lang.code().to_string(),
        title: pick(
            lang,
            [
                "Records of processing activities",
                "個人データの取扱いに関する記録",
                "Registre des activités de traitement",
            ],
        )
        .to_string(),
        organisation: policy.organisation.name.clone(),
        contact: policy.organisation.contact.clone(),
        version,
        activities: (policy.purposes.iter())
            .map(|p| activity(policy, p, lang))
            .collect(),
        processors: (policy.vendors.iter())
            .filter(|v| matches!(v.role, VendorRole::Processor | VendorRole::SubProcessor))
            .map(|v| processor(policy, v, lang))
            .collect(),
        security: security(policy, lang),
        headings: pick(lang, [EN, JA, FR]).headings(),
    }
}

fn list(r: &Records, items: &[String]) -> String {
    match items.is_empty() {
        true => r.headings.none.to_string(),
        false => items.join("; "),
    }
}

pub fn to_markdown(r: &Records) -> String {
    let h = &r.headings;
    let mut out = format!(
        "# {} — {}\n\n_{}_\n\n{}: {}\n",
        r.title, r.organisation, r.version, h.contact, r.contact
    );
    out.push_str(&format!("\n## {}\n", h.activities));
    for a in &r.activities {
        out.push_str(&format!(
            "\n### {} (`{}`)\n\n{}\n\n",
            a.name, a.purpose, a.description
        ));
        for (k, v) in [
            (&h.legal_basis, a.legal_basis.clone()),
            (&h.data_subjects, a.data_subjects.clone()),
            (&h.data_categories, list(r, &a.data_categories)),
            (&h.recipients, list(r, &a.recipients)),
            (&h.transfers, list(r, &a.transfers)),
            (&h.retention, list(r, &a.retention)),
        ] {
            out.push_str(&format!("- **{k}**: {v}\n"));
        }
    }
    out.push_str(&format!("\n## {}\n", h.processors));
    for p in &r.processors {
        out.push_str(&format!("\n### {} (`{}`)\n\n", p.name, p.vendor));
        for (k, v) in [
            (&h.role, p.role.clone()),
            (&h.contact, p.contact.clone()),
            (&h.processing, list(r, &p.processing)),
            (&h.data_categories, list(r, &p.data_categories)),
            (&h.transfers, list(r, &p.transfers)),
            (&h.contract, p.contract.clone()),
            (&h.review, p.review.clone()),
        ] {
            out.push_str(&format!("- **{k}**: {v}\n"));
        }
    }
    out.push_str(&format!("\n## {}\n\n", h.security));
    for s in &r.security {
        out.push_str(&format!("- {s}\n"));
    }
    out
}

/// The activities as rows under a header row, each list joined by "; " (for a spreadsheet).
pub fn activity_rows(r: &Records) -> Vec<Vec<String>> {
    let h = &r.headings;
    let header = [
        "id",
        &h.purpose,
        &h.legal_basis,
        &h.data_subjects,
        &h.data_categories,
        &h.recipients,
        &h.transfers,
        &h.retention,
    ];
    let mut rows = vec![header.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
    for a in &r.activities {
        rows.push(vec![
            a.purpose.clone(),
            a.name.clone(),
            a.legal_basis.clone(),
            a.data_subjects.clone(),
            list(r, &a.data_categories),
            list(r, &a.recipients),
            list(r, &a.transfers),
            list(r, &a.retention),
        ]);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Policy {
        let text = include_str!("../../../examples/policy.toml");
        Policy::parse("examples/policy.toml", text).unwrap()
    }

    fn activity<'a>(r: &'a Records, purpose: &str) -> &'a Activity {
        r.activities.iter().find(|a| a.purpose == purpose).unwrap()
    }

    #[test]
    fn each_purpose_is_an_activity_with_its_basis_data_recipients_and_retention() {
        let policy = example();
        let r = records(&policy, Language::En, "Version v3".into());
        assert_eq!(r.activities.len(), policy.purposes.len());
        let orders = activity(&r, "order_fulfilment");
        assert_eq!(orders.legal_basis, "Contract (Art. 6(1)(b))");
        assert_eq!(orders.recipients, ["Kuroneko Logistics K.K. (Processor)"]);
        assert_eq!(orders.transfers, ["Kuroneko Logistics K.K.: JP"]);
        assert!(
            orders.retention.iter().all(|l| l.contains(": ")),
            "{:?}",
            orders.retention
        );
        let mail = activity(&r, "marketing_email");
        assert_eq!(mail.legal_basis, "Consent (Art. 6(1)(a))");
        assert_eq!(
            mail.transfers,
            ["Postbird Mail Inc.: US — standard contractual clauses, equivalent measures (APPI)"]
        );
        // A legal obligation's own keeping period wins over the categories'.
        let accounts = activity(&r, "legal_accounting");
        assert!(
            accounts.retention.iter().all(|l| l.ends_with("7 years")),
            "{:?}",
            accounts.retention
        );
        // A purpose no vendor serves has no recipients, and says so.
        let none = r
            .activities
            .iter()
            .find(|a| a.recipients.is_empty())
            .unwrap();
        assert!(to_markdown(&r).contains(&format!("### {} (`{}`)", none.name, none.purpose)));
    }

    #[test]
    fn processors_and_security_measures_come_from_the_register_and_roles() {
        let r = records(&example(), Language::En, "Version v3".into());
        let names: Vec<&str> = r.processors.iter().map(|p| p.vendor.as_str()).collect();
        assert_eq!(names, ["kuroneko_logistics", "postbird"]);
        let courier = &r.processors[0];
        assert_eq!(courier.contract, "SVC-2025-031 (2025-04-01 – open-ended)");
        assert_eq!(courier.review, "2026-03-15 (passed with actions)");
        let mfa = r
            .security
            .iter()
            .find(|s| s.contains("second factor"))
            .unwrap();
        assert!(mfa.contains("privacy_officer"), "{mfa}");
        assert!(
            !mfa.contains("privacy_ops"),
            "machine roles sign in with no factor: {mfa}"
        );
        let md = to_markdown(&r);
        for heading in [
            "## Processing activities (GDPR Art. 30(1))",
            "## Processors acting for us (GDPR Art. 30(2))",
            "## Security measures (GDPR Art. 32)",
            "_Version v3_",
        ] {
            assert!(md.contains(heading), "{heading}");
        }
        let rows = activity_rows(&r);
        assert_eq!(
            (rows.len(), rows[0][0].as_str()),
            (r.activities.len() + 1, "id")
        );
    }

    #[test]
    fn every_language_has_its_own_words_and_typography() {
        let policy = example();
        let ja = records(&policy, Language::Ja, "バージョン v3".into());
        assert_eq!(ja.title, "個人データの取扱いに関する記録");
        assert_eq!(
            activity(&ja, "order_fulfilment").legal_basis,
            "契約の履行（第6条第1項(b)）"
        );
        assert!(
            ja.security
                .iter()
                .any(|s| s.contains("二要素") && s.ends_with('。'))
        );
        let fr = records(&policy, Language::Fr, "Version v3".into());
        assert_eq!(
            fr.headings.activities,
            "Activités de traitement (RGPD art. 30(1))"
        );
        assert!(
            fr.security.iter().any(|s| s.contains("\u{a0}:")),
            "{:?}",
            fr.security
        );
        assert_eq!(ja.activities.len(), fr.activities.len());
        assert_eq!(ja.processors.len(), fr.processors.len());
    }
}
