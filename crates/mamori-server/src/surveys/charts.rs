//! Results as SVG charts (drawn with an askama template) and as CSV.

use super::*;
use mamori_proto::ErrorCode;
use mamori_proto::surveys::QuestionResult;

pub(super) struct Bar {
    label: String,
    y: u32,
    /// None when the count is suppressed.
    width: Option<u32>,
    value_text: String,
}

#[derive(Template)]
#[template(path = "chart.svg", escape = "html")]
pub(super) struct Chart {
    title: String,
    bars: Vec<Bar>,
    width: u32,
    height: u32,
    label_width: u32,
    bar_space: u32,
    note: String,
    /// Between a bar's label and its count in its tooltip, in the language's typography.
    colon: &'static str,
}

pub(super) const ROW: u32 = 28;

/// Words on a chart, in `lang`.
pub(super) fn chart_words(lang: Language, k: u32) -> (String, String, String) {
    match lang {
        Language::Ja => (
            format!("{k}件未満のため非表示"),
            format!("{k}件未満のグループは表示しません"),
            "平均".to_string(),
        ),
        Language::Fr => (
            format!("moins de {k}\u{202f}: masqué"),
            format!("Les groupes de moins de {k} réponses sont masqués"),
            "moyenne".to_string(),
        ),
        Language::En => (
            format!("fewer than {k}: hidden"),
            format!("Groups of fewer than {k} answers are hidden"),
            "mean".to_string(),
        ),
    }
}

/// The rows of one question's chart: (label, count or None when suppressed).
pub(super) fn chart_rows(
    q: &mamori_core::surveys::Question,
    summary: Option<&QuestionResult>,
    lang: Language,
) -> Vec<(String, Option<u64>)> {
    let cells = summary.and_then(|s| s.histogram.as_ref().or(s.choices.as_ref()));
    (cells.into_iter().flatten())
        .map(|c| {
            let label = match (c.value, c.choice.as_deref()) {
                (Some(v), _) => v.to_string(),
                (None, Some(id)) => q
                    .choices
                    .iter()
                    .find(|ch| ch.id == id)
                    .map(|ch| text_in(&ch.text, lang))
                    .unwrap_or_else(|| id.to_string()),
                _ => String::new(),
            };
            (label, c.count)
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartQuery {
    lang: Option<String>,
}

/// One question's results as an SVG bar chart in `lang` (the API's chart, and the console's).
pub(crate) fn draw_chart(
    question: &mamori_core::surveys::Question,
    results: &mamori_proto::surveys::SurveyResults,
    k: u32,
    lang: Language,
) -> askama::Result<String> {
    let summary = results.questions.iter().find(|x| x.id == question.id);
    let (hidden, note, mean_word) = chart_words(lang, k);
    let rows = chart_rows(question, summary, lang);
    let top = rows.iter().filter_map(|r| r.1).max().unwrap_or(0).max(1);
    let (label_width, bar_space) = (220, 360);
    let bars = rows
        .into_iter()
        .enumerate()
        .map(|(i, (label, count))| Bar {
            label,
            y: 34 + i as u32 * ROW,
            width: count.map(|c| ((c * u64::from(bar_space)) / top).max(1) as u32),
            value_text: count.map_or_else(|| hidden.clone(), |c| c.to_string()),
        })
        .collect::<Vec<_>>();
    let title = chart_title(question, summary, lang, &mean_word);
    let chart = Chart {
        height: 34 + bars.len() as u32 * ROW + 26,
        bars,
        title,
        width: label_width + bar_space + 60,
        label_width,
        bar_space,
        note,
        colon: match lang {
            Language::Ja => "：",
            Language::Fr => "\u{202f}: ",
            Language::En => ": ",
        },
    };
    chart.render()
}

/// `GET /v1/surveys/{slug}/charts/{question}`: the question's results as an SVG bar chart
/// (choices, or the distribution of a rating), drawn on the server; hidden cells are drawn as
/// hidden, never as zero.
#[utoipa::path(get, path = "/v1/surveys/{slug}/charts/{question}",
    params(("slug" = String, Path), ("question" = String, Path), ("lang" = Option<String>, Query)),
    responses((status = 200, content_type = "image/svg+xml"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn chart(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((slug, question)): Path<(String, String)>,
    Params(q): Params<ChartQuery>,
) -> ApiResult<Response> {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let stored = s.vault.survey(&slug).await?;
    let question = stored
        .survey
        .question(&question)
        .filter(|q| q.kind != QuestionKind::Text)
        .ok_or_else(|| {
            ApiError::Core(mamori_core::CoreError::invalid(
                ErrorCode::UnknownQuestion,
                "question",
                "charts are drawn for the rating, NPS and choice questions of this survey",
            ))
        })?
        .clone();
    let results = s.vault.survey_results(&actor, &slug, None).await?;
    let svg = draw_chart(&question, &results, stored.survey.k, lang)
        .map_err(|e| ApiError::Core(mamori_core::CoreError::Internal(e.to_string())))?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "image/svg+xml"),
            (
                axum::http::header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        svg,
    )
        .into_response())
}

/// The question, and its mean if it has one, in the language's typography (a decimal comma
/// in French, full-width brackets in Japanese).
fn chart_title(
    question: &mamori_core::surveys::Question,
    summary: Option<&QuestionResult>,
    lang: Language,
    mean_word: &str,
) -> String {
    let title = text_in(&question.text, lang);
    let Some(mean) = summary.and_then(|s| s.mean) else {
        return title;
    };
    let mean = match lang {
        Language::Fr => format!("{mean:.2}").replace('.', ","),
        _ => format!("{mean:.2}"),
    };
    match lang {
        Language::Ja => format!("{title}（{mean_word} {mean}）"),
        _ => format!("{title} ({mean_word} {mean})"),
    }
}

/// `GET /v1/surveys/{slug}/results.csv`: the aggregates only (never a response), one row per
/// cell; a hidden cell has an empty count and `suppressed` true.
#[utoipa::path(get, path = "/v1/surveys/{slug}/results.csv",
    params(("slug" = String, Path)),
    responses((status = 200, content_type = "text/csv"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn results_csv(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Response> {
    let results = s.vault.survey_results(&actor, &slug, None).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| ApiError::Core(mamori_core::CoreError::Internal(e.to_string()));
    out.write_record(["question", "kind", "value", "count", "suppressed"])
        .map_err(internal)?;
    let count = |c: Option<u64>| c.map(|c| c.to_string()).unwrap_or_default();
    let hidden = |suppressed: bool| if suppressed { "true" } else { "false" };
    for q in &results.questions {
        let (id, kind) = (q.id.as_str(), q.kind.as_str());
        out.write_record([
            id,
            kind,
            "answered",
            &count(q.answered),
            hidden(q.suppressed),
        ])
        .map_err(internal)?;
        if let Some(mean) = q.mean {
            out.write_record([id, kind, "mean", &format!("{mean:.4}"), "false"])
                .map_err(internal)?;
        }
        for c in (q.histogram.as_ref().or(q.choices.as_ref()))
            .into_iter()
            .flatten()
        {
            let value = (c.value.map(|v| v.to_string()))
                .or_else(|| c.choice.clone())
                .unwrap_or_default();
            out.write_record([id, kind, &value, &count(c.count), hidden(c.suppressed)])
                .map_err(internal)?;
        }
    }
    let bytes = out
        .into_inner()
        .map_err(|e| ApiError::Core(mamori_core::CoreError::Internal(e.to_string())))?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        bytes,
    )
        .into_response())
}
