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

pub use mamori_proto::disclosures::{BatchDisclosed, DiscloseBatch};

/// People per streamed part of a batch's answer (each part one commit).
const BATCH_PART: usize = 500;
/// Parts decided at once: while some wait for their commit, others are read and opened, and the
/// ledger's group commit takes the waiting ones in one transaction.
const PARTS_IN_FLIGHT: usize = 4;

/// The same disclosure for up to 10,000 people (a campaign, a sync): the role, purpose,
/// categories and vendor register are decided once (refused as a whole, ledgered, before
/// anything leaves), every id must be known (`unknown_subjects` names the first that is not),
/// then each person is decided as a single disclosure would be — their consent where the
/// purpose rests on it; erased people are refused with `subject_erased` — and the answer
/// streams each person's outcome in the order given. Every outcome is a ledger event naming
/// the vendor; each person's data that left is recorded for them.
#[utoipa::path(post, path = "/v1/disclosures/batch", request_body = DiscloseBatch,
    responses((status = 200, body = BatchDisclosed), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 413, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn disclose_batch(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(body): Body<DiscloseBatch>,
) -> ApiResult<axum::response::Response> {
    let ids = (body.subjects.iter().enumerate())
        .map(|(i, text)| {
            mamori_core::parse_id(text).ok_or_else(|| {
                ApiError::Core(mamori_core::CoreError::invalid(
                    ErrorCode::InvalidId,
                    format!("subjects[{i}]"),
                    "subject ids are UUIDs as returned by POST /v1/subjects",
                ))
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let ask = Disclose {
        vendor: body.vendor,
        purpose: body.purpose,
        categories: body.categories,
        records: vec![],
    };
    let batch = s.vault.open_disclosure_batch(&actor, &ask, &ids).await?;
    let head = serde_json::json!({
        "vendor": ask.vendor,
        "purpose": ask.purpose,
        "categories": batch.category_names(&s.vault),
    });
    // `{"vendor":…,"purpose":…,"categories":[…],"outcomes":[` then the outcomes, part by part.
    let mut prefix = head.to_string();
    prefix.pop();
    prefix.push_str(",\"outcomes\":[");
    let stream = batch_stream(s.vault.clone(), batch, ids, prefix);
    Ok(axum::response::IntoResponse::into_response((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(stream),
    )))
}

/// The outcomes, written as each part is decided and committed; what was committed stays
/// recorded even if the answer is cut short.
fn batch_stream(
    vault: mamori_core::Vault,
    batch: mamori_core::disclosure_batch::DisclosureBatch,
    ids: Vec<[u8; 16]>,
    prefix: String,
) -> impl futures_util::Stream<Item = Result<String, std::io::Error>> {
    use futures_util::StreamExt;
    let parts: Vec<Vec<[u8; 16]>> = ids.chunks(BATCH_PART).map(<[_]>::to_vec).collect();
    let decided = futures_util::stream::iter(parts)
        .map(move |part| {
            let (vault, batch) = (vault.clone(), batch.clone());
            // Each part on a task of its own, so two are decided (and written out) on both
            // cores at once; a part begun is committed even if the caller goes away.
            let task = tokio::spawn(async move {
                let outcomes = vault.disclosure_batch_part(&batch, &part).await?;
                // Plain structs of text and JSON values: they always serialise.
                let written = outcomes.iter().map(serde_json::to_string);
                Ok(written.map(Result::unwrap_or_default).collect())
            });
            async move {
                let joined = task.await;
                joined.map_err(|e| mamori_core::CoreError::Internal(e.to_string()))?
            }
        })
        .buffered(PARTS_IN_FLIGHT);
    let write = |out: &mut String, outcome: String| out.push_str(&outcome);
    super::streamed::json_array(decided, prefix, "disclosure batch", write)
}

pub use mamori_proto::disclosures::{ProvisionRecords, SoldOrShared};

/// `GET /v1/disclosures?from=&to=&format=`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProvisionQuery {
    /// RFC 3339, inclusive.
    pub from: String,
    /// RFC 3339, exclusive.
    pub to: String,
    /// json (default) or csv.
    pub format: Option<String>,
}

/// The records of provision: every disclosure in a period, oldest first (at most 100,000; then
/// `truncated`) — recipient, role, date, person (id), categories, purpose and its legal ground,
/// and whether Japan's APPI asks for the record (a third party, not a processor or joint user).
/// Ids, names and codes only. Needs `admin = ["audit"]`; ledgered.
#[utoipa::path(get, path = "/v1/disclosures", params(ProvisionQuery),
    responses((status = 200, description = "The records: JSON, or CSV with `format=csv`", content((ProvisionRecords = "application/json"), (String = "text/csv"))), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn provision_records(
    State(s): State<AppState>,
    Caller(actor): Caller,
    crate::extract::Params(q): crate::extract::Params<ProvisionQuery>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let (from, to) = (parse_time("from", &q.from)?, parse_time("to", &q.to)?);
    if to <= from {
        return Err(ApiError::Core(mamori_core::CoreError::invalid(
            ErrorCode::InvalidTime,
            "to",
            "`to` must come after `from`",
        )));
    }
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(ApiError::Core(mamori_core::CoreError::invalid(
                ErrorCode::InvalidValue,
                "format",
                "json or csv",
            )));
        }
    };
    let records = s.vault.provision_records(&actor, from, to).await?;
    if !csv {
        return Ok(Json(records).into_response());
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = [
        "id",
        "subject",
        "vendor",
        "vendor_role",
        "purpose",
        "legal_basis",
        "categories",
        "records",
        "disclosed_at",
        "appi_record",
    ];
    let internal = |e: csv::Error| ApiError::from(mamori_core::CoreError::Internal(e.to_string()));
    out.write_record(header).map_err(internal)?;
    for r in &records.records {
        let appi = if r.appi_record { "true" } else { "false" };
        let categories = r.categories.join(";");
        let record_ids = r.records.join(";");
        let row = [
            &r.id,
            &r.subject,
            &r.vendor,
            &r.vendor_role,
            &r.purpose,
            &r.legal_basis,
            &categories,
            &record_ids,
            &r.disclosed_at,
            &appi.to_string(),
        ];
        out.write_record(row).map_err(internal)?;
    }
    let bytes = (out.into_inner())
        .map_err(|e| ApiError::from(mamori_core::CoreError::Internal(e.to_string())))?;
    let body = String::from_utf8_lossy(&bytes).into_owned();
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        body,
    )
        .into_response())
}

/// What the CCPA's notice must say of the last 12 months: the categories disclosed for purposes
/// the policy flags as a sale or share (`sale_or_share = true`), the recipients and purposes.
/// Computed from the disclosure records. Needs `admin = ["audit"]`; ledgered.
#[utoipa::path(get, path = "/v1/disclosures/sold-or-shared",
    responses((status = 200, body = SoldOrShared), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn sold_or_shared(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<Json<SoldOrShared>> {
    Ok(Json(s.vault.sold_or_shared(&actor).await?))
}
