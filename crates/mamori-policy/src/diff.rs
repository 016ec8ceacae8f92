//! `mamori policy diff A B`: what changed between two policies, and whether the change widens
//! processing (which needs people's consent again) or narrows it (effective at once). Each change
//! is a [`ChangeKind`] with the names it concerns, so the console can say it in any language;
//! [`PolicyChange::text`] says it in English for the CLI and the outbox.

use crate::{Category, LegalBasis, Policy, Purpose, RetentionStart};

/// One change, with whether it widens what is done with people's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyChange {
    pub widens: bool,
    pub kind: ChangeKind,
}

/// What changed. Names are the policy's own identifiers (purposes, categories, fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    PurposeAdded {
        purpose: String,
        basis: LegalBasis,
    },
    PurposeRemoved {
        purpose: String,
    },
    CategoryAdded {
        category: String,
    },
    CategoryRemoved {
        category: String,
    },
    UsesMore {
        purpose: String,
        categories: Vec<String>,
    },
    UsesLess {
        purpose: String,
        categories: Vec<String>,
    },
    BasisChanged {
        purpose: String,
        was: LegalBasis,
        now: LegalBasis,
    },
    NowSellsOrShares {
        purpose: String,
    },
    NoLongerSellsOrShares {
        purpose: String,
    },
    NewChannels {
        purpose: String,
        channels: Vec<String>,
    },
    KeptLonger {
        category: String,
        now: String,
        was: String,
    },
    KeptShorter {
        category: String,
        now: String,
        was: String,
    },
    RetentionCountsFrom {
        category: String,
        from: RetentionStart,
    },
    FieldsAdded {
        category: String,
        fields: Vec<String>,
    },
    /// A vendor joined the register: data may now go to it.
    VendorAdded {
        vendor: String,
    },
    VendorRemoved {
        vendor: String,
    },
    /// A vendor may now receive more categories.
    VendorReceivesMore {
        vendor: String,
        categories: Vec<String>,
    },
    /// A vendor now processes data in more countries.
    VendorNewCountries {
        vendor: String,
        countries: Vec<String>,
    },
    /// An earlier version this build can no longer read: nothing can be said of what changed.
    Incomparable,
}

impl PolicyChange {
    /// The change in plain English (`mamori policy diff`, `notice.published`).
    pub fn text(&self) -> String {
        use ChangeKind::*;
        match &self.kind {
            PurposeAdded { purpose, basis } => {
                format!("purpose `{purpose}` added ({})", basis.name())
            }
            PurposeRemoved { purpose } => format!("purpose `{purpose}` removed"),
            CategoryAdded { category } => format!("category `{category}` added"),
            CategoryRemoved { category } => format!("category `{category}` removed"),
            UsesMore {
                purpose,
                categories,
            } => {
                format!(
                    "purpose `{purpose}` now also uses: {}",
                    categories.join(", ")
                )
            }
            UsesLess {
                purpose,
                categories,
            } => {
                format!(
                    "purpose `{purpose}` no longer uses: {}",
                    categories.join(", ")
                )
            }
            BasisChanged { purpose, was, now } => format!(
                "purpose `{purpose}` now rests on {} instead of {}",
                now.name(),
                was.name()
            ),
            NowSellsOrShares { purpose } => {
                format!("purpose `{purpose}` now sells or shares data with third parties")
            }
            NoLongerSellsOrShares { purpose } => {
                format!("purpose `{purpose}` no longer sells or shares data")
            }
            NewChannels { purpose, channels } => format!(
                "purpose `{purpose}` may now contact people by: {}",
                channels.join(", ")
            ),
            KeptLonger { category, now, was } => {
                format!("category `{category}` kept longer: {now} instead of {was}")
            }
            KeptShorter { category, now, was } => {
                format!("category `{category}` kept shorter: {now} instead of {was}")
            }
            RetentionCountsFrom { category, from } => {
                let from = match from {
                    RetentionStart::ConsentWithdrawn => "the withdrawal of consent",
                    RetentionStart::LastActivity => "the last activity",
                };
                format!("category `{category}` retention now counts from {from}")
            }
            FieldsAdded { category, fields } => {
                format!("category `{category}` gains fields: {}", fields.join(", "))
            }
            VendorAdded { vendor } => format!("vendor `{vendor}` added to the register"),
            VendorRemoved { vendor } => format!("vendor `{vendor}` removed from the register"),
            VendorReceivesMore { vendor, categories } => format!(
                "vendor `{vendor}` may now also receive: {}",
                categories.join(", ")
            ),
            VendorNewCountries { vendor, countries } => format!(
                "vendor `{vendor}` now also processes data in: {}",
                countries.join(", ")
            ),
            Incomparable => "the previous version can no longer be compared".into(),
        }
    }
}

fn change(widens: bool, kind: ChangeKind) -> PolicyChange {
    PolicyChange { widens, kind }
}

/// The changes from `old` to `new`, purposes first, then categories.
pub fn diff(old: &Policy, new: &Policy) -> Vec<PolicyChange> {
    use ChangeKind::*;
    let mut out = Vec::new();
    for p in &new.purposes {
        match old.purpose(&p.name) {
            None => out.push(change(
                true,
                PurposeAdded {
                    purpose: p.name.clone(),
                    basis: p.legal_basis,
                },
            )),
            Some(before) => purpose_changes(old, new, before, p, &mut out),
        }
    }
    for p in &old.purposes {
        if new.purpose(&p.name).is_none() {
            let purpose = p.name.clone();
            out.push(change(false, PurposeRemoved { purpose }));
        }
    }
    for c in &new.categories {
        match old.category(&c.name) {
            None => out.push(change(
                true,
                CategoryAdded {
                    category: c.name.clone(),
                },
            )),
            Some(before) => category_changes(before, c, &mut out),
        }
    }
    for c in &old.categories {
        if new.category(&c.name).is_none() {
            let category = c.name.clone();
            out.push(change(false, CategoryRemoved { category }));
        }
    }
    vendor_changes(old, new, &mut out);
    out
}

/// How the vendor register changed: who joined or left, who may receive more, and where.
fn vendor_changes(old: &Policy, new: &Policy, out: &mut Vec<PolicyChange>) {
    use ChangeKind::*;
    for v in &new.vendors {
        let vendor = || v.id.clone();
        let Some(before) = old.vendor(&v.id) else {
            out.push(change(true, VendorAdded { vendor: vendor() }));
            continue;
        };
        let was = old.category_names(before.categories);
        let categories: Vec<String> = (new.category_names(v.categories).into_iter())
            .filter(|c| !was.contains(c))
            .collect();
        if !categories.is_empty() {
            let vendor = vendor();
            out.push(change(true, VendorReceivesMore { vendor, categories }));
        }
        let countries: Vec<String> = (v.countries.iter())
            .filter(|c| !before.countries.contains(c))
            .cloned()
            .collect();
        if !countries.is_empty() {
            let vendor = vendor();
            out.push(change(true, VendorNewCountries { vendor, countries }));
        }
    }
    for v in &old.vendors {
        if new.vendor(&v.id).is_none() {
            let vendor = v.id.clone();
            out.push(change(false, VendorRemoved { vendor }));
        }
    }
}

/// How a purpose in both policies changed: its categories, legal basis, sale or sharing and
/// channels.
fn purpose_changes(
    old: &Policy,
    new: &Policy,
    before: &Purpose,
    p: &Purpose,
    out: &mut Vec<PolicyChange>,
) {
    use ChangeKind::*;
    let purpose = || p.name.clone();
    let (was, now) = (
        old.category_names(before.categories),
        new.category_names(p.categories),
    );
    let added: Vec<String> = now.iter().filter(|c| !was.contains(c)).cloned().collect();
    let removed: Vec<String> = was.iter().filter(|c| !now.contains(c)).cloned().collect();
    if !added.is_empty() {
        let categories = added;
        out.push(change(
            true,
            UsesMore {
                purpose: purpose(),
                categories,
            },
        ));
    }
    if !removed.is_empty() {
        let categories = removed;
        out.push(change(
            false,
            UsesLess {
                purpose: purpose(),
                categories,
            },
        ));
    }
    if before.legal_basis != p.legal_basis {
        let widens = before.legal_basis == LegalBasis::Consent;
        let (was, now) = (before.legal_basis, p.legal_basis);
        out.push(change(
            widens,
            BasisChanged {
                purpose: purpose(),
                was,
                now,
            },
        ));
    }
    if p.sale_or_share && !before.sale_or_share {
        out.push(change(true, NowSellsOrShares { purpose: purpose() }));
    }
    if !p.sale_or_share && before.sale_or_share {
        out.push(change(false, NoLongerSellsOrShares { purpose: purpose() }));
    }
    let channels: Vec<String> = p
        .channels
        .iter()
        .filter(|c| !before.channels.contains(c))
        .map(|c| format!("{c:?}").to_lowercase())
        .collect();
    if !channels.is_empty() {
        out.push(change(
            true,
            NewChannels {
                purpose: purpose(),
                channels,
            },
        ));
    }
}

/// How a category in both policies changed: its retention and its fields.
fn category_changes(before: &Category, c: &Category, out: &mut Vec<PolicyChange>) {
    use ChangeKind::*;
    let category = || c.name.clone();
    let (now, was) = (c.retention_text.clone(), before.retention_text.clone());
    if c.retention.days > before.retention.days {
        out.push(change(
            true,
            KeptLonger {
                category: category(),
                now,
                was,
            },
        ));
    } else if c.retention.days < before.retention.days {
        out.push(change(
            false,
            KeptShorter {
                category: category(),
                now,
                was,
            },
        ));
    }
    if c.retention_from != before.retention_from {
        // Counting from a withdrawal can keep data for as long as consent lasts: a widening.
        let widened = c.retention_from == RetentionStart::ConsentWithdrawn;
        let from = c.retention_from;
        out.push(change(
            widened,
            RetentionCountsFrom {
                category: category(),
                from,
            },
        ));
    }
    let fields: Vec<String> = c
        .fields
        .iter()
        .filter(|f| before.field(&f.name).is_none())
        .map(|f| f.name.clone())
        .collect();
    if !fields.is_empty() {
        out.push(change(
            true,
            FieldsAdded {
                category: category(),
                fields,
            },
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = include_str!("../../../examples/policy.toml");

    #[test]
    fn vendor_register_changes_are_told() {
        let old = parse(BASE);
        let moved = BASE.replacen("countries = [\"US\"]", "countries = [\"US\", \"GB\"]", 1);
        let joined = moved.clone()
            + "\n[vendors.helpdesk]\nname = \"Helpdesk Oy\"\nrole = \"processor\"\npurposes = [\"customer_support\"]\ncategories = [\"contact\"]\ncountries = [\"FI\"]\ncontract = { reference = \"HD-1\", start = 2026-01-01 }\ncontact = \"privacy@helpdesk.example\"\n";
        let texts: Vec<String> = diff(&old, &parse(&joined))
            .iter()
            .map(|c| c.text())
            .collect();
        assert_eq!(
            texts,
            [
                "vendor `helpdesk` added to the register",
                "vendor `postbird` now also processes data in: GB",
            ]
        );
        let back: Vec<String> = diff(&parse(&joined), &parse(&moved))
            .iter()
            .map(|c| c.text())
            .collect();
        assert_eq!(back, ["vendor `helpdesk` removed from the register"]);
    }

    fn parse(text: &str) -> Policy {
        Policy::parse("p.toml", text).unwrap()
    }

    #[test]
    fn identical_policies_have_no_changes() {
        assert!(diff(&parse(BASE), &parse(BASE)).is_empty());
    }

    #[test]
    fn widening_and_narrowing_are_told_apart() {
        let old = parse(BASE);
        let wider = BASE
            .replacen(
                r#"categories = ["contact", "preferences"]"#,
                r#"categories = ["contact", "preferences", "orders"]"#,
                1,
            )
            .replacen(r#"retention = "7y""#, r#"retention = "10y""#, 1);
        let changes = diff(&old, &parse(&wider));
        assert!(
            changes
                .iter()
                .any(|c| c.widens && c.text().contains("now also uses: orders")),
            "{changes:?}"
        );
        assert!(
            changes
                .iter()
                .any(|c| c.widens && c.text().contains("kept longer: 10y instead of 7y")),
            "{changes:?}"
        );
        let back = diff(&parse(&wider), &old);
        assert!(back.iter().all(|c| !c.widens), "{back:?}");
        assert!(
            back.iter()
                .any(|c| c.text().contains("no longer uses: orders"))
        );
        assert!(back.iter().any(|c| c.text().contains("kept shorter")));
    }
}
