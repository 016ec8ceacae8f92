//! The staff console (`/console`). Today: the enrolment page a new member of staff opens from
//! their one-time link to set a password (NIST SP 800-63B lengths; Argon2id in core). Sign-in,
//! second factors and the console's pages follow (issue 20).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_crypto::passwords::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use mamori_policy::Language;
use serde::Deserialize;

use crate::AppState;
use crate::privacy::{html_page, page_language};
use crate::privacy_center::session::{
    cookie, form_token_for, random_token, same, same_origin, set_cookie_at,
};
use crate::privacy_center::with_cookie;

/// The console's own pre-session cookie (Path=/console: the privacy center's stays its own).
const CONSOLE_CSRF: &str = "mamori_console_csrf";

type SetCookie = Option<(axum::http::header::HeaderName, axum::http::HeaderValue)>;

/// The form token for a console page, and the cookie to set if the browser has none.
fn csrf_token(s: &AppState, headers: &HeaderMap) -> (String, SetCookie) {
    match cookie(headers, CONSOLE_CSRF).filter(|t| t.len() == 43) {
        Some(browser) => (form_token_for(s, &browser, false), None),
        None => {
            let browser = random_token();
            let set = set_cookie_at(CONSOLE_CSRF, &browser, 86_400, "/console");
            (form_token_for(s, &browser, false), Some(set))
        }
    }
}

/// Whether a posted console form came from our page in this browser (and not cross-site).
fn form_is_ours(s: &AppState, headers: &HeaderMap, token: &str) -> bool {
    let cross_site = (headers.get(axum::http::header::ORIGIN))
        .is_some_and(|o| !same_origin(s, headers, o.to_str().unwrap_or("")));
    let browser = cookie(headers, CONSOLE_CSRF).filter(|t| t.len() == 43);
    !cross_site && browser.is_some_and(|b| same(&form_token_for(s, &b, false), token))
}

pub(crate) struct Words {
    title: &'static str,
    intro: &'static str,
    password: &'static str,
    confirm: &'static str,
    button: &'static str,
    done: &'static str,
    invalid_link: &'static str,
    mismatch: &'static str,
    bad_form: &'static str,
    too_short: &'static str,
    too_long: &'static str,
    too_simple: &'static str,
}

fn words(lang: Language) -> Words {
    match lang {
        Language::En => Words {
            title: "Activate your staff account",
            intro: "Choose a password of at least 12 characters. A phrase of several words is easiest to remember; no symbols are required.",
            password: "New password",
            confirm: "The same password again",
            button: "Activate",
            done: "Your password is set.",
            invalid_link: "This link is unknown, used or expired. Ask your administrator for a new one.",
            mismatch: "The two passwords differ.",
            bad_form: "This form has expired or did not come from this site. Open your link again.",
            too_short: "A password needs at least 12 characters (any characters, spaces included).",
            too_long: "A password has at most 256 characters.",
            too_simple: "A password of one repeated character is too easy to guess.",
        },
        Language::Ja => Words {
            title: "スタッフアカウントの有効化",
            intro: "12文字以上のパスワードを設定してください。覚えやすい複数の単語からなるフレーズがおすすめです。記号は必須ではありません。",
            password: "新しいパスワード",
            confirm: "もう一度同じパスワード",
            button: "有効にする",
            done: "パスワードを設定しました。",
            invalid_link: "このリンクは無効か、使用済みか、期限切れです。管理者に新しいリンクを依頼してください。",
            mismatch: "2つのパスワードが一致しません。",
            bad_form: "このフォームは期限切れか、このサイトからのものではありません。リンクをもう一度開いてください。",
            too_short: "パスワードは12文字以上にしてください（空白を含め、どの文字でも構いません）。",
            too_long: "パスワードは256文字以内にしてください。",
            too_simple: "同じ文字の繰り返しだけのパスワードは推測されやすいため使えません。",
        },
        Language::Fr => Words {
            title: "Activer votre compte d'équipe",
            intro: "Choisissez un mot de passe d'au moins 12 caractères. Une phrase de plusieurs mots est plus facile à retenir\u{202f}; aucun symbole n'est exigé.",
            password: "Nouveau mot de passe",
            confirm: "Le même mot de passe, à nouveau",
            button: "Activer",
            done: "Votre mot de passe est enregistré.",
            invalid_link: "Ce lien est inconnu, déjà utilisé ou expiré. Demandez-en un nouveau à votre administrateur.",
            mismatch: "Les deux mots de passe diffèrent.",
            bad_form: "Ce formulaire a expiré ou ne vient pas de ce site. Ouvrez à nouveau votre lien.",
            too_short: "Un mot de passe compte au moins 12 caractères (tous caractères, espaces compris).",
            too_long: "Un mot de passe compte au plus 256 caractères.",
            too_simple: "Un mot de passe fait d'un seul caractère répété est trop facile à deviner.",
        },
    }
}

#[derive(Template)]
#[template(path = "console_enrol.html")]
struct EnrolPage {
    lang: &'static str,
    w: Words,
    organisation: String,
    csrf: String,
    /// None: the link does not work (no form).
    token: Option<String>,
    status: Option<&'static str>,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct EnrolQuery {
    token: Option<String>,
    lang: Option<String>,
}

fn page(s: &AppState, lang: Language, csrf: String, token: Option<String>) -> EnrolPage {
    EnrolPage {
        lang: lang.code(),
        w: words(lang),
        organisation: s.vault.policy.organisation.name.clone(),
        csrf,
        token,
        status: None,
        error: None,
    }
}

fn with_status(page: EnrolPage, status: StatusCode) -> Response {
    let mut r = html_page(page.render());
    *r.status_mut() = status;
    r
}

/// The form, if the link still works; otherwise the page saying to ask for a new one.
pub async fn enrol_form(
    State(s): State<AppState>,
    Query(q): Query<EnrolQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let (csrf, set) = csrf_token(&s, &headers);
    let token = q.token.filter(|t| t.len() <= 100);
    let open = match &token {
        Some(t) => match s.vault.enrolment_is_open(t).await {
            Ok(open) => open,
            Err(e) => return crate::problem::ApiError::from(e).into_response(),
        },
        None => false,
    };
    let mut p = page(&s, lang, csrf, token.filter(|_| open));
    let status = if open {
        StatusCode::OK
    } else {
        p.error = Some(p.w.invalid_link);
        StatusCode::NOT_FOUND
    };
    with_cookie(with_status(p, status), set)
}

#[derive(Deserialize)]
pub struct EnrolForm {
    csrf: String,
    lang: Option<String>,
    token: String,
    password: String,
    confirm: String,
}

/// Sets the password: the two entries must agree and pass the length rules; the link is spent.
pub async fn enrol(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<EnrolForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (csrf, set) = csrf_token(&s, &headers);
    let Ok(axum::Form(form)) = form else {
        let lang = page_language(&s.vault.policy, None);
        let mut p = page(&s, lang, csrf, None);
        p.error = Some(p.w.bad_form);
        return with_cookie(with_status(p, StatusCode::BAD_REQUEST), set);
    };
    let lang = page_language(&s.vault.policy, form.lang.as_deref());
    if !form_is_ours(&s, &headers, &form.csrf) {
        let mut p = page(&s, lang, csrf, None);
        p.error = Some(p.w.bad_form);
        return with_cookie(with_status(p, StatusCode::FORBIDDEN), set);
    }
    let mut p = page(&s, lang, csrf, Some(form.token.clone()));
    let chars = form.password.chars().count();
    let refused = if form.password != form.confirm {
        Some(p.w.mismatch)
    } else if chars < PASSWORD_MIN_CHARS {
        Some(p.w.too_short)
    } else if chars > PASSWORD_MAX_CHARS {
        Some(p.w.too_long)
    } else if mamori_crypto::passwords::password_problem(&form.password).is_some() {
        Some(p.w.too_simple)
    } else {
        None
    };
    if let Some(why) = refused {
        p.error = Some(why);
        return with_status(p, StatusCode::UNPROCESSABLE_ENTITY);
    }
    match s.vault.enrol_staff(&form.token, &form.password).await {
        Ok(_) => {
            p.token = None;
            p.status = Some(p.w.done);
            with_status(p, StatusCode::OK)
        }
        Err(mamori_core::CoreError::Missing { .. }) => {
            p.token = None;
            p.error = Some(p.w.invalid_link);
            with_status(p, StatusCode::NOT_FOUND)
        }
        Err(e) => crate::problem::ApiError::from(e).into_response(),
    }
}
