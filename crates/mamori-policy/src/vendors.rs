//! The vendor register: the third parties data may be disclosed to, declared in the policy
//! (`[vendors.NAME]`) with their role, the purposes they serve and the categories they may
//! receive, where they process it and under which safeguard, their contract and last review.
//! `policy check` refuses a vendor that would receive a category none of its purposes covers, a
//! sensitive category without `sensitive = true`, or a transfer its laws would need a safeguard
//! for with none declared ([`crate::transfers`]).

use std::collections::HashMap;

use serde::Deserialize;
use toml::Spanned;
use toml::value::Datetime;

use crate::check::Checker;
use crate::model::{Category, IdSet, Jurisdiction, Purpose, Sensitivity};
use crate::raw::Name;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVendor {
    /// The vendor's legal name, as people will read it.
    pub name: String,
    pub role: Spanned<String>,
    pub purposes: Vec<Name>,
    pub categories: Vec<Name>,
    /// Where it processes the data (ISO 3166-1 alpha-2 codes).
    pub countries: Vec<Spanned<String>>,
    /// Safeguards for transfers (`sccs`, `bcr`, `dpf`, `appi_consent`, …).
    #[serde(default)]
    pub transfers: Vec<Spanned<String>>,
    pub contract: Spanned<RawContract>,
    pub review: Option<Spanned<RawReview>>,
    pub contact: Spanned<String>,
    /// It may receive sensitive or special categories.
    #[serde(default)]
    pub sensitive: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawContract {
    /// The contract's or data-processing agreement's reference.
    pub reference: String,
    pub start: Spanned<Datetime>,
    pub end: Option<Spanned<Datetime>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReview {
    pub on: Spanned<Datetime>,
    pub result: Spanned<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VendorRole {
    Processor,
    SubProcessor,
    IndependentController,
    JointController,
}

impl VendorRole {
    pub const ALL: [(&'static str, VendorRole); 4] = [
        ("processor", VendorRole::Processor),
        ("sub_processor", VendorRole::SubProcessor),
        ("independent_controller", VendorRole::IndependentController),
        ("joint_controller", VendorRole::JointController),
    ];
    pub fn code(self) -> &'static str {
        (VendorRole::ALL.iter().find(|(_, r)| *r == self)).map_or("processor", |(c, _)| c)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewResult {
    Passed,
    PassedWithActions,
    Failed,
}

impl ReviewResult {
    pub const ALL: [(&'static str, ReviewResult); 3] = [
        ("passed", ReviewResult::Passed),
        ("passed_with_actions", ReviewResult::PassedWithActions),
        ("failed", ReviewResult::Failed),
    ];
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    pub reference: String,
    pub start: time::Date,
    /// None: until terminated.
    pub end: Option<time::Date>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub on: time::Date,
    pub result: ReviewResult,
}

/// A vendor as the policy declares it; every name in it resolves.
#[derive(Debug, Clone)]
pub struct Vendor {
    /// Its name in the policy (`[vendors.NAME]`).
    pub id: String,
    pub name: String,
    pub role: VendorRole,
    pub purposes: IdSet,
    pub categories: IdSet,
    pub countries: Vec<String>,
    pub transfers: Vec<String>,
    pub contract: Contract,
    pub review: Option<Review>,
    pub contact: String,
    pub sensitive: bool,
}

impl Vendor {
    /// Its contract has started and not ended on `today`.
    pub fn contract_current(&self, today: time::Date) -> bool {
        self.contract.start <= today && self.contract.end.is_none_or(|end| today <= end)
    }
}

/// What checking a vendor needs from the rest of the policy.
pub(crate) struct Context<'a> {
    pub categories: &'a [Category],
    pub category_ids: &'a HashMap<String, usize>,
    pub purposes: &'a [Purpose],
    pub purpose_ids: &'a HashMap<String, usize>,
    pub jurisdictions: &'a [Jurisdiction],
}

/// Every vendor declared, checked, in name order.
pub(crate) fn register(
    c: &mut Checker,
    raw: &std::collections::BTreeMap<Name, RawVendor>,
    cx: &Context,
) -> Vec<Vendor> {
    (raw.iter())
        .map(|(name, rv)| vendor(c, name, rv, cx))
        .collect()
}

/// A role may disclose only to vendors the register declares.
pub(crate) fn disclosing_roles(
    c: &mut Checker,
    roles: &std::collections::BTreeMap<Name, crate::raw::RawRole>,
    vendors: &[Vendor],
) {
    for (role, rr) in roles {
        for v in &rr.disclose {
            if !vendors.iter().any(|known| &known.id == v.get_ref()) {
                let ids = vendors.iter().map(|k| k.id.as_str());
                let hint =
                    crate::check::hint_for(v.get_ref(), ids, "declare it as [vendors.NAME] first");
                let what = format!(
                    "role `{}` may disclose to unknown vendor `{}`",
                    role.get_ref(),
                    v.get_ref()
                );
                c.report(v.span(), what, hint);
            }
        }
    }
}

fn vendor(c: &mut Checker, name: &Name, rv: &RawVendor, cx: &Context) -> Vendor {
    c.identifier(name, "vendor");
    let role = c.one_of(&rv.role, &VendorRole::ALL, "vendor role");
    let purposes = names(c, &rv.purposes, cx.purpose_ids, "purpose");
    let categories = names(c, &rv.categories, cx.category_ids, "category");
    let what = format!("vendor `{}`", name.get_ref());
    if purposes.is_empty() || categories.is_empty() {
        c.report(
            name.span(),
            format!("{what} names no purpose or no category"),
            "a vendor receives data for a purpose: name both, e.g. purposes = [\"marketing_email\"], categories = [\"contact\"]",
        );
    }
    let served = (purposes.iter()).fold(IdSet::EMPTY, |s, p| s.union(cx.purposes[p].categories));
    for cat in &rv.categories {
        let Some(&id) = cx.category_ids.get(cat.get_ref()) else {
            continue;
        };
        if !served.contains(id) {
            c.report(
                cat.span(),
                format!("{what} would receive `{}`, which none of its purposes covers", cat.get_ref()),
                "purpose limitation: add a purpose of the vendor's that covers it, or remove the category",
            );
        }
        let sensitive = cx.categories[id].sensitivity != Sensitivity::Personal;
        if sensitive && !rv.sensitive {
            c.report(
                cat.span(),
                format!(
                    "{what} would receive the sensitive category `{}` without `sensitive = true`",
                    cat.get_ref()
                ),
                "say so on purpose: add sensitive = true once the contract covers sensitive data",
            );
        }
    }
    let any_sensitive =
        (categories.iter()).any(|i| cx.categories[i].sensitivity != Sensitivity::Personal);
    if rv.sensitive && !any_sensitive {
        c.report(
            name.span(),
            format!("{what} says `sensitive = true` but none of its categories is sensitive"),
            "remove sensitive = true, so the flag keeps its meaning",
        );
    }
    let (countries, transfers) = places(c, rv, cx.jurisdictions, &what);
    check_contact(c, &rv.contact, &what);
    Vendor {
        id: name.get_ref().clone(),
        name: rv.name.clone(),
        role: role.unwrap_or(VendorRole::Processor),
        purposes,
        categories,
        countries,
        transfers,
        contract: contract(c, &rv.contract, &what),
        review: rv.review.as_ref().map(|r| review(c, r)),
        contact: rv.contact.get_ref().clone(),
        sensitive: rv.sensitive,
    }
}

fn names(c: &mut Checker, list: &[Name], ids: &HashMap<String, usize>, what: &str) -> IdSet {
    let mut set = IdSet::EMPTY;
    for n in list {
        match ids.get(n.get_ref()) {
            Some(&id) => set = set.with(id),
            None => c.report(
                n.span(),
                format!("unknown {what} `{}`", n.get_ref()),
                crate::check::hint_for(
                    n.get_ref(),
                    ids.keys().map(String::as_str),
                    "declare it first",
                ),
            ),
        }
    }
    set
}

/// Its countries (checked codes) and safeguards; each country each of the organisation's laws
/// would call a transfer needs a safeguard that law accepts.
fn places(
    c: &mut Checker,
    rv: &RawVendor,
    jurisdictions: &[Jurisdiction],
    what: &str,
) -> (Vec<String>, Vec<String>) {
    let known = crate::transfers::all_mechanisms();
    let mut transfers = vec![];
    for t in &rv.transfers {
        if known.contains(&t.get_ref().as_str()) {
            transfers.push(t.get_ref().clone());
        } else {
            let hint = format!("use one of: {}", known.join(", "));
            let hint = crate::check::hint_for(t.get_ref(), known.iter().copied(), &hint);
            c.report(
                t.span(),
                format!("unknown transfer safeguard `{}`", t.get_ref()),
                hint,
            );
        }
    }
    if rv.countries.is_empty() {
        c.report(
            0..0,
            format!("{what} names no country"),
            "say where it processes the data: countries = [\"FR\"]",
        );
    }
    let laws: Vec<&str> = (Jurisdiction::ALL.iter())
        .filter(|(_, j)| jurisdictions.contains(j))
        .map(|(code, _)| *code)
        .collect();
    let mut countries = vec![];
    for country in &rv.countries {
        let code = country.get_ref();
        if code.len() != 2 || !code.chars().all(|ch| ch.is_ascii_uppercase()) {
            c.report(
                country.span(),
                format!("`{code}` is not a country code"),
                "use ISO 3166-1 alpha-2 codes in capitals: \"US\", \"JP\", \"FR\"",
            );
            continue;
        }
        for law in &laws {
            if !crate::transfers::covered(law, code, &transfers) {
                c.report(
                    country.span(),
                    format!("{what} processes data in {code}, a transfer under {} with no safeguard it accepts", law.to_uppercase()),
                    format!("add transfers = [\"…\"] with one of: {}", crate::transfers::mechanisms_of(law).join(", ")),
                );
            }
        }
        countries.push(code.clone());
    }
    (countries, transfers)
}

fn check_contact(c: &mut Checker, contact: &Spanned<String>, what: &str) {
    let text = contact.get_ref();
    let email = text.contains('@') && !text.contains(char::is_whitespace);
    if !email && !text.starts_with("https://") {
        c.report(
            contact.span(),
            format!("{what}'s contact is neither an e-mail address nor an https URL"),
            "whom to ask about the data it holds: contact = \"privacy@vendor.example\"",
        );
    }
}

fn contract(c: &mut Checker, raw: &Spanned<RawContract>, what: &str) -> Contract {
    let r = raw.get_ref();
    if r.reference.trim().is_empty() {
        c.report(
            raw.span(),
            format!("{what}'s contract has no reference"),
            "reference = \"DPA-2026-014\"",
        );
    }
    let start = date(c, &r.start);
    let end = r.end.as_ref().map(|e| date(c, e));
    if let (Some(start), Some(end)) = (start, end.flatten())
        && end < start
    {
        c.report(
            raw.span(),
            format!("{what}'s contract ends before it starts"),
            "check start and end",
        );
    }
    Contract {
        reference: r.reference.clone(),
        start: start.unwrap_or(time::Date::MIN),
        end: end.flatten(),
    }
}

fn review(c: &mut Checker, raw: &Spanned<RawReview>) -> Review {
    let r = raw.get_ref();
    let result = c.one_of(&r.result, &ReviewResult::ALL, "review result");
    Review {
        on: date(c, &r.on).unwrap_or(time::Date::MIN),
        result: result.unwrap_or(ReviewResult::Failed),
    }
}

/// A bare TOML date (`2026-01-31`): no time, no offset.
fn date(c: &mut Checker, raw: &Spanned<Datetime>) -> Option<time::Date> {
    let d = raw.get_ref();
    let found = match (d.date, d.time, d.offset) {
        (Some(day), None, None) => time::Month::try_from(day.month)
            .ok()
            .and_then(|m| time::Date::from_calendar_date(i32::from(day.year), m, day.day).ok()),
        _ => None,
    };
    if found.is_none() {
        c.report(
            raw.span(),
            "expected a date such as 2026-01-31",
            "write the day only, without quotes or a time",
        );
    }
    found
}
