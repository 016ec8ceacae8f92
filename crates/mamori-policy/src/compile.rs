//! Compiling a parsed policy: organisation, categories, purposes, roles and the built-in
//! `self` role, each checked as it is built (every problem reported, with a hint).

use std::collections::HashMap;

use crate::check::{Checker, field_type, hint_for, parse_retention};
use crate::model::*;
use crate::raw::*;

/// Turns a parsed policy into a [`Policy`], reporting every problem to the checker; `None` if
/// the policy is too large to check further.
pub(crate) fn compile(c: &mut Checker, raw: RawPolicy) -> Option<Policy> {
    let org = &raw.organisation;
    let (languages, jurisdictions) = organisation(c, org);
    if raw.categories.len() > 64 || raw.purposes.len() > 64 {
        c.report(
            0..0,
            "at most 64 categories and 64 purposes are supported",
            "merge related categories",
        );
        return None;
    }
    let mut categories = Vec::new();
    let mut category_ids = HashMap::new();
    for (name, rc) in &raw.categories {
        let id = categories.len();
        category_ids.insert(name.get_ref().clone(), id);
        categories.push(category(c, id, name, rc, &languages));
    }
    let mut purposes: Vec<Purpose> = Vec::new();
    let mut purpose_ids = HashMap::new();
    for (name, rp) in &raw.purposes {
        let id = purposes.len();
        purpose_ids.insert(name.get_ref().clone(), id);
        purposes.push(purpose(c, id, name, rp, &languages, &category_ids));
    }
    every_category_has_a_purpose(c, &raw, &category_ids, &purposes);
    consent_clocks_need_consent(c, &raw, &categories, &purposes);
    let mut roles = Vec::new();
    let mut role_ids = HashMap::new();
    for (name, rr) in &raw.roles {
        role_ids.insert(name.get_ref().clone(), roles.len());
        roles.push(role(
            c,
            name,
            rr,
            &purposes,
            &purpose_ids,
            &categories,
            &category_ids,
        ));
    }
    let self_role = self_role(&categories, &purposes, &purpose_ids);
    let cx = crate::vendors::Context {
        categories: &categories,
        category_ids: &category_ids,
        purposes: &purposes,
        purpose_ids: &purpose_ids,
        jurisdictions: &jurisdictions,
    };
    let vendors = crate::vendors::register(c, &raw.vendors, &cx);
    crate::vendors::disclosing_roles(c, &raw.roles, &vendors);
    Some(Policy {
        organisation: Organisation {
            name: org.name.clone(),
            contact: org.contact.get_ref().clone(),
            jurisdictions,
            languages,
            policy_url: org.policy_url.clone(),
            training_valid_days: training_valid_days(c, org),
        },
        categories,
        purposes,
        roles,
        vendors,
        category_ids,
        purpose_ids,
        role_ids,
        source: c.source.to_string(),
        self_role,
    })
}

/// Data minimisation: a category no purpose covers has no reason to be collected.
fn every_category_has_a_purpose(
    c: &mut Checker,
    raw: &RawPolicy,
    category_ids: &HashMap<String, usize>,
    purposes: &[Purpose],
) {
    let covered = purposes
        .iter()
        .fold(IdSet::EMPTY, |s, p| s.union(p.categories));
    for name in raw.categories.keys() {
        let id = category_ids[name.get_ref()];
        if !covered.contains(id) {
            c.report(
                name.span(),
                format!("category `{}` is not covered by any purpose", name.get_ref()),
                "data minimisation: collect a category only for a declared purpose; add it to a purpose or remove it",
            );
        }
    }
}

/// The organisation's languages (at least one) and jurisdictions, and a contact people can
/// reach.
fn organisation(c: &mut Checker, org: &RawOrganisation) -> (Vec<Language>, Vec<Jurisdiction>) {
    let languages: Vec<Language> = org
        .languages
        .iter()
        .filter_map(|l| {
            let found = Language::parse(l.get_ref());
            if found.is_none() {
                c.report(
                    l.span(),
                    format!("unknown language `{}`", l.get_ref()),
                    "use en, ja or fr",
                );
            }
            found
        })
        .collect();
    if languages.is_empty() {
        c.report(
            0..0,
            "the organisation declares no language",
            "add languages = [\"en\"]",
        );
    }
    let jurisdictions: Vec<Jurisdiction> = org
        .jurisdictions
        .iter()
        .filter_map(|j| c.one_of(j, &Jurisdiction::ALL, "jurisdiction"))
        .collect();
    if !org.contact.get_ref().contains('@') && !org.contact.get_ref().starts_with("https://") {
        c.report(
            org.contact.span(),
            "the privacy contact is neither an e-mail address nor an https URL",
            "people must be able to reach you: contact = \"privacy@example.com\"",
        );
    }
    (languages, jurisdictions)
}

/// A retention counted from a consent's withdrawal needs a consent-based purpose to cover the
/// category: without one there is nothing to withdraw.
fn consent_clocks_need_consent(
    c: &mut Checker,
    raw: &RawPolicy,
    categories: &[Category],
    purposes: &[Purpose],
) {
    for (name, rc) in &raw.categories {
        let (Some(from), Some(category)) = (
            &rc.retention_from,
            categories.iter().find(|k| k.name == *name.get_ref()),
        ) else {
            continue;
        };
        let by_consent = (purposes.iter())
            .any(|p| p.legal_basis == LegalBasis::Consent && p.categories.contains(category.id));
        if category.retention_from == RetentionStart::ConsentWithdrawn && !by_consent {
            c.report(
                from.span(),
                format!(
                    "category `{}` counts its retention from a consent's withdrawal, but no consent-based purpose covers it",
                    name.get_ref()
                ),
                "add the category to a purpose with legal_basis = \"consent\", or count from \"last_activity\"",
            );
        }
    }
}

/// One category: its sensitivity, retention, label, description and fields.
fn category(
    c: &mut Checker,
    id: usize,
    name: &Name,
    rc: &RawCategory,
    languages: &[Language],
) -> Category {
    c.identifier(name, "category");
    let sensitivity = c.one_of(
        &rc.sensitivity,
        &[
            ("personal", Sensitivity::Personal),
            ("sensitive", Sensitivity::Sensitive),
            ("special", Sensitivity::Special),
        ],
        "sensitivity",
    );
    let retention = parse_retention(rc.retention.get_ref());
    if retention.is_none() {
        c.report(
            rc.retention.span(),
            format!("retention `{}` cannot be read", rc.retention.get_ref()),
            "write a number and a unit: \"90d\", \"12w\", \"6m\" or \"7y\" (at most 100 years)",
        );
    }
    let retention_from = rc.retention_from.as_ref().and_then(|from| {
        c.one_of(
            from,
            &[
                ("last_activity", RetentionStart::LastActivity),
                ("consent_withdrawn", RetentionStart::ConsentWithdrawn),
            ],
            "retention_from",
        )
    });
    let label = c.text(
        &rc.label,
        languages,
        &format!("the label of category `{}`", name.get_ref()),
    );
    let fields = fields_of(c, name, rc, languages);
    Category {
        id,
        name: name.get_ref().clone(),
        sensitivity: sensitivity.unwrap_or(Sensitivity::Personal),
        retention: retention.unwrap_or(Retention::days(1)),
        retention_text: rc.retention.get_ref().clone(),
        retention_from: retention_from.unwrap_or_default(),
        label,
        description: rc.description.as_ref().map(|d| {
            c.text(
                d,
                languages,
                &format!("the description of category `{}`", name.get_ref()),
            )
        }),
        fields,
    }
}

/// A category's fields, each with a type and, for e-mail and phone fields only, a lookup index.
fn fields_of(c: &mut Checker, name: &Name, rc: &RawCategory, languages: &[Language]) -> Vec<Field> {
    if rc.fields.is_empty() {
        c.report(
            name.span(),
            format!("category `{}` has no fields", name.get_ref()),
            "declare [categories.NAME.fields.FIELD]",
        );
    }
    let mut fields = Vec::new();
    for (fname, rf) in &rc.fields {
        c.identifier(fname, "field");
        let flabel = c.text(
            &rf.label,
            languages,
            &format!(
                "the label of field `{}.{}`",
                name.get_ref(),
                fname.get_ref()
            ),
        );
        let Some(kind) = field_type(c, rf, languages) else {
            continue;
        };
        let lookup = rf.lookup.as_ref().is_some_and(|l| *l.get_ref());
        if let Some(span) = rf.lookup.as_ref().map(|l| l.span())
            && lookup
            && !matches!(kind, FieldType::Email | FieldType::Phone)
        {
            c.report(
                span,
                format!(
                    "field `{}.{}` cannot have a lookup index",
                    name.get_ref(),
                    fname.get_ref()
                ),
                "blind-index lookups exist for email and phone fields (and the external id)",
            );
        }
        fields.push(Field {
            name: fname.get_ref().clone(),
            kind,
            lookup,
            label: flabel,
        });
    }
    fields
}

/// One purpose: its legal basis, categories, channels, flags, retention and texts.
fn purpose(
    c: &mut Checker,
    id: usize,
    name: &Name,
    rp: &RawPurpose,
    languages: &[Language],
    category_ids: &HashMap<String, usize>,
) -> Purpose {
    c.identifier(name, "purpose");
    let legal_basis = c.one_of(&rp.legal_basis, &LegalBasis::ALL, "legal basis");
    let cats = resolve(
        c,
        category_ids,
        &rp.categories,
        &format!("purpose `{}`", name.get_ref()),
    );
    let channels = rp
        .channels
        .iter()
        .filter_map(|ch| c.one_of(ch, &Channel::ALL, "channel"))
        .collect();
    let (sale_or_share, surveys) = purpose_flags(c, name, rp, legal_basis);
    let retention = purpose_retention(c, name, rp, legal_basis);
    let what = format!("purpose `{}`", name.get_ref());
    let label = c.text(&rp.label, languages, &format!("the label of {what}"));
    let description = c.text(
        &rp.description,
        languages,
        &format!("the description of {what}"),
    );
    Purpose {
        id,
        name: name.get_ref().clone(),
        legal_basis: legal_basis.unwrap_or(LegalBasis::Consent),
        categories: cats,
        channels,
        sale_or_share,
        opt_out: rp.opt_out,
        surveys,
        retention,
        label,
        description,
    }
}

/// Whether a purpose sells or shares data (only with consent, and with an opt-out) and
/// collects identified survey answers (only with consent).
fn purpose_flags(
    c: &mut Checker,
    name: &Name,
    rp: &RawPurpose,
    legal_basis: Option<LegalBasis>,
) -> (bool, bool) {
    let sale_or_share = rp.sale_or_share.as_ref().is_some_and(|s| *s.get_ref());
    if let Some(span) = rp.sale_or_share.as_ref().map(|s| s.span())
        && sale_or_share
        && !rp.opt_out
    {
        c.report(
            span,
            format!(
                "purpose `{}` sells or shares data but offers no opt-out",
                name.get_ref()
            ),
            "add opt_out = true: people must be able to say \"do not sell or share my data\"",
        );
    }
    if sale_or_share && legal_basis.is_some_and(|b| b != LegalBasis::Consent) {
        c.report(
            rp.legal_basis.span(),
            format!(
                "purpose `{}` sells or shares data without consent",
                name.get_ref()
            ),
            "set legal_basis = \"consent\" for sale or sharing with third parties",
        );
    }
    let surveys = rp.surveys.as_ref().is_some_and(|s| *s.get_ref());
    if let Some(span) = rp.surveys.as_ref().map(|s| s.span())
        && surveys
        && legal_basis.is_some_and(|b| b != LegalBasis::Consent)
    {
        c.report(
            span,
            format!(
                "purpose `{}` collects identified survey answers without consent",
                name.get_ref()
            ),
            "set legal_basis = \"consent\": answers linked to a person are collected only with their agreement",
        );
    }
    (sale_or_share, surveys)
}

/// How long a legal obligation keeps data after an erasure (legal obligations only).
fn purpose_retention(
    c: &mut Checker,
    name: &Name,
    rp: &RawPurpose,
    legal_basis: Option<LegalBasis>,
) -> Option<Retention> {
    rp.retention.as_ref().and_then(|text| {
        let parsed = parse_retention(text.get_ref());
        if parsed.is_none() {
            c.report(
                text.span(),
                format!("retention `{}` cannot be read", text.get_ref()),
                "write a whole number and a unit: \"30d\", \"6m\" or \"7y\" (d, w, m, y)",
            );
        } else if legal_basis.is_some_and(|b| b != LegalBasis::LegalObligation) {
            c.report(
                text.span(),
                format!(
                    "purpose `{}` has a retention but is not a legal obligation",
                    name.get_ref()
                ),
                "only a legal obligation keeps data after an erasure; other purposes follow their categories' retention",
            );
        }
        parsed
    })
}

/// The categories `names` name; each unknown one is reported (`what` names the list).
fn resolve(
    c: &mut Checker,
    category_ids: &HashMap<String, usize>,
    names: &[Name],
    what: &str,
) -> IdSet {
    let mut set = IdSet::EMPTY;
    for n in names {
        match category_ids.get(n.get_ref()) {
            Some(&id) => set = set.with(id),
            None => c.report(
                n.span(),
                format!("{what} names unknown category `{}`", n.get_ref()),
                hint_for(
                    n.get_ref(),
                    category_ids.keys().map(String::as_str),
                    "declare it under [categories] or fix the spelling",
                ),
            ),
        }
    }
    set
}

/// `training_valid_days`: between a day and three years.
fn training_valid_days(c: &mut Checker, org: &crate::raw::RawOrganisation) -> u32 {
    let Some(days) = &org.training_valid_days else {
        return DEFAULT_TRAINING_VALID_DAYS;
    };
    match u32::try_from(*days.get_ref()) {
        Ok(d @ 1..=1095) => d,
        _ => {
            c.report(
                days.span(),
                "training_valid_days must be a number of days from 1 to 1095".to_string(),
                "a year (365) is what most guides ask; refreshers more often are fine",
            );
            DEFAULT_TRAINING_VALID_DAYS
        }
    }
}

/// One role: its purposes, what it may view, create, modify and delete (within what its
/// purposes cover), its masks, survey and administrative permissions.
fn role(
    c: &mut Checker,
    name: &Name,
    rr: &RawRole,
    purposes: &[Purpose],
    purpose_ids: &HashMap<String, usize>,
    categories: &[Category],
    category_ids: &HashMap<String, usize>,
) -> Role {
    c.identifier(name, "role");
    if name.get_ref() == SELF_ROLE {
        c.report(
            name.span(),
            "`self` is the built-in role of a person acting on their own record".to_string(),
            "choose another name for this role",
        );
    }
    let (role_purposes, reachable) = role_purposes(c, name, rr, purposes, purpose_ids);
    let what = format!("role `{}`", name.get_ref());
    let grant = |c: &mut Checker, list: &[Name], action: &str| -> IdSet {
        let set = resolve(c, category_ids, list, &format!("{what} ({action})"));
        for n in list {
            if let Some(&id) = category_ids.get(n.get_ref())
                && !reachable.contains(id)
            {
                c.report(
                    n.span(),
                    format!("{what} may {action} category `{}` but none of its purposes covers it", n.get_ref()),
                    "least privilege: remove the grant, or give the role a purpose that covers the category",
                );
            }
        }
        set
    };
    let view = grant(c, &rr.view, "view");
    if rr.machine {
        machine_views_nothing_sensitive(c, name, &rr.view, categories, category_ids);
    }
    let create = grant(c, &rr.create, "create");
    let modify = grant(c, &rr.modify, "modify");
    let delete = grant(c, &rr.delete, "delete");
    let masks = masks_of(c, rr, categories, category_ids);
    let mut surveys = SurveyGrants::default();
    for grant in &rr.surveys {
        match c.one_of(grant, &SurveyGrants::NAMES, "survey permission") {
            Some(SurveyPermission::Manage) => surveys.manage = true,
            Some(SurveyPermission::Results) => surveys.results = true,
            None => {}
        }
    }
    let mut admin = AdminGrants::default();
    for grant in &rr.admin {
        if let Some(permission) = c.one_of(grant, &AdminPermission::ALL, "admin permission") {
            admin = admin.with(permission);
        }
    }
    Role {
        name: name.get_ref().clone(),
        description: rr.description.clone().unwrap_or_default(),
        purposes: role_purposes,
        view,
        create,
        modify,
        delete,
        masks,
        require_mfa: rr.require_mfa,
        require_training: rr.require_training,
        machine: rr.machine,
        surveys,
        admin,
        disclose: rr.disclose.iter().map(|v| v.get_ref().clone()).collect(),
    }
}

/// A role declared for machines acts without a person behind it: it may not view sensitive or
/// special categories (erasing or modifying them stays possible).
fn machine_views_nothing_sensitive(
    c: &mut Checker,
    role: &Name,
    view: &[Name],
    categories: &[Category],
    category_ids: &HashMap<String, usize>,
) {
    for n in view {
        let Some(&id) = category_ids.get(n.get_ref()) else {
            continue;
        };
        if categories[id].sensitivity != Sensitivity::Personal {
            c.report(
                n.span(),
                format!(
                    "role `{}` is declared for machines (`machine = true`) but may view `{}`, \
                     which is marked {}",
                    role.get_ref(),
                    n.get_ref(),
                    if categories[id].sensitivity == Sensitivity::Special {
                        "special"
                    } else {
                        "sensitive"
                    },
                ),
                "machines view no sensitive or special category: remove it from `view`, or let \
                 people of a role with require_mfa do it in the console",
            );
        }
    }
}

/// The purposes a role names (each unknown one reported), and the categories they cover.
fn role_purposes(
    c: &mut Checker,
    name: &Name,
    rr: &RawRole,
    purposes: &[Purpose],
    purpose_ids: &HashMap<String, usize>,
) -> (IdSet, IdSet) {
    let mut role_purposes = IdSet::EMPTY;
    let mut reachable = IdSet::EMPTY;
    for p in &rr.purposes {
        match purpose_ids.get(p.get_ref()) {
            Some(&id) => {
                role_purposes = role_purposes.with(id);
                reachable = reachable.union(purposes[id].categories);
            }
            None => c.report(
                p.span(),
                format!(
                    "role `{}` names unknown purpose `{}`",
                    name.get_ref(),
                    p.get_ref()
                ),
                hint_for(
                    p.get_ref(),
                    purpose_ids.keys().map(String::as_str),
                    "declare it under [purposes] or fix the spelling",
                ),
            ),
        }
    }
    (role_purposes, reachable)
}

/// A role's masks, each on a category or one of its fields.
fn masks_of(
    c: &mut Checker,
    rr: &RawRole,
    categories: &[Category],
    category_ids: &HashMap<String, usize>,
) -> Vec<(usize, Option<usize>, Mask)> {
    let mut masks = Vec::new();
    for (target, rule) in &rr.mask {
        let Some(mask) = c.one_of(rule, &Mask::ALL, "mask") else {
            continue;
        };
        let (cat_name, field_name) = match target.get_ref().split_once('.') {
            Some((cat, field)) => (cat, Some(field)),
            None => (target.get_ref().as_str(), None),
        };
        let Some(&cat_id) = category_ids.get(cat_name) else {
            c.report(
                target.span(),
                format!("mask names unknown category `{cat_name}`"),
                "use CATEGORY or CATEGORY.FIELD",
            );
            continue;
        };
        let field_idx = match field_name {
            None => None,
            Some(f) => match categories[cat_id].field(f) {
                Some((i, _)) => Some(i),
                None => {
                    c.report(
                        target.span(),
                        format!("mask names unknown field `{}`", target.get_ref()),
                        "use CATEGORY or CATEGORY.FIELD",
                    );
                    continue;
                }
            },
        };
        masks.push((cat_id, field_idx, mask));
    }
    masks
}

/// The built-in role of a person acting on their own record.
fn self_role(
    categories: &[Category],
    purposes: &[Purpose],
    purpose_ids: &HashMap<String, usize>,
) -> Role {
    let all = categories.iter().fold(IdSet::EMPTY, |s, c| s.with(c.id));
    // A person answering an identified survey creates the answers record themselves, under a
    // purpose that allows it (consent-based, so the access decision still needs their consent).
    let survey_purposes = purposes
        .iter()
        .filter(|p| p.surveys)
        .fold(IdSet::EMPTY, |s, p| s.with(p.id));
    let survey_categories = purposes
        .iter()
        .filter(|p| p.surveys)
        .fold(IdSet::EMPTY, |s, p| s.union(p.categories));
    Role {
        name: SELF_ROLE.to_string(),
        description: "A person acting on their own record".to_string(),
        purposes: purpose_ids
            .get(RIGHTS_PURPOSE)
            .map_or(IdSet::EMPTY, |&id| IdSet::EMPTY.with(id))
            .union(survey_purposes),
        view: all,
        create: survey_categories,
        modify: all,
        delete: all,
        masks: Vec::new(),
        require_mfa: false,
        require_training: false,
        machine: false,
        surveys: SurveyGrants::default(),
        admin: AdminGrants::default(),
        disclose: Vec::new(),
    }
}
