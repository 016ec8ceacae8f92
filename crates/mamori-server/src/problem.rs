//! The one mapping from errors to HTTP: RFC 9457 problem+json with a stable `code`.
//! Nothing here echoes request content, so no personal value can leak through an error.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mamori_core::CoreError;
pub use mamori_proto::{ErrorCode, Problem};

#[derive(Debug)]
pub enum ApiError {
    Core(CoreError),
    Unauthorized,
    /// Over a rate limit; the client should wait this many seconds (said in `Retry-After`).
    RateLimited {
        retry_after: u64,
    },
    Plain {
        status: StatusCode,
        code: ErrorCode,
        detail: String,
        field: Option<String>,
    },
}

impl ApiError {
    pub fn bad_request(code: ErrorCode, detail: impl Into<String>) -> ApiError {
        ApiError::Plain {
            status: StatusCode::BAD_REQUEST,
            code,
            detail: detail.into(),
            field: None,
        }
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        ApiError::Core(e)
    }
}

fn title(status: StatusCode) -> String {
    status.canonical_reason().unwrap_or("Error").to_string()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = match &self {
            ApiError::RateLimited { retry_after } => *retry_after,
            _ => 1,
        };
        let (status, code, detail, field) = match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "send a valid API key as `Authorization: Bearer <key>` (create one with `mamori apikey create`)".to_string(),
                None,
            ),
            ApiError::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RateLimited,
                "too many requests from this key or address; wait and retry (see Retry-After)".to_string(),
                None,
            ),
            ApiError::Plain { status, code, detail, field } => (status, code, detail, field),
            ApiError::Core(e) => {
                let status = match &e {
                    CoreError::Denied(_) => StatusCode::FORBIDDEN,
                    CoreError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                    CoreError::NotFound | CoreError::Missing { .. } => StatusCode::NOT_FOUND,
                    CoreError::Conflict { .. } => StatusCode::CONFLICT,
                    CoreError::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
                    CoreError::Store(e) if e.is_full() => StatusCode::INSUFFICIENT_STORAGE,
                    CoreError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                    CoreError::Store(e) if e.is_unavailable() => {
                        tracing::error!(error = %e, "the database is unavailable");
                        StatusCode::SERVICE_UNAVAILABLE
                    }
                    CoreError::Integrity | CoreError::Store(_) | CoreError::WriterGone | CoreError::Internal(_) => {
                        tracing::error!(error = %e, "request failed");
                        StatusCode::INTERNAL_SERVER_ERROR
                    }
                };
                let detail = match &e {
                    CoreError::Store(s) if s.is_full() => CoreError::StorageFull.to_string(),
                    CoreError::Store(s) if s.is_unavailable() => CoreError::Unavailable.to_string(),
                    CoreError::Store(_) | CoreError::WriterGone | CoreError::Internal(_) => "an internal error occurred; it has been logged".to_string(),
                    other => other.to_string(),
                };
                let field = match &e {
                    CoreError::Invalid { field, .. } => field.clone(),
                    _ => None,
                };
                (status, e.code(), detail, field)
            }
        };
        let body = Problem {
            kind: Problem::type_uri(code),
            title: title(status),
            status: status.as_u16(),
            detail,
            code,
            field,
        };
        let mut response = (status, axum::Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
