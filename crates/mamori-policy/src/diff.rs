//! `mamori policy diff A B`: what changed between two policies, in plain words, and whether the
//! change widens processing (which needs people's consent again) or narrows it (effective at once).

use crate::{Category, LegalBasis, Policy, Purpose, RetentionStart};

/// One change, with whether it widens what is done with people's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyChange {
    pub widens: bool,
    pub text: String,
}

fn change(widens: bool, text: String) -> PolicyChange {
    PolicyChange { widens, text }
}

/// The changes from `old` to `new`, purposes first, then categories.
pub fn diff(old: &Policy, new: &Policy) -> Vec<PolicyChange> {
    let mut out = Vec::new();
    for p in &new.purposes {
        match old.purpose(&p.name) {
            None => out.push(change(
                true,
                format!("purpose `{}` added ({})", p.name, p.legal_basis.name()),
            )),
            Some(before) => purpose_changes(old, new, before, p, &mut out),
        }
    }
    for p in &old.purposes {
        if new.purpose(&p.name).is_none() {
            out.push(change(false, format!("purpose `{}` removed", p.name)));
        }
    }
    for c in &new.categories {
        match old.category(&c.name) {
            None => out.push(change(true, format!("category `{}` added", c.name))),
            Some(before) => category_changes(before, c, &mut out),
        }
    }
    for c in &old.categories {
        if new.category(&c.name).is_none() {
            out.push(change(false, format!("category `{}` removed", c.name)));
        }
    }
    out
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
    let names = |policy: &Policy, set: crate::IdSet| -> Vec<String> { policy.category_names(set) };
    let (was, now) = (names(old, before.categories), names(new, p.categories));
    let added: Vec<&String> = now.iter().filter(|c| !was.contains(c)).collect();
    let removed: Vec<&String> = was.iter().filter(|c| !now.contains(c)).collect();
    if !added.is_empty() {
        out.push(change(
            true,
            format!("purpose `{}` now also uses: {}", p.name, join(&added)),
        ));
    }
    if !removed.is_empty() {
        out.push(change(
            false,
            format!("purpose `{}` no longer uses: {}", p.name, join(&removed)),
        ));
    }
    if before.legal_basis != p.legal_basis {
        let widens = before.legal_basis == LegalBasis::Consent;
        out.push(change(
            widens,
            format!(
                "purpose `{}` now rests on {} instead of {}",
                p.name,
                p.legal_basis.name(),
                before.legal_basis.name()
            ),
        ));
    }
    if p.sale_or_share && !before.sale_or_share {
        out.push(change(
            true,
            format!(
                "purpose `{}` now sells or shares data with third parties",
                p.name
            ),
        ));
    }
    if !p.sale_or_share && before.sale_or_share {
        out.push(change(
            false,
            format!("purpose `{}` no longer sells or shares data", p.name),
        ));
    }
    let new_channels: Vec<String> = p
        .channels
        .iter()
        .filter(|c| !before.channels.contains(c))
        .map(|c| format!("{c:?}").to_lowercase())
        .collect();
    if !new_channels.is_empty() {
        out.push(change(
            true,
            format!(
                "purpose `{}` may now contact people by: {}",
                p.name,
                new_channels.join(", ")
            ),
        ));
    }
}

/// How a category in both policies changed: its retention and its fields.
fn category_changes(before: &Category, c: &Category, out: &mut Vec<PolicyChange>) {
    if c.retention.days > before.retention.days {
        out.push(change(
            true,
            format!(
                "category `{}` kept longer: {} instead of {}",
                c.name, c.retention_text, before.retention_text
            ),
        ));
    } else if c.retention.days < before.retention.days {
        out.push(change(
            false,
            format!(
                "category `{}` kept shorter: {} instead of {}",
                c.name, c.retention_text, before.retention_text
            ),
        ));
    }
    if c.retention_from != before.retention_from {
        // Counting from a withdrawal can keep data for as long as consent lasts: a widening.
        let widened = c.retention_from == RetentionStart::ConsentWithdrawn;
        let from = match c.retention_from {
            RetentionStart::ConsentWithdrawn => "the withdrawal of consent",
            RetentionStart::LastActivity => "the last activity",
        };
        out.push(change(
            widened,
            format!("category `{}` retention now counts from {from}", c.name),
        ));
    }
    let fields: Vec<&str> = c
        .fields
        .iter()
        .filter(|f| before.field(&f.name).is_none())
        .map(|f| f.name.as_str())
        .collect();
    if !fields.is_empty() {
        out.push(change(
            true,
            format!("category `{}` gains fields: {}", c.name, fields.join(", ")),
        ));
    }
}

fn join(items: &[&String]) -> String {
    items
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = include_str!("../../../examples/policy.toml");

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
                .any(|c| c.widens && c.text.contains("now also uses: orders")),
            "{changes:?}"
        );
        assert!(
            changes
                .iter()
                .any(|c| c.widens && c.text.contains("kept longer: 10y instead of 7y")),
            "{changes:?}"
        );
        let back = diff(&parse(&wider), &old);
        assert!(back.iter().all(|c| !c.widens), "{back:?}");
        assert!(
            back.iter()
                .any(|c| c.text.contains("no longer uses: orders"))
        );
        assert!(back.iter().any(|c| c.text.contains("kept shorter")));
    }
}
