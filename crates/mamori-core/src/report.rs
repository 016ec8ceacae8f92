//! The privacy officer's report: where the privacy programme stands, on one page — open and
//! overdue requests, the surveys running, what customers say about how their data is used (the
//! built-in survey, with every group below k still hidden), and the ledger's signed head.
//!
//! Aggregates only: no subject, no free text. Reading it is ledgered like every admin action.

use mamori_ledger::b64;
use mamori_proto::RequestKind;
use mamori_proto::reports::{
    HoldsSummary, InvitationCounts, KindCount, LedgerSummary, PrivacyReport, ReasonCount,
    RequestsSummary, Sentiment, SentimentQuestion, SignedHead, SurveyStatus,
};
use mamori_proto::surveys::{QuestionKind, SurveyResults};

use crate::surveys::{Access, ResultsMode};
use crate::{Actor, Result, Vault, format_time};

/// The survey `mamori demo` creates from `examples/survey.toml`, whose results feed the report.
pub const BUILTIN_SURVEY_SLUG: &str = "how-we-use-your-data";

impl Vault {
    /// The report, for a role that may work privacy requests (the privacy officer).
    pub async fn privacy_report(&self, actor: &Actor) -> Result<PrivacyReport> {
        let granted = self.grant_survey_admin(actor, "report.read").await?;
        let now = self.now_ms();
        // One aggregate over the open queue: exact counts without reading every request.
        let queue = self.store.open_requests_by_kind(now).await?;
        let requests = RequestsSummary {
            open: queue.iter().map(|k| k.open as u64).sum(),
            overdue: queue.iter().map(|k| k.overdue as u64).sum(),
            soonest_due: queue
                .iter()
                .filter_map(|k| k.soonest_due_ms)
                .min()
                .map(format_time),
            by_kind: (queue.iter())
                .filter_map(|k| {
                    Some(KindCount {
                        kind: RequestKind::parse(&k.kind)?,
                        open: k.open as u64,
                        overdue: k.overdue as u64,
                    })
                })
                .collect(),
        };
        let waiting: u64 = queue.iter().map(|k| k.waiting as u64).sum();
        let report = PrivacyReport {
            generated_at: format_time(now),
            requests,
            legal_holds: self.holds_summary(waiting).await?,
            customer_sentiment: self.sentiment().await?,
            surveys: self.survey_statuses().await?,
            policy_version: self.store.latest_policy_version().await?.map(|(v, _)| v),
            ledger: self.store.latest_head().await?.map(|h| LedgerSummary {
                size: h.head.size,
                signed_head: SignedHead {
                    size: h.head.size,
                    timestamp_ms: h.head.timestamp_ms,
                    root: b64::encode(&h.head.root),
                    signature: b64::encode(&h.signature),
                },
            }),
        };
        let event = granted.event();
        self.ledger.submit(vec![], vec![event]).await??;
        Ok(report)
    }

    /// The holds in force, counted by kind and reason, and the erasures they keep waiting.
    async fn holds_summary(&self, waiting_erasures: u64) -> Result<HoldsSummary> {
        let rows = self.store.legal_holds(self.now_ms()).await?;
        let mut by_reason = std::collections::BTreeMap::<&str, u64>::new();
        for r in &rows {
            *by_reason.entry(r.reason.as_str()).or_default() += 1;
        }
        let mut categories: Vec<String> = (rows.iter())
            .filter(|r| r.subject_id.is_none())
            .filter_map(|r| r.category.clone())
            .collect();
        categories.sort();
        categories.dedup();
        Ok(HoldsSummary {
            in_force: rows.len() as u64,
            on_people: rows.iter().filter(|r| r.subject_id.is_some()).count() as u64,
            categories,
            by_reason: (by_reason.into_iter())
                .filter_map(|(reason, holds)| {
                    let reason = mamori_proto::holds::HoldReason::parse(reason)?;
                    Some(ReasonCount { reason, holds })
                })
                .collect(),
            soonest_end: rows
                .iter()
                .filter_map(|r| r.until_ms)
                .min()
                .map(format_time),
            waiting_erasures,
        })
    }

    /// Every survey: open or not, how it is answered and counted, invitations and ε budget.
    async fn survey_statuses(&self) -> Result<Vec<SurveyStatus>> {
        let mut surveys = Vec::new();
        for s in self.surveys().await? {
            let d = &s.survey.definition;
            let invitations = match d.access {
                Access::Invited => {
                    let (sent, tokens_issued) = self.survey_invitation_counts(&s).await?;
                    Some(InvitationCounts {
                        sent,
                        tokens_issued,
                    })
                }
                Access::Open => None,
            };
            let privacy_budget = match d.results {
                ResultsMode::DifferentialPrivacy => Some(self.survey_budget(&s).await?.body()),
                ResultsMode::Exact => None,
            };
            surveys.push(SurveyStatus {
                slug: d.slug.clone(),
                open: s.is_open(self.today()),
                access: d.access,
                results: d.results,
                invitations,
                privacy_budget,
            });
        }
        Ok(surveys)
    }

    /// What the built-in survey says, if it exists and shows exact results.
    async fn sentiment(&self) -> Result<Sentiment> {
        let unavailable = |why: Option<&str>| Sentiment {
            available: false,
            why: why.map(str::to_string),
            survey: None,
            k: None,
            responses: None,
            questions: None,
        };
        if self.store.survey(BUILTIN_SURVEY_SLUG).await?.is_none() {
            return Ok(unavailable(Some(
                "the built-in survey has not been created (mamori survey create examples/survey.toml)",
            )));
        }
        Ok(match self.results_of(BUILTIN_SURVEY_SLUG, None).await {
            Ok(results) => sentiment(results),
            Err(_) => unavailable(None),
        })
    }
}

/// What the built-in survey says, from its k-suppressed results: each rating's mean and each
/// choice's count where shown, choices ranked; never the free text.
fn sentiment(results: SurveyResults) -> Sentiment {
    let questions = (results.questions.into_iter())
        .filter(|q| q.kind != QuestionKind::Text)
        .map(|q| SentimentQuestion {
            id: q.id,
            kind: q.kind,
            answered: q.answered,
            suppressed: q.suppressed,
            mean: q.mean,
            choices: q.choices.map(|mut ranked| {
                ranked.sort_by_key(|c| std::cmp::Reverse(c.count.unwrap_or(0)));
                ranked
            }),
        })
        .collect();
    Sentiment {
        available: true,
        why: None,
        survey: Some(BUILTIN_SURVEY_SLUG.to_string()),
        k: Some(results.k),
        responses: results.responses,
        questions: Some(questions),
    }
}

/// The report as Markdown, for `mamori report`.
pub fn to_markdown(report: &PrivacyReport) -> String {
    let r = &report.requests;
    let mut md = format!(
        "# Privacy report\n\nGenerated {}.\n\n## Requests\n\n- Open: {}\n- Overdue: {}\n",
        report.generated_at, r.open, r.overdue,
    );
    if let Some(due) = &r.soonest_due {
        md.push_str(&format!("- Soonest due: {due}\n"));
    }
    for k in &r.by_kind {
        md.push_str(&format!(
            "  - {}: {} open, {} overdue\n",
            k.kind, k.open, k.overdue
        ));
    }
    holds_markdown(&report.legal_holds, &mut md);
    md.push_str("\n## What customers say about how we use their data\n\n");
    sentiment_markdown(&report.customer_sentiment, &mut md);
    md.push_str("\n## Surveys\n\n");
    for v in &report.surveys {
        md.push_str(&format!(
            "- {} ({}, {}, results {})\n",
            v.slug,
            if v.open { "open" } else { "closed" },
            v.access,
            v.results,
        ));
    }
    md.push_str("\n## Ledger\n\n");
    match &report.ledger {
        Some(l) => md.push_str(&format!(
            "{} events; signed head root {}.\n",
            l.size, l.signed_head.root
        )),
        None => md.push_str("No signed head yet.\n"),
    }
    md
}

fn holds_markdown(h: &HoldsSummary, md: &mut String) {
    md.push_str(&format!(
        "\n## Legal holds\n\n- In force: {} ({} on people)\n- Erasure requests waiting for a hold: {}\n",
        h.in_force, h.on_people, h.waiting_erasures
    ));
    if !h.categories.is_empty() {
        let held = h.categories.join(", ");
        md.push_str(&format!("- Categories held for everyone: {held}\n"));
    }
    for r in &h.by_reason {
        md.push_str(&format!("  - {}: {}\n", r.reason, r.holds));
    }
    if let Some(end) = &h.soonest_end {
        md.push_str(&format!("- Soonest end: {end}\n"));
    }
}

fn sentiment_markdown(s: &Sentiment, md: &mut String) {
    if !s.available {
        md.push_str("Not available: ");
        md.push_str(s.why.as_deref().unwrap_or("no results yet"));
        md.push('\n');
        return;
    }
    let Some(responses) = s.responses else {
        md.push_str(&format!(
            "Fewer than {} responses so far: nothing is shown until there are.\n",
            s.k.unwrap_or_default()
        ));
        return;
    };
    md.push_str(&format!("{responses} responses.\n\n"));
    for q in s.questions.iter().flatten() {
        let id = &q.id;
        if q.suppressed {
            md.push_str(&format!("- {id}: too few answers to show\n"));
        } else if let Some(mean) = q.mean {
            md.push_str(&format!(
                "- {id}: mean {mean:.2} ({} answers)\n",
                q.answered.unwrap_or_default()
            ));
        } else {
            let shown: Vec<String> = (q.choices.iter().flatten())
                .map(|c| {
                    let choice = c.choice.as_deref().unwrap_or("");
                    match c.count {
                        Some(n) => format!("{choice} {n}"),
                        None => format!("{choice} (hidden)"),
                    }
                })
                .collect();
            md.push_str(&format!("- {id}: {}\n", shown.join(", ")));
        }
    }
}
