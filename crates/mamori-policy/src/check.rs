//! Turns a [`RawPolicy`] into a [`Policy`], collecting every problem instead of stopping at the
//! first, each with its line, column and a hint on how to fix it.

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
    pub(crate) source: &'a str,
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

    pub(crate) fn one_of<T: Copy>(
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

    pub(crate) fn identifier(&mut self, name: &Name, what: &str) {
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

    pub(crate) fn text(
        &mut self,
        raw: &Spanned<RawText>,
        languages: &[Language],
        what: &str,
    ) -> Text {
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

pub(crate) fn field_type(
    c: &mut Checker,
    raw: &RawField,
    languages: &[Language],
) -> Option<FieldType> {
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
