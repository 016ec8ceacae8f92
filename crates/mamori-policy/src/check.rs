//! Turns a [`RawPolicy`] into a [`Policy`], collecting every problem instead of stopping at the
//! first, each with its line, column and a hint on how to fix it.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use toml::Spanned;

use crate::model::*;
use crate::raw::*;

/// One problem in a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}",
            self.file, self.line, self.column, self.message
        )?;
        if !self.hint.is_empty() {
            write!(f, "\n  hint: {}", self.hint)?;
        }
        Ok(())
    }
}

/// All the problems found in one file; the `Display` form is what `mamori policy check` prints.
#[derive(Debug, Clone, thiserror::Error)]
pub struct PolicyErrors(pub Vec<Diagnostic>);

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        write!(f, "{} problem(s) found", self.0.len())
    }
}

/// The closest of `options` to a misspelt `wanted`, if one is close enough to be what was meant
/// (an edit or two, or a third of the word).
pub(crate) fn did_you_mean<'o>(
    wanted: &str,
    options: impl IntoIterator<Item = &'o str>,
) -> Option<&'o str> {
    let limit = (wanted.chars().count() / 3).max(2);
    options
        .into_iter()
        .map(|o| (strsim::damerau_levenshtein(wanted, o), o))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, o)| o)
}

/// A hint that starts with "did you mean `x`?" when a near miss is found.
pub(crate) fn hint_for<'o>(
    wanted: &str,
    options: impl IntoIterator<Item = &'o str>,
    otherwise: &str,
) -> String {
    match did_you_mean(wanted, options) {
        Some(near) => format!("did you mean `{near}`? {otherwise}"),
        None => otherwise.to_string(),
    }
}

pub(crate) struct Checker<'a> {
    file: &'a str,
    source: &'a str,
    line_starts: Vec<usize>,
    pub(crate) problems: Vec<Diagnostic>,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(file: &'a str, source: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Checker {
            file,
            source,
            line_starts,
            problems: Vec::new(),
        }
    }

    pub(crate) fn report(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let offset = span.start.min(self.source.len());
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let line_start = self.line_starts[line - 1];
        let column = self.source[line_start..offset].chars().count() + 1;
        self.problems.push(Diagnostic {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
            hint: hint.into(),
        });
    }

    fn one_of<T: Copy>(
        &mut self,
        value: &Spanned<String>,
        options: &[(&str, T)],
        what: &str,
    ) -> Option<T> {
        let found = options
            .iter()
            .find(|(n, _)| *n == value.get_ref())
            .map(|(_, t)| *t);
        if found.is_none() {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            let otherwise = format!("use one of: {}", names.join(", "));
            self.report(
                value.span(),
                format!("unknown {what} `{}`", value.get_ref()),
                hint_for(value.get_ref(), names.iter().copied(), &otherwise),
            );
        }
        found
    }

    fn identifier(&mut self, name: &Name, what: &str) {
        let ok = name
            .get_ref()
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase())
            && name
                .get_ref()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            self.report(
                name.span(),
                format!("{what} name `{}` is not a valid identifier", name.get_ref()),
                "use lower-case letters, digits and underscores, starting with a letter",
            );
        }
    }

    fn text(&mut self, raw: &Spanned<RawText>, languages: &[Language], what: &str) -> Text {
        let r = raw.get_ref();
        for lang in languages {
            let value = match lang {
                Language::En => &r.en,
                Language::Ja => &r.ja,
                Language::Fr => &r.fr,
            };
            if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
                self.report(
                    raw.span(),
                    format!("{what} has no `{}` translation", lang.code()),
                    format!(
                        "add {} = \"…\"; every declared language needs every text",
                        lang.code()
                    ),
                );
            }
        }
        // A missing translation falls back to English, then to any text, so pages never show a hole.
        let any =
            r.en.clone()
                .or(r.fr.clone())
                .or(r.ja.clone())
                .unwrap_or_default();
        Text {
            en: r.en.clone().unwrap_or_else(|| any.clone()),
            ja: r.ja.clone().unwrap_or_else(|| any.clone()),
            fr: r.fr.clone().unwrap_or_else(|| any.clone()),
        }
    }
}

/// Parses `"90d"`, `"12w"`, `"6m"` or `"7y"` into days.
pub fn parse_retention(text: &str) -> Option<Retention> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let number: u32 = text[..text.len() - unit.len_utf8()].parse().ok()?;
    let (per_unit, unit) = match unit {
        'd' => (1, RetentionUnit::Days),
        'w' => (7, RetentionUnit::Weeks),
        'm' => (30, RetentionUnit::Months),
        'y' => (365, RetentionUnit::Years),
        _ => return None,
    };
    let days = number.checked_mul(per_unit)?;
    (1..=365 * 100).contains(&days).then_some(Retention {
        days,
        count: number,
        unit,
    })
}

fn field_type(c: &mut Checker, raw: &RawField, languages: &[Language]) -> Option<FieldType> {
    let _ = languages;
    let kind = match raw.kind.get_ref().as_str() {
        "text" => FieldType::Text { max_length: 1000 },
        "email" => FieldType::Email,
        "phone" => FieldType::Phone,
        "date" => FieldType::Date,
        "country" => FieldType::Country,
        "address" => FieldType::Address,
        "number" => FieldType::Number,
        "bool" => FieldType::Bool,
        "enum" => FieldType::Enum(Vec::new()),
        other => {
            c.report(
                raw.kind.span(),
                format!("unknown field type `{other}`"),
                hint_for(
                    other,
                    [
                        "text", "email", "phone", "date", "country", "address", "number", "bool",
                        "enum",
                    ],
                    "use one of: text, email, phone, date, country, address, number, bool, enum",
                ),
            );
            return None;
        }
    };
    let kind = match (kind, &raw.values) {
        (FieldType::Enum(_), Some(values)) if !values.get_ref().is_empty() => {
            FieldType::Enum(values.get_ref().clone())
        }
        (FieldType::Enum(_), _) => {
            c.report(
                raw.kind.span(),
                "an enum field needs a non-empty `values` list",
                "add values = [\"a\", \"b\"]",
            );
            return None;
        }
        (_, Some(values)) => {
            c.report(
                values.span(),
                "`values` is only for enum fields",
                "remove it or set type = \"enum\"",
            );
            return None;
        }
        (kind, None) => kind,
    };
    match (&kind, &raw.max_length) {
        (FieldType::Text { .. }, Some(max)) if (1..=100_000).contains(max.get_ref()) => {
            Some(FieldType::Text {
                max_length: *max.get_ref() as usize,
            })
        }
        (_, Some(max)) => {
            c.report(
                max.span(),
                "`max_length` must be between 1 and 100000 and only on text fields",
                "",
            );
            None
        }
        _ => Some(kind),
    }
}

pub(crate) fn compile(c: &mut Checker, raw: RawPolicy) -> Option<Policy> {
    let org = &raw.organisation;
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
        c.identifier(name, "category");
        let id = categories.len();
        category_ids.insert(name.get_ref().clone(), id);
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
        let label = c.text(
            &rc.label,
            &languages,
            &format!("the label of category `{}`", name.get_ref()),
        );
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
                &languages,
                &format!(
                    "the label of field `{}.{}`",
                    name.get_ref(),
                    fname.get_ref()
                ),
            );
            let Some(kind) = field_type(c, rf, &languages) else {
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
        categories.push(Category {
            id,
            name: name.get_ref().clone(),
            sensitivity: sensitivity.unwrap_or(Sensitivity::Personal),
            retention: retention.unwrap_or(Retention::days(1)),
            retention_text: rc.retention.get_ref().clone(),
            label,
            description: rc.description.as_ref().map(|d| {
                c.text(
                    d,
                    &languages,
                    &format!("the description of category `{}`", name.get_ref()),
                )
            }),
            fields,
        });
    }

    let resolve = |c: &mut Checker, names: &[Name], what: &str| -> IdSet {
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
    };

    let mut purposes = Vec::new();
    let mut purpose_ids = HashMap::new();
    let mut covered = IdSet::EMPTY;
    for (name, rp) in &raw.purposes {
        c.identifier(name, "purpose");
        let id = purposes.len();
        purpose_ids.insert(name.get_ref().clone(), id);
        let legal_basis = c.one_of(&rp.legal_basis, &LegalBasis::ALL, "legal basis");
        let cats = resolve(c, &rp.categories, &format!("purpose `{}`", name.get_ref()));
        covered = covered.union(cats);
        let channels = rp
            .channels
            .iter()
            .filter_map(|ch| c.one_of(ch, &Channel::ALL, "channel"))
            .collect();
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
        let retention = rp.retention.as_ref().and_then(|text| {
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
        });
        let what = format!("purpose `{}`", name.get_ref());
        let label = c.text(&rp.label, &languages, &format!("the label of {what}"));
        let description = c.text(
            &rp.description,
            &languages,
            &format!("the description of {what}"),
        );
        purposes.push(Purpose {
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
        });
    }
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

    let mut roles = Vec::new();
    let mut role_ids = HashMap::new();
    for (name, rr) in &raw.roles {
        c.identifier(name, "role");
        if name.get_ref() == SELF_ROLE {
            c.report(
                name.span(),
                "`self` is the built-in role of a person acting on their own record".to_string(),
                "choose another name for this role",
            );
        }
        role_ids.insert(name.get_ref().clone(), roles.len());
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
        let what = format!("role `{}`", name.get_ref());
        let grant = |c: &mut Checker, list: &[Name], action: &str| -> IdSet {
            let set = resolve(c, list, &format!("{what} ({action})"));
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
        let create = grant(c, &rr.create, "create");
        let modify = grant(c, &rr.modify, "modify");
        let delete = grant(c, &rr.delete, "delete");
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
        roles.push(Role {
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
            surveys,
            admin,
        });
    }

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
    let self_role = Role {
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
        surveys: SurveyGrants::default(),
        admin: AdminGrants::default(),
    };
    Some(Policy {
        organisation: Organisation {
            name: org.name.clone(),
            contact: org.contact.get_ref().clone(),
            jurisdictions,
            languages,
            policy_url: org.policy_url.clone(),
        },
        categories,
        purposes,
        roles,
        category_ids,
        purpose_ids,
        role_ids,
        source: c.source.to_string(),
        self_role,
    })
}
