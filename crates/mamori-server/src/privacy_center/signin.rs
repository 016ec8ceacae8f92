//! Signing in by one-time code (or the e-mail's link), signing out, and the demo's outbox.

use super::*;

#[derive(Template)]
#[template(path = "signin.html")]
pub(super) struct SignInPage {
    pub(super) lang: &'static str,
    pub(super) s: Strings,
    pub(super) organisation: String,
    pub(super) csrf: String,
    pub(super) challenge: Option<String>,
    /// Filled in from a sign-in link.
    pub(super) code: Option<String>,
    pub(super) status: Option<&'static str>,
    pub(super) error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "outbox.html")]
pub(super) struct OutboxPage {
    /// Each message with its sign-in link, if it has one (shown as a link to click).
    messages: Vec<(Mail, Option<String>)>,
}

pub(super) fn sign_in_page(s: &AppState, lang: Language, csrf: String) -> SignInPage {
    SignInPage {
        lang: lang.code(),
        s: strings(lang),
        organisation: s.vault.policy.organisation.name.clone(),
        csrf,
        challenge: None,
        code: None,
        status: None,
        error: None,
    }
}

pub async fn sign_in_form(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let (csrf, set) = csrf_token(&s, &headers);
    with_cookie(html_page(sign_in_page(&s, lang, csrf).render()), set)
}

#[derive(Deserialize)]
pub struct EmailForm {
    email: String,
    csrf: String,
    lang: Option<String>,
}

/// A 429 page: the client (or the address) asked too often.
pub(super) fn slow_down(s: &AppState, lang: Language, csrf: String) -> Response {
    let mut page = sign_in_page(s, lang, csrf);
    page.error = Some(page.s.slow_down);
    let mut r = html_page(page.render());
    *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    r
}

pub async fn request_code(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    OurForm { form, lang, csrf }: OurForm<EmailForm>,
) -> Response {
    if !s.limits.allow_signin(peer.ip()) || !s.limits.allow_code_to(&form.email) {
        return slow_down(&s, lang, csrf);
    }
    let mut page = sign_in_page(&s, lang, csrf);
    match s.vault.start_sign_in(&form.email).await {
        Ok(started) => {
            if let Some(code) = started.code {
                let words = strings(lang);
                let link = format!(
                    "{}/privacy/sign-in/link?challenge={}&code={code}&lang={}",
                    s.public_url,
                    mamori_core::format_id(&started.challenge),
                    lang.code()
                );
                let message = CodeMessage {
                    subject: words.mail_subject.to_string(),
                    body: words.mail_body.replace("{code}", &code),
                    email_footer: Some(format!("{}\n{link}", words.mail_link)),
                };
                // Detached, so the answer takes as long for unknown addresses.
                s.codes.send_detached(started.to, message);
            }
            page.challenge = Some(mamori_core::format_id(&started.challenge));
            page.status = Some(page.s.sent);
            html_page(page.render())
        }
        Err(mamori_core::CoreError::Invalid { .. }) => {
            page.error = Some(page.s.bad_email);
            let mut r = html_page(page.render());
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
        Err(e) => crate::problem::ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
pub struct LinkQuery {
    challenge: Option<String>,
    code: Option<String>,
    lang: Option<String>,
}

/// The link from a sign-in e-mail: the code form, filled in, for one click. Opening the link
/// signs nobody in by itself, so a mail scanner that follows links spends no code and opens no
/// session; the click posts the form like a typed code (same tries, expiry and single use).
pub async fn sign_in_link(
    State(s): State<AppState>,
    Query(q): Query<LinkQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let (csrf, set) = csrf_token(&s, &headers);
    let mut page = sign_in_page(&s, lang, csrf);
    let challenge = q.challenge.as_deref().and_then(mamori_core::parse_id);
    let code = q
        .code
        .filter(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()));
    match (challenge, code) {
        (Some(challenge), Some(code)) => {
            page.challenge = Some(mamori_core::format_id(&challenge));
            page.code = Some(code);
        }
        _ => page.error = Some(page.s.bad_link),
    }
    let mut r = with_cookie(html_page(page.render()), set);
    // The code is in this page's address: keep it out of Referer headers to other sites. (Not
    // no-referrer: that makes browsers send `Origin: null` with the form, which is refused.)
    r.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    r
}

#[derive(Deserialize)]
pub struct CodeForm {
    challenge: String,
    code: String,
    csrf: String,
    lang: Option<String>,
}

pub async fn submit_code(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    OurForm { form, lang, csrf }: OurForm<CodeForm>,
) -> Response {
    let Some(challenge) = mamori_core::parse_id(&form.challenge) else {
        return refused_form(&s, lang, csrf, None);
    };
    if !s.limits.allow_signin(peer.ip()) {
        return slow_down(&s, lang, csrf);
    }
    let outcome = match s.vault.finish_sign_in(&challenge, form.code.trim()).await {
        Ok(outcome) => outcome,
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    match outcome {
        Ok((token, _)) => {
            let session = set_cookie(
                SESSION_COOKIE,
                &token,
                mamori_core::signin::SESSION_TTL_MS / 1000,
            );
            let mut r = Redirect::to(&format!("/privacy/me?lang={}", lang.code())).into_response();
            r.headers_mut().append(session.0, session.1);
            r
        }
        Err(why) => {
            let mut page = sign_in_page(&s, lang, csrf);
            page.error = Some(match why {
                CodeRefused::Wrong => page.s.wrong,
                CodeRefused::Expired => page.s.expired,
                CodeRefused::TooManyAttempts => page.s.locked,
                CodeRefused::AlreadyUsed => page.s.used,
            });
            // Only a wrong code can be corrected on the same challenge.
            if why == CodeRefused::Wrong {
                page.challenge = Some(form.challenge);
            }
            let mut r = html_page(page.render());
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}

/// "My data": every field the person has, by category, with the purposes that use it and how

#[derive(Deserialize)]
pub struct SignOutForm {
    csrf: String,
    lang: Option<String>,
}

pub async fn sign_out(
    State(s): State<AppState>,
    headers: HeaderMap,
    OurForm { lang, .. }: OurForm<SignOutForm>,
) -> Response {
    let token = cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    if let Err(e) = s.vault.sign_out(&token).await {
        return crate::problem::ApiError::from(e).into_response();
    }
    let mut r = Redirect::to(&format!("/privacy?lang={}", lang.code())).into_response();
    let clear = set_cookie(SESSION_COOKIE, "", 0);
    r.headers_mut().append(clear.0, clear.1);
    r
}

/// `mamori demo` only: the messages the demo would have mailed.
pub async fn demo_outbox(State(s): State<AppState>) -> Response {
    match &s.demo_outbox {
        Some(outbox) => html_page(
            OutboxPage {
                messages: outbox
                    .messages()
                    .into_iter()
                    .map(|m| {
                        let link = m
                            .body
                            .lines()
                            .find(|l| l.starts_with("http") && l.contains("/privacy/sign-in/link?"))
                            .map(str::to_string);
                        (m, link)
                    })
                    .collect(),
            }
            .render(),
        ),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

page_form!(EmailForm, CodeForm, SignOutForm);
