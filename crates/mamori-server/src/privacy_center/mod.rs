//! The privacy center, where people act on their own data: signing in (`signin`), the session
//! and its forms (`session`), My data (`me`, `records`), My choices (`choices`), Download my
//! data (`download`), Who accessed my data (`activity`), Correct my data (`correct`) and Delete
//! my account (`delete`), in the privacy center's own words (`words`). Server-rendered forms, no
//! JavaScript. Cookies are HttpOnly and SameSite=Strict; every form carries a CSRF token bound
//! to the browser or session, and a cross-site `Origin` is refused.

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

pub mod activity;
pub mod choices;
pub mod correct;
pub mod delete;
mod download;
pub(crate) mod holds;
mod me;
pub mod records;
pub(crate) mod session;
mod signin;
mod words;

pub use download::*;
pub use me::*;
pub use session::*;
pub use signin::*;
pub(crate) use words::*;
