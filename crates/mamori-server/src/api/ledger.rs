//! The ledger's signed head and its inclusion and consistency proofs; liveness.

use super::*;
use base64::Engine as _;
use mamori_proto::ErrorCode;
pub use mamori_proto::health::Health;
pub use mamori_proto::ledger::{
    ConsistencyBody, ConsistencyQuery, HeadBody, InclusionBody, InclusionQuery, LedgerKey,
    LedgerKeys,
};

/// Every key the ledger has signed with, as a JWK Set, each with the time it signed: verify a
/// head with the key its `key_id` names, a consent receipt with the key its `kid` names.
#[utoipa::path(get, path = "/v1/ledger/keys", responses((status = 200, body = LedgerKeys), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub async fn ledger_keys(State(s): State<AppState>, Caller(_): Caller) -> Json<LedgerKeys> {
    let keys = (s.vault.ledger_key_history().keys().iter())
        .map(|k| LedgerKey {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(k.public.as_bytes()),
            kid: k.id.clone(),
            use_: "sig".into(),
            alg: "EdDSA".into(),
            valid_from_ms: k.from_ms,
            valid_until_ms: k.until_ms,
        })
        .collect();
    Json(LedgerKeys { keys })
}

#[utoipa::path(get, path = "/v1/ledger/head", responses((status = 200, body = HeadBody), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub async fn ledger_head(
    State(s): State<AppState>,
    Caller(_): Caller,
) -> ApiResult<Json<HeadBody>> {
    let head = s.vault.latest_head().ok_or(ApiError::Plain {
        status: StatusCode::NOT_FOUND,
        code: ErrorCode::EmptyLedger,
        detail: "the ledger has no events yet".into(),
        field: None,
    })?;
    Ok(Json(s.vault.head_body(&head)))
}

#[utoipa::path(get, path = "/v1/ledger/proof/inclusion", params(InclusionQuery), responses((status = 200, body = InclusionBody), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub async fn inclusion_proof(
    State(s): State<AppState>,
    Caller(_): Caller,
    query: Result<Query<InclusionQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<InclusionBody>> {
    let Query(q) = query.map_err(bad_query)?;
    let vault = &s.vault;
    let size = q.size.unwrap_or_else(|| vault.ledger_size());
    let (leaf_hash, proof) = vault
        .ledger_inclusion_proof(q.leaf, size)
        .await?
        .ok_or_else(|| {
            out_of_range("leaf must be below size, and size at most the committed ledger size")
        })?;
    let root = vault
        .ledger_root(size)
        .await?
        .ok_or_else(|| out_of_range("size beyond the ledger"))?;
    Ok(Json(InclusionBody {
        leaf: q.leaf,
        size,
        leaf_hash: b64::encode(&leaf_hash),
        root: b64::encode(&root),
        proof: proof.iter().map(|h| b64::encode(h)).collect(),
    }))
}

#[utoipa::path(get, path = "/v1/ledger/proof/consistency", params(ConsistencyQuery), responses((status = 200, body = ConsistencyBody), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub async fn consistency_proof(
    State(s): State<AppState>,
    Caller(_): Caller,
    query: Result<Query<ConsistencyQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ConsistencyBody>> {
    let Query(q) = query.map_err(bad_query)?;
    let vault = &s.vault;
    let proof = vault
        .ledger_consistency_proof(q.first, q.second)
        .await?
        .ok_or_else(|| out_of_range("need 0 < first ≤ second ≤ committed ledger size"))?;
    let (r1, r2) = (
        vault.ledger_root(q.first).await?,
        vault.ledger_root(q.second).await?,
    );
    let (Some(r1), Some(r2)) = (r1, r2) else {
        return Err(out_of_range("size beyond the ledger"));
    };
    Ok(Json(ConsistencyBody {
        first: q.first,
        second: q.second,
        first_root: b64::encode(&r1),
        second_root: b64::encode(&r2),
        proof: proof.iter().map(|h| b64::encode(h)).collect(),
    }))
}

#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
pub async fn healthz(State(s): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        backend: s.vault.backend().into(),
        ledger_size: s.vault.ledger_size(),
    })
}
