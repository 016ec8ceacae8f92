//! `/console/admin/report`: the privacy officer's report (the same as `GET /v1/reports/privacy`
//! and `mamori report`) in the page's language — requests, legal holds, what customers say, the
//! surveys, the published policy and the ledger's signed head. Aggregates only; the read is
//! decided and ledgered by the vault like every admin read.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_policy::Language;
use mamori_proto::reports::{PrivacyReport, SentimentQuestion, SurveyStatus};
use mamori_proto::surveys::{Access, ResultsMode};
use serde::Deserialize;

use super::home::{Frame, frame};
use super::report_words::{ReportWords, report_words};
use super::request_words::label;
use super::{signed_in, with_status};
use crate::AppState;
use crate::privacy::page_language;
use crate::privacy_center::holds::reason;

#[derive(Template)]
#[template(path = "console_report.html")]
struct ReportPage {
    f: Frame,
    rw: ReportWords,
    r: PrivacyReport,
    lang: Language,
}

impl ReportPage {
    fn kind(&self, code: &str) -> String {
        label(self.lang, code)
    }

    fn reason_of(&self, r: &mamori_proto::reports::ReasonCount) -> &'static str {
        reason(r.reason, self.lang)
    }

    fn time(&self, ms: i64) -> String {
        mamori_core::format_time(ms)
    }

    /// A number with the language's decimal separator.
    fn decimal(&self, x: f64) -> String {
        let text = format!("{x:.2}");
        match self.lang {
            Language::Fr => text.replace('.', ","),
            _ => text,
        }
    }

    /// A question's mean, or its most chosen answer; "hidden" below k.
    fn summary(&self, q: &SentimentQuestion) -> String {
        if q.suppressed {
            return self.rw.hidden_below_k.to_string();
        }
        if let Some(mean) = q.mean {
            return self.decimal(mean);
        }
        let top = (q.choices.iter().flatten())
            .filter(|c| !c.suppressed)
            .max_by_key(|c| c.count.unwrap_or(0));
        match top.and_then(|c| c.choice.clone().or(c.value.map(|v| v.to_string()))) {
            Some(choice) => choice,
            None => self.rw.hidden_below_k.to_string(),
        }
    }

    fn access(&self, s: &SurveyStatus) -> &'static str {
        match (s.access, self.lang) {
            (Access::Open, Language::En) => "anyone with the link",
            (Access::Open, Language::Ja) => "リンクを知っている人",
            (Access::Open, Language::Fr) => "toute personne ayant le lien",
            (Access::Invited, Language::En) => "invited customers, once each",
            (Access::Invited, Language::Ja) => "招待したお客様（各1回）",
            (Access::Invited, Language::Fr) => "clients invités, une fois chacun",
        }
    }

    fn results(&self, s: &SurveyStatus) -> &'static str {
        match (s.results, self.lang) {
            (ResultsMode::Exact, Language::En) => "exact, groups below k hidden",
            (ResultsMode::Exact, Language::Ja) => "正確な集計（k 未満は非表示）",
            (ResultsMode::Exact, Language::Fr) => "exacts, groupes de moins de k masqués",
            (ResultsMode::DifferentialPrivacy, Language::En) => "differential privacy",
            (ResultsMode::DifferentialPrivacy, Language::Ja) => "差分プライバシー",
            (ResultsMode::DifferentialPrivacy, Language::Fr) => "confidentialité différentielle",
        }
    }

    fn yes_no(&self, yes: bool) -> &'static str {
        if yes {
            self.f.w.yes_word
        } else {
            self.f.w.no_word
        }
    }
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

pub async fn report(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let signed = match signed_in(&s, &headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return answer,
    };
    let f = frame(&s, lang, &signed, "system");
    let read = match s.vault.staff_actor(&signed.session, "report.read").await {
        Ok(actor) => s.vault.privacy_report(&actor).await,
        Err(e) => Err(e),
    };
    match read {
        Ok(r) => {
            let rw = report_words(lang);
            with_status(ReportPage { f, rw, r, lang }.render(), StatusCode::OK)
        }
        Err(CoreError::Denied(d)) => {
            let text = format!("{} ({})", f.w.refused_by_policy, d.code());
            super::refusal_page(&s, f, text)
        }
        Err(e) => crate::problem::ApiError::from(e).into_response(),
    }
}
