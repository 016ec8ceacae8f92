//! Invited surveys: invitations, the survey's issuer key, blind token signing (RFC 9474), and
//! the browser's half of it.

use super::*;
use mamori_proto::ErrorCode;
use mamori_proto::surveys::{
    BlindSignature, InvitationOutcome, InvitationStatus, Invitations, InviteRequest, Issuer,
    TokenRequest,
};

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

/// Invites customers to an invited survey. Each invitation is a link with a code, shown once,
/// for the business to send; the code buys one blind-signed token (RFC 9474).
#[utoipa::path(post, path = "/v1/surveys/{slug}/invitations", request_body = InviteRequest,
    params(("slug" = String, Path)),
    responses((status = 200, body = Invitations), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn invite(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(slug): Path<String>,
    Body(body): Body<InviteRequest>,
) -> ApiResult<Json<Invitations>> {
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
    let invitations = done
        .iter()
        .map(|i| match i {
            Invitation::Sent { subject, code } => InvitationOutcome {
                subject: mamori_core::format_id(subject),
                status: InvitationStatus::Invited,
                link: Some(format!("/survey/{slug}#invitation={code}")),
                reason: None,
            },
            Invitation::Refused { subject, reason } => InvitationOutcome {
                subject: mamori_core::format_id(subject),
                status: InvitationStatus::Refused,
                link: None,
                reason: Some(reason.to_string()),
            },
        })
        .collect();
    Ok(Json(Invitations { invitations }))
}

/// The public key an invited survey's tokens are blinded with (RSABSSA-SHA384-PSS-Randomized).
#[utoipa::path(get, path = "/v1/surveys/{slug}/issuer",
    params(("slug" = String, Path)),
    responses((status = 404, body = Problem, content_type = "application/problem+json"), (status = 200, body = Issuer), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn issuer(
    State(s): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<Issuer>> {
    let public = s.vault.survey_issuer_public(&slug).await?;
    let der = public
        .to_der()
        .map_err(|_| ApiError::Core(mamori_core::CoreError::Integrity))?;
    Ok(Json(Issuer {
        variant: mamori_blind::VARIANT.to_string(),
        public_key: base64url(&der),
        modulus: base64url(&public.modulus()),
        exponent: base64url(&public.exponent()),
    }))
}

/// Signs a blinded token for an invitation, once (RFC 9474 §4.2). No key: the invitation code
/// is the credential. Nothing of the blinded token or the signature is kept.
#[utoipa::path(post, path = "/v1/surveys/{slug}/tokens", request_body = TokenRequest,
    params(("slug" = String, Path)),
    responses((status = 200, body = BlindSignature), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn token(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(slug): Path<String>,
    Body(body): Body<TokenRequest>,
) -> ApiResult<Json<BlindSignature>> {
    if !s.limits.allow_survey_response(peer.ip()) {
        return Err(rate_limited());
    }
    let blinded = base64_field("blinded_token", &body.blinded_token)?;
    let signature = s
        .vault
        .issue_survey_token(&slug, &body.invitation, &blinded)
        .await?;
    Ok(Json(BlindSignature {
        blind_signature: base64url(&signature),
    }))
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
