//! One-click unsubscribe (RFC 8058): `POST /unsubscribe?token=…` withdraws the consent the token
//! names (what mail clients send for `List-Unsubscribe-Post: List-Unsubscribe=One-Click`);
//! `GET` shows a confirmation page with a button, since a GET must not change anything (link
//! scanners follow links). Pages in English, Japanese and French.

use mamori_proto::ErrorCode;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::AppState;
use crate::problem::ApiError;

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
    lang: Option<String>,
}

struct Texts {
    title: &'static str,
    ask: &'static str,
    button: &'static str,
    done: &'static str,
}

fn texts(lang: &str) -> (&'static str, Texts) {
    match lang {
        "ja" => (
            "ja",
            Texts {
                title: "配信停止",
                ask: "このメールの配信を停止しますか？",
                button: "配信を停止する",
                done: "配信を停止しました。今後このようなメッセージはお送りしません。",
            },
        ),
        "fr" => (
            "fr",
            Texts {
                title: "Désabonnement",
                ask: "Voulez-vous ne plus recevoir ces messages ?",
                button: "Me désabonner",
                done: "C'est fait : vous ne recevrez plus ces messages.",
            },
        ),
        _ => (
            "en",
            Texts {
                title: "Unsubscribe",
                ask: "Do you want to stop receiving these messages?",
                button: "Unsubscribe",
                done: "Done: you will not receive these messages any more.",
            },
        ),
    }
}

/// Tokens are base64url and one dot: anything else is refused before it reaches a page.
fn well_formed(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 512
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn page(lang: &str, body: &str) -> Response {
    let (code, t) = texts(lang);
    let html = format!(
        "<!doctype html><html lang=\"{code}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{}</title></head><body><main><h1>{}</h1>{body}</main></body></html>",
        t.title, t.title
    );
    (
        [(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )],
        Html(html),
    )
        .into_response()
}

pub async fn confirm_page(Query(q): Query<TokenQuery>) -> Response {
    let lang = q.lang.as_deref().unwrap_or("en");
    let (code, t) = texts(lang);
    match q.token.as_deref().filter(|t| well_formed(t)) {
        Some(token) => page(
            code,
            &format!(
                "<p>{}</p><form method=\"post\" action=\"/unsubscribe?token={token}&amp;lang={code}\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\"><button type=\"submit\">{}</button></form>",
                t.ask, t.button
            ),
        ),
        None => ApiError::Core(mamori_core::CoreError::invalid(
            ErrorCode::InvalidToken,
            "token",
            "this unsubscribe link is not valid; use the link from a recent message",
        ))
        .into_response(),
    }
}

pub async fn one_click(
    State(s): State<AppState>,
    Query(q): Query<TokenQuery>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
) -> Response {
    let ip = peer.map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.0.ip());
    if let Some(retry_after) = s.limits.shut_out_for(ip) {
        return ApiError::RateLimited { retry_after }.into_response();
    }
    let token = q.token.as_deref().filter(|t| well_formed(t)).unwrap_or("-");
    match s.vault.unsubscribe(token).await {
        Ok(_) => {
            let (code, t) = texts(q.lang.as_deref().unwrap_or("en"));
            let mut response = page(code, &format!("<p role=\"status\">{}</p>", t.done));
            *response.status_mut() = StatusCode::OK;
            response
        }
        Err(e) => {
            if e.code() == ErrorCode::InvalidToken && !s.limits.record_failed_auth(ip) {
                let retry_after = crate::ratelimit::SHUT_OUT.as_secs();
                return ApiError::RateLimited { retry_after }.into_response();
            }
            ApiError::Core(e).into_response()
        }
    }
}
