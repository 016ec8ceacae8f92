//! What every console form post does first, in one place: the page's language from the form, the
//! signed-in session (or the answer sending the browser to sign in), and whether the form was made
//! for this session (CSRF); and the one line a page shows when the vault refuses a step.

use axum::http::HeaderMap;
use axum::response::Response;
use mamori_core::CoreError;
use mamori_policy::Language;

use super::words::Words;
use super::{Signed, signed_in};
use crate::AppState;
use crate::privacy::page_language;

/// A form of a signed-in console page: its session-bound token and the page's language.
pub(crate) trait ConsoleForm {
    fn csrf(&self) -> &str;
    fn lang(&self) -> Option<&str>;
}

/// Implements [`ConsoleForm`] for form structs with `csrf: String` and `lang: Option<String>`.
macro_rules! console_form {
    ($($form:ty),* $(,)?) => {
        $(impl $crate::console::forms::ConsoleForm for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
            fn lang(&self) -> Option<&str> {
                self.lang.as_deref()
            }
        })*
    };
}
pub(crate) use console_form;

/// A posted form: ours (made for this session), not ours (forged, stale or unreadable), or the
/// answer to give instead (no session: to the sign-in page).
pub(crate) enum Posted<F> {
    Ours(Language, Signed, F),
    NotOurs(Language, Signed),
    Answer(Response),
}

pub(crate) async fn posted<F: ConsoleForm>(
    s: &AppState,
    headers: &HeaderMap,
    form: Result<axum::Form<F>, axum::extract::rejection::FormRejection>,
) -> Posted<F> {
    let lang = page_language(&s.vault.policy, form.as_ref().ok().and_then(|f| f.0.lang()));
    let signed = match signed_in(s, headers, lang).await {
        Ok(signed) => signed,
        Err(answer) => return Posted::Answer(answer),
    };
    match form {
        Ok(axum::Form(f)) if signed.form_is_ours(s, headers, f.csrf()) => {
            Posted::Ours(lang, signed, f)
        }
        _ => Posted::NotOurs(lang, signed),
    }
}

/// The line a page shows when the vault refuses a step or a value (None: an error the API's
/// problem mapping answers, such as a database outage).
pub(crate) fn refusal_line(w: &Words, e: &CoreError) -> Option<String> {
    match e {
        CoreError::Denied(d) => Some(format!("{} ({})", w.refused_by_policy, d.code())),
        CoreError::Invalid { .. }
        | CoreError::Missing { .. }
        | CoreError::Conflict { .. }
        | CoreError::NotFound => Some(w.bad_value.to_string()),
        _ => None,
    }
}

/// The start of a day typed in a form (YYYY-MM-DD, UTC) in Unix milliseconds; None if it is not
/// one. A day's end is its start plus [`DAY_MS`].
pub(crate) fn day_start_ms(day: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(day.trim(), &format).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
}

pub(crate) const DAY_MS: i64 = 86_400_000;
