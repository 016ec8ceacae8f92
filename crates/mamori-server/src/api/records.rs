//! Records of processing (GDPR Art. 30), generated from the policy and its vendor register.

use super::*;

/// `GET /v1/records-of-processing?lang=&format=`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RecordsQuery {
    /// en, ja or fr (default en).
    pub lang: Option<String>,
    /// json (default), md, csv (the activities, one per row) or html (to print).
    pub format: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "processing_records.html")]
struct RecordsPage {
    r: mamori_policy::records::Records,
    colon: &'static str,
}

/// The records as a page (the API's `format=html` and the console's link).
pub(crate) fn records_page(r: mamori_policy::records::Records) -> axum::response::Response {
    let colon = if r.language == "ja" {
        "："
    } else if r.language == "fr" {
        "\u{a0}: "
    } else {
        ": "
    };
    crate::privacy::html_page(askama::Template::render(&RecordsPage { r, colon }))
}

fn csv_of(rows: &[Vec<String>]) -> ApiResult<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    for row in rows {
        out.write_record(row)
            .map_err(|e| ApiError::from(mamori_core::CoreError::Internal(e.to_string())))?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| ApiError::from(mamori_core::CoreError::Internal(e.to_string())))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The records of processing activities of the policy in force: for each purpose its legal
/// basis, the people and data concerned, recipients, countries of processing and safeguards,
/// and retention (Art. 30(1)); what each processor of the register does for the organisation
/// (Art. 30(2)); the security measures in force. Names the published version it is. Needs
/// `admin = ["policy"]`; ledgered.
#[utoipa::path(get, path = "/v1/records-of-processing", params(RecordsQuery),
    responses((status = 200, description = "The records: JSON, Markdown, CSV (one activity per row) or HTML", content((mamori_proto::records::ProcessingRecords = "application/json"), (String = "text/markdown"), (String = "text/csv"), (String = "text/html"))), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn records_of_processing(
    State(s): State<AppState>,
    Caller(actor): Caller,
    crate::extract::Params(q): crate::extract::Params<RecordsQuery>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let invalid = |field: &str, why: &str| {
        ApiError::Core(mamori_core::CoreError::invalid(
            ErrorCode::InvalidValue,
            field,
            why,
        ))
    };
    let lang = crate::extract::language(q.lang.as_deref())?;
    let format = q.format.as_deref().unwrap_or("json");
    if !["json", "md", "csv", "html"].contains(&format) {
        return Err(invalid("format", "json, md, csv or html"));
    }
    let records = s.vault.records_of_processing(&actor, lang).await?;
    let typed = |kind: &'static str, body: String| {
        ([(axum::http::header::CONTENT_TYPE, kind)], body).into_response()
    };
    Ok(match format {
        "md" => typed(
            "text/markdown; charset=utf-8",
            mamori_policy::records::to_markdown(&records),
        ),
        "csv" => typed(
            "text/csv; charset=utf-8",
            csv_of(&mamori_policy::records::activity_rows(&records))?,
        ),
        "html" => records_page(records),
        _ => Json(records).into_response(),
    })
}
