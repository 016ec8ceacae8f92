//! Surveys: definitions (questions, translations, window, mode), anonymous responses and results
//! that cannot single anyone out.
//!
//! An anonymous response is linked to no one: it is stored with a random id, the day it came and
//! its answers — no subject, address, user agent, cookie or precise time — and free text is
//! scrubbed of personal data before it is stored. It leaves no ledger event either: an event's
//! time would date the response. Results show a question only once it has at least `k` answers,
//! and a breakdown only in cells of at least `k`; smaller cells are suppressed and marked.

use mamori_proto::ErrorCode;
use std::collections::HashMap;

use mamori_policy::{Policy, SurveyPermission};
use mamori_store::{Change, SurveyRow};
use serde_json::{Value, json};

use crate::access::Permission;
use crate::admin::Granted;
use crate::{Actor, CoreError, Result, Vault};

mod answers;
mod counting;
mod operations;

pub use answers::*;
pub use counting::*;
pub use operations::*;

/// Longest free-text answer, in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;
const MAX_QUESTIONS: usize = 50;
const MAX_CHOICES: usize = 20;
const DEFAULT_K: u32 = 5;
pub(crate) const DAY_MS: i64 = 86_400_000;

// The definition is a wire type: the same shape in a survey's TOML file, the API and storage.
pub use mamori_proto::surveys::{
    Access, Choice, Mode, Question, QuestionKind, ResultsMode, SurveyDefinition, SurveySummary,
    Texts,
};

/// The ε budget of a differentially private survey unless its definition says otherwise.
pub const DEFAULT_EPSILON_BUDGET: f64 = 1.0;
const MAX_EPSILON_BUDGET: f64 = 10.0;

/// A definition that passed every check, with its window in days since the epoch.
#[derive(Debug, Clone)]
pub struct Survey {
    pub definition: SurveyDefinition,
    pub opens_day: Option<i64>,
    pub closes_day: Option<i64>,
    pub k: u32,
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> CoreError {
    CoreError::invalid(ErrorCode::InvalidSurvey, field, message)
}

fn is_name(id: &str, max: usize) -> bool {
    !id.is_empty()
        && id.len() <= max
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// `YYYY-MM-DD` as days since 1970-01-01.
fn day_of(field: &str, text: &str) -> Result<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, format)
        // Julian day 2,440,588 is 1970-01-01.
        .map(|d| i64::from(d.to_julian_day()) - 2_440_588)
        .map_err(|_| problem(field, format!("{field} must be a date written YYYY-MM-DD")))
}

/// The category an identified survey's answers are kept in: the first of its purpose's
/// categories with text fields `survey` and `answers`.
pub fn answers_category<'p>(
    policy: &'p Policy,
    purpose: &mamori_policy::Purpose,
) -> Option<&'p mamori_policy::Category> {
    purpose
        .categories
        .iter()
        .map(|id| &policy.categories[id])
        .find(|c| c.field("survey").is_some() && c.field("answers").is_some())
}

fn check_mode(policy: &Policy, definition: &SurveyDefinition) -> Result<()> {
    match (definition.mode, definition.purpose.as_deref()) {
        (Mode::Anonymous, None) => Ok(()),
        (Mode::Anonymous, Some(_)) => Err(problem(
            "purpose",
            "only an identified survey names a purpose: an anonymous one is linked to no one",
        )),
        (Mode::Identified, None) => Err(problem(
            "purpose",
            "an identified survey names the consent purpose its answers are collected under (one with surveys = true in the policy)",
        )),
        (Mode::Identified, Some(name)) => {
            let purpose = policy.purpose(name).filter(|p| p.surveys).ok_or_else(|| {
                problem(
                    "purpose",
                    "the purpose must be declared in the policy with surveys = true (and so be consent-based)",
                )
            })?;
            if answers_category(policy, purpose).is_none() {
                return Err(problem(
                    "purpose",
                    "the purpose needs a category with text fields `survey` and `answers` to keep the answers in",
                ));
            }
            if definition.access == Access::Invited {
                return Err(problem(
                    "access",
                    "invitation tokens keep answers anonymous; an identified survey is answered signed in",
                ));
            }
            Ok(())
        }
    }
}

impl Survey {
    /// Reads a TOML definition and checks it against the policy's languages.
    pub fn from_toml(policy: &Policy, text: &str) -> Result<Survey> {
        let definition: SurveyDefinition = toml::from_str(text).map_err(|e| {
            // toml's message names the key and may quote the value: a survey file is staff's
            // definition, never personal data, so repeating it is safe.
            problem(
                "definition",
                format!("the survey file does not parse: {}", e.message()),
            )
        })?;
        Survey::check(policy, definition)
    }

    pub fn check(policy: &Policy, definition: SurveyDefinition) -> Result<Survey> {
        if !is_name(&definition.slug, 40) {
            return Err(problem("slug", "slug is 1 to 40 of a-z, 0-9, - and _"));
        }
        check_mode(policy, &definition)?;
        check_texts_and_questions(policy, &definition)?;
        let opens_day = definition
            .opens
            .as_deref()
            .map(|d| day_of("opens", d))
            .transpose()?;
        let closes_day = definition
            .closes
            .as_deref()
            .map(|d| day_of("closes", d))
            .transpose()?;
        if let (Some(o), Some(c)) = (opens_day, closes_day)
            && c < o
        {
            return Err(problem("closes", "closes must not be before opens"));
        }
        check_results_mode(&definition)?;
        let k = definition.k.unwrap_or(DEFAULT_K);
        if !(2..=1000).contains(&k) {
            return Err(problem("k", "k, the smallest group shown, is 2 to 1000"));
        }
        Ok(Survey {
            definition,
            opens_day,
            closes_day,
            k,
        })
    }

    fn from_row(policy: &Policy, row: &SurveyRow) -> Result<Survey> {
        let definition: SurveyDefinition = serde_json::from_str(&row.definition)
            .map_err(|e| CoreError::Internal(format!("stored survey does not parse: {e}")))?;
        Survey::check(policy, definition)
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.definition.questions.iter().find(|q| q.id == id)
    }
}

/// Every text in each of the policy's languages (and no other), and 1 to MAX_QUESTIONS
/// questions, each with its own id and, for choice questions, 2 to MAX_CHOICES choices with
/// their own ids.
fn check_texts_and_questions(policy: &Policy, definition: &SurveyDefinition) -> Result<()> {
    let languages: Vec<&str> = policy
        .organisation
        .languages
        .iter()
        .map(|l| l.code())
        .collect();
    let translated = |field: &str, texts: &Texts| -> Result<()> {
        for lang in &languages {
            if texts.get(*lang).is_none_or(|t| t.trim().is_empty()) {
                return Err(problem(field, format!("{field} needs a text in {lang}")));
            }
        }
        match texts.keys().find(|l| !languages.contains(&l.as_str())) {
            Some(other) => Err(problem(
                field,
                format!("{field} has a text in {other}, which the policy does not list"),
            )),
            None => Ok(()),
        }
    };
    translated("title", &definition.title)?;
    if let Some(intro) = &definition.intro {
        translated("intro", intro)?;
    }
    if definition.questions.is_empty() || definition.questions.len() > MAX_QUESTIONS {
        return Err(problem(
            "questions",
            format!("a survey has 1 to {MAX_QUESTIONS} questions"),
        ));
    }
    let mut seen = Vec::new();
    for (i, q) in definition.questions.iter().enumerate() {
        let field = format!("questions[{i}]");
        if !is_name(&q.id, 40) || seen.contains(&q.id.as_str()) {
            return Err(problem(
                format!("{field}.id"),
                "each question needs its own id of a-z, 0-9, - and _",
            ));
        }
        seen.push(&q.id);
        translated(&format!("{field}.text"), &q.text)?;
        let has_choices = matches!(q.kind, QuestionKind::Single | QuestionKind::Multiple);
        if has_choices && !(2..=MAX_CHOICES).contains(&q.choices.len()) {
            return Err(problem(
                format!("{field}.choices"),
                format!("a choice question has 2 to {MAX_CHOICES} choices"),
            ));
        }
        if !has_choices && !q.choices.is_empty() {
            return Err(problem(
                format!("{field}.choices"),
                "only single and multiple questions have choices",
            ));
        }
        let mut ids = Vec::new();
        for (j, c) in q.choices.iter().enumerate() {
            if !is_name(&c.id, 40) || ids.contains(&c.id.as_str()) {
                return Err(problem(
                    format!("{field}.choices[{j}].id"),
                    "each choice needs its own id of a-z, 0-9, - and _",
                ));
            }
            ids.push(&c.id);
            translated(&format!("{field}.choices[{j}].text"), &c.text)?;
        }
    }
    Ok(())
}

/// An ε budget (and a minimum of responses) only with differentially private results, and a
/// budget within bounds.
fn check_results_mode(definition: &SurveyDefinition) -> Result<()> {
    match (definition.results, definition.epsilon_budget) {
        (ResultsMode::Exact, Some(_)) => {
            return Err(problem(
                "epsilon_budget",
                "an ε budget needs results = \"differential_privacy\"",
            ));
        }
        (ResultsMode::Exact, None) if definition.min_responses.is_some() => {
            return Err(problem(
                "min_responses",
                "min_responses applies to results = \"differential_privacy\"",
            ));
        }
        (_, Some(e)) if !(e > 0.0 && e <= MAX_EPSILON_BUDGET) => {
            return Err(problem(
                "epsilon_budget",
                format!("epsilon_budget is a number above 0 and at most {MAX_EPSILON_BUDGET}"),
            ));
        }
        _ => {}
    }
    Ok(())
}

/// A stored survey and whether it takes responses today.
#[derive(Debug, Clone)]
pub struct StoredSurvey {
    pub id: [u8; 16],
    pub survey: Survey,
    pub created_ms: i64,
    pub closed_ms: Option<i64>,
}

impl StoredSurvey {
    pub fn is_open(&self, day: i64) -> bool {
        self.closed_ms.is_none()
            && self.survey.opens_day.is_none_or(|o| day >= o)
            && self.survey.closes_day.is_none_or(|c| day <= c)
    }

    /// What a listing shows of the survey; `today` is the vault's day number.
    pub fn summary(&self, today: i64) -> SurveySummary {
        let d = &self.survey.definition;
        SurveySummary {
            slug: d.slug.clone(),
            mode: d.mode,
            access: d.access,
            results: d.results,
            title: d.title.clone(),
            open: self.is_open(today),
            created_at: crate::format_time(self.created_ms),
            closed_at: self.closed_ms.map(crate::format_time),
            k: self.survey.k,
            questions: d.questions.len(),
        }
    }
}

/// Answers as they come from a form or JSON: question id → the values given.
pub type RawAnswers = HashMap<String, Vec<String>>;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn survey() -> Survey {
        let policy = Policy::parse(
            "policy.toml",
            include_str!("../../../../examples/policy.toml"),
        )
        .unwrap();
        Survey::from_toml(&policy, include_str!("../../../../examples/survey.toml")).unwrap()
    }

    /// One response as a form would send it: trust 1–5 (or none), clear one of three (or none),
    /// worries any subset of four.
    fn raw(trust: Option<u8>, clear: Option<usize>, worries: u8, comment: bool) -> RawAnswers {
        let mut raw = RawAnswers::new();
        if let Some(t) = trust {
            raw.insert("trust".into(), vec![t.to_string()]);
        }
        if let Some(c) = clear {
            raw.insert("clear".into(), vec![["yes", "partly", "no"][c].to_string()]);
        }
        let picked: Vec<String> = ["marketing", "sharing", "security", "retention"]
            .iter()
            .enumerate()
            .filter(|(i, _)| worries & (1 << i) != 0)
            .map(|(_, w)| w.to_string())
            .collect();
        if !picked.is_empty() {
            raw.insert("worries".into(), picked);
        }
        if comment {
            raw.insert("comment".into(), vec!["call 06 12 34 56 78".into()]);
        }
        raw
    }

    #[test]
    fn a_required_answer_is_required_and_text_is_scrubbed() {
        let s = survey();
        let e = parse_answers(&s, &raw(None, Some(0), 0, false)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::AnswerRequired);
        let answers = parse_answers(&s, &raw(Some(3), None, 0b1010, true)).unwrap();
        assert_eq!(answers["comment"], "call [PHONE]");
        assert_eq!(answers["worries"], json!(["sharing", "retention"]));
        let code = Codec::new(&s).encode(&s, &answers);
        assert_eq!(code, [3, NO_ANSWER, 0b1010, 0, 0, 0, 1]);
    }

    proptest! {
        /// Results counted from the codes equal a naive count over the answers, and no shown
        /// count is below k.
        #[test]
        fn coded_results_match_a_naive_count(
            responses in prop::collection::vec((prop::option::of(1u8..6), prop::option::of(0usize..3), 0u8..16, any::<bool>()), 5..120),
        ) {
            let s = survey();
            let stored = StoredSurvey { id: [7; 16], survey: s.clone(), created_ms: 0, closed_ms: None };
            let mut codes = Vec::new();
            let mut kept = Vec::new();
            for (trust, clear, worries, comment) in &responses {
                let trust = trust.or(Some(1)); // required
                let answers = parse_answers(&s, &raw(trust, *clear, *worries, *comment)).unwrap();
                let Change::InsertSurveyResponse { coded, .. } = response_change(&stored, &answers, 0) else { unreachable!() };
                codes.push(coded);
                kept.push((trust.unwrap(), *clear, *worries));
            }
            // Checked as the API shows it.
            let v = serde_json::to_value(results(&s, &codes, &HashMap::new(), Some("clear")).unwrap()).unwrap();
            let k = s.k as usize;
            prop_assert_eq!(&v["responses"], &json!(responses.len()));
            for value in 1..=5u8 {
                let naive = kept.iter().filter(|r| r.0 == value).count();
                let cell = &v["questions"][0]["histogram"][(value - 1) as usize];
                if naive >= k { prop_assert_eq!(&cell["count"], &json!(naive)); } else { prop_assert_eq!(&cell["suppressed"], &json!(true)); }
            }
            for (b, _) in ["marketing", "sharing", "security", "retention"].iter().enumerate() {
                let naive = kept.iter().filter(|r| r.2 & (1 << b) != 0).count();
                let answered = kept.iter().filter(|r| r.2 != 0).count();
                let cell = &v["questions"][2]["choices"][b];
                if answered < k {
                    prop_assert_eq!(&v["questions"][2]["suppressed"], &json!(true));
                } else if naive >= k {
                    prop_assert_eq!(&cell["count"], &json!(naive));
                } else {
                    prop_assert_eq!(&cell["suppressed"], &json!(true));
                }
            }
            for (c, group) in v["breakdown"]["groups"].as_array().unwrap().iter().enumerate() {
                let members: Vec<_> = kept.iter().filter(|r| r.1 == Some(c)).collect();
                if members.len() < k {
                    prop_assert_eq!(&group["suppressed"], &json!(true));
                    prop_assert!(group.get("questions").is_none());
                } else {
                    let mean = members.iter().map(|r| f64::from(r.0)).sum::<f64>() / members.len() as f64;
                    prop_assert!((group["questions"][0]["mean"].as_f64().unwrap() - mean).abs() < 1e-9);
                }
            }
        }
    }
}
