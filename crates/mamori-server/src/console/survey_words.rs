//! The survey page's words for differentially private releases, in English, Japanese and French.

use mamori_policy::Language;

pub(crate) struct SurveyWords {
    pub(crate) budget: &'static str,
    pub(crate) total: &'static str,
    pub(crate) spent: &'static str,
    pub(crate) remaining: &'static str,
    pub(crate) releases: &'static str,
    pub(crate) released_at: &'static str,
    pub(crate) no_release: &'static str,
}

pub(crate) fn survey_words(lang: Language) -> SurveyWords {
    match lang {
        Language::En => SurveyWords {
            budget: "Privacy budget (ε)",
            total: "total",
            spent: "spent",
            remaining: "remaining",
            releases: "Releases",
            released_at: "Released",
            no_release: "No release yet: results of this survey are published only as noisy releases (POST /v1/surveys/{slug}/releases), each spending part of the budget.",
        },
        Language::Ja => SurveyWords {
            budget: "プライバシー予算（ε）",
            total: "合計",
            spent: "使用済み",
            remaining: "残り",
            releases: "公開",
            released_at: "公開日時",
            no_release: "まだ公開していません。この調査の結果は、予算の一部を使うノイズ付きの公開（POST /v1/surveys/{slug}/releases）としてのみ公開されます。",
        },
        Language::Fr => SurveyWords {
            budget: "Budget de confidentialité (ε)",
            total: "total",
            spent: "dépensé",
            remaining: "restant",
            releases: "Publications",
            released_at: "Publiée le",
            no_release: "Aucune publication pour l’instant\u{a0}: les résultats de cette enquête ne sont publiés que bruités (POST /v1/surveys/{slug}/releases), chaque publication dépensant une part du budget.",
        },
    }
}
