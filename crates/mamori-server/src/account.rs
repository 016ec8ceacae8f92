//! The signed-in part of the privacy center: sign-in by one-time code, "My data", sign-out, and
//! the demo's outbox. Server-rendered forms, no JavaScript. Cookies are HttpOnly and
//! SameSite=Strict; every form carries a CSRF token that must match its cookie (double submit)
//! and a cross-site `Origin` is refused.

use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mamori_core::mail::{CodeMessage, Mail};
use mamori_core::signin::CodeRefused;
use mamori_policy::{Language, RIGHTS_PURPOSE};
use serde::Deserialize;

use crate::AppState;
use crate::privacy::{html_page, page_language};

const SESSION_COOKIE: &str = "mamori_session";
const CSRF_COOKIE: &str = "mamori_csrf";

pub(crate) struct Strings {
    /// What follows a label: ": ", "：" in Japanese, " : " (narrow no-break space) in French.
    pub(crate) colon: &'static str,
    pub(crate) nav: &'static str,
    pub(crate) center: &'static str,
    pub(crate) notice: &'static str,
    pub(crate) title: &'static str,
    pub(crate) intro: &'static str,
    pub(crate) email_label: &'static str,
    pub(crate) email_button: &'static str,
    pub(crate) sent: &'static str,
    pub(crate) code_label: &'static str,
    pub(crate) code_button: &'static str,
    pub(crate) new_code: &'static str,
    pub(crate) wrong: &'static str,
    pub(crate) expired: &'static str,
    pub(crate) locked: &'static str,
    pub(crate) used: &'static str,
    pub(crate) bad_email: &'static str,
    pub(crate) bad_link: &'static str,
    pub(crate) bad_form: &'static str,
    pub(crate) slow_down: &'static str,
    pub(crate) my_data: &'static str,
    pub(crate) my_data_intro: &'static str,
    pub(crate) used_for: &'static str,
    pub(crate) kept_for: &'static str,
    pub(crate) nothing_held: &'static str,
    pub(crate) recorded_on: &'static str,
    pub(crate) see_all: &'static str,
    pub(crate) sign_out: &'static str,
    pub(crate) download: &'static str,
    pub(crate) activity: &'static str,
    pub(crate) correct: &'static str,
    pub(crate) delete: &'static str,
    pub(crate) choices: &'static str,
    pub(crate) choices_intro: &'static str,
    pub(crate) on: &'static str,
    pub(crate) off: &'static str,
    pub(crate) turn_on: &'static str,
    pub(crate) turn_off: &'static str,
    pub(crate) saved: &'static str,
    pub(crate) do_not_sell: &'static str,
    pub(crate) do_not_sell_intro: &'static str,
    pub(crate) opted_out: &'static str,
    pub(crate) mail_subject: &'static str,
    pub(crate) mail_body: &'static str,
    pub(crate) mail_link: &'static str,
}

pub(crate) fn strings(lang: Language) -> Strings {
    match lang {
        Language::En => Strings {
            colon: ": ",
            nav: "Privacy center",
            center: "Privacy center",
            notice: "Privacy notice",
            title: "Sign in to see your data",
            intro: "Enter the e-mail address or mobile phone number you gave us. We will send a one-time code to it (by e-mail, also a sign-in link).",
            email_label: "E-mail address or mobile number",
            email_button: "Send me a code",
            sent: "If we know this address, we have sent a code to it. It is valid for 10 minutes.",
            code_label: "The 6-digit code",
            code_button: "Sign in",
            new_code: "Get a new code",
            wrong: "That code is not right. Check it and try again.",
            expired: "This code has expired. Ask for a new one.",
            locked: "Too many wrong tries for this code. Ask for a new one.",
            used: "This code was already used. Ask for a new one.",
            bad_link: "This sign-in link is incomplete. Copy the whole link from the message, or type the code.",
            bad_email: "That does not look like an e-mail address or a phone number (for a number, start with + and the country code). Check it and try again.",
            bad_form: "This form has expired or did not come from this site. Please start again.",
            slow_down: "Too many attempts in a short time. Please wait a few minutes and try again.",
            my_data: "My data",
            my_data_intro: "Everything we hold about you, by kind of data, with what we use it for and how long we keep it.",
            used_for: "Used for",
            kept_for: "Kept for",
            nothing_held: "We hold nothing of this kind about you.",
            recorded_on: "Recorded on",
            see_all: "See them all here, a page at a time",
            sign_out: "Sign out",
            download: "Download my data (JSON and CSV, zip)",
            activity: "Who accessed my data",
            correct: "Correct my data",
            delete: "Delete my account",
            choices: "My choices",
            choices_intro: "What you have agreed to, for each use and channel. Changes take effect at once.",
            on: "On",
            off: "Off",
            turn_on: "Turn on",
            turn_off: "Turn off",
            saved: "Saved. Your choice applies from now on.",
            do_not_sell: "Do not sell or share my personal information",
            do_not_sell_intro: "Turns off every use that sells or shares your data with other companies, on every channel.",
            opted_out: "Done: we will not sell or share your personal information.",
            mail_subject: "Your sign-in code",
            mail_body: "Your code for the privacy center is {code}. It is valid for 10 minutes. If you did not ask for it, ignore this message.",
            mail_link: "Or open this link to sign in:",
        },
        Language::Ja => Strings {
            colon: "：",
            nav: "プライバシーセンター",
            center: "プライバシーセンター",
            notice: "プライバシー通知",
            title: "サインインしてご自身のデータを確認",
            intro: "ご登録のメールアドレスまたは携帯電話番号を入力してください。ワンタイムコードをお送りします（メールの場合はサインイン用リンクも）。",
            email_label: "メールアドレスまたは携帯電話番号",
            email_button: "コードを送信",
            sent: "このアドレスが登録されている場合、コードを送信しました。有効期間は10分です。",
            code_label: "6桁のコード",
            code_button: "サインイン",
            new_code: "新しいコードを受け取る",
            wrong: "コードが正しくありません。確認してもう一度お試しください。",
            expired: "このコードは有効期限が切れています。新しいコードをご請求ください。",
            locked: "このコードでの誤入力が多すぎます。新しいコードをご請求ください。",
            used: "このコードはすでに使用されています。新しいコードをご請求ください。",
            bad_link: "このサインイン用リンクは不完全です。メッセージのリンク全体をコピーするか、コードを入力してください。",
            bad_email: "メールアドレスまたは電話番号の形式ではないようです（電話番号は + と国番号から入力してください）。確認してもう一度お試しください。",
            bad_form: "このフォームは期限切れか、このサイトからのものではありません。最初からやり直してください。",
            slow_down: "短時間に試行が多すぎます。数分待ってからもう一度お試しください。",
            my_data: "マイデータ",
            my_data_intro: "当社が保有するお客様のデータを種類ごとに、利用目的と保存期間とともに表示しています。",
            used_for: "利用目的",
            kept_for: "保存期間",
            nothing_held: "この種類のデータは保有していません。",
            recorded_on: "記録日",
            see_all: "こちらで順にすべて見られます",
            sign_out: "サインアウト",
            download: "データをダウンロード（JSON・CSV、zip形式）",
            activity: "データへのアクセス履歴",
            correct: "データの訂正",
            delete: "アカウントの削除",
            choices: "同意の設定",
            choices_intro: "用途・連絡手段ごとの同意状況です。変更はすぐに反映されます。",
            on: "オン",
            off: "オフ",
            turn_on: "オンにする",
            turn_off: "オフにする",
            saved: "保存しました。この設定は今から適用されます。",
            do_not_sell: "個人情報を販売・共有しない",
            do_not_sell_intro: "お客様のデータを他社に販売・共有するすべての用途を、すべての連絡手段でオフにします。",
            opted_out: "完了しました。お客様の個人情報を販売・共有しません。",
            mail_subject: "サインイン用コード",
            mail_body: "プライバシーセンターのコードは {code} です。有効期間は10分です。お心当たりがない場合は、このメールを無視してください。",
            mail_link: "または、次のリンクからサインインできます：",
        },
        Language::Fr => Strings {
            colon: "\u{202f}: ",
            nav: "Centre de confidentialité",
            center: "Centre de confidentialité",
            notice: "Avis de confidentialité",
            title: "Connectez-vous pour voir vos données",
            intro: "Saisissez l'adresse e-mail ou le numéro de mobile que vous nous avez donné. Nous y enverrons un code à usage unique (par e-mail, aussi un lien de connexion).",
            email_label: "Adresse e-mail ou numéro de mobile",
            email_button: "Recevoir un code",
            sent: "Si nous connaissons cette adresse, nous y avons envoyé un code. Il est valable 10 minutes.",
            code_label: "Le code à 6 chiffres",
            code_button: "Se connecter",
            new_code: "Recevoir un nouveau code",
            wrong: "Ce code n'est pas le bon. Vérifiez-le et réessayez.",
            expired: "Ce code a expiré. Demandez-en un nouveau.",
            locked: "Trop d'essais erronés pour ce code. Demandez-en un nouveau.",
            used: "Ce code a déjà été utilisé. Demandez-en un nouveau.",
            bad_link: "Ce lien de connexion est incomplet. Copiez le lien entier depuis le message, ou saisissez le code.",
            bad_email: "Cela ne ressemble ni à une adresse e-mail ni à un numéro de téléphone (pour un numéro, commencez par + et l'indicatif du pays). Vérifiez et réessayez.",
            bad_form: "Ce formulaire a expiré ou ne vient pas de ce site. Veuillez recommencer.",
            slow_down: "Trop de tentatives en peu de temps. Patientez quelques minutes puis réessayez.",
            my_data: "Mes données",
            my_data_intro: "Tout ce que nous détenons sur vous, par type de données, avec l'usage que nous en faisons et la durée de conservation.",
            used_for: "Utilisées pour",
            kept_for: "Conservées",
            nothing_held: "Nous ne détenons rien de ce type vous concernant.",
            recorded_on: "Enregistré le",
            see_all: "Les voir tous ici, page par page",
            sign_out: "Se déconnecter",
            download: "Télécharger mes données (JSON et CSV, zip)",
            activity: "Qui a accédé à mes données",
            correct: "Corriger mes données",
            delete: "Supprimer mon compte",
            choices: "Mes choix",
            choices_intro: "Ce que vous avez accepté, pour chaque usage et canal. Les changements s'appliquent immédiatement.",
            on: "Activé",
            off: "Désactivé",
            turn_on: "Activer",
            turn_off: "Désactiver",
            saved: "Enregistré. Votre choix s'applique dès maintenant.",
            do_not_sell: "Ne pas vendre ni partager mes informations personnelles",
            do_not_sell_intro: "Désactive tout usage qui vend ou partage vos données avec d'autres entreprises, sur tous les canaux.",
            opted_out: "C'est fait : nous ne vendrons ni ne partagerons vos informations personnelles.",
            mail_subject: "Votre code de connexion",
            mail_body: "Votre code pour le centre de confidentialité est {code}. Il est valable 10 minutes. Si vous ne l'avez pas demandé, ignorez ce message.",
            mail_link: "Ou ouvrez ce lien pour vous connecter :",
        },
    }
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    lang: &'static str,
    s: Strings,
    organisation: String,
    csrf: String,
    challenge: Option<String>,
    /// Filled in from a sign-in link.
    code: Option<String>,
    status: Option<&'static str>,
    error: Option<&'static str>,
}

struct CategoryData {
    name: String,
    label: String,
    purposes: String,
    retention: String,
    fields: Vec<(String, String)>,
    /// Records of this kind (orders, requests…), newest first, at most [`RECORDS_SHOWN`].
    records: Vec<RecordData>,
    /// Says how many older ones the page leaves to the download, if any.
    older: Option<String>,
}

pub(crate) struct RecordData {
    pub(crate) date: String,
    pub(crate) fields: Vec<(String, String)>,
}

/// A record as the privacy center shows it: its day and its fields, labelled.
pub(crate) fn record_data(
    c: &mamori_policy::Category,
    r: &mamori_core::vault::RecordView,
    lang: Language,
) -> RecordData {
    RecordData {
        date: r.created_at.get(..10).unwrap_or_default().to_string(),
        fields: c
            .fields
            .iter()
            .filter_map(|f| {
                let value = r.data.get(&f.name)?;
                let text = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_string);
                Some((f.label.get(lang).to_string(), text))
            })
            .collect(),
    }
}

/// "N older records are in your download", with each language's typography.
fn older_records(lang: Language, n: usize) -> Option<String> {
    (n > 0).then(|| match lang {
        Language::Ja => format!("それ以前の記録（{n}件）はダウンロードに含まれています。"),
        Language::Fr => {
            format!("{n} enregistrements plus anciens de ce type sont dans votre téléchargement.")
        }
        Language::En => format!("{n} older records of this kind are in your download."),
    })
}

/// The newest records "My data" reads, of all kinds together.
const RECENT_RECORDS: i64 = 200;

/// Records shown per kind on "My data"; the download has them all.
const RECORDS_SHOWN: usize = 20;

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    lang: &'static str,
    s: Strings,
    organisation: String,
    csrf: String,
    categories: Vec<CategoryData>,
}

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    /// Each message with its sign-in link, if it has one (shown as a link to click).
    messages: Vec<(Mail, Option<String>)>,
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn set_cookie(name: &str, value: &str, max_age: i64) -> (header::HeaderName, HeaderValue) {
    let text =
        format!("{name}={value}; Path=/privacy; HttpOnly; SameSite=Strict; Max-Age={max_age}");
    (
        header::SET_COOKIE,
        HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("")),
    )
}

/// Tells the browser to forget its privacy-center session.
pub(crate) fn clear_session_cookie() -> (header::HeaderName, HeaderValue) {
    set_cookie(SESSION_COOKIE, "", 0)
}

fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The form token for what the browser holds: a keyed MAC of its session token when it is
/// signed in, else of its pre-session cookie. Nobody without the server's key can make one,
/// and a token made for one session is worth nothing in another.
fn form_token_for(s: &AppState, binding: &str, signed_in: bool) -> String {
    let key = s.vault.form_token_key();
    let label = if signed_in { "session:" } else { "browser:" };
    let mac = mamori_crypto::hmac_sha256(key.as_ref(), format!("{label}{binding}").as_bytes());
    URL_SAFE_NO_PAD.encode(mac)
}

/// What the form token is bound to: the session cookie, else the pre-session cookie.
fn csrf_binding(headers: &HeaderMap) -> Option<(String, bool)> {
    match cookie(headers, SESSION_COOKIE).filter(|t| !t.is_empty()) {
        Some(session) => Some((session, true)),
        None => cookie(headers, CSRF_COOKIE)
            .filter(|t| t.len() == 43)
            .map(|t| (t, false)),
    }
}

/// Whether an `Origin` header names this site exactly: scheme, host and port, as the browser
/// reached it (or as the configured public URL says).
fn same_origin(s: &AppState, headers: &HeaderMap, origin: &str) -> bool {
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

fn sign_in_page(s: &AppState, lang: Language, csrf: String) -> SignInPage {
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
fn slow_down(s: &AppState, lang: Language, csrf: String) -> Response {
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
    headers: HeaderMap,
    form: Result<axum::Form<EmailForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (form, lang, csrf) = match accepted(&s, &headers, form) {
        Ok(accepted) => accepted,
        Err(refused) => return *refused,
    };
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

fn refused_form(
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

page_form!(EmailForm, CodeForm, SignOutForm);
pub(crate) use page_form;

/// A posted form that came from our own page: parsed, its language resolved and its CSRF token
/// checked (with the page's token); otherwise the page saying it expired or came from elsewhere.
pub(crate) fn accepted<F: PageForm>(
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

/// A posted form of ours from a signed-in person: the form, its language and the person; else
/// the page to answer with (form refused, or sign in first).
pub(crate) async fn signed_in_form<F: PageForm>(
    s: &AppState,
    headers: &HeaderMap,
    form: Result<axum::Form<F>, axum::extract::rejection::FormRejection>,
) -> Result<(F, Language, [u8; 16], mamori_core::Actor), Response> {
    let (form, lang, _) = accepted(s, headers, form).map_err(|refused| *refused)?;
    let (subject, actor) = signed_in(s, headers, lang).await?;
    Ok((form, lang, subject, actor))
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
    headers: HeaderMap,
    form: Result<axum::Form<CodeForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (form, lang, csrf) = match accepted(&s, &headers, form) {
        Ok(accepted) => accepted,
        Err(refused) => return *refused,
    };
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
/// long it is kept — read through the access decision as the person, and ledgered.
pub async fn my_data(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let policy = &s.vault.policy;
    let lang = page_language(policy, q.lang.as_deref());
    let (subject, actor) = match signed_in(&s, &headers, lang).await {
        Ok(session) => session,
        Err(r) => return r,
    };
    let view = match s.vault.read_subject(&actor, RIGHTS_PURPOSE, &subject).await {
        Ok(view) => view,
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    // Orders, support requests…: records, not fields, shown with their kind (the newest; the
    // download has them all).
    let recent = s
        .vault
        .recent_records(&actor, RIGHTS_PURPOSE, &subject, RECENT_RECORDS)
        .await;
    let (records, counts) = match recent {
        Ok(found) => found,
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    let categories = policy
        .categories
        .iter()
        .map(|c| {
            let held = view.data.get(&c.name);
            let fields = c
                .fields
                .iter()
                .filter_map(|f| {
                    let value = held?.get(&f.name)?;
                    let text = value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_string);
                    Some((f.label.get(lang).to_string(), text))
                })
                .collect();
            let purposes = policy
                .purposes
                .iter()
                .filter(|p| p.categories.contains(c.id))
                .map(|p| p.label.get(lang))
                .collect::<Vec<_>>()
                .join(if lang == Language::Ja { "、" } else { ", " });
            let mine: Vec<_> = records.iter().filter(|r| r.category == c.name).collect();
            let total = counts
                .iter()
                .find(|(name, _)| *name == c.name)
                .map_or(0, |(_, n)| *n as usize);
            let shown = mine
                .iter()
                .take(RECORDS_SHOWN)
                .map(|r| record_data(c, r, lang))
                .collect();
            CategoryData {
                name: c.name.clone(),
                label: c.label.get(lang).to_string(),
                purposes,
                retention: mamori_policy::notice::duration_text(c.retention.days, lang),
                fields,
                records: shown,
                older: older_records(lang, total.saturating_sub(mine.len().min(RECORDS_SHOWN))),
            }
        })
        .collect();
    let (csrf, set) = csrf_token(&s, &headers);
    let page = MePage {
        lang: lang.code(),
        s: strings(lang),
        organisation: policy.organisation.name.clone(),
        csrf,
        categories,
    };
    with_cookie(html_page(page.render()), set)
}

#[derive(Deserialize)]
pub struct SignOutForm {
    csrf: String,
    lang: Option<String>,
}

pub async fn sign_out(
    State(s): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<SignOutForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (_, lang, _) = match accepted(&s, &headers, form) {
        Ok(accepted) => accepted,
        Err(refused) => return *refused,
    };
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

/// Enters what the person just did for themselves in the register of requests, fulfilled. The
/// action itself is done and durable by now, so a failure here is logged, not shown.
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

/// "Download my data": a zip of JSON and CSV files with every field, record and consent the
/// person has, read as the person (each read ledgered). Built in memory: one person's data.
pub async fn download(
    State(s): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_language(&s.vault.policy, q.lang.as_deref());
    let (subject, actor) = match signed_in(&s, &headers, lang).await {
        Ok(session) => session,
        Err(r) => return r,
    };
    let export = match s.vault.export_own(&actor, &subject).await {
        Ok(export) => export,
        Err(e) => return crate::problem::ApiError::from(e).into_response(),
    };
    match crate::export::zip(&export) {
        Ok(bytes) => {
            let mut r = bytes.into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            );
            h.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"my-data.zip\""),
            );
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "export archive failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
