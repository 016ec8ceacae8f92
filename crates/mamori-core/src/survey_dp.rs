//! Differentially private survey results: each release answers every question with noise
//! (OpenDP, through `mamori-dp`) and spends part of the survey's ε budget; when the budget is
//! spent, releases stop. Released results are kept, so reading them again spends nothing.
//!
//! Queries and their sensitivities, for one response added or removed:
//! * the number of responses: 1;
//! * a rating, NPS or single-choice histogram: 1 (a response lands in one cell);
//! * a rating's or NPS's sum: the scale's top (a response adds at most that);
//! * a multiple-choice histogram: the number of choices; its answered count: 1;
//! * a text question's answered count: 1 (the texts themselves are never released).
//!
//! Everything else — answered counts of histogram questions, means, NPS, clamping at zero — is
//! computed from the noisy answers (post-processing, which costs no privacy).

use mamori_dp::Query;
use mamori_proto::ErrorCode;
use mamori_proto::surveys::{
    BudgetBody, NoisyCell, NoisyQuestion, NoisyResults, Release, ReleaseMade, Releases,
};
use mamori_store::{Change, JobError, SurveyReleaseRow};

use crate::surveys::{
    Codec, DEFAULT_EPSILON_BUDGET, QuestionKind, ResultsMode, StoredSurvey, Survey, count,
    empty_tallies, scale,
};
use crate::{Actor, CoreError, Result, Vault, format_id, format_time, new_id};

const MICRO: f64 = 1_000_000.0;

/// A survey's ε budget and what its releases have spent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub total: f64,
    pub spent: f64,
}

impl Budget {
    pub fn remaining(&self) -> f64 {
        (self.total - self.spent).max(0.0)
    }

    pub fn body(self) -> BudgetBody {
        let round = |e: f64| (e * MICRO).round() / MICRO;
        BudgetBody {
            epsilon_total: round(self.total),
            epsilon_spent: round(self.spent),
            epsilon_remaining: round(self.remaining()),
        }
    }
}

fn micro(epsilon: f64) -> i64 {
    (epsilon * MICRO).ceil() as i64
}

fn not_private(survey: &Survey) -> Option<CoreError> {
    (survey.definition.results != ResultsMode::DifferentialPrivacy).then(|| {
        CoreError::invalid(
            ErrorCode::NotDifferentiallyPrivate,
            "slug",
            "this survey shows exact results (with small groups hidden); releases are for surveys with results = \"differential_privacy\"",
        )
    })
}

fn invalid_epsilon() -> CoreError {
    CoreError::invalid(
        ErrorCode::InvalidEpsilon,
        "epsilon",
        format!(
            "epsilon is a number above 0 and at most {}",
            mamori_dp::MAX_RELEASE_EPSILON
        ),
    )
}

fn budget_total(survey: &Survey) -> f64 {
    survey
        .definition
        .epsilon_budget
        .unwrap_or(DEFAULT_EPSILON_BUDGET)
}

/// The counts a release noises, in order: the number of responses, then per question its
/// histogram and sum (ratings), choice counts (and how many answered, for multiple choice), or
/// how many answered (free text); each with how much one person can change it.
fn queries_of(survey: &Survey, tallies: &[crate::surveys::Tally], total: i64) -> Vec<Query> {
    let to_i64 = |v: &[usize]| v.iter().map(|n| *n as i64).collect::<Vec<_>>();
    let query = |values: Vec<i64>, sensitivity: i64| Query {
        values,
        sensitivity,
    };
    let mut queries = vec![query(vec![total], 1)];
    for (q, t) in survey.definition.questions.iter().zip(tallies) {
        match q.kind {
            QuestionKind::Rating | QuestionKind::Nps => {
                queries.push(query(to_i64(&t.counts), 1));
                queries.push(query(vec![t.sum], scale(q.kind).1));
            }
            QuestionKind::Single => queries.push(query(to_i64(&t.counts), 1)),
            QuestionKind::Multiple => {
                queries.push(query(to_i64(&t.counts), q.choices.len() as i64));
                queries.push(query(vec![t.answered as i64], 1));
            }
            QuestionKind::Text => queries.push(query(vec![t.answered as i64], 1)),
        }
    }
    queries
}

/// A rating or NPS question's released histogram, with the mean (kept within the scale) and,
/// for NPS, the score.
fn rating_summary(out: &mut NoisyQuestion, histogram: &[i64], sum: i64) {
    let (min, max) = scale(out.kind);
    let answered: i64 = histogram.iter().sum();
    out.answered = answered;
    let cells = (histogram.iter().enumerate())
        .map(|(i, n)| NoisyCell {
            value: Some(min + i as i64),
            choice: None,
            count: *n,
        })
        .collect();
    out.histogram = Some(cells);
    if answered > 0 {
        let mean = (sum as f64 / answered as f64).clamp(min as f64, max as f64);
        out.mean = Some((mean * 100.0).round() / 100.0);
    }
    if out.kind == QuestionKind::Nps && answered > 0 {
        let promoters: i64 = histogram[9..].iter().sum();
        let detractors: i64 = histogram[..7].iter().sum();
        out.nps = Some(((promoters - detractors) as f64 * 100.0 / answered as f64).round());
    }
}

/// One release's noisy results, from coded responses; returns them with the ε spent.
pub fn noisy_results(
    survey: &Survey,
    codes: &[Vec<u8>],
    epsilon: f64,
) -> Result<(NoisyResults, f64)> {
    let codec = Codec::new(survey);
    let mut tallies = empty_tallies(survey);
    let mut total = 0i64;
    for code in codes.iter().filter(|c| c.len() == codec.len) {
        count(survey, &codec, code, &mut tallies);
        total += 1;
    }
    let questions = &survey.definition.questions;
    let queries = queries_of(survey, &tallies, total);
    let n_queries = queries.len();
    let release = mamori_dp::release(&queries, epsilon).map_err(|e| match e {
        mamori_dp::DpError::InvalidEpsilon => invalid_epsilon(),
        other => CoreError::Internal(other.to_string()),
    })?;
    // A 95% margin: the discrete Laplace noise exceeds scale · ln 20 in size one time in twenty.
    let margin = |sensitivity: i64| {
        (mamori_dp::scale(sensitivity, n_queries, epsilon) * 20f64.ln()).ceil() as i64
    };
    let mut noisy = release.values.into_iter();
    let mut next = || noisy.next().unwrap_or_default();
    // A one-value query's answer (every query here has at least one value).
    let one = |v: Vec<i64>| v.first().copied().unwrap_or(0);
    let clamp = |v: Vec<i64>| v.into_iter().map(|n| n.max(0)).collect::<Vec<_>>();
    let responses = one(next()).max(0);
    let mut out_questions = Vec::new();
    for q in questions {
        let mut out = NoisyQuestion {
            id: q.id.clone(),
            kind: q.kind,
            answered: 0,
            histogram: None,
            mean: None,
            nps: None,
            choices: None,
            margin_95: margin(1),
        };
        match q.kind {
            QuestionKind::Rating | QuestionKind::Nps => {
                let histogram = clamp(next());
                let sum = one(next());
                rating_summary(&mut out, &histogram, sum);
            }
            QuestionKind::Single | QuestionKind::Multiple => {
                let counts = clamp(next());
                let choices = (q.choices.iter().zip(&counts))
                    .map(|(c, n)| NoisyCell {
                        value: None,
                        choice: Some(c.id.clone()),
                        count: *n,
                    })
                    .collect();
                out.choices = Some(choices);
                if q.kind == QuestionKind::Multiple {
                    out.answered = one(next()).max(0);
                    out.margin_95 = margin(q.choices.len() as i64);
                } else {
                    out.answered = counts.iter().sum::<i64>();
                }
            }
            QuestionKind::Text => out.answered = one(next()).max(0),
        }
        out_questions.push(out);
    }
    Ok((
        NoisyResults {
            slug: survey.definition.slug.clone(),
            responses,
            responses_margin_95: margin(1),
            questions: out_questions,
        },
        release.epsilon_spent,
    ))
}

impl Vault {
    /// The ε budget of a differentially private survey and what its releases spent.
    pub async fn survey_budget(&self, stored: &StoredSurvey) -> Result<Budget> {
        let releases = self.store.survey_releases(&stored.id).await?;
        Ok(Budget {
            total: budget_total(&stored.survey),
            spent: releases.iter().map(|r| r.epsilon_micro).sum::<i64>() as f64 / MICRO,
        })
    }

    /// Makes a release spending `epsilon` of the survey's budget; refused, changing nothing,
    /// when the budget has less left.
    pub async fn release_survey_results(
        &self,
        actor: &Actor,
        slug: &str,
        epsilon: f64,
    ) -> Result<ReleaseMade> {
        let granted = self.grant_survey_admin(actor, "survey.release").await?;
        let stored = self.survey(slug).await?;
        if let Some(e) = not_private(&stored.survey) {
            return Err(e);
        }
        if !(epsilon.is_finite() && epsilon > 0.0 && epsilon <= mamori_dp::MAX_RELEASE_EPSILON) {
            return Err(invalid_epsilon());
        }
        let budget = self.survey_budget(&stored).await?;
        let exhausted = |budget: Budget| CoreError::Conflict {
            code: ErrorCode::BudgetExhausted,
            message: format!(
                "this release would spend ε = {epsilon}, but only ε = {:.6} of the survey's {} is left",
                budget.remaining(),
                budget.total
            ),
        };
        if micro(epsilon) > micro(budget.total) - micro(budget.spent) {
            return Err(exhausted(budget));
        }
        let codes = self.store.survey_codes(&stored.id).await?;
        // Too few answers: refused before any ε is spent.
        let least = stored
            .survey
            .definition
            .min_responses
            .unwrap_or(stored.survey.k);
        if (codes.len() as u64) < u64::from(least) {
            return Err(CoreError::Conflict {
                code: ErrorCode::TooFewResponses,
                message: format!(
                    "a release waits for at least {least} responses (min_responses); nothing was spent"
                ),
            });
        }
        let survey = stored.survey.clone();
        let (result, spent) =
            tokio::task::spawn_blocking(move || noisy_results(&survey, &codes, epsilon))
                .await
                .map_err(|e| CoreError::Internal(e.to_string()))??;
        let row = SurveyReleaseRow {
            id: new_id(),
            survey_id: stored.id,
            created_ms: self.now_ms(),
            actor: actor.id.clone(),
            epsilon_micro: micro(spent),
            result: serde_json::to_string(&result)
                .map_err(|e| CoreError::Internal(e.to_string()))?,
        };
        let change = Change::InsertSurveyRelease {
            release: row.clone(),
            budget_micro: micro(budget.total),
        };
        let event = granted.event();
        match self.ledger.submit(vec![change], vec![event]).await? {
            Ok(()) => {}
            // Another release spent the budget meanwhile.
            Err(JobError::Gone) => return Err(exhausted(self.survey_budget(&stored).await?)),
            Err(e) => return Err(e.into()),
        }
        Ok(ReleaseMade {
            release: release_view(&row)?,
            budget: self.survey_budget(&stored).await?.body(),
        })
    }

    /// Every release so far, and the budget.
    pub async fn survey_releases(&self, actor: &Actor, slug: &str) -> Result<Releases> {
        self.ledger_results_reader(actor, "survey.releases").await?;
        let stored = self.survey(slug).await?;
        if let Some(e) = not_private(&stored.survey) {
            return Err(e);
        }
        let budget = self.survey_budget(&stored).await?;
        let releases = (self.store.survey_releases(&stored.id).await?.iter())
            .map(release_view)
            .collect::<Result<_>>()?;
        Ok(Releases {
            budget: budget.body(),
            releases,
        })
    }
}

/// A stored release as shown: its numbers as they were released, never recomputed.
fn release_view(row: &SurveyReleaseRow) -> Result<Release> {
    Ok(Release {
        id: format_id(&row.id),
        created_at: format_time(row.created_ms),
        epsilon: row.epsilon_micro as f64 / MICRO,
        results: serde_json::from_str(&row.result).map_err(|_| CoreError::Integrity)?,
    })
}
