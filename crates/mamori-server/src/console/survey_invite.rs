//! `POST /console/surveys/{slug}/invitations`: invites customers to an invited survey from the
//! console, for roles with `surveys = ["manage"]` — the same call as the API and `mamori survey
//! invite` (decided, one ledger event per person invited). The staff paste subject ids; each
//! person's link is shown once, for the staff to send, and never kept.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
use mamori_core::survey_tokens::{Invitation, MAX_INVITATIONS};
use mamori_policy::Language;
use serde::Deserialize;

use super::forms::{Posted, console_form, posted, refusal_line};
use super::home::{Frame, frame};
use super::surveys::survey_page;
use super::with_status;
use crate::AppState;

pub(crate) struct InviteWords {
    pub(crate) heading: &'static str,
    pub(crate) intro: &'static str,
    pub(crate) subjects: &'static str,
    pub(crate) button: &'static str,
    results: &'static str,
    subject: &'static str,
    link: &'static str,
    back: &'static str,
}

const EN: InviteWords = InviteWords {
    heading: "Invite customers",
    intro: "Paste the customers' ids (one per line, up to 1,000). Each link is shown once, here: send it to the person. Their answer cannot be linked to them.",
    subjects: "Customer ids",
    button: "Invite",
    results: "Invitations",
    subject: "Customer",
    link: "Link to send, or why not",
    back: "Back to the survey",
};

const JA: InviteWords = InviteWords {
    heading: "お客様を招待",
    intro: "お客様のIDを貼り付けてください（1行に1件、最大1,000件）。各リンクはここに一度だけ表示されます。ご本人に送ってください。回答はご本人と結びつけられません。",
    subjects: "お客様のID",
    button: "招待する",
    results: "招待",
    subject: "お客様",
    link: "送るリンク、または送れない理由",
    back: "アンケートに戻る",
};

const FR: InviteWords = InviteWords {
    heading: "Inviter des clients",
    intro: "Collez les identifiants des clients (un par ligne, 1\u{202f}000 au plus). Chaque lien n’est affiché qu’une fois, ici\u{a0}: envoyez-le à la personne. Sa réponse ne pourra pas lui être rattachée.",
    subjects: "Identifiants des clients",
    button: "Inviter",
    results: "Invitations",
    subject: "Client",
    link: "Lien à envoyer, ou pourquoi pas",
    back: "Retour au questionnaire",
};

pub(crate) fn invite_words(lang: Language) -> InviteWords {
    match lang {
        Language::En => EN,
        Language::Ja => JA,
        Language::Fr => FR,
    }
}

fn reason(code: &str, lang: Language) -> &'static str {
    match (code, lang) {
        ("token_issued", Language::En) => "already answered or holds a token",
        ("token_issued", Language::Ja) => "回答済み、またはトークン発行済み",
        ("token_issued", Language::Fr) => "a déjà répondu ou détient un jeton",
        ("subject_erased", Language::En) => "erased",
        ("subject_erased", Language::Ja) => "消去済み",
        ("subject_erased", Language::Fr) => "effacé",
        (_, Language::En) => "no such customer",
        (_, Language::Ja) => "該当するお客様がいません",
        (_, Language::Fr) => "client inconnu",
    }
}

#[derive(Template)]
#[template(path = "console_survey_invited.html")]
struct InvitedPage {
    f: Frame,
    iw: InviteWords,
    slug: String,
    /// (subject id, link or None, why not)
    rows: Vec<(String, Option<String>, &'static str)>,
}

#[derive(Deserialize)]
pub struct InviteForm {
    csrf: String,
    lang: Option<String>,
    #[serde(default)]
    subjects: String,
}

console_form!(InviteForm);

fn subjects_of(text: &str) -> Option<Vec<[u8; 16]>> {
    let ids: Option<Vec<[u8; 16]>> = (text.split(|c: char| c.is_whitespace() || c == ','))
        .filter(|t| !t.is_empty())
        .map(mamori_core::parse_id)
        .collect();
    ids.filter(|ids| !ids.is_empty() && ids.len() <= MAX_INVITATIONS)
}

pub async fn invite(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    form: Result<axum::Form<InviteForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (lang, signed, form) = match posted(&s, &headers, form).await {
        Posted::Ours(lang, signed, form) => (lang, signed, form),
        Posted::NotOurs(lang, signed) => {
            let bad = Some(super::words::words(lang).bad_form.into());
            return survey_page(&s, lang, &signed, &slug, (None, None), (None, bad)).await;
        }
        Posted::Answer(answer) => return answer,
    };
    let w = super::words::words(lang);
    let invited = match subjects_of(&form.subjects) {
        None => Err(CoreError::invalid(
            mamori_proto::ErrorCode::InvalidSubjectId,
            "subjects",
            "ids",
        )),
        Some(ids) => match s.vault.staff_actor(&signed.session, "survey.invite").await {
            Ok(actor) => s.vault.invite_to_survey(&actor, &slug, &ids).await,
            Err(e) => Err(e),
        },
    };
    let done = match invited {
        Ok(done) => done,
        Err(e) => match refusal_line(&w, &e) {
            Some(line) => {
                return survey_page(&s, lang, &signed, &slug, (None, None), (None, Some(line)))
                    .await;
            }
            None => return crate::problem::ApiError::from(e).into_response(),
        },
    };
    let base = s.public_url.trim_end_matches('/');
    let rows = (done.iter())
        .map(|i| match i {
            Invitation::Sent { subject, code } => (
                mamori_core::format_id(subject),
                Some(format!("{base}/survey/{slug}#invitation={code}")),
                "",
            ),
            Invitation::Refused {
                subject,
                reason: why,
            } => (mamori_core::format_id(subject), None, reason(why, lang)),
        })
        .collect();
    let page = InvitedPage {
        f: frame(&s, lang, &signed, "surveys"),
        iw: invite_words(lang),
        slug,
        rows,
    };
    with_status(page.render(), StatusCode::OK)
}
