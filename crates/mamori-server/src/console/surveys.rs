//! `/console/surveys`: the surveys, and one survey's results for roles granted `surveys =
//! ["results"]` — the charts the API draws (cells below k hidden, never shown as zero) and the
//! free-text answers a page at a time (scrubbed, listed only from k answers). A survey released
//! only with differential privacy says so. Every read is the vault's (decided, ledgered).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_core::surveys::QuestionKind;
use serde::Deserialize;

use super::home::{Frame, frame};
use super::{refusal_page, signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;
use crate::surveys::{draw_chart, text_in};

#[derive(Template)]
#[template(path = "console_surveys.html")]
struct ListPage {
    f: Frame,
    /// (slug, title, open)
    surveys: Vec<(String, String, bool)>,
    /// Whether the role may create and close surveys (`surveys = ["manage"]`).
    can_manage: bool,
    mw: super::survey_admin::ManageWords,
    status: Option<&'static str>,
    error: Option<String>,
}

/// A question's results: its chart (SVG we draw), or a page of its free-text answers.
struct Shown {
    question: String,
    chart: Option<String>,
    texts: Vec<String>,
    more: Option<String>,
    id: String,
}

#[derive(Template)]
#[template(path = "console_survey.html")]
struct SurveyPage {
    f: Frame,
    slug: String,
    title: String,
    questions: Vec<Shown>,
    withheld: bool,
    /// A differentially private survey's budget and releases (when exact results are withheld).
    dp: Option<Dp>,
    sw: super::survey_words::SurveyWords,
    /// Whether the role may make releases (`surveys = ["manage"]`).
    can_release: bool,
    /// The invitation form's words, for an invited survey and a role that manages surveys.
    invite: Option<super::survey_invite::InviteWords>,
    status: Option<&'static str>,
    error: Option<String>,
}

/// (total, spent, remaining) ε, each release's (id, time, ε), the newest release's numbers.
pub(super) struct Dp {
    budget: (String, String, String),
    releases: Vec<(String, String, String)>,
    /// The newest release: responses (± margin), and each question's (id, summary).
    latest: Option<(String, Vec<(String, String)>)>,
}

fn epsilon(e: f64) -> String {
    format!("{e:.3}")
}

/// A private survey's budget and releases (decided and ledgered as `survey.releases`).
async fn dp_of(s: &AppState, actor: &mamori_core::Actor, slug: &str) -> mamori_core::Result<Dp> {
    let released = s.vault.survey_releases(actor, slug).await?;
    let b = released.budget;
    Ok(Dp {
        budget: (
            epsilon(b.epsilon_total),
            epsilon(b.epsilon_spent),
            epsilon(b.epsilon_remaining),
        ),
        releases: (released.releases.iter())
            .map(|r| (r.id.clone(), r.created_at.clone(), epsilon(r.epsilon)))
            .collect(),
        latest: released.releases.last().map(|r| {
            let n = &r.results;
            let responses = format!("{} ± {}", n.responses, n.responses_margin_95);
            (responses, n.questions.iter().map(noisy_summary).collect())
        }),
    })
}

/// A question of a release in a line: its mean (or NPS), or its noisy counts; ± the margin.
fn noisy_summary(q: &mamori_proto::surveys::NoisyQuestion) -> (String, String) {
    let cells = q.choices.as_ref().or(q.histogram.as_ref());
    let said = match (q.mean.or(q.nps), cells) {
        (Some(x), _) => format!("{x:.2}"),
        (None, Some(cells)) => (cells.iter())
            .map(|c| {
                let what = c.choice.clone().or(c.value.map(|v| v.to_string()));
                format!("{}: {}", what.unwrap_or_default(), c.count)
            })
            .collect::<Vec<_>>()
            .join(", "),
        (None, None) => q.answered.to_string(),
    };
    (q.id.clone(), format!("{said} (± {})", q.margin_95))
}

#[derive(Deserialize)]
pub struct SurveyQuery {
    lang: Option<String>,
    /// The free-text question to page through, and where its page starts.
    question: Option<String>,
    after: Option<String>,
}

fn refused(s: &AppState, f: Frame, e: CoreError) -> Response {
    match e {
        CoreError::Denied(d) => {
            let text = format!("{} ({})", f.w.refused_by_policy, d.code());
            refusal_page(s, f, text)
        }
        CoreError::Missing { .. } | CoreError::NotFound => StatusCode::NOT_FOUND.into_response(),
        e => crate::problem::ApiError::from(e).into_response(),
    }
}

pub async fn list(
    State(s): State<AppState>,
    Query(q): Query<SurveyQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    match signed_in(&s, &headers, lang).await {
        Ok(signed) => list_page(&s, lang, &signed, (None, None)).await,
        Err(answer) => answer,
    }
}

/// The surveys, with the forms to create and close them for roles that manage surveys; `said`
/// a step's status or error (422).
pub(super) async fn list_page(
    s: &AppState,
    lang: mamori_policy::Language,
    signed: &super::Signed,
    said: (Option<&'static str>, Option<String>),
) -> Response {
    let f = frame(s, lang, signed, "surveys");
    let listed = match s.vault.staff_actor(&signed.session, "survey.list").await {
        Ok(actor) => s.vault.list_surveys(&actor).await,
        Err(e) => Err(e),
    };
    let today = s.vault.now_ms().div_euclid(86_400_000);
    let role = s.vault.policy.role(signed.session.role());
    match listed {
        Ok(all) => {
            let surveys = (all.iter())
                .map(|st| {
                    (
                        st.survey.definition.slug.clone(),
                        text_in(&st.survey.definition.title, lang),
                        st.is_open(today),
                    )
                })
                .collect();
            let code = match said.1 {
                Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
                None => StatusCode::OK,
            };
            let page = ListPage {
                f,
                surveys,
                can_manage: role.is_some_and(|r| r.surveys.manage),
                mw: super::survey_admin::manage_words(lang),
                status: said.0,
                error: said.1,
            };
            with_status(page.render(), code)
        }
        Err(e) => refused(s, f, e),
    }
}

pub async fn one(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<SurveyQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let texts = (q.question.as_deref(), q.after.as_deref());
    survey_page(&s, lang, &signed, &slug, texts, (None, None)).await
}

/// One survey's page; `texts` is the free-text question paged and where; `said` a release's
/// status or error (422).
pub(super) async fn survey_page(
    s: &AppState,
    lang: mamori_policy::Language,
    signed: &super::Signed,
    slug: &str,
    texts: (Option<&str>, Option<&str>),
    said: (Option<&'static str>, Option<String>),
) -> Response {
    let slug = slug.to_string();
    let f = frame(s, lang, signed, "surveys");
    let actor = match s.vault.staff_actor(&signed.session, "survey.results").await {
        Ok(actor) => actor,
        Err(e) => return refused(s, f, e),
    };
    let stored = match s.vault.survey(&slug).await {
        Ok(stored) => stored,
        Err(e) => return refused(s, f, e),
    };
    let mut page = SurveyPage {
        slug: slug.clone(),
        title: text_in(&stored.survey.definition.title, lang),
        questions: vec![],
        withheld: false,
        dp: None,
        sw: super::survey_words::survey_words(lang),
        can_release: (s.vault.policy.role(signed.session.role())).is_some_and(|r| r.surveys.manage),
        invite: None,
        status: said.0,
        error: said.1.clone(),
        f,
    };
    let invited = stored.survey.definition.access == mamori_proto::surveys::Access::Invited;
    if page.can_release && invited {
        page.invite = Some(super::survey_invite::invite_words(lang));
    }
    let results = match s.vault.survey_results(&actor, &slug, None).await {
        Ok(results) => results,
        Err(CoreError::Conflict { .. }) => {
            page.withheld = true;
            page.dp = match dp_of(s, &actor, &slug).await {
                Ok(dp) => Some(dp),
                Err(e) => return refused(s, page.f, e),
            };
            return rendered(&page);
        }
        Err(e) => return refused(s, page.f, e),
    };
    for question in &stored.survey.definition.questions {
        let mut shown = Shown {
            question: text_in(&question.text, lang),
            chart: None,
            texts: vec![],
            more: None,
            id: question.id.clone(),
        };
        if question.kind == QuestionKind::Text {
            let after = texts.1.filter(|_| texts.0 == Some(question.id.as_str()));
            match s
                .vault
                .survey_texts(&actor, &slug, &question.id, after, Some(20))
                .await
            {
                Ok(texts) => (shown.texts, shown.more) = (texts.texts, texts.next),
                Err(e) => return refused(s, page.f, e),
            }
        } else {
            shown.chart = chart_of(question, &results, stored.survey.k, lang);
        }
        page.questions.push(shown);
    }
    rendered(&page)
}

/// A question's chart; several on one page, so each chart's title gets an id of its own.
fn chart_of(
    question: &mamori_core::surveys::Question,
    results: &mamori_proto::surveys::SurveyResults,
    k: u32,
    lang: mamori_policy::Language,
) -> Option<String> {
    let id = format!("chart-{}", question.id);
    (draw_chart(question, results, k, lang).ok()).map(|svg| {
        svg.replace("id=\"t\"", &format!("id=\"{id}\"")).replace(
            "aria-labelledby=\"t\"",
            &format!("aria-labelledby=\"{id}\""),
        )
    })
}

/// The page, 422 when it tells of a refused step.
fn rendered(page: &SurveyPage) -> Response {
    let code = match page.error {
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    with_status(page.render(), code)
}
