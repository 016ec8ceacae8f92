//! `POST /v1/scrub`: personal data out of free text, for systems that store feedback or notes
//! elsewhere. Nothing is stored and nothing is logged; the texts only pass through.

use mamori_proto::ErrorCode;
pub use mamori_proto::scrub::{ScrubBody, ScrubRequest, SpanBody};
use std::collections::BTreeMap;

use axum::Json;
use axum::http::StatusCode;
use mamori_scrub::{Kind, Redaction, Scrubber, Span};

use crate::extract::{Body, Caller};
use crate::problem::{ApiError, Problem};

/// Texts per request.
pub const MAX_TEXTS: usize = 1_000;
/// Bytes per text.
pub const MAX_TEXT_BYTES: usize = 20_000;
/// The request body (the default limit is 64 KiB).
pub const SCRUB_BODY_LIMIT: usize = 1024 * 1024;
/// Above this many bytes in total the work moves off the request thread.
const INLINE_BYTES: usize = 64 * 1024;

fn span_body(s: &Span) -> SpanBody {
    SpanBody {
        kind: s.kind.name().to_string(),
        start: s.start,
        end: s.end,
    }
}

fn invalid(code: mamori_proto::ErrorCode, detail: String, field: &str) -> ApiError {
    ApiError::Plain {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code,
        detail,
        field: Some(field.to_string()),
    }
}

/// The scrubber the request asks for, or what is wrong with its `modes`.
fn scrubber(modes: &BTreeMap<String, String>) -> Result<Scrubber, ApiError> {
    let mut scrubber = Scrubber::new();
    for (kind, how) in modes {
        let field = format!("modes.{kind}");
        let kind = Kind::parse(kind).ok_or_else(|| {
            invalid(
                ErrorCode::UnknownKind,
                "kinds are email, payment_card, iban and ip_address".into(),
                &field,
            )
        })?;
        // Keyed hashing needs a key the business keeps; over the API it is not offered yet.
        let how = Redaction::parse(how, None).ok_or_else(|| {
            invalid(
                ErrorCode::UnknownMode,
                "modes over the API are placeholder, mask and drop".into(),
                &field,
            )
        })?;
        scrubber = scrubber.with(kind, how);
    }
    Ok(scrubber)
}

/// Removes e-mail addresses, payment card numbers, IBANs and IP addresses from texts.
#[utoipa::path(post, path = "/v1/scrub", request_body = ScrubRequest,
    responses((status = 200, body = ScrubBody), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 413, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn scrub_texts(
    Caller(_): Caller,
    Body(body): Body<ScrubRequest>,
) -> Result<Json<ScrubBody>, ApiError> {
    if body.texts.len() > MAX_TEXTS {
        return Err(invalid(
            ErrorCode::TooManyTexts,
            format!("send at most {MAX_TEXTS} texts per request"),
            "texts",
        ));
    }
    if let Some(i) = body.texts.iter().position(|t| t.len() > MAX_TEXT_BYTES) {
        return Err(invalid(
            ErrorCode::TextTooLong,
            format!("each text may have at most {MAX_TEXT_BYTES} bytes"),
            &format!("texts[{i}]"),
        ));
    }
    let scrubber = scrubber(&body.modes)?;
    let total: usize = body.texts.iter().map(String::len).sum();
    let work = move || answer(&scrubber, &body.texts, body.spans);
    if total <= INLINE_BYTES {
        return Ok(Json(work()));
    }
    tokio::task::spawn_blocking(work)
        .await
        .map(Json)
        .map_err(|_| ApiError::Plain {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: ErrorCode::InternalError,
            detail: "scrubbing failed; nothing was stored".into(),
            field: None,
        })
}

fn answer(scrubber: &Scrubber, texts: &[String], with_spans: bool) -> ScrubBody {
    let (texts, spans): (Vec<String>, Vec<Vec<SpanBody>>) = texts
        .iter()
        .map(|t| {
            let (out, spans) = scrubber.scrub_spans(t);
            (out, spans.iter().map(span_body).collect())
        })
        .unzip();
    ScrubBody {
        texts,
        spans: with_spans.then_some(spans),
    }
}
