//! Request extractors: the caller (API key → actor), the purpose header, and a JSON body parser
//! whose errors describe the shape problem without quoting the input.

use mamori_proto::ErrorCode;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use mamori_core::Actor;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::problem::ApiError;

pub struct Caller(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for Caller
where
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        if let Some(retry_after) = state.limits.shut_out_for(peer) {
            return Err(ApiError::RateLimited { retry_after });
        }
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let actor = match token {
            Some(token) => match state.vault.authenticate(token.trim()).await {
                // A key its role refuses (MFA or training): counted like a failed
                // authentication, so retrying it shuts the address out.
                Err(refused @ mamori_core::CoreError::Denied(_)) => {
                    state.limits.record_failed_auth(peer);
                    return Err(refused.into());
                }
                other => other?,
            },
            None => None,
        };
        match actor {
            Some(actor) if state.limits.allow_key(&actor.id) => Ok(Caller(actor)),
            Some(_) => Err(ApiError::RateLimited { retry_after: 1 }),
            None if state.limits.record_failed_auth(peer) => Err(ApiError::Unauthorized),
            None => Err(ApiError::RateLimited {
                retry_after: crate::ratelimit::SHUT_OUT.as_secs(),
            }),
        }
    }
}

/// The `Mamori-Purpose` header every personal-data request must carry.
pub struct Purpose(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Purpose {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let value = parts.headers.get("mamori-purpose").ok_or_else(|| {
            ApiError::bad_request(ErrorCode::MissingPurpose, "name the purpose of this access in a `Mamori-Purpose` header (see the policy's purposes)")
        })?;
        let text = value
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 64);
        let text = text.ok_or_else(|| {
            ApiError::bad_request(
                ErrorCode::InvalidPurpose,
                "`Mamori-Purpose` must be a purpose name from the policy",
            )
        })?;
        Ok(Purpose(text.to_string()))
    }
}

/// Like `axum::Json`, but its errors never repeat a value from the body (serde's messages do).
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        if !json {
            return Err(ApiError::Plain {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code: ErrorCode::UnsupportedMediaType,
                detail: "send the body as JSON with `Content-Type: application/json`".into(),
                field: None,
            });
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::Plain {
                        status: StatusCode::PAYLOAD_TOO_LARGE,
                        code: ErrorCode::BodyTooLarge,
                        detail: "the body is larger than this endpoint accepts (64 KiB for most; see /openapi.json)".into(),
                        field: None,
                    }
                } else {
                    ApiError::bad_request(ErrorCode::UnreadableBody, "the request body could not be read")
                }
            })?;
        serde_json::from_slice(&bytes).map(Body).map_err(|e| {
            let msg = e.to_string();
            let shape = if msg.starts_with("unknown field") || msg.starts_with("missing field") {
                msg.split(" at line")
                    .next()
                    .unwrap_or("")
                    .split(", expected")
                    .next()
                    .unwrap_or("")
                    .to_string()
            } else if e.is_syntax() || e.is_eof() {
                "the body is not valid JSON".to_string()
            } else {
                "a value in the body has the wrong type".to_string()
            };
            let code = if e.is_syntax() || e.is_eof() {
                ErrorCode::MalformedJson
            } else {
                ErrorCode::InvalidBody
            };
            ApiError::bad_request(
                code,
                format!("{shape} (line {}, column {})", e.line(), e.column()),
            )
        })
    }
}

/// Whether the request carries a Global Privacy Control signal (`Sec-GPC: 1`).
pub fn sends_gpc(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get("sec-gpc")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "1")
}

/// Like `axum::extract::Query`, but a query string that does not fit is a problem+json 400
/// that names no value from it.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Params(q.0))
            .map_err(|_| {
                ApiError::bad_request(
                    ErrorCode::InvalidQuery,
                    "the query parameters do not match this endpoint's (see /openapi.json)",
                )
            })
    }
}

/// A `lang` parameter: en (when absent), ja or fr; anything else is 422 `invalid_value`.
pub fn language(lang: Option<&str>) -> Result<mamori_policy::Language, crate::problem::ApiError> {
    match lang {
        None => Ok(mamori_policy::Language::En),
        Some(code) => mamori_policy::Language::parse(code).ok_or_else(|| {
            crate::problem::ApiError::Core(mamori_core::CoreError::invalid(
                mamori_proto::ErrorCode::InvalidValue,
                "lang",
                "en, ja or fr",
            ))
        }),
    }
}
