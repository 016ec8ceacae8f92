//! The session and its forms: cookies, the CSRF token bound to the browser or session, the
//! `Origin` check, and the signed-in person (with Global Privacy Control honoured).

use super::*;

pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub(super) fn set_cookie(
    name: &str,
    value: &str,
    max_age: i64,
) -> (header::HeaderName, HeaderValue) {
    set_cookie_at(name, value, max_age, "/privacy")
}

/// A cookie for one part of the site (`/privacy`, `/console`): HttpOnly, SameSite=Strict.
pub(crate) fn set_cookie_at(
    name: &str,
    value: &str,
    max_age: i64,
    path: &str,
) -> (header::HeaderName, HeaderValue) {
    let text = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={max_age}");
    (
        header::SET_COOKIE,
        HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("")),
    )
}

/// Tells the browser to forget its privacy-center session.
pub(crate) fn clear_session_cookie() -> (header::HeaderName, HeaderValue) {
    set_cookie(SESSION_COOKIE, "", 0)
}

pub(crate) fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The form token for what the browser holds: a keyed MAC of its session token when it is
/// signed in, else of its pre-session cookie. Nobody without the server's key can make one,
/// and a token made for one session is worth nothing in another.
pub(crate) fn form_token_for(s: &AppState, binding: &str, signed_in: bool) -> String {
    let key = s.vault.form_token_key();
    let label = if signed_in { "session:" } else { "browser:" };
    let mac = mamori_crypto::hmac_sha256(key.as_ref(), format!("{label}{binding}").as_bytes());
    URL_SAFE_NO_PAD.encode(mac)
}

/// What the form token is bound to: the session cookie, else the pre-session cookie.
pub(super) fn csrf_binding(headers: &HeaderMap) -> Option<(String, bool)> {
    match cookie(headers, SESSION_COOKIE).filter(|t| !t.is_empty()) {
        Some(session) => Some((session, true)),
        None => cookie(headers, CSRF_COOKIE)
            .filter(|t| t.len() == 43)
            .map(|t| (t, false)),
    }
}

/// Whether an `Origin` header names this site exactly: scheme, host and port, as the browser
/// reached it (or as the configured public URL says).
pub(crate) fn same_origin(s: &AppState, headers: &HeaderMap, origin: &str) -> bool {
    let scheme = if s.tls { "https" } else { "http" };
    let by_host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|host| origin == format!("{scheme}://{host}"));
    let public = s.public_url.trim_end_matches('/');
    let by_public = !public.is_empty()
        && reqwest::Url::parse(public)
            .ok()
            .is_some_and(|u| u.origin().ascii_serialization() == origin);
    by_host || by_public
}

/// The form's token is the one made for this browser's session (or pre-session cookie), and
/// the browser did not say the form came from another origin.
pub(crate) fn form_is_ours(s: &AppState, headers: &HeaderMap, form_token: &str) -> bool {
    let cross_site = match headers.get(header::ORIGIN) {
        Some(origin) => !same_origin(s, headers, origin.to_str().unwrap_or("")),
        None => false,
    };
    let Some((binding, signed_in)) = csrf_binding(headers) else {
        return false;
    };
    !cross_site && same(&form_token_for(s, &binding, signed_in), form_token)
}

/// The CSRF token for the page, and the pre-session cookie to set if the browser has none.
pub(crate) fn csrf_token(
    s: &AppState,
    headers: &HeaderMap,
) -> (String, Option<(header::HeaderName, HeaderValue)>) {
    match csrf_binding(headers) {
        Some((binding, signed_in)) => (form_token_for(s, &binding, signed_in), None),
        None => {
            let browser = random_token();
            let set = set_cookie(CSRF_COOKIE, &browser, 86_400);
            (form_token_for(s, &browser, false), Some(set))
        }
    }
}

pub(crate) fn with_cookie(
    page: Response,
    set: Option<(header::HeaderName, HeaderValue)>,
) -> Response {
    let mut page = page;
    if let Some((name, value)) = set {
        page.headers_mut().append(name, value);
    }
    page
}

#[derive(Deserialize)]
pub struct LangQuery {
    pub(crate) lang: Option<String>,
}

pub(super) fn refused_form(
    s: &AppState,
    lang: Language,
    csrf: String,
    set: Option<(header::HeaderName, HeaderValue)>,
) -> Response {
    let mut page = sign_in_page(s, lang, csrf);
    page.error = Some(page.s.bad_form);
    let mut r = with_cookie(html_page(page.render()), set);
    *r.status_mut() = StatusCode::FORBIDDEN;
    r
}

/// The fields every privacy-center form carries.
pub(crate) trait PageForm {
    fn csrf(&self) -> &str;
    fn lang(&self) -> Option<&str>;
}

macro_rules! page_form {
    ($($form:ty),*) => {$(
        impl PageForm for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
            fn lang(&self) -> Option<&str> {
                self.lang.as_deref()
            }
        }
    )*};
}

pub(crate) use page_form;

/// A posted form that came from our own page: parsed, its language resolved and its CSRF token
/// checked (with the page's token); otherwise the page saying it expired or came from elsewhere.
fn accepted<F: PageForm>(
    s: &AppState,
    headers: &HeaderMap,
    form: Result<axum::Form<F>, axum::extract::rejection::FormRejection>,
) -> Result<(F, Language, String), Box<Response>> {
    let (csrf, set) = csrf_token(s, headers);
    let Ok(axum::Form(form)) = form else {
        let lang = page_language(&s.vault.policy, None);
        return Err(Box::new(refused_form(s, lang, csrf, set)));
    };
    let lang = page_language(&s.vault.policy, form.lang());
    if !form_is_ours(s, headers, form.csrf()) {
        return Err(Box::new(refused_form(s, lang, csrf, set)));
    }
    Ok((form, lang, csrf))
}

/// A posted privacy-center form that came from our own page: parsed, its language resolved,
/// its CSRF token (made for this browser) and its `Origin` (this site, if sent) checked in one
/// place. A handler that takes it cannot see a form that failed; the extractor answers those
/// with the page saying the form expired or came from elsewhere.
pub struct OurForm<F> {
    pub form: F,
    pub lang: Language,
    /// The page's own form token, for the page the handler answers with.
    pub csrf: String,
}

impl<F> axum::extract::FromRequest<AppState> for OurForm<F>
where
    F: PageForm + serde::de::DeserializeOwned + Send,
{
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, s: &AppState) -> Result<Self, Response> {
        let headers = req.headers().clone();
        let form = axum::Form::<F>::from_request(req, s).await;
        let (form, lang, csrf) = accepted(s, &headers, form).map_err(|refused| *refused)?;
        Ok(OurForm { form, lang, csrf })
    }
}

/// [`OurForm`] from a signed-in person: also the person and the actor they act as; a browser
/// without a session is sent to sign in.
pub struct SignedInForm<F> {
    pub form: F,
    pub lang: Language,
    pub subject: [u8; 16],
    pub actor: mamori_core::Actor,
}

impl<F> axum::extract::FromRequest<AppState> for SignedInForm<F>
where
    F: PageForm + serde::de::DeserializeOwned + Send,
{
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, s: &AppState) -> Result<Self, Response> {
        let headers = req.headers().clone();
        let OurForm { form, lang, .. } = OurForm::<F>::from_request(req, s).await?;
        let (subject, actor) = signed_in(s, &headers, lang).await?;
        Ok(SignedInForm {
            form,
            lang,
            subject,
            actor,
        })
    }
}

/// The signed-in person, or a redirect to sign in.
pub(crate) async fn signed_in(
    s: &AppState,
    headers: &HeaderMap,
    lang: Language,
) -> Result<([u8; 16], mamori_core::Actor), Response> {
    let token = cookie(headers, SESSION_COOKIE).unwrap_or_default();
    match s.vault.session_actor(&token).await {
        // A browser's Global Privacy Control signal is the person's opt-out of sale and
        // sharing, honoured on every page of the privacy center (CCPA regulations §7025).
        Ok(Some((subject, actor))) if crate::extract::sends_gpc(headers) => {
            if let Err(e) = s.vault.apply_gpc(&actor, &subject).await {
                return Err(crate::problem::ApiError::from(e).into_response());
            }
            Ok((subject, actor))
        }
        Ok(Some(session)) => Ok(session),
        Ok(None) => {
            Err(Redirect::to(&format!("/privacy/sign-in?lang={}", lang.code())).into_response())
        }
        Err(e) => Err(crate::problem::ApiError::from(e).into_response()),
    }
}
