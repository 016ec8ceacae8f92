//! The public survey page (`/survey/{slug}`, en/ja/fr, a plain form that needs no JavaScript)
//! and identified surveys in the privacy center (`/privacy/survey/{slug}`).

use super::*;
use mamori_proto::ErrorCode;

pub(super) struct Strings {
    anonymous: &'static str,
    submit: &'static str,
    required: &'static str,
    thanks_title: &'static str,
    thanks: &'static str,
    closed: &'static str,
    not_found: &'static str,
    error: &'static str,
    notice: &'static str,
    low: &'static str,
    high: &'static str,
    invited: &'static str,
    needs_script: &'static str,
    no_invitation: &'static str,
    token_issued: &'static str,
    token_failed: &'static str,
    answered: &'static str,
    identified: &'static str,
    needs_consent: &'static str,
    my_choices: &'static str,
    thanks_identified: &'static str,
    expired: &'static str,
    answered_identified: &'static str,
}

pub(super) fn strings(lang: Language) -> Strings {
    match lang {
        Language::Ja => Strings {
            anonymous: "このアンケートは匿名です。お名前、IPアドレス、ブラウザの情報、回答の正確な時刻は保存しません。自由記述に含まれる個人情報（メールアドレス、電話番号など）は保存前に削除します。",
            submit: "送信する",
            required: "必須",
            thanks_title: "ご回答ありがとうございました",
            thanks: "回答を受け付けました。あなたと結びつく情報は保存していません。",
            closed: "このアンケートは現在回答を受け付けていません。",
            not_found: "このアンケートは見つかりません。",
            error: "回答を確認してください",
            notice: "プライバシーに関するお知らせ",
            low: "低い",
            high: "高い",
            invited: "このアンケートはご招待した方だけが、1回だけ回答できます。回答できることを確かめる「トークン」は、お使いのブラウザの中で作られ、私たちはそれに署名するだけです。そのため、回答がどの招待から来たものかを私たちは知ることができません。トークンは回答を送るまでこの端末に保存されます。",
            needs_script: "招待制のアンケートでは、匿名のトークンをブラウザで作るために JavaScript が必要です。JavaScript を有効にして招待リンクを開き直してください。",
            no_invitation: "招待リンクが見つかりません。招待メールのリンクから開いてください。",
            token_issued: "この招待のトークンはすでに発行されています。トークンは、最初に招待リンクを開いたブラウザでのみ使えます。",
            token_failed: "トークンを受け取れませんでした。しばらくしてから招待リンクを開き直してください。",
            answered: "この招待ではすでに回答済みです。ご協力ありがとうございました。",
            identified: "このアンケートの回答は、あなたのアカウントに結びつけて保存されます（下記の目的への同意に基づきます）。「私のデータ」でいつでも確認・ダウンロード・削除できます。",
            needs_consent: "回答するには、次の目的への同意が必要です:",
            my_choices: "「私の選択」で同意する",
            thanks_identified: "回答をアカウントに保存しました。「私のデータ」で確認・削除できます。",
            expired: "このフォームは期限切れか、別のサイトから送信されました。ページを開き直してください。",
            answered_identified: "このアンケートにはすでに回答済みです。回答は「私のデータ」で確認できます。",
        },
        Language::Fr => Strings {
            anonymous: "Ce questionnaire est anonyme : nous ne conservons ni votre nom, ni votre adresse IP, ni votre navigateur, ni l'heure exacte de votre réponse. Les données personnelles écrites dans les champs libres (e-mail, téléphone…) sont retirées avant l'enregistrement.",
            submit: "Envoyer",
            required: "obligatoire",
            thanks_title: "Merci pour votre réponse",
            thanks: "Votre réponse est enregistrée. Rien de ce que nous gardons ne permet de la relier à vous.",
            closed: "Ce questionnaire ne reçoit pas de réponses en ce moment.",
            not_found: "Ce questionnaire n'existe pas.",
            error: "Vérifiez vos réponses",
            notice: "Notre politique de confidentialité",
            low: "faible",
            high: "élevé",
            invited: "Ce questionnaire est réservé aux personnes invitées, une réponse chacune. Le jeton qui le prouve est créé dans votre navigateur et nous ne faisons que le signer : nous ne pouvons donc pas savoir de quelle invitation vient une réponse. Le jeton reste sur cet appareil jusqu'à l'envoi de vos réponses.",
            needs_script: "Un questionnaire sur invitation a besoin de JavaScript pour créer votre jeton anonyme dans le navigateur. Activez JavaScript puis rouvrez le lien de votre invitation.",
            no_invitation: "Aucune invitation trouvée : ouvrez ce questionnaire avec le lien reçu dans votre invitation.",
            token_issued: "Le jeton de cette invitation a déjà été délivré ; il ne sert que dans le navigateur qui l'a demandé en premier.",
            token_failed: "Le jeton n'a pas pu être obtenu. Réessayez plus tard en rouvrant le lien de votre invitation.",
            answered: "Vous avez déjà répondu avec cette invitation. Merci de votre participation.",
            identified: "Vos réponses à ce questionnaire sont gardées avec votre compte (avec votre accord pour la finalité ci-dessous). Vous pouvez les voir, les télécharger et les supprimer dans « Mes données ».",
            needs_consent: "Pour répondre, il faut votre accord pour :",
            my_choices: "Donner mon accord dans « Mes choix »",
            thanks_identified: "Vos réponses sont enregistrées avec votre compte ; vous pouvez les voir et les supprimer dans « Mes données ».",
            expired: "Ce formulaire a expiré ou vient d'un autre site. Rouvrez la page.",
            answered_identified: "Vous avez déjà répondu à ce questionnaire ; vos réponses sont dans « Mes données ».",
        },
        Language::En => Strings {
            anonymous: "This survey is anonymous: we do not keep your name, IP address, browser or the exact time you answer. Personal details written in free-text answers (e-mail addresses, phone numbers…) are removed before anything is stored.",
            submit: "Send",
            required: "required",
            thanks_title: "Thank you for your answers",
            thanks: "Your response is saved. Nothing we keep links it to you.",
            closed: "This survey is not taking responses at the moment.",
            not_found: "There is no such survey.",
            error: "Please check your answers",
            notice: "Privacy notice",
            low: "low",
            high: "high",
            invited: "This survey is for invited customers, one response each. The token that proves it is made in your browser and we only sign it, so we cannot tell which invitation a response came from. The token stays on this device until you send your answers.",
            needs_script: "An invitation-only survey needs JavaScript to make your anonymous token in the browser. Turn JavaScript on and open your invitation link again.",
            no_invitation: "No invitation found: open this survey with the link in your invitation.",
            token_issued: "This invitation's token was issued already; it works only in the browser that first asked for it.",
            token_failed: "The token could not be obtained. Open your invitation link again later.",
            answered: "You have answered with this invitation already. Thank you for taking part.",
            identified: "Your answers to this survey are kept with your account (with your consent to the purpose below). You can see, download and delete them in My data at any time.",
            needs_consent: "To answer, we need your consent to:",
            my_choices: "Give it in My choices",
            thanks_identified: "Your answers are saved with your account; you can see and delete them in My data.",
            expired: "This form has expired or came from another site. Open the page again.",
            answered_identified: "You have answered this survey already; your answers are in My data.",
        },
    }
}

pub(super) struct ChoiceView {
    id: String,
    text: String,
}

pub(super) struct QuestionView {
    id: String,
    kind: &'static str,
    text: String,
    required: bool,
    choices: Vec<ChoiceView>,
    /// The values offered on a scale (1–5 or 0–10).
    scale: Vec<i64>,
}

#[derive(Template)]
#[template(path = "survey.html")]
pub(super) struct SurveyPage {
    lang: &'static str,
    s: Strings,
    slug: String,
    title: String,
    intro: Option<String>,
    questions: Vec<QuestionView>,
    error: Option<String>,
    open: bool,
    invited: bool,
    /// For an identified survey answered signed in.
    identified: Option<IdentifiedView>,
    /// Whether the form is shown: open, and for an identified survey, consented to.
    answerable: bool,
    /// Where the form posts: `/survey/{slug}`, or in the privacy center for identified ones.
    form_path: String,
    languages: Vec<&'static str>,
}

pub(super) struct IdentifiedView {
    csrf: String,
    purpose: String,
    consented: bool,
}

#[derive(Template)]
#[template(path = "survey_done.html")]
pub(super) struct DonePage {
    lang: &'static str,
    s: Strings,
    title: String,
    message: &'static str,
    /// The invited survey whose token was just spent: the page's script forgets it.
    spent_token: Option<String>,
}

pub(crate) fn text_in(texts: &mamori_core::surveys::Texts, lang: Language) -> String {
    texts
        .get(lang.code())
        .or_else(|| texts.values().next())
        .cloned()
        .unwrap_or_default()
}

pub(super) fn page_view(
    s: &AppState,
    stored: &StoredSurvey,
    lang: Language,
    error: Option<String>,
) -> SurveyPage {
    let d = &stored.survey.definition;
    let open = stored.is_open(s.vault.today());
    let questions = d
        .questions
        .iter()
        .map(|q| QuestionView {
            id: q.id.clone(),
            kind: match q.kind {
                QuestionKind::Rating => "rating",
                QuestionKind::Nps => "nps",
                QuestionKind::Single => "single",
                QuestionKind::Multiple => "multiple",
                QuestionKind::Text => "text",
            },
            text: text_in(&q.text, lang),
            required: q.required,
            choices: q
                .choices
                .iter()
                .map(|c| ChoiceView {
                    id: c.id.clone(),
                    text: text_in(&c.text, lang),
                })
                .collect(),
            scale: match q.kind {
                QuestionKind::Rating => (1..=5).collect(),
                QuestionKind::Nps => (0..=10).collect(),
                _ => vec![],
            },
        })
        .collect();
    SurveyPage {
        lang: lang.code(),
        s: strings(lang),
        slug: d.slug.clone(),
        title: text_in(&d.title, lang),
        intro: d.intro.as_ref().map(|t| text_in(t, lang)),
        questions,
        error,
        open,
        invited: d.access == Access::Invited,
        identified: None,
        answerable: open,
        form_path: format!("/survey/{}", d.slug),
        languages: languages(s),
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
}

pub(super) fn languages(s: &AppState) -> Vec<&'static str> {
    s.vault
        .policy
        .organisation
        .languages
        .iter()
        .map(|l| l.code())
        .collect()
}

pub(super) fn message_page(
    lang: Language,
    status: StatusCode,
    title: String,
    message: &'static str,
) -> Response {
    let page = DonePage {
        lang: lang.code(),
        s: strings(lang),
        title,
        message,
        spent_token: None,
    };
    (status, html_page(page.render())).into_response()
}

/// An open survey's page runs no script; an invited one runs Mamori's token script.
pub(super) fn survey_page(stored: &StoredSurvey, rendered: askama::Result<String>) -> Response {
    if stored.survey.definition.access == Access::Invited {
        html_page_with_script(rendered)
    } else {
        html_page(rendered)
    }
}

pub(super) fn is_identified(stored: &StoredSurvey) -> bool {
    stored.survey.definition.mode == mamori_core::surveys::Mode::Identified
}

/// An identified survey's page for the signed-in person (else the sign-in page): the form with
/// its CSRF token, or, without their consent to the survey's purpose, where to give it.
pub(super) async fn identified_page(
    s: &AppState,
    headers: &HeaderMap,
    stored: &StoredSurvey,
    lang: Language,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (subject, actor) = match crate::privacy_center::signed_in(s, headers, lang).await {
        Ok(who) => who,
        Err(sign_in) => return sign_in,
    };
    let purpose_name = stored.survey.definition.purpose.clone().unwrap_or_default();
    let consented = s
        .vault
        .check_consent(&actor, &subject, &purpose_name, None)
        .await
        .is_ok_and(|a| a.allowed);
    let purpose = s
        .vault
        .policy
        .purpose(&purpose_name)
        .map(|p| p.label.get(lang).to_string())
        .unwrap_or_default();
    let (csrf, set) = crate::privacy_center::csrf_token(s, headers);
    let mut view = page_view(s, stored, lang, error);
    view.answerable = view.answerable && consented;
    view.form_path = format!("/privacy/survey/{}", stored.survey.definition.slug);
    view.identified = Some(IdentifiedView {
        csrf,
        purpose,
        consented,
    });
    let page = (status, html_page(view.render())).into_response();
    crate::privacy_center::with_cookie(page, set)
}

/// `GET /survey/{slug}?lang=`: the questions as a form.
pub async fn page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    match s.vault.survey(&slug).await {
        // Answered signed in, so in the privacy center, where the session cookie goes.
        Ok(stored) if is_identified(&stored) => in_privacy_center(&slug, lang),
        Ok(stored) => survey_page(&stored, page_view(&s, &stored, lang, None).render()),
        Err(_) => {
            let t = strings(lang).not_found;
            message_page(lang, StatusCode::NOT_FOUND, t.to_string(), t)
        }
    }
}

/// `POST /survey/{slug}?lang=`: the form's answers (`a_{question}`, repeated for multiple
/// choices). A refused answer shows the form again with the reason, and keeps nothing.
pub async fn submit(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let Ok(stored) = s.vault.survey(&slug).await else {
        let t = strings(lang).not_found;
        return message_page(lang, StatusCode::NOT_FOUND, t.to_string(), t);
    };
    let title = text_in(&stored.survey.definition.title, lang);
    if !s.limits.allow_survey_response(peer.ip()) {
        return rate_limited().into_response();
    }
    let mut raw = RawAnswers::new();
    let mut token = None;
    for (name, value) in fields {
        // Fields that are neither answers nor the token are ignored rather than echoed.
        if let Some(question) = name.strip_prefix("a_") {
            raw.entry(question.to_string()).or_default().push(value);
        } else if name == "token" && !value.is_empty() {
            // Not base64url: passed on as bytes that can never verify.
            token = Some(base64_field("token", &value).unwrap_or_default());
        }
    }
    if is_identified(&stored) {
        return in_privacy_center(&slug, lang);
    }
    let invited = stored.survey.definition.access == Access::Invited;
    match s.vault.respond(&slug, &raw, token.as_deref()).await {
        Ok(()) => {
            let page = DonePage {
                lang: lang.code(),
                s: strings(lang),
                title: strings(lang).thanks_title.to_string(),
                message: strings(lang).thanks,
                spent_token: invited.then(|| slug.clone()),
            };
            survey_page(&stored, page.render())
        }
        Err(mamori_core::CoreError::Conflict {
            code: ErrorCode::TokenUsed,
            ..
        }) => {
            let page = DonePage {
                lang: lang.code(),
                s: strings(lang),
                title,
                message: strings(lang).answered,
                spent_token: Some(slug.clone()),
            };
            (StatusCode::CONFLICT, survey_page(&stored, page.render())).into_response()
        }
        Err(mamori_core::CoreError::Conflict { .. }) => {
            message_page(lang, StatusCode::CONFLICT, title, strings(lang).closed)
        }
        Err(mamori_core::CoreError::Invalid { code, field, .. }) => {
            let message = refused_answer(&stored, lang, code, field.as_deref());
            let page = page_view(&s, &stored, lang, Some(message));
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                survey_page(&stored, page.render()),
            )
                .into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

pub(super) fn in_privacy_center(slug: &str, lang: Language) -> Response {
    axum::response::Redirect::to(&format!("/privacy/survey/{slug}?lang={}", lang.code()))
        .into_response()
}

/// `GET /privacy/survey/{slug}`: an identified survey, for the signed-in person.
pub async fn identified_get(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    match s.vault.survey(&slug).await {
        Ok(stored) if is_identified(&stored) => {
            identified_page(&s, &headers, &stored, lang, None, StatusCode::OK).await
        }
        Ok(_) => axum::response::Redirect::to(&format!("/survey/{slug}?lang={}", lang.code()))
            .into_response(),
        Err(_) => {
            let t = strings(lang).not_found;
            message_page(lang, StatusCode::NOT_FOUND, t.to_string(), t)
        }
    }
}

/// `POST /privacy/survey/{slug}`: an identified survey's answers (`a_{question}`) and the CSRF
/// token, from a signed-in person.
pub async fn identified_post(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let stored = match s.vault.survey(&slug).await {
        Ok(stored) if is_identified(&stored) => stored,
        _ => {
            let t = strings(lang).not_found;
            return message_page(lang, StatusCode::NOT_FOUND, t.to_string(), t);
        }
    };
    let mut raw = RawAnswers::new();
    let mut csrf = String::new();
    for (name, value) in fields {
        if let Some(question) = name.strip_prefix("a_") {
            raw.entry(question.to_string()).or_default().push(value);
        } else if name == "csrf" {
            csrf = value;
        }
    }
    submit_identified(&s, &headers, &stored, lang, &csrf, &raw).await
}

/// An identified survey's form, posted by a signed-in person from our own page.
pub(super) async fn submit_identified(
    s: &AppState,
    headers: &HeaderMap,
    stored: &StoredSurvey,
    lang: Language,
    csrf: &str,
    raw: &RawAnswers,
) -> Response {
    let title = text_in(&stored.survey.definition.title, lang);
    if !crate::privacy_center::form_is_ours(s, headers, csrf) {
        return message_page(lang, StatusCode::FORBIDDEN, title, strings(lang).expired);
    }
    let (subject, actor) = match crate::privacy_center::signed_in(s, headers, lang).await {
        Ok(who) => who,
        Err(sign_in) => return sign_in,
    };
    let slug = &stored.survey.definition.slug;
    match s
        .vault
        .respond_identified(&actor, &subject, slug, raw)
        .await
    {
        Ok(_) => message_page(
            lang,
            StatusCode::OK,
            strings(lang).thanks_title.to_string(),
            strings(lang).thanks_identified,
        ),
        // Consent withdrawn meanwhile: the page says where to give it again.
        Err(mamori_core::CoreError::Denied(_)) => {
            identified_page(s, headers, stored, lang, None, StatusCode::FORBIDDEN).await
        }
        Err(mamori_core::CoreError::Conflict {
            code: ErrorCode::AlreadyAnswered,
            ..
        }) => message_page(
            lang,
            StatusCode::CONFLICT,
            title,
            strings(lang).answered_identified,
        ),
        Err(mamori_core::CoreError::Conflict { .. }) => {
            message_page(lang, StatusCode::CONFLICT, title, strings(lang).closed)
        }
        Err(mamori_core::CoreError::Invalid { code, field, .. }) => {
            let message = refused_answer(stored, lang, code, field.as_deref());
            identified_page(
                s,
                headers,
                stored,
                lang,
                Some(message),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Why an answer was refused, naming the question and the rule in the page's language; never
/// the value typed.
pub(super) fn refused_answer(
    stored: &StoredSurvey,
    lang: Language,
    code: ErrorCode,
    field: Option<&str>,
) -> String {
    let question = field
        .and_then(|f| f.strip_prefix("answers."))
        .and_then(|id| stored.survey.question(id))
        .map(|q| text_in(&q.text, lang));
    refusal(lang, code, question.as_deref())
}

/// Why an answer was refused, in `lang`.
pub(super) fn refusal(lang: Language, code: ErrorCode, question: Option<&str>) -> String {
    let q = question.unwrap_or("");
    let (en, ja, fr) = match code {
        ErrorCode::AnswerRequired => (
            format!("Please answer “{q}”."),
            format!("「{q}」にお答えください。"),
            format!("Merci de répondre à « {q} »."),
        ),
        ErrorCode::OutOfRange
        | ErrorCode::OneAnswer
        | ErrorCode::UnknownChoice
        | ErrorCode::InvalidAnswer => (
            format!("Please pick one of the answers offered for “{q}”."),
            format!("「{q}」は選択肢から選んでください。"),
            format!("Choisissez une des réponses proposées pour « {q} »."),
        ),
        ErrorCode::TokenRequired | ErrorCode::InvalidToken => (
            "This survey is by invitation: open it with the link in your invitation.".to_string(),
            "招待制のアンケートです。招待メールのリンクから開いてください。".to_string(),
            "Ce questionnaire est sur invitation : ouvrez-le avec le lien de votre invitation."
                .to_string(),
        ),
        ErrorCode::AnswerTooLong => (
            format!("Your answer to “{q}” is too long (at most 2,000 characters)."),
            format!("「{q}」への回答が長すぎます（2,000文字まで）。"),
            format!("Votre réponse à « {q} » est trop longue (2 000 caractères au plus)."),
        ),
        _ => (
            "Some answers do not belong to this survey.".to_string(),
            "このアンケートにない回答が含まれています。".to_string(),
            "Certaines réponses ne correspondent pas à ce questionnaire.".to_string(),
        ),
    };
    match lang {
        Language::Ja => ja,
        Language::Fr => fr,
        Language::En => en,
    }
}
