//! Disclosures to the vendors of the policy's register.

use super::*;
pub use mamori_proto::disclosures::{Disclose, Disclosed};

/// Discloses a person's data in the named categories to a vendor, for a purpose: only if the
/// access decision allows the read (the role, the purpose, the person's consent where it rests
/// on it), the role may disclose to the vendor, the vendor serves the purpose and may receive
/// each category, and its contract is current. Allowed or refused, one ledger event naming the
/// vendor; what left is recorded for the person and for erasure later.
#[utoipa::path(post, path = "/v1/subjects/{id}/disclosures", params(("id" = uuid::Uuid, Path)), request_body = Disclose,
    responses((status = 201, body = Disclosed), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn disclose(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(body): Body<Disclose>,
) -> ApiResult<(StatusCode, Json<Disclosed>)> {
    let id = subject_id(&id)?;
    let disclosed = s.vault.disclose(&actor, &id, &body).await?;
    Ok((StatusCode::CREATED, Json(disclosed)))
}
