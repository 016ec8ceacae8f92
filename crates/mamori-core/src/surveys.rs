//! Surveys: definitions (questions, translations, window, mode), anonymous responses and results
//! that cannot single anyone out.
//!
//! An anonymous response is linked to no one: it is stored with a random id, the day it came and
//! its answers — no subject, address, user agent, cookie or precise time — and free text is
//! scrubbed of personal data before it is stored. It leaves no ledger event either: an event's
//! time would date the response. Results show a question only once it has at least `k` answers,
//! and a breakdown only in cells of at least `k`; smaller cells are suppressed and marked.

use std::collections::{BTreeMap, HashMap};

use mamori_policy::{Policy, SurveyPermission};
use mamori_store::{Change, SurveyRow};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::access::Permission;
use crate::admin::Granted;
use crate::{Actor, CoreError, Result, Vault, now_ms};

/// Longest free-text answer, in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;
const MAX_QUESTIONS: usize = 50;
const MAX_CHOICES: usize = 20;
const DEFAULT_K: u32 = 5;
const DAY_MS: i64 = 86_400_000;

/// Words in each of the organisation's languages, by language code.
pub type Texts = BTreeMap<String, String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Linked to no one.
    Anonymous,
    /// Linked to the person, under a consent purpose of the policy (`surveys = true`): the
    /// answers are a record of theirs, sealed under their key, and every right applies.
    Identified,
}

/// Who may answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Anyone with the link (limited per address).
    #[default]
    Open,
    /// Only invited customers, once each, with a blind-signed token (RFC 9474) that does not
    /// tell which invitation it came from.
    Invited,
}

impl Access {
    fn is_open(&self) -> bool {
        *self == Access::Open
    }
}

/// How results are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultsMode {
    /// Exact counts, every group smaller than k suppressed.
    #[default]
    Exact,
    /// Only differentially private releases, each spending part of the survey's ε budget.
    DifferentialPrivacy,
}

impl ResultsMode {
    fn is_exact(&self) -> bool {
        *self == ResultsMode::Exact
    }
}

/// The ε budget of a differentially private survey unless its definition says otherwise.
pub const DEFAULT_EPSILON_BUDGET: f64 = 1.0;
const MAX_EPSILON_BUDGET: f64 = 10.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// 1 to 5.
    Rating,
    /// Net Promoter Score: 0 to 10.
    Nps,
    Single,
    Multiple,
    Text,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub id: String,
    pub text: Texts,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub kind: QuestionKind,
    pub text: Texts,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub required: bool,
}

/// A survey as written in its TOML file (or the same shape in JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyDefinition {
    pub slug: String,
    pub mode: Mode,
    /// `open` (default) or `invited`.
    #[serde(default, skip_serializing_if = "Access::is_open")]
    pub access: Access,
    /// For an identified survey: the consent purpose its answers are collected under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// `exact` (default) or `differential_privacy`.
    #[serde(default, skip_serializing_if = "ResultsMode::is_exact")]
    pub results: ResultsMode,
    /// Total ε of a differentially private survey's releases (default 1.0, at most 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epsilon_budget: Option<f64>,
    /// A differentially private release waits for at least this many responses (default k):
    /// below it the noise would drown the answers, and ε would be spent for nothing. 0 waits
    /// for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_responses: Option<u32>,
    pub title: Texts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro: Option<Texts>,
    /// First day responses are taken (`YYYY-MM-DD`, UTC); from creation if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens: Option<String>,
    /// Last day responses are taken (`YYYY-MM-DD`, UTC); until closed if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes: Option<String>,
    /// Smallest group shown in results (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<u32>,
    pub questions: Vec<Question>,
}

/// A definition that passed every check, with its window in days since the epoch.
#[derive(Debug, Clone)]
pub struct Survey {
    pub definition: SurveyDefinition,
    pub opens_day: Option<i64>,
    pub closes_day: Option<i64>,
    pub k: u32,
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> CoreError {
    CoreError::invalid("invalid_survey", field, message)
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

pub fn today() -> i64 {
    now_ms().div_euclid(DAY_MS)
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

    pub fn summary(&self) -> Value {
        json!({
            "slug": self.survey.definition.slug,
            "mode": self.survey.definition.mode,
            "access": self.survey.definition.access,
            "results": self.survey.definition.results,
            "title": self.survey.definition.title,
            "open": self.is_open(today()),
            "created_at": crate::format_time(self.created_ms),
            "closed_at": self.closed_ms.map(crate::format_time),
            "k": self.survey.k,
            "questions": self.survey.definition.questions.len(),
        })
    }
}

/// Answers as they come from a form or JSON: question id → the values given.
pub type RawAnswers = HashMap<String, Vec<String>>;

fn bad_answer(code: &'static str, question: &str, message: impl Into<String>) -> CoreError {
    CoreError::invalid(code, format!("answers.{question}"), message)
}

/// Checks answers against the survey and turns them into the stored JSON; free text is scrubbed.
pub fn parse_answers(survey: &Survey, raw: &RawAnswers) -> Result<Value> {
    // The id comes from the client: say it is unknown without repeating it.
    if raw.keys().any(|q| survey.question(q).is_none()) {
        return Err(CoreError::invalid(
            "unknown_question",
            "answers",
            "an answer names a question this survey does not have",
        ));
    }
    let scrubber = mamori_scrub::Scrubber::new();
    let mut out = serde_json::Map::new();
    for q in &survey.definition.questions {
        let values: Vec<&str> = raw
            .get(&q.id)
            .map(|v| {
                v.iter()
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if values.is_empty() {
            if q.required {
                return Err(bad_answer(
                    "answer_required",
                    &q.id,
                    format!("question {} needs an answer", q.id),
                ));
            }
            continue;
        }
        let one = || -> Result<&str> {
            match values.as_slice() {
                [v] => Ok(v),
                _ => Err(bad_answer(
                    "one_answer",
                    &q.id,
                    format!("question {} takes one answer", q.id),
                )),
            }
        };
        let value = match q.kind {
            QuestionKind::Rating | QuestionKind::Nps => {
                let max = if q.kind == QuestionKind::Rating {
                    5
                } else {
                    10
                };
                let min = if q.kind == QuestionKind::Rating { 1 } else { 0 };
                let n: i64 = one()?.parse().map_err(|_| out_of_range(&q.id, min, max))?;
                if !(min..=max).contains(&n) {
                    return Err(out_of_range(&q.id, min, max));
                }
                json!(n)
            }
            QuestionKind::Single => {
                let v = one()?;
                if !q.choices.iter().any(|c| c.id == v) {
                    return Err(unknown_choice(&q.id));
                }
                json!(v)
            }
            QuestionKind::Multiple => {
                let mut picked: Vec<&str> = Vec::new();
                for v in &values {
                    if !q.choices.iter().any(|c| c.id == *v) {
                        return Err(unknown_choice(&q.id));
                    }
                    if !picked.contains(v) {
                        picked.push(v);
                    }
                }
                json!(picked)
            }
            QuestionKind::Text => {
                let v = one()?;
                if v.chars().count() > MAX_TEXT_CHARS {
                    return Err(bad_answer(
                        "answer_too_long",
                        &q.id,
                        format!(
                            "an answer to {} is at most {MAX_TEXT_CHARS} characters",
                            q.id
                        ),
                    ));
                }
                json!(scrubber.scrub(v))
            }
        };
        out.insert(q.id.clone(), value);
    }
    Ok(Value::Object(out))
}

fn out_of_range(question: &str, min: i64, max: i64) -> CoreError {
    bad_answer(
        "out_of_range",
        question,
        format!("question {question} takes a whole number from {min} to {max}"),
    )
}

fn unknown_choice(question: &str) -> CoreError {
    bad_answer(
        "unknown_choice",
        question,
        format!("question {question} has no such choice"),
    )
}

impl Vault {
    /// Who may define and close surveys, invite, release and read the report: a role the
    /// policy grants `surveys = ["manage"]`.
    pub(crate) async fn grant_survey_admin(&self, actor: &Actor, action: &str) -> Result<Granted> {
        let manage = Permission::Surveys(SurveyPermission::Manage);
        self.grant(actor, manage, action).await
    }

    /// Who may read results (aggregates, charts, texts, releases): `surveys = ["results"]`.
    /// The read is ledgered, allowed or denied.
    pub(crate) async fn ledger_results_reader(&self, actor: &Actor, action: &str) -> Result<()> {
        let results = Permission::Surveys(SurveyPermission::Results);
        self.grant_and_ledger(actor, results, action).await
    }

    pub async fn create_survey(&self, actor: &Actor, survey: Survey) -> Result<StoredSurvey> {
        let granted = self.grant_survey_admin(actor, "survey.create").await?;
        let row = SurveyRow {
            id: crate::new_id(),
            slug: survey.definition.slug.clone(),
            definition: serde_json::to_string(&survey.definition)
                .map_err(|e| CoreError::Internal(e.to_string()))?,
            created_ms: now_ms(),
            closed_ms: None,
        };
        let event = granted.event();
        let mut changes = vec![Change::InsertSurvey(row.clone())];
        if survey.definition.access == Access::Invited {
            changes.push(self.new_survey_issuer(&row.id).await?);
        }
        match self.ledger.submit(changes, vec![event]).await? {
            Ok(()) => Ok(StoredSurvey {
                id: row.id,
                survey,
                created_ms: row.created_ms,
                closed_ms: None,
            }),
            Err(_) => Err(CoreError::Conflict {
                code: "survey_exists",
                message: "a survey with this slug exists already; choose another slug".into(),
            }),
        }
    }

    pub async fn survey(&self, slug: &str) -> Result<StoredSurvey> {
        let missing = || CoreError::Missing {
            code: "survey_not_found",
            message: "there is no survey with this slug".into(),
        };
        if !is_name(slug, 40) {
            return Err(missing());
        }
        let row = self.store.survey(slug).await?.ok_or_else(missing)?;
        Ok(StoredSurvey {
            id: row.id,
            survey: Survey::from_row(&self.policy, &row)?,
            created_ms: row.created_ms,
            closed_ms: row.closed_ms,
        })
    }

    /// The survey, if it takes responses today, and today.
    pub(crate) async fn open_survey(&self, slug: &str) -> Result<(StoredSurvey, i64)> {
        let stored = self.survey(slug).await?;
        let day = today();
        if !stored.is_open(day) {
            return Err(CoreError::Conflict {
                code: "survey_closed",
                message: "this survey is not taking responses".into(),
            });
        }
        Ok((stored, day))
    }

    /// Every survey definition, for a role that runs surveys or reads their results; the
    /// listing is ledgered, allowed or denied.
    pub async fn list_surveys(&self, actor: &Actor) -> Result<Vec<StoredSurvey>> {
        let manage = Permission::Surveys(SurveyPermission::Manage);
        if crate::access::permits(&self.policy, &actor.role, manage).is_ok() {
            self.grant_and_ledger(actor, manage, "survey.list").await?;
        } else {
            self.ledger_results_reader(actor, "survey.list").await?;
        }
        self.surveys().await
    }

    pub(crate) async fn surveys(&self) -> Result<Vec<StoredSurvey>> {
        let mut out = Vec::new();
        for row in self.store.surveys().await? {
            out.push(StoredSurvey {
                id: row.id,
                survey: Survey::from_row(&self.policy, &row)?,
                created_ms: row.created_ms,
                closed_ms: row.closed_ms,
            });
        }
        Ok(out)
    }

    pub async fn close_survey(&self, actor: &Actor, slug: &str) -> Result<()> {
        let granted = self.grant_survey_admin(actor, "survey.close").await?;
        let survey = self.survey(slug).await?;
        let event = granted.event();
        let change = Change::CloseSurvey {
            id: survey.id,
            closed_ms: now_ms(),
        };
        match self.ledger.submit(vec![change], vec![event]).await? {
            Ok(()) => Ok(()),
            Err(_) => Err(CoreError::Conflict {
                code: "survey_closed",
                message: "this survey is closed already".into(),
            }),
        }
    }

    /// Stores one anonymous response: nothing about who sent it or when, beyond the day. An
    /// invited survey takes it only with an unused token it signed (its wire form).
    pub async fn respond(&self, slug: &str, raw: &RawAnswers, token: Option<&[u8]>) -> Result<()> {
        let (stored, day) = self.open_survey(slug).await?;
        if stored.survey.definition.mode == Mode::Identified {
            return Err(CoreError::invalid(
                "identified_survey",
                "slug",
                "this survey is linked to the person: answer it signed in, on its page in the privacy center",
            ));
        }
        let answers = parse_answers(&stored.survey, raw)?;
        let mut changes = Vec::with_capacity(2);
        if stored.survey.definition.access == Access::Invited {
            changes.push(self.spend_survey_token(&stored, token).await?);
        }
        changes.push(response_change(&stored, &answers, day));
        match self.ledger.submit(changes, vec![]).await? {
            Ok(()) => Ok(()),
            Err(mamori_store::JobError::Duplicate) if token.is_some() => {
                Err(crate::survey_tokens::token_used())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Aggregates per question, and optionally broken down by the answers to a single-choice
    /// question; every count below k is suppressed and marked.
    pub async fn survey_results(
        &self,
        actor: &Actor,
        slug: &str,
        by: Option<&str>,
    ) -> Result<Value> {
        self.ledger_results_reader(actor, "survey.results").await?;
        self.results_of(slug, by).await
    }

    /// Results without a permission check, for the report (which needs `manage`).
    pub(crate) async fn results_of(&self, slug: &str, by: Option<&str>) -> Result<Value> {
        let stored = self.survey(slug).await?;
        if stored.survey.definition.results == ResultsMode::DifferentialPrivacy {
            return Err(CoreError::Conflict {
                code: "exact_results_withheld",
                message: "this survey's results are released only with differential privacy: see its releases".into(),
            });
        }
        let codes = self.store.survey_codes(&stored.id).await?;
        let mut texts: HashMap<String, Vec<String>> = HashMap::new();
        for row in self.store.survey_texts(&stored.id, TEXTS_SHOWN).await? {
            let Ok(Value::Object(answers)) = serde_json::from_str::<Value>(&row) else {
                continue;
            };
            for (question, text) in answers {
                if let Value::String(text) = text {
                    texts.entry(question).or_default().push(text);
                }
            }
        }
        results(&stored.survey, &codes, &texts, by)
    }
}

/// Free-text answers per page of the listing.
pub const TEXTS_PER_PAGE: i64 = 100;

impl Vault {
    /// One page of the scrubbed free-text answers to `question`, in the order of the responses'
    /// random ids, with the cursor of the next page. Nothing is listed until the question has
    /// at least k answers; a differentially private survey lists none (texts are not noised).
    pub async fn survey_texts(
        &self,
        actor: &Actor,
        slug: &str,
        question: &str,
        after: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Value> {
        self.ledger_results_reader(actor, "survey.texts").await?;
        let stored = self.survey(slug).await?;
        let survey = &stored.survey;
        if survey.definition.results == ResultsMode::DifferentialPrivacy {
            return Err(CoreError::Conflict {
                code: "exact_results_withheld",
                message: "this survey's results are released only with differential privacy; its free text is not listed".into(),
            });
        }
        if survey
            .question(question)
            .is_none_or(|q| q.kind != QuestionKind::Text)
        {
            return Err(CoreError::invalid(
                "invalid_question",
                "question",
                "texts are listed for a free-text question of this survey",
            ));
        }
        let limit = limit.unwrap_or(TEXTS_PER_PAGE);
        if !(1..=1000).contains(&limit) {
            return Err(CoreError::invalid(
                "invalid_limit",
                "limit",
                "limit is 1 to 1000",
            ));
        }
        let after = after
            .map(|a| {
                hex::decode(a)
                    .ok()
                    .and_then(|b| <[u8; 16]>::try_from(b).ok())
                    .ok_or_else(|| {
                        CoreError::invalid(
                            "invalid_cursor",
                            "after",
                            "after is the next cursor of an earlier page",
                        )
                    })
            })
            .transpose()?;
        // Whether the question has k answers, from the coded responses.
        let codec = Codec::new(survey);
        let at = survey
            .definition
            .questions
            .iter()
            .position(|q| q.id == question)
            .map(|i| codec.offsets[i])
            .unwrap_or_default();
        let answered = self
            .store
            .survey_codes(&stored.id)
            .await?
            .iter()
            .filter(|c| c.len() == codec.len && c[at] == 1)
            .count();
        if answered < survey.k as usize {
            return Ok(
                json!({"question": question, "suppressed": true, "texts": [], "next": null}),
            );
        }
        let mut texts = Vec::new();
        let mut last = None;
        let page = self
            .store
            .survey_texts_page(&stored.id, after, limit)
            .await?;
        let full = page.len() as i64 == limit;
        for (id, row) in page {
            last = Some(id);
            if let Ok(Value::Object(answers)) = serde_json::from_str::<Value>(&row)
                && let Some(Value::String(text)) = answers.get(question)
            {
                texts.push(text.clone());
            }
        }
        Ok(json!({
            "question": question,
            "answered": answered,
            "texts": texts,
            "next": if full { last.map(hex::encode) } else { None },
        }))
    }
}

impl Vault {
    /// Stores a signed-in person's answers to an identified survey as a record of theirs (the
    /// access decision needs their consent to the survey's purpose; ledgered as
    /// `record.create`), with the coded form, unlinked and without free text, for the counts.
    pub async fn respond_identified(
        &self,
        actor: &Actor,
        subject: &[u8; 16],
        slug: &str,
        raw: &RawAnswers,
    ) -> Result<String> {
        let (stored, day) = self.open_survey(slug).await?;
        let definition = &stored.survey.definition;
        let purpose = match (definition.mode, definition.purpose.as_deref()) {
            (Mode::Identified, Some(p)) => self.policy.purpose(p),
            _ => None,
        }
        .ok_or_else(|| {
            CoreError::invalid(
                "not_identified_survey",
                "slug",
                "this survey is anonymous: answer it without signing in",
            )
        })?;
        let category = answers_category(&self.policy, purpose)
            .ok_or_else(|| CoreError::Internal("an identified survey lost its category".into()))?;
        let answers = parse_answers(&stored.survey, raw)?;
        let data = std::collections::BTreeMap::from([
            ("survey".to_string(), json!(slug)),
            ("answers".to_string(), json!(answers.to_string())),
        ]);
        // Counted like any response, but the unlinked copy keeps neither answers nor texts:
        // those live only in the person's record, so erasing it takes them away.
        let Change::InsertSurveyResponse {
            id,
            survey_id,
            coded,
            ..
        } = response_change(&stored, &answers, day)
        else {
            return Err(CoreError::Internal("not a response".into()));
        };
        let counted = Change::InsertSurveyResponse {
            id,
            survey_id,
            day,
            answers: "{}".into(),
            coded,
            texts: None,
        };
        let once = Change::MarkSurveyParticipant {
            survey_id: stored.id,
            subject_id: *subject,
        };
        match self
            .add_record_with(
                actor,
                &purpose.name,
                subject,
                &category.name,
                &data,
                vec![counted, once],
            )
            .await
        {
            Err(CoreError::Conflict {
                code: "duplicate", ..
            }) => Err(CoreError::Conflict {
                code: "already_answered",
                message: "you have answered this survey already; your answers are in My data"
                    .into(),
            }),
            other => other,
        }
    }
}

/// The change that stores checked `answers` (from [`parse_answers`]) as one response.
pub fn response_change(stored: &StoredSurvey, answers: &Value, day: i64) -> Change {
    let survey = &stored.survey;
    let texts: serde_json::Map<String, Value> = survey
        .definition
        .questions
        .iter()
        .filter(|q| q.kind == QuestionKind::Text)
        .filter_map(|q| answers.get(&q.id).map(|v| (q.id.clone(), v.clone())))
        .collect();
    Change::InsertSurveyResponse {
        // Random, unlike the time-ordered ids elsewhere: the key must not date the response.
        id: *uuid::Uuid::new_v4().as_bytes(),
        survey_id: stored.id,
        day,
        answers: answers.to_string(),
        coded: Codec::new(survey).encode(survey, answers),
        texts: (!texts.is_empty()).then(|| Value::Object(texts).to_string()),
    }
}

/// A count, or `null` with `suppressed: true` when below k.
fn cell(count: usize, k: u32) -> Value {
    if count >= k as usize {
        json!({"count": count})
    } else {
        json!({"count": null, "suppressed": true})
    }
}

/// No answer, in a one-byte code.
const NO_ANSWER: u8 = 255;
/// Free-text answers shown with the results: a sample, in the order of the random ids.
pub const TEXTS_SHOWN: i64 = 100;

/// Where each question's code sits in a coded response, so results count bytes instead of
/// parsing JSON: one byte for a rating, an NPS value, a single choice (its index) or whether a
/// text was given; four bytes, a bitmask of choices, for a multiple choice. 255 (or an empty
/// mask) means no answer. A survey's questions never change, so neither do the positions.
pub struct Codec {
    pub(crate) offsets: Vec<usize>,
    pub(crate) len: usize,
}

impl Codec {
    pub fn new(survey: &Survey) -> Codec {
        let mut offsets = Vec::new();
        let mut len = 0;
        for q in &survey.definition.questions {
            offsets.push(len);
            len += if q.kind == QuestionKind::Multiple {
                4
            } else {
                1
            };
        }
        Codec { offsets, len }
    }

    /// Codes checked answers (from [`parse_answers`]).
    pub fn encode(&self, survey: &Survey, answers: &Value) -> Vec<u8> {
        let mut out = vec![NO_ANSWER; self.len];
        for (i, q) in survey.definition.questions.iter().enumerate() {
            let at = self.offsets[i];
            let given = answers.get(&q.id);
            match q.kind {
                QuestionKind::Rating | QuestionKind::Nps => {
                    if let Some(v) = given.and_then(Value::as_u64) {
                        out[at] = v as u8;
                    }
                }
                QuestionKind::Single => {
                    if let Some(c) = given
                        .and_then(Value::as_str)
                        .and_then(|v| q.choices.iter().position(|c| c.id == v))
                    {
                        out[at] = c as u8;
                    }
                }
                QuestionKind::Multiple => {
                    let mask =
                        given
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .fold(0u32, |m, v| {
                                let bit = v
                                    .as_str()
                                    .and_then(|v| q.choices.iter().position(|c| c.id == v));
                                bit.map_or(m, |b| m | (1 << b))
                            });
                    out[at..at + 4].copy_from_slice(&mask.to_le_bytes());
                }
                QuestionKind::Text => out[at] = u8::from(given.is_some()),
            }
        }
        out
    }
}

/// Counts for one question over some responses.
#[derive(Clone)]
pub(crate) struct Tally {
    pub(crate) answered: usize,
    /// Per rating value (from the scale's bottom) or per choice.
    pub(crate) counts: Vec<usize>,
    pub(crate) sum: i64,
}

pub(crate) fn scale(kind: QuestionKind) -> (i64, i64) {
    if kind == QuestionKind::Rating {
        (1, 5)
    } else {
        (0, 10)
    }
}

pub(crate) fn empty_tallies(survey: &Survey) -> Vec<Tally> {
    survey
        .definition
        .questions
        .iter()
        .map(|q| {
            let slots = match q.kind {
                QuestionKind::Rating | QuestionKind::Nps => {
                    let (min, max) = scale(q.kind);
                    (max - min + 1) as usize
                }
                _ => q.choices.len(),
            };
            Tally {
                answered: 0,
                counts: vec![0; slots],
                sum: 0,
            }
        })
        .collect()
}

pub(crate) fn count(survey: &Survey, codec: &Codec, code: &[u8], tallies: &mut [Tally]) {
    for (i, q) in survey.definition.questions.iter().enumerate() {
        let at = codec.offsets[i];
        let t = &mut tallies[i];
        match q.kind {
            QuestionKind::Rating | QuestionKind::Nps => {
                let (min, max) = scale(q.kind);
                let v = i64::from(code[at]);
                if (min..=max).contains(&v) {
                    t.answered += 1;
                    t.counts[(v - min) as usize] += 1;
                    t.sum += v;
                }
            }
            QuestionKind::Single => {
                if let Some(c) = t.counts.get_mut(code[at] as usize) {
                    *c += 1;
                    t.answered += 1;
                }
            }
            QuestionKind::Multiple => {
                let mask = u32::from_le_bytes([code[at], code[at + 1], code[at + 2], code[at + 3]]);
                if mask != 0 {
                    t.answered += 1;
                    for (b, c) in t.counts.iter_mut().enumerate() {
                        *c += ((mask >> b) & 1) as usize;
                    }
                }
            }
            QuestionKind::Text => t.answered += usize::from(code[at] == 1),
        }
    }
}

fn question_summary(q: &Question, t: &Tally, k: u32, texts: Option<&[String]>) -> Value {
    let mut out = json!({"id": q.id, "kind": q.kind, "answered": t.answered});
    if t.answered < k as usize {
        out["suppressed"] = json!(true);
        out["answered"] = Value::Null;
        return out;
    }
    match q.kind {
        QuestionKind::Rating | QuestionKind::Nps => {
            let (min, _) = scale(q.kind);
            let histogram: Vec<Value> = t
                .counts
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let mut c = cell(*n, k);
                    c["value"] = json!(min + i as i64);
                    c
                })
                .collect();
            out["mean"] = json!(t.sum as f64 / t.answered as f64);
            out["histogram"] = json!(histogram);
            if q.kind == QuestionKind::Nps {
                let promoters: usize = t.counts[9..].iter().sum();
                let detractors: usize = t.counts[..7].iter().sum();
                out["nps"] = json!(
                    ((promoters as f64 - detractors as f64) * 100.0 / t.answered as f64).round()
                );
            }
        }
        QuestionKind::Single | QuestionKind::Multiple => {
            let choices: Vec<Value> = q
                .choices
                .iter()
                .zip(&t.counts)
                .map(|(c, n)| {
                    let mut out = cell(*n, k);
                    out["choice"] = json!(c.id);
                    out
                })
                .collect();
            out["choices"] = json!(choices);
        }
        QuestionKind::Text => {
            // Scrubbed before they were stored; a sample in the order of the random ids.
            out["texts"] = json!(texts.unwrap_or_default());
        }
    }
    out
}

/// Results from coded responses (and a sample of texts per text question, by question id).
pub fn results(
    survey: &Survey,
    codes: &[Vec<u8>],
    texts: &HashMap<String, Vec<String>>,
    by: Option<&str>,
) -> Result<Value> {
    let k = survey.k;
    // A bad breakdown is refused whether or not there is anything to show yet.
    let group = by
        .map(|by| {
            survey
                .definition
                .questions
                .iter()
                .position(|q| q.id == by && q.kind == QuestionKind::Single)
                .ok_or_else(|| {
                    CoreError::invalid(
                        "invalid_breakdown",
                        "by",
                        "a breakdown is by a single-choice question of this survey",
                    )
                })
        })
        .transpose()?;
    let codec = Codec::new(survey);
    let total = codes.len();
    let mut out = json!({
        "slug": survey.definition.slug,
        "k": k,
        "responses": if total >= k as usize { json!(total) } else { Value::Null },
    });
    if total < k as usize {
        out["suppressed"] = json!(true);
        out["questions"] = json!([]);
        return Ok(out);
    }
    let questions = &survey.definition.questions;
    let mut overall = empty_tallies(survey);
    let mut groups = group.map(|g| vec![empty_tallies(survey); questions[g].choices.len()]);
    for code in codes.iter().filter(|c| c.len() == codec.len) {
        count(survey, &codec, code, &mut overall);
        if let (Some(g), Some(groups)) = (group, groups.as_mut())
            && let Some(tallies) = groups.get_mut(code[codec.offsets[g]] as usize)
        {
            count(survey, &codec, code, tallies);
        }
    }
    out["questions"] = json!(
        questions
            .iter()
            .zip(&overall)
            .map(|(q, t)| question_summary(q, t, k, texts.get(&q.id).map(Vec::as_slice)))
            .collect::<Vec<_>>()
    );
    if let (Some(g), Some(groups)) = (group, groups) {
        let by = &questions[g];
        let groups: Vec<Value> = by
            .choices
            .iter()
            .zip(&groups)
            .zip(&overall[g].counts)
            .map(|((c, tallies), members)| {
                let mut out = cell(*members, k);
                out["choice"] = json!(c.id);
                if *members >= k as usize {
                    // Free text is never broken down: it could tell who is in a small group.
                    out["questions"] = json!(
                        questions
                            .iter()
                            .zip(tallies)
                            .filter(|(q, _)| q.id != by.id && q.kind != QuestionKind::Text)
                            .map(|(q, t)| question_summary(q, t, k, None))
                            .collect::<Vec<_>>()
                    );
                }
                out
            })
            .collect();
        out["breakdown"] = json!({"by": by.id, "groups": groups});
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn survey() -> Survey {
        let policy =
            Policy::parse("policy.toml", include_str!("../../../examples/policy.toml")).unwrap();
        Survey::from_toml(&policy, include_str!("../../../examples/survey.toml")).unwrap()
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
        assert_eq!(e.code(), "answer_required");
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
            let v = results(&s, &codes, &HashMap::new(), Some("clear")).unwrap();
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
