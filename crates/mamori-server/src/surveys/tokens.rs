//! Invited surveys: invitations, the survey's issuer key, blind token signing (RFC 9474), and
//! the browser's half of it.

use super::*;
use mamori_proto::ErrorCode;

/// A base64url field from the client, decoded, or a problem naming the field.
pub(super) fn base64_field(field: &'static str, text: &str) -> Result<Vec<u8>, ApiError> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim().trim_end_matches('='))
        .map_err(|_| {
            ApiError::Core(mamori_core::CoreError::invalid(
                if field == "token" {
                    ErrorCode::InvalidToken
                } else {
                    ErrorCode::InvalidBlindedToken
                },
                field,
                format!("{field} must be base64url"),
            ))
        })
}

pub(super) fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    /// Subject ids to invite (1 to 1,000).
    pub subjects: Vec<String>,
}

/// Invites customers to an invited survey. Each invitation is a link with a code, shown once,
/// for the business to send; the code buys one blind-signed token (RFC 9474).
#[utoipa::path(post, path = "/v1/surveys/{slug}/invitations", request_body = Object,
    params(("slug" = String, Path)),
    responses((status = 200, body = Object), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn invite(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(slug): Path<String>,
    Body(body): Body<InviteBody>,
) -> ApiResult<Json<Value>> {
    let mut subjects = Vec::with_capacity(body.subjects.len());
    for (i, text) in body.subjects.iter().enumerate() {
        subjects.push(mamori_core::parse_id(text).ok_or_else(|| {
            ApiError::Core(mamori_core::CoreError::invalid(
                ErrorCode::InvalidSubjectId,
                format!("subjects[{i}]"),
                "a subject id is a UUID",
            ))
        })?);
    }
    let done = s.vault.invite_to_survey(&actor, &slug, &subjects).await?;
    let invitations: Vec<Value> = done
        .iter()
        .map(|i| match i {
            Invitation::Sent { subject, code } => serde_json::json!({
                "subject": mamori_core::format_id(subject),
                "status": "invited",
                "link": format!("/survey/{slug}#invitation={code}"),
            }),
            Invitation::Refused { subject, reason } => serde_json::json!({
                "subject": mamori_core::format_id(subject),
                "status": "refused",
                "reason": reason,
            }),
        })
        .collect();
    Ok(Json(serde_json::json!({ "invitations": invitations })))
}

/// The public key an invited survey's tokens are blinded with (RSABSSA-SHA384-PSS-Randomized).
#[utoipa::path(get, path = "/v1/surveys/{slug}/issuer",
    params(("slug" = String, Path)),
    responses((status = 404, body = Problem, content_type = "application/problem+json"), (status = 200, body = Object), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn issuer(State(s): State<AppState>, Path(slug): Path<String>) -> ApiResult<Json<Value>> {
    let public = s.vault.survey_issuer_public(&slug).await?;
    let der = public
        .to_der()
        .map_err(|_| ApiError::Core(mamori_core::CoreError::Integrity))?;
    Ok(Json(serde_json::json!({
        "variant": mamori_blind::VARIANT,
        "public_key": base64url(&der),
        "modulus": base64url(&public.modulus()),
        "exponent": base64url(&public.exponent()),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// The code from the invitation link.
    pub invitation: String,
    /// The blinded token (base64url, 256 bytes), RFC 9474 §4.1.
    pub blinded_token: String,
}

/// Signs a blinded token for an invitation, once (RFC 9474 §4.2). No key: the invitation code
/// is the credential. Nothing of the blinded token or the signature is kept.
#[utoipa::path(post, path = "/v1/surveys/{slug}/tokens", request_body = Object,
    params(("slug" = String, Path)),
    responses((status = 200, body = Object), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn token(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(slug): Path<String>,
    Body(body): Body<TokenBody>,
) -> ApiResult<Json<Value>> {
    if !s.limits.allow_survey_response(peer.ip()) {
        return Err(rate_limited());
    }
    let blinded = base64_field("blinded_token", &body.blinded_token)?;
    let signature = s
        .vault
        .issue_survey_token(&slug, &body.invitation, &blinded)
        .await?;
    Ok(Json(
        serde_json::json!({ "blind_signature": base64url(&signature) }),
    ))
}

/// The browser's half of invited surveys' tokens (RFC 9474 Blind and Finalize).
pub async fn blind_token_script() -> Response {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/blind-token.js"),
    )
        .into_response()
}
