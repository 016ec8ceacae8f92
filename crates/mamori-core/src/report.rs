//! The privacy officer's report: where the privacy programme stands, on one page — open and
//! overdue requests, the surveys running, what customers say about how their data is used (the
//! built-in survey, with every group below k still hidden), and the ledger's signed head.
//!
//! Aggregates only: no subject, no free text. Reading it is ledgered like every admin action.

use mamori_store::RequestFilter;
use serde_json::{Value, json};

use crate::surveys::{Access, ResultsMode};
use crate::{Actor, Result, Vault, format_time};

/// The survey `mamori demo` creates from `examples/survey.toml`, whose results feed the report.
pub const BUILTIN_SURVEY_SLUG: &str = "how-we-use-your-data";

/// Open requests counted for the report (the queue is paged beyond that).
const REQUESTS_COUNTED: i64 = 100_000;

impl Vault {
    /// The report, for a role that may work privacy requests (the privacy officer).
    pub async fn privacy_report(&self, actor: &Actor) -> Result<Value> {
        let granted = self.grant_survey_admin(actor, "report.read").await?;
        let now = self.now_ms();
        let open = self
            .store
            .requests(&RequestFilter {
                state: None,
                due_before: None,
                after: None,
                subject: None,
                reference: None,
                limit: REQUESTS_COUNTED,
            })
            .await?;
        let mut by_kind = std::collections::BTreeMap::<String, (u64, u64)>::new();
        for r in &open {
            let entry = by_kind.entry(r.kind.as_str().to_string()).or_default();
            entry.0 += 1;
            entry.1 += u64::from(r.due_ms < now);
        }
        let soonest = open.iter().map(|r| r.due_ms).min();
        let mut surveys = Vec::new();
        for s in self.surveys().await? {
            let mut v = json!({
                "slug": s.survey.definition.slug,
                "open": s.is_open(self.today()),
                "access": s.survey.definition.access,
                "results": s.survey.definition.results,
            });
            if s.survey.definition.access == Access::Invited {
                let (sent, issued) = self.survey_invitation_counts(&s).await?;
                v["invitations"] = json!({"sent": sent, "tokens_issued": issued});
            }
            if s.survey.definition.results == ResultsMode::DifferentialPrivacy {
                v["privacy_budget"] = self.survey_budget(&s).await?.to_json();
            }
            surveys.push(v);
        }
        let sentiment = match self.store.survey(BUILTIN_SURVEY_SLUG).await? {
            Some(_) => match self.results_of(BUILTIN_SURVEY_SLUG, None).await {
                Ok(results) => sentiment(&results),
                Err(_) => json!({"available": false}),
            },
            None => {
                json!({"available": false, "why": "the built-in survey has not been created (mamori survey create examples/survey.toml)"})
            }
        };
        let head = self.store.latest_head().await?;
        let policy = self.store.latest_policy_version().await?;
        let report = json!({
            "generated_at": format_time(now),
            "requests": {
                "open": open.len(),
                "overdue": by_kind.values().map(|(_, late)| late).sum::<u64>(),
                "soonest_due": soonest.map(format_time),
                "by_kind": by_kind.iter().map(|(kind, (n, late))| json!({"kind": kind, "open": n, "overdue": late})).collect::<Vec<_>>(),
            },
            "customer_sentiment": sentiment,
            "surveys": surveys,
            "policy_version": policy.map(|(v, _)| v),
            "ledger": head.map(|h| json!({"size": h.head.size, "signed_head": h})),
        });
        let event = granted.event();
        self.ledger.submit(vec![], vec![event]).await??;
        Ok(report)
    }
}

/// What the built-in survey says, from its k-suppressed results: each rating's mean and each
/// choice's count where shown, choices ranked; never the free text.
fn sentiment(results: &Value) -> Value {
    let questions: Vec<Value> = results["questions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|q| q["kind"] != "text")
        .map(|q| {
            let mut out = json!({"id": q["id"], "kind": q["kind"], "answered": q["answered"]});
            if q.get("suppressed").is_some() {
                out["suppressed"] = json!(true);
            }
            if let Some(mean) = q.get("mean") {
                out["mean"] = mean.clone();
            }
            if let Some(choices) = q["choices"].as_array() {
                let mut ranked: Vec<Value> = choices.clone();
                ranked.sort_by_key(|c| std::cmp::Reverse(c["count"].as_u64().unwrap_or(0)));
                out["choices"] = json!(ranked);
            }
            out
        })
        .collect();
    json!({
        "available": true,
        "survey": BUILTIN_SURVEY_SLUG,
        "responses": results["responses"],
        "k": results["k"],
        "questions": questions,
    })
}

/// The report as Markdown, for `mamori report`.
pub fn to_markdown(report: &Value) -> String {
    let mut md = format!(
        "# Privacy report\n\nGenerated {}.\n\n## Requests\n\n- Open: {}\n- Overdue: {}\n",
        report["generated_at"].as_str().unwrap_or(""),
        report["requests"]["open"],
        report["requests"]["overdue"],
    );
    if let Some(due) = report["requests"]["soonest_due"].as_str() {
        md.push_str(&format!("- Soonest due: {due}\n"));
    }
    for k in report["requests"]["by_kind"]
        .as_array()
        .into_iter()
        .flatten()
    {
        md.push_str(&format!(
            "  - {}: {} open, {} overdue\n",
            k["kind"].as_str().unwrap_or(""),
            k["open"],
            k["overdue"]
        ));
    }
    md.push_str("\n## What customers say about how we use their data\n\n");
    let s = &report["customer_sentiment"];
    if s["available"] != true {
        md.push_str("Not available: ");
        md.push_str(s["why"].as_str().unwrap_or("no results yet"));
        md.push('\n');
    } else if s["responses"].is_null() {
        md.push_str(&format!(
            "Fewer than {} responses so far: nothing is shown until there are.\n",
            s["k"]
        ));
    } else {
        md.push_str(&format!("{} responses.\n\n", s["responses"]));
        for q in s["questions"].as_array().into_iter().flatten() {
            let id = q["id"].as_str().unwrap_or("");
            if q["suppressed"] == true {
                md.push_str(&format!("- {id}: too few answers to show\n"));
            } else if let Some(mean) = q["mean"].as_f64() {
                md.push_str(&format!(
                    "- {id}: mean {mean:.2} ({} answers)\n",
                    q["answered"]
                ));
            } else {
                let shown: Vec<String> = q["choices"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| match c["count"].as_u64() {
                        Some(n) => format!("{} {n}", c["choice"].as_str().unwrap_or("")),
                        None => format!("{} (hidden)", c["choice"].as_str().unwrap_or("")),
                    })
                    .collect();
                md.push_str(&format!("- {id}: {}\n", shown.join(", ")));
            }
        }
    }
    md.push_str("\n## Surveys\n\n");
    for v in report["surveys"].as_array().into_iter().flatten() {
        md.push_str(&format!(
            "- {} ({}, {}, results {})\n",
            v["slug"].as_str().unwrap_or(""),
            if v["open"] == true { "open" } else { "closed" },
            v["access"].as_str().unwrap_or(""),
            v["results"].as_str().unwrap_or(""),
        ));
    }
    md.push_str("\n## Ledger\n\n");
    match report["ledger"]["size"].as_u64() {
        Some(size) => md.push_str(&format!(
            "{size} events; signed head root {}.\n",
            report["ledger"]["signed_head"]["root"]
                .as_str()
                .unwrap_or("")
        )),
        None => md.push_str("No signed head yet.\n"),
    }
    md
}
