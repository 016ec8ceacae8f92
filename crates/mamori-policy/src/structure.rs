//! Reads the policy file into its raw shape, reporting every structural problem (an unknown key,
//! a wrong type, a missing key) rather than only the first: serde stops at its first error, so
//! each section entry — the organisation, each category, each field, each purpose, each role — is
//! read on its own from the spanned document, and a mistake in one does not hide the next.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::check::{Checker, hint_for};
use crate::raw::{Name, RawCategory, RawField, RawPolicy};

const SECTIONS: [&str; 5] = ["organisation", "categories", "purposes", "roles", "vendors"];

/// The raw policy, or `None` with the problems reported to the checker.
pub(crate) fn read(c: &mut Checker, source: &str) -> Option<RawPolicy> {
    let (root, syntax) = DeTable::parse_recoverable(source);
    if !syntax.is_empty() {
        // After a syntax error the tree is a best guess: its shape would only add noise.
        for e in syntax {
            serde_problem(c, &e, 0..0);
        }
        return None;
    }
    let before = c.problems.len();
    let root_span = root.span();
    let mut organisation = None;
    let (mut categories, mut purposes, mut roles, mut vendors) = (
        BTreeMap::new(),
        BTreeMap::new(),
        BTreeMap::new(),
        BTreeMap::new(),
    );
    for (key, value) in root.into_inner() {
        match key.get_ref().as_ref() {
            "organisation" => organisation = one(c, value),
            "categories" => categories = entries(c, value, "category", category),
            "purposes" => purposes = entries(c, value, "purpose", one),
            "roles" => roles = entries(c, value, "role", one),
            "vendors" => vendors = entries(c, value, "vendor", one),
            other => {
                let hint = hint_for(
                    other,
                    SECTIONS,
                    "the file has [organisation], [categories.*], [purposes.*], [roles.*] and [vendors.*]",
                );
                c.report(key.span(), "unknown section at the top of the file", hint);
            }
        }
    }
    // The document's tables come back in name order: tell the problems in the file's order.
    c.problems[before..].sort_by_key(|d| (d.line, d.column));
    let Some(organisation) = organisation else {
        if c.problems.len() == before {
            c.report(
                root_span.start..root_span.start,
                "missing [organisation]",
                "add [organisation] with name, contact, jurisdictions and languages",
            );
        }
        return None;
    };
    (c.problems.len() == before).then_some(RawPolicy {
        organisation,
        categories,
        purposes,
        roles,
        vendors,
    })
}

/// One value read as `T`; a problem is reported at its own line.
fn one<T: DeserializeOwned>(c: &mut Checker, value: Spanned<DeValue<'_>>) -> Option<T> {
    let span = value.span();
    T::deserialize(ValueDeserializer::from(value))
        .map_err(|e| serde_problem(c, &e, span))
        .ok()
}

/// A table of named entries (`[purposes.NAME]`), each read on its own.
fn entries<T>(
    c: &mut Checker,
    value: Spanned<DeValue<'_>>,
    what: &str,
    read: impl Fn(&mut Checker, Spanned<DeValue<'_>>) -> Option<T>,
) -> BTreeMap<Name, T> {
    let span = value.span();
    let DeValue::Table(table) = value.into_inner() else {
        c.report(
            span,
            format!("expected a table of {what} entries"),
            format!("write each {what} as its own [section.NAME] table"),
        );
        return BTreeMap::new();
    };
    let mut out = BTreeMap::new();
    for (key, value) in table {
        let name = Spanned::new(key.span(), key.into_inner().into_owned());
        if let Some(entry) = read(c, value) {
            out.insert(name, entry);
        }
    }
    out
}

/// A category, with each of its fields read on its own.
fn category(c: &mut Checker, value: Spanned<DeValue<'_>>) -> Option<RawCategory> {
    let span = value.span();
    let mut table = match value.into_inner() {
        DeValue::Table(table) => table,
        other => return one(c, Spanned::new(span, other)),
    };
    let fields = table
        .remove("fields")
        .map(|fields| entries(c, fields, "field", one::<RawField>));
    let mut category: RawCategory = one(c, Spanned::new(span, DeValue::Table(table)))?;
    category.fields = fields.unwrap_or_default();
    Some(category)
}

fn serde_problem(c: &mut Checker, e: &toml::de::Error, fallback: Range<usize>) {
    let message = e.message().trim().to_string();
    let hint = if message.contains("unknown field") {
        "remove the key or fix its spelling; see examples/policy.toml for every allowed key"
    } else {
        "see examples/policy.toml for the expected shape"
    };
    c.report(e.span().unwrap_or(fallback), message, hint);
}
